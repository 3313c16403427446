#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# libvirt drives vfio_ap, inside the lab VM: libvirtd and virsh (Debian's
# bookworm-backports packages for s390x, unpacked by lab.sh into
# /lab/payload/root) start a domain with an mdev hostdev paused (the lab's
# KVM cannot run vCPUs), then detach and attach the hostdev live. Each
# step is checked against the guest's CRYCB (lab debugfs) and the queues'
# status. Exits non-zero on the first mismatch.

R=/lab/payload/root
SIM=/sys/kernel/debug/ap_sim
MATRIX=/sys/devices/vfio_ap/matrix
TYPE=$MATRIX/mdev_supported_types/vfio_ap-passthrough
UUID=62177883-f1bb-47f0-914d-32a22e3a8804
VIRSH="/usr/bin/virsh -c qemu:///system"
ZERO=0x0000000000000000000000000000000000000000000000000000000000000000
# adapters 5 and 6, domain 4, control domain 0xab (ID 0 leftmost)
APM=0x0600000000000000000000000000000000000000000000000000000000000000
AQM=0x0800000000000000000000000000000000000000000000000000000000000000
ADM=0x0000000000000000000000000000000000000000001000000000000000000000

fail() {
	echo "libvirt: FAILED: $*"
	[ -f /tmp/libvirtd.log ] && tail -n 30 /tmp/libvirtd.log
	[ -f /var/log/libvirt/qemu/g1.log ] && tail -n 30 /var/log/libvirt/qemu/g1.log
	exit 1
}

run() {
	echo "# $*"
	sh -c "$*" || fail "$*"
}

# The one VM KVM has (libvirt's capability probes are gone by then).
expect_crycb() {
	set -- "$1" "$2" "$3" /sys/kernel/debug/kvm/*/crycb
	[ $# -eq 4 ] && [ -f "$4" ] || fail "not exactly one KVM VM: $*"
	echo "# cat $4"
	got=$(cat "$4")
	echo "$got"
	[ "$got" = "$(printf '%s\n%s\n%s' "$1" "$2" "$3")" ] ||
		fail "CRYCB of the guest"
}

expect_status() {
	for q in 05.0004 06.0004; do
		got=$(cat /sys/bus/ap/devices/$q/status)
		echo "# status of $q: $got"
		[ "$got" = "$1" ] || fail "status of $q: expected $1"
	done
}

# Debian's root, unpacked, linked into the busybox VM's own.
. /src/tools/testing/vfio_ap_lab/libvirt_root.sh
libvirt_root_setup || exit 1

echo "### the host: adapters 5 and 6 for vfio_ap, one mdev"
run "echo 'adapters=5-6 domains=4,0xab control_domains=4,0xab' > $SIM/config"
run "echo -5,-6 > /sys/bus/ap/apmask"
run "echo $UUID > $TYPE/create"
run "echo 5 > $MATRIX/$UUID/assign_adapter"
run "echo 6 > $MATRIX/$UUID/assign_adapter"
run "echo 4 > $MATRIX/$UUID/assign_domain"
run "echo 0xab > $MATRIX/$UUID/assign_control_domain"
expect_status "assigned"

vfio_ap_hostdev_xml $UUID > /tmp/hostdev.xml
vfio_ap_guest_xml g1 $UUID > /tmp/g1.xml

echo "### libvirtd"
# With --daemon it returns once its sockets exist; virsh's first call
# then waits in the socket's backlog until the QEMU driver is ready.
/usr/sbin/libvirtd --daemon > /tmp/libvirtd.log 2>&1 || fail "libvirtd"
run "$VIRSH version --daemon"

echo "### a paused guest with the mdev"
run "$VIRSH define /tmp/g1.xml"
run "$VIRSH start --paused g1"
state=$($VIRSH domstate g1)
echo "# virsh domstate g1: $state"
[ "$state" = paused ] || fail "domain state $state"
expect_crycb $APM $AQM $ADM
expect_status "in use"

echo "### hot unplug and plug, as virsh does it"
run "$VIRSH detach-device g1 /tmp/hostdev.xml --live"
expect_crycb $ZERO $ZERO $ZERO
expect_status "assigned"
run "$VIRSH attach-device g1 /tmp/hostdev.xml --live"
expect_crycb $APM $AQM $ADM
expect_status "in use"

echo "### the guest goes away"
run "$VIRSH destroy g1"
expect_status "assigned"
run "$VIRSH undefine g1"
echo "libvirt: all steps as expected"
