#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench, inside the lab VM (started with MODULE=none): loads our
# module and the reference module in turn, runs every workload of
# vfio_ap_bench against each, and leaves the raw records in
# /lab/out/bench.raw, each prefixed with "<module> <round>". The first
# pass starts with ours, the second with the reference, so neither
# module always runs on a machine the other has just warmed up.

P=/lab/payload
OUT=/lab/out/bench.raw
ROUNDS=$(cat $P/rounds 2>/dev/null || echo 2)
WORKLOADS="assign ap_config host_change reset:16 reset:64 reset:256 crycb"

fail() {
	echo "bench: FAILED: $*"
	exit 1
}

mkdir -p /lab/out
: > $OUT
# KVM guests need PGSTE from the start of the process that creates them.
echo 1 > /proc/sys/vm/allocate_pgste || fail "allocate_pgste"

round() {
	mod=$1 r=$2
	echo "bench: round $r, $mod module"
	insmod $P/$mod.ko || fail "insmod $mod.ko"
	echo "$mod $r size module_core $(cat /sys/module/vfio_ap/coresize)" >> $OUT
	for w in $WORKLOADS; do
		t0=$(date +%s)
		# shellcheck disable=SC2086 # "reset:16" -> "reset 16"
		$P/vfio_ap_bench $(echo $w | tr : ' ') > /tmp/w.out 2>&1
		rc=$?
		echo "bench: round $r, $mod: $w took $(($(date +%s) - t0)) s"
		sed "s/^/$mod $r /" /tmp/w.out >> $OUT
		[ $rc -eq 0 ] || echo "$mod $r exit $w $rc" >> $OUT
	done
	rmmod vfio_ap || fail "rmmod after round $r ($mod)"
}

r=0
for pass in 1 2; do
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		i=$((i + 1))
		r=$((r + 1))
		if [ $pass = 1 ]; then
			round ours $r
			round ref $r
		else
			round ref $r
			round ours $r
		fi
	done
done
echo "bench: $(wc -l < $OUT) records"
