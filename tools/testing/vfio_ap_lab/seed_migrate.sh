#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Migrating a guest with vfio-ap the way today's QEMU allows it (issue 10,
# item 1), inside the lab VM with Debian's libvirt and QEMU for s390x
# (lab.sh libvirt-s390x, linked in as libvirt.sh does): QEMU refuses to
# migrate a guest whose vfio-ap device is attached, so the device is
# unplugged, the guest migrated, and an mdev with the same queues plugged
# in on the target.
#
# The lab's KVM cannot run vCPUs, so the guest stays paused, and both
# hosts are this VM: the migration is "virsh save" (QEMU migrating the
# guest's state into a file) and "virsh restore --paused" (a second QEMU
# started with -incoming reading it back); "virsh migrate" to this same
# libvirtd is refused as a migration to the same host. Every step is
# checked against the guest's CRYCB (lab debugfs) and the queues' status,
# and prints "seed-migrate: ok - STEP" or "seed-migrate: not ok - STEP",
# which check.sh counts. Exits non-zero if any step failed.

R=/lab/payload/root
SIM=/sys/kernel/debug/ap_sim
MATRIX=/sys/devices/vfio_ap/matrix
TYPE=$MATRIX/mdev_supported_types/vfio_ap-passthrough
VIRSH="virsh -c qemu:///system"
U1=62177883-f1bb-47f0-914d-32a22e3a8804
U2=62177883-f1bb-47f0-914d-32a22e3a8805
ZERO=0x0000000000000000000000000000000000000000000000000000000000000000
# adapters 5 and 6, domain 4, control domain 0xab (ID 0 leftmost)
APM=0x0600000000000000000000000000000000000000000000000000000000000000
AQM=0x0800000000000000000000000000000000000000000000000000000000000000
ADM=0x0000000000000000000000000000000000000000001000000000000000000000
STEP_TAG=seed-migrate
. /src/tools/testing/vfio_ap_lab/vm_steps.sh

# The CRYCBs of all KVM VMs, one "APM AQM ADM" line each (libvirt's
# capability probes are gone once libvirtd answers).
crycbs() {
	for f in /sys/kernel/debug/kvm/*/crycb; do
		[ -f "$f" ] && xargs < "$f"
	done
}

# state STEP DOMSTATE CRYCB STATUS: the domain's state, the CRYCB of the
# one KVM VM ("none": no VM at all) and the status of the guest's queues
state() {
	got_dom=$($VIRSH domstate g1 2>&1)
	got_crycb=$(crycbs)
	want_crycb=$3
	[ "$3" = none ] && got_crycb=${got_crycb:-none}
	got_status=
	for q in 05.0004 06.0004; do
		got_status="$got_status$q $(cat /sys/bus/ap/devices/$q/status);"
	done
	want_status="05.0004 $4;06.0004 $4;"
	echo "# virsh domstate g1: $got_dom"
	echo "# CRYCB: ${got_crycb:-(no KVM VM)}"
	echo "# status: $got_status"
	if [ "$got_dom" = "$2" ] && [ "$got_crycb" = "$want_crycb" ] &&
	   [ "$got_status" = "$want_status" ]; then
		ok "$1"
	else
		nok "$1"
		printf 'want: %s / %s / %s\n' "$2" "$want_crycb" "$want_status"
	fi
}

FULL="$APM $AQM $ADM"
EMPTY="$ZERO $ZERO $ZERO"

# the hostdev's alias in the running guest, empty if it has none
hostdev_alias() {
	$VIRSH dumpxml g1 | sed -n "s/.*<alias name='\(hostdev[0-9]*\)'.*/\1/p"
}

# qmp JSON: a QMP command through libvirt; the reply (or error) in $OUT
qmp() {
	run "$VIRSH qemu-monitor-command g1 '$1'"
}

# libvirt drops a hostdev that QEMU unplugged on its own (DEVICE_DELETED)
# from its live XML in a worker thread: wait for that, at most 30 s.
wait_hostdev_gone() {
	i=0
	while [ -n "$(hostdev_alias)" ]; do
		i=$((i + 1))
		[ $i -le 30 ] || return 1
		sleep 1
	done
}

logs() {
	echo "--- libvirtd.log"
	tail -n 30 /tmp/libvirtd.log
	echo "--- g1.log"
	tail -n 30 /var/log/libvirt/qemu/g1.log
	echo "--- dmesg"
	dmesg | tail -n 20
}

die() {
	nok "$*"
	logs
	exit 1
}

new_mdev() {
	run "echo $1 > $TYPE/create" &&
	run "echo 5 > $MATRIX/$1/assign_adapter" &&
	run "echo 6 > $MATRIX/$1/assign_adapter" &&
	run "echo 4 > $MATRIX/$1/assign_domain" &&
	run "echo 0xab > $MATRIX/$1/assign_control_domain"
}

# Debian's root, unpacked, linked into the busybox VM's own.
. /src/tools/testing/vfio_ap_lab/libvirt_root.sh
libvirt_root_setup || die "link Debian's root"

echo "### the host: adapters 5 and 6 for vfio_ap, mdev $U1"
run "echo 'adapters=5-6 domains=4,0xab control_domains=4,0xab' > $SIM/config" ||
	die "simulator configuration"
run "echo -5,-6 > /sys/bus/ap/apmask" || die "apmask"
new_mdev $U1 || die "mdev $U1"

vfio_ap_hostdev_xml $U1 > /tmp/hostdev1.xml
vfio_ap_guest_xml g1 $U1 > /tmp/g1.xml

