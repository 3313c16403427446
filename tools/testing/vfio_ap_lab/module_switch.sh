#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Alternating loads of vfio_ap modules under host configuration changes,
# inside the lab VM (started with MODULE=none; the payload holds ours.ko
# and ref.ko). SWITCH_ORDER picks the sequence: "alternate" (ours, ref,
# ours, ...), "ours" or "ref" (one module, loaded again and again).
#
# Each load: an mdev holding adapters 1-4 x domains 1-4, then adapters
# and domains leave and return through the AP simulator while the mdev's
# assignment changes and a second mdev comes and goes, then the mdevs go
# and the module unloads. After every unload nothing of the module may
# remain: no AP bus driver, matrix bus or device, debugfs directory,
# tracepoint events, symbols, queue still bound, or kernel thread.
#
# With WORKLOADS (the payload's "workloads" file: make bench's, e.g.
# "host_change crycb"), each load also runs those workloads of
# vfio_ap_bench after the churn, the load under which the reference's
# oops was seen: 64 mdevs through host changes, guests with KVM. Their
# timings and counts do not matter here, only what the kernel says.
#
# A kernel oops (oops=panic) ends the VM, and the runner prints it.
#
# Why it exists (issue 12): in one boot that switched eleven times
# between our module and the reference, the reference oopsed once in
# vfio_ap_mdev_remove_queue() during a host change. If our unload left a
# callback, hook or device behind, the reference module loaded at the
# same address would trip over it. On 2026-12-02, 12 switches (6 loads
# of each) on the debug kernel: nothing left after any unload, no oops,
# no lockdep, KASAN or kmemleak report; the oops did not recur. Run
# "bench.sh switch ref N" to load the reference alone: an oops there
# cannot be ours.
#
# On 2026-12-07, with make bench's workloads on the plain kernel (two
# vCPUs), it came back twice, each time in the module loaded right after
# the other one was unloaded, at the same address, and each time as code
# that cannot run as written: our assign_adapter_store() ended in
# kvm_arch_crypto_clear_masks(), which no assign path of ours calls
# (load 25 of 80); the reference's vfio_ap_mdev_probe_queue() took an
# "illegal operation" on a valid BRASL (load 6 of 40). With LAB_SMP=1
# (one vCPU, no multi-threaded TCG) the same illegal operation came at
# load 44 of 60, at the same offset (+0x2c4, right after the call to
# kvm_arch_crypto_set_masks returned): the failing 2-byte instruction
# starts in the middle of an LGR, where only a stale return address, one
# of the unloaded module's own calls, can lead. So the previous module's
# code still runs where the new one was loaded: QEMU's TCG keeps its
# translations of the unloaded module's text. No vfio_ap code, ours or
# upstream's, can produce either oops, and no unload left anything
# behind. Loads of modules at a reused address are not to be trusted in
# the lab under such load; make bench's switches can hit it too.

P=/lab/payload
SIM=/sys/kernel/debug/ap_sim
MATRIX=/sys/devices/vfio_ap/matrix
TYPE=$MATRIX/mdev_supported_types/vfio_ap-passthrough
U1=5a1dc0de-0000-4000-8000-000000000001
U2=5a1dc0de-0000-4000-8000-000000000002
SWITCHES=$(cat $P/switches 2>/dev/null || echo 12)
ORDER=$(cat $P/order 2>/dev/null || echo alternate)
WORKLOADS=$(cat $P/workloads 2>/dev/null)
NONE=0x0000000000000000000000000000000000000000000000000000000000000000

fail() {
	echo "module_switch: switch $i ($mod): FAILED: $*"
	exit 1
}

# Everything a loaded vfio_ap adds, whichever module it is.
leftovers() {
	[ -e /sys/bus/ap/drivers/vfio_ap ] && echo "AP bus driver vfio_ap"
	[ -e /sys/bus/matrix ] && echo "bus matrix"
	[ -e /sys/devices/vfio_ap ] && echo "/sys/devices/vfio_ap"
	[ -e /sys/module/vfio_ap ] && echo "/sys/module/vfio_ap"
	[ -e /sys/kernel/debug/vfio_ap ] && echo "debugfs vfio_ap"
	[ -e /sys/kernel/tracing/events/vfio_ap ] && echo "tracepoint events"
	grep -q '\[vfio_ap\]' /proc/kallsyms && echo "symbols in kallsyms"
	for q in /sys/bus/ap/devices/*.*; do
		[ -e "$q/driver" ] && echo "${q##*/} still bound"
	done
	ps -o comm 2>/dev/null | grep -i vfio_ap
}

# Host changes and assignment changes racing each other.
host_churn() {
	for n in 1 2 3; do
		echo 3 > $SIM/remove_adapter
		echo 2 > $SIM/remove_domain
		echo 3 > $SIM/add_adapter
		echo 2 > $SIM/add_domain
		echo 4 > $SIM/remove_adapter
		echo 4 > $SIM/add_adapter
	done
}

assign_churn() {
	for n in 1 2 3; do
		echo 4 > $MATRIX/$U1/unassign_adapter
		echo $U2 > $TYPE/create
		echo 5 > $MATRIX/$U2/assign_adapter
		echo 1 > $MATRIX/$U2/assign_domain
		echo 1 > $MATRIX/$U2/remove
		echo 4 > $MATRIX/$U1/assign_adapter
		echo 3 > $MATRIX/$U1/unassign_domain
		echo 3 > $MATRIX/$U1/assign_domain
	done 2>/dev/null
}

# KVM guests of the workloads need PGSTE from their process's start.
echo 1 > /proc/sys/vm/allocate_pgste

i=0
while [ $i -lt "$SWITCHES" ]; do
	i=$((i + 1))
	case $ORDER in
	alternate) [ $((i % 2)) = 1 ] && mod=ours || mod=ref ;;
	*) mod=$ORDER ;;
	esac
	# (again each time: the workloads leave their own host behind)
	echo 'adapters=1-5 domains=1-4 control_domains=1-4' > $SIM/config ||
		fail "simulator configuration"
	echo $NONE > /sys/bus/ap/apmask || fail "apmask"
	insmod $P/$mod.ko || fail "insmod"
	echo $U1 > $TYPE/create || fail "create mdev"
	for a in 1 2 3 4; do
		echo $a > $MATRIX/$U1/assign_adapter || fail "assign adapter $a"
		echo $a > $MATRIX/$U1/assign_domain || fail "assign domain $a"
	done
	host_churn &
	hc=$!
	assign_churn
	wait $hc
	for u in $U1 $U2; do
		[ -e $MATRIX/$u ] && { echo 1 > $MATRIX/$u/remove || fail "remove $u"; }
	done
	for w in $WORKLOADS; do
		# shellcheck disable=SC2046 # "reset:16" -> "reset 16"
		$P/vfio_ap_bench $(echo "$w" | tr : ' ') > /tmp/w.out 2>&1
		echo "module_switch: switch $i ($mod): workload $w ran (exit $?)"
	done
	rmmod vfio_ap || fail "rmmod"
	left=$(leftovers)
	[ -z "$left" ] || fail "left behind: $left"
	echo "module_switch: switch $i ($mod): loaded, churned, unloaded, nothing left"
done
echo "module_switch: $SWITCHES switches ($ORDER) passed"
