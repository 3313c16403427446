#!/bin/sh
# Runs inside the lab VM: every selftest binary of the payload, in order.
# A binary that dies before printing its totals is reported, so a crash
# can never pass for a clean run.
cd /lab/payload || exit 1
rc=0
for t in $(ls | grep -v '\.sh$' | sort); do
	[ -f "$t" ] && [ -x "$t" ] || continue
	echo "lab-selftests: running $t"
	t0=$(date +%s)
	./"$t" > /tmp/out.$t 2>&1
	trc=$?
	cat /tmp/out.$t
	echo "lab-selftests: $t took $(($(date +%s) - t0))s"
	grep -q '^# Totals:' /tmp/out.$t ||
		echo "lab-selftests: incomplete $t (exit $trc)"
	[ $trc -eq 0 ] || rc=1
done
exit $rc