echo "### libvirtd"
/usr/sbin/libvirtd --daemon > /tmp/libvirtd.log 2>&1 || die "libvirtd starts"
run "$VIRSH version --daemon" || die "virsh reaches libvirtd"
run "$VIRSH define /tmp/g1.xml" || die "virsh define"
run "$VIRSH start --paused g1" || die "virsh start --paused g1"
state "the source guest, paused, has adapters 5-6, domain 4, control domain 0xab; its queues are in use" \
	paused "$FULL" "in use"
alias=$(hostdev_alias)
echo "# the hostdev's alias: $alias"
[ -n "$alias" ] || die "libvirt names the hostdev"

echo
echo "### a) migration with the vfio-ap device attached is refused"
run "$VIRSH save g1 /tmp/attached.save"
yes_ "virsh save fails" test $RC -ne 0
has "... with QEMU's blocker for vfio-ap" \
	"cannot migrate domain: non-migratable device: /1/vfio-ap"
yes_ "... and leaves no file" test ! -e /tmp/attached.save
state "... after virsh save: the source guest, its CRYCB and queues untouched" \
	paused "$FULL" "in use"
# virsh migrate checks the source before it asks the target (here the
# same libvirtd, which would refuse a migration to the same host)
run "$VIRSH migrate --live g1 qemu:///system"
yes_ "virsh migrate --live fails" test $RC -ne 0
has "... with the same blocker" \
	"cannot migrate domain: non-migratable device: /1/vfio-ap"
state "... after virsh migrate: the source guest, its CRYCB and queues untouched" \
	paused "$FULL" "in use"
qmp '{"execute":"migrate","arguments":{"uri":"file:/tmp/attached.mig"}}'
has "QMP migrate fails with QEMU's blocker" \
	'"error"' "State blocked by non-migratable device '/1/vfio-ap'"
qmp '{"execute":"query-migrate"}'
if printf '%s\n' "$OUT" | grep -q '"status"'; then
	nok "... QEMU started no migration (query-migrate shows none)"
else
	ok "... QEMU started no migration (query-migrate shows none)"
fi
state "... after QMP migrate: the source guest, its CRYCB and queues untouched" \
	paused "$FULL" "in use"

echo
echo "### b) unplug, migrate, plug: virsh"
run "$VIRSH detach-device g1 /tmp/hostdev1.xml --live"
yes_ "virsh detach-device --live" test $RC -eq 0
state "virsh detach-device: the source CRYCB is empty, the queues only assigned" \
	paused "$EMPTY" "assigned"
# Nothing blocks now, but the only target here is the source itself.
run "$VIRSH migrate --live g1 qemu:///system"
yes_ "virsh migrate --live to this libvirtd fails" test $RC -ne 0
has "... as a migration to the same host (so: save and restore)" \
	"Attempt to migrate guest to the same host"
state "... the source guest untouched" paused "$EMPTY" "assigned"
run "$VIRSH save g1 /tmp/g1.save"
yes_ "virsh save of the paused guest" test $RC -eq 0 -a -s /tmp/g1.save
state "... the source QEMU and its KVM VM are gone, the queues assigned" \
	"shut off" none "assigned"
run "$VIRSH restore /tmp/g1.save --paused"
yes_ "virsh restore --paused (QEMU with -incoming)" test $RC -eq 0
state "... the target guest, paused, has an empty CRYCB, the queues assigned" \
	paused "$EMPTY" "assigned"
run "$VIRSH attach-device g1 /tmp/hostdev1.xml --live"
yes_ "virsh attach-device --live on the target" test $RC -eq 0
state "virsh attach-device: the target CRYCB is the source's, the queues in use" \
	paused "$FULL" "in use"

echo
echo "### b) unplug, migrate, plug: QMP, and another mdev on the target"
alias=$(hostdev_alias)
qmp "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"$alias\"}}"
has "QMP device_del $alias" '"return"'
state "... the source CRYCB is empty, the queues only assigned" \
	paused "$EMPTY" "assigned"
yes_ "... libvirt dropped the hostdev from the guest" wait_hostdev_gone
yes_ "the source lets go: mdev $U1 removed" run "echo 1 > $MATRIX/$U1/remove"
yes_ "the target's mdev $U2 with the same queues" new_mdev $U2
run "$VIRSH save g1 /tmp/g1-2.save"
yes_ "virsh save of the paused guest" test $RC -eq 0 -a -s /tmp/g1-2.save
state "... the source QEMU and its KVM VM are gone, the queues assigned" \
	"shut off" none "assigned"
run "$VIRSH restore /tmp/g1-2.save --paused"
yes_ "virsh restore --paused (QEMU with -incoming)" test $RC -eq 0
state "... the target guest, paused, has an empty CRYCB, the queues assigned" \
	paused "$EMPTY" "assigned"
qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"vfio-ap\",\"id\":\"hostdev0\",\"sysfsdev\":\"$MATRIX/$U2\"}}"
has "QMP device_add of mdev $U2 on the target" '"return"'
state "... the target CRYCB is the source's, the queues in use" \
	paused "$FULL" "in use"

echo
echo "### the guest goes away"
run "$VIRSH destroy g1"
yes_ "virsh destroy" test $RC -eq 0
state "virsh destroy: no KVM VM, the queues assigned" \
	"shut off" none "assigned"
run "$VIRSH undefine g1"
run "echo 1 > $MATRIX/$U2/remove"

echo
if [ $FAILED -ne 0 ]; then
	echo "seed-migrate: $FAILED steps failed"
	logs
	exit 1
fi
echo "seed-migrate: every step as expected"
