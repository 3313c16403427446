#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The admin's walk-through, run inside the lab VM as root: three guests
# share two crypto adapters, then the host configuration changes under
# them. Each command is printed as in a terminal session, and every result
# the documentation promises is checked, so the demo fails loudly if the
# driver (ours or the reference) does not behave as described.

SIM=/sys/kernel/debug/ap_sim
AP=/sys/bus/ap
MATRIX=/sys/devices/vfio_ap/matrix
TYPE=$MATRIX/mdev_supported_types/vfio_ap-passthrough
G1=62177883-f1bb-47f0-914d-32a22e3a8804
G2=cef03c3c-903d-4ecc-9a83-40694cb8aee4
G3=a8c9e2f1-3c1d-4f8e-9b6a-0d2e4f6a8b10
FAILED=0

# print a command as typed at a root prompt, then run it
run() {
	echo "# $*"
	sh -c "$*"
}

# the command must fail, with the given errno text on stderr
run_fails() {
	want=$1
	shift
	echo "# $*"
	if out=$(sh -c "$*" 2>&1); then
		echo "demo: UNEXPECTED SUCCESS: $*"
		FAILED=1
	else
		echo "$out"
		case $out in
		*"$want"*) ;;
		*) echo "demo: expected '$want'"; FAILED=1 ;;
		esac
	fi
}

# show a file, then compare it with what it must contain
expect() {
	file=$1
	want=$(printf "$2")
	echo "# cat $file"
	got=$(cat "$file")
	[ -n "$got" ] && echo "$got"
	if [ "$got" != "$want" ]; then
		echo "demo: MISMATCH in $file; expected:"
		echo "$want"
		FAILED=1
	fi
}

section() {
	echo
	echo "### $*"
}

section "The host: two CEX8 adapters, four usage and control domains"
run "echo 'adapters=5-6 domains=4,0x47,0xab,0xff control_domains=4,0x47,0xab,0xff' > $SIM/config"
run "ls $AP/devices"
run "cat $AP/apmask $AP/aqmask"

section "Reserve adapters 5 and 6 for KVM guests"
run "echo -5,-6 > $AP/apmask"
run "readlink $AP/devices/05.0004/driver"
expect "$AP/devices/05.0004/status" 'unassigned'

section "One mediated device per guest"
for g in $G1 $G2 $G3; do
	run "echo $g > $TYPE/create"
done
run "ls $MATRIX"
run "cat $TYPE/available_instances"

section "Guest1: adapters 5 and 6, domains 4 and 0xab"
run "echo 5 > $MATRIX/$G1/assign_adapter"
run "echo 6 > $MATRIX/$G1/assign_adapter"
run "echo 4 > $MATRIX/$G1/assign_domain"
run "echo 0xab > $MATRIX/$G1/assign_domain"
run "echo 0xab > $MATRIX/$G1/assign_control_domain"
expect "$MATRIX/$G1/matrix" '05.0004\n05.00ab\n06.0004\n06.00ab'
expect "$MATRIX/$G1/control_domains" '00ab'

section "Guest2: adapter 5, domains 0x47 and 0xff"
run "echo 5 > $MATRIX/$G2/assign_adapter"
run "echo 0x47 > $MATRIX/$G2/assign_domain"
run "echo 0xff > $MATRIX/$G2/assign_domain"
expect "$MATRIX/$G2/matrix" '05.0047\n05.00ff'

section "Guest3: adapter 6, domains 0x47 and 0xff"
run "echo 6 > $MATRIX/$G3/assign_adapter"
run "echo 0x47 > $MATRIX/$G3/assign_domain"
run "echo 0xff > $MATRIX/$G3/assign_domain"
expect "$MATRIX/$G3/matrix" '06.0047\n06.00ff'

section "What each guest gets"
expect "$MATRIX/$G1/guest_matrix" '05.0004\n05.00ab\n06.0004\n06.00ab'
expect "$MATRIX/$G2/guest_matrix" '05.0047\n05.00ff'
expect "$MATRIX/$G3/guest_matrix" '06.0047\n06.00ff'
expect "$AP/devices/05.0004/status" 'assigned'

section "An APQN belongs to one guest only"
run_fails "Address already in use" "echo 4 > $MATRIX/$G2/assign_domain"
expect "$MATRIX/$G2/matrix" '05.0047\n05.00ff'
run "dmesg | grep 'already assigned to mdev' | tail -n 1"

section "The host cannot take back a queue a guest holds"
run_fails "Device or resource busy" "echo +5 > $AP/apmask"
run "readlink $AP/devices/05.0004/driver"

section "The host loses adapter 6 (e.g. from the HMC)"
run "echo 6 > $SIM/remove_adapter"
run "ls $AP/devices"
expect "$MATRIX/$G1/guest_matrix" '05.0004\n05.00ab'
expect "$MATRIX/$G3/guest_matrix" '.0047\n.00ff'
expect "$MATRIX/$G3/matrix" '06.0047\n06.00ff'

section "Adapter 6 comes back and is plugged in again"
run "echo 6 > $SIM/add_adapter"
expect "$MATRIX/$G1/guest_matrix" '05.0004\n05.00ab\n06.0004\n06.00ab'
expect "$MATRIX/$G3/guest_matrix" '06.0047\n06.00ff'

section "Unbinding one queue takes its whole adapter away from the guest"
run "echo 05.0004 > $AP/drivers/vfio_ap/unbind"
expect "$MATRIX/$G1/guest_matrix" '06.0004\n06.00ab'
run "echo 05.0004 > $AP/drivers/vfio_ap/bind"
expect "$MATRIX/$G1/guest_matrix" '05.0004\n05.00ab\n06.0004\n06.00ab'

section "Over-provisioning: assign an adapter the host does not have yet"
run "echo -7 > $AP/apmask"
run "echo 7 > $MATRIX/$G2/assign_adapter"
expect "$MATRIX/$G2/matrix" '05.0047\n05.00ff\n07.0047\n07.00ff'
expect "$MATRIX/$G2/guest_matrix" '05.0047\n05.00ff'
run "echo 7 > $SIM/add_adapter"
expect "$MATRIX/$G2/guest_matrix" '05.0047\n05.00ff\n07.0047\n07.00ff'
run "echo 7 > $SIM/remove_adapter"
expect "$MATRIX/$G2/guest_matrix" '05.0047\n05.00ff'

section "All three masks at once"
run "cat $MATRIX/$G1/ap_config"

section "Tear down"
for g in $G1 $G2 $G3; do
	run "echo 1 > $MATRIX/$g/remove"
done
run "echo +5,+6,+7 > $AP/apmask"
run "readlink $AP/devices/05.0004/driver"

echo
if [ $FAILED -ne 0 ]; then
	echo "demo: some results differ from the documented behaviour"
	exit 1
fi
echo "demo: every result as documented"
