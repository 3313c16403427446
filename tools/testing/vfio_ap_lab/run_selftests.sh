#!/bin/sh
# Runs inside the lab VM: every selftest binary of the payload, in order.
# A binary that dies before printing its totals is reported, so a crash
# can never pass for a clean run.
cd /lab/payload || exit 1
# What lockdep learnt (debug kernel): every dependency it recorded from
# or to one of vfio_ap's locks or KVM's PQAP hook lock. Unloading vfio_ap
# makes lockdep forget its classes, so this is collected after each test.
lockdep_edges() {
	[ -r /proc/lockdep ] || return 0
	awk '/^[0-9a-f]+ /{ cls = $NF } /^ -> /{ print cls " -> " $NF }' /proc/lockdep |
		grep -E 'vfio_ap|&m->|pqap_hook' >> /tmp/lockdep.edges
}
# Cases a module other than ours can pass: a binary that tests what only
# our module offers runs just its control case there (see its comment).
selftest_args() {
	[ "${LAB_MODULE:-}" = reference ] || return 0
	case $1 in
	migration_test) echo "-t migration_feature" ;;
	esac
}
rc=0
for t in $(ls | grep -v '\.sh$' | sort); do
	[ -f "$t" ] && [ -x "$t" ] || continue
	echo "lab-selftests: running $t"
	t0=$(date +%s)
	# shellcheck disable=SC2046 # the arguments are words
	./"$t" $(selftest_args "$t") > /tmp/out.$t 2>&1
	trc=$?
	cat /tmp/out.$t
	echo "lab-selftests: $t took $(($(date +%s) - t0))s"
	grep -q '^# Totals:' /tmp/out.$t ||
		echo "lab-selftests: incomplete $t (exit $trc)"
	[ $trc -eq 0 ] || rc=1
	lockdep_edges
done
[ -f /tmp/lockdep.edges ] && sort -u /tmp/lockdep.edges | sed 's/^/lab-lockdep: /'

exit $rc
