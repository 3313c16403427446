#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The administrator's tools against vfio_ap, inside the lab VM (issue 11):
# lszcrypt from s390-tools, mdevctl, and libvirt's node devices, Debian's
# packages for s390x that lab.sh unpacks into /lab/payload/root (the
# versions are in /lab/payload/versions). Each step compares what a tool
# printed or did with what it must print or do for the simulator's
# configuration set below, and prints "admin-tools: ok - STEP" or
# "admin-tools: not ok - STEP", which check.sh counts. Exits non-zero if
# any step failed.
#
# What the packaged versions cannot do is named in the lab's README:
# chzdev of s390-tools 2.16 has no "ap" device type (the queues are
# reserved through /sys/bus/ap/apmask, the file chzdev -t ap writes), and
# no package ships the ap-check callout.

R=/lab/payload/root
SIM=/sys/kernel/debug/ap_sim
AP=/sys/bus/ap
MATRIX=/sys/devices/vfio_ap/matrix
TYPE=$MATRIX/mdev_supported_types/vfio_ap-passthrough
VIRSH="virsh -c qemu:///system"
U1=0a1b2c3d-0001-4000-8000-000000000001
U2=0a1b2c3d-0002-4000-8000-000000000002
U3=0a1b2c3d-0003-4000-8000-000000000003
U4=0a1b2c3d-0004-4000-8000-000000000004
STEP_TAG=admin-tools
. /src/tools/testing/vfio_ap_lab/vm_steps.sh

# The CRYCB mask of a list of decimal IDs: 0x and 64 hex digits, ID 0
# the leftmost bit, as the lab's crycb file prints it.
mask() {
	echo "$*" | awk '{
		split("128 64 32 16 8 4 2 1", bit)
		for (i = 0; i < 32; i++)
			b[i] = 0
		for (i = 1; i <= NF; i++)
			b[int($i / 8)] += bit[$i % 8 + 1]
		s = "0x"
		for (i = 0; i < 32; i++)
			s = s sprintf("%02x", b[i])
		print s
	}'
}

# lszcrypt -V reduced to the columns the simulator decides: device,
# type, mode, hardware type, driver.
lszcrypt_cols() {
	lszcrypt -V "$@" | awk 'NR > 2 { print $1, $2, $3, $7, $10 }'
}

echo "### Debian's root, linked into the busybox VM"
. /src/tools/testing/vfio_ap_lab/libvirt_root.sh
libvirt_root_setup || exit 1
# s390-tools lives in /sbin; busybox's applets are all in /bin
for f in $R/sbin/*; do
	ln -s "$f" /sbin/
done
# libvirt hands mdevctl its JSON on /dev/stdin
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
cat /lab/payload/versions

echo "### the host: two CEX8C adapters in CCA mode, three domains"
run "echo 'adapters=5-6 domains=4,0x47,0xab control_domains=4,0x47,0xab' > $SIM/config"

echo
echo "### lszcrypt: the host's devices"
run "lszcrypt -V"
is "lszcrypt -V lists cards 05 and 06 and their six queues, with the zcrypt drivers" \
	"$(lszcrypt_cols)" "$(cat <<EOF
05 CEX8C CCA-Coproc 14 cex4card
05.0004 CEX8C CCA-Coproc 14 cex4queue
05.0047 CEX8C CCA-Coproc 14 cex4queue
05.00ab CEX8C CCA-Coproc 14 cex4queue
06 CEX8C CCA-Coproc 14 cex4card
06.0004 CEX8C CCA-Coproc 14 cex4queue
06.0047 CEX8C CCA-Coproc 14 cex4queue
06.00ab CEX8C CCA-Coproc 14 cex4queue
EOF
)"
run "lszcrypt -b"
# 255 domains with APXA; the AP bus takes the lowest usage domain as its
# default one; facility 65 is on the lab's command line
is "lszcrypt -b shows the AP bus with the simulator's domains" \
	"$(echo "$OUT" | grep -E '^(ap_domain|ap_max_domain_id|ap_interrupts)')" \
	"$(printf 'ap_domain=0x4\nap_max_domain_id=0xff\nap_interrupts are enabled')"

echo
echo "### Reserve adapters 5 and 6 for vfio_ap (what chzdev -t ap apmask=-5,-6 writes)"
run "echo -5,-6 > $AP/apmask"
run "lszcrypt -V"
is "lszcrypt -V shows the queues of 05 and 06 bound to vfio_ap" \
	"$(lszcrypt_cols)" "$(cat <<EOF
05 CEX8C CCA-Coproc 14 cex4card
05.0004 CEX8C CCA-Coproc 14 vfio_ap
05.0047 CEX8C CCA-Coproc 14 vfio_ap
05.00ab CEX8C CCA-Coproc 14 vfio_ap
06 CEX8C CCA-Coproc 14 cex4card
06.0004 CEX8C CCA-Coproc 14 vfio_ap
06.0047 CEX8C CCA-Coproc 14 vfio_ap
06.00ab CEX8C CCA-Coproc 14 vfio_ap
EOF
)"

echo
echo "### libvirtd"
# Without inotify in the lab kernel GLib cannot watch /etc/mdevctl.d,
# and libvirt's node-device driver never finishes starting if it is
# there when the driver starts; mdevctl needs it only once it runs.
/usr/sbin/libvirtd --daemon > /tmp/libvirtd.log 2>&1 || { nok "libvirtd starts"; exit 1; }
run "$VIRSH version --daemon" || nok "virsh reaches libvirtd"
cp -a $R/etc/mdevctl.d /etc/mdevctl.d

echo
echo "### libvirt's node devices"
run "$VIRSH nodedev-list --cap ap_matrix"
is "virsh nodedev-list --cap ap_matrix" "$OUT" "ap_matrix"
run "$VIRSH nodedev-list --cap ap_card"
is "virsh nodedev-list --cap ap_card: the simulator's two adapters" "$OUT" \
	"$(printf 'ap_card05\nap_card06')"
run "$VIRSH nodedev-list --cap ap_queue"
is "virsh nodedev-list --cap ap_queue: the simulator's six queues" "$OUT" \
	"$(printf 'ap_05_0004\nap_05_0047\nap_05_00ab\nap_06_0004\nap_06_0047\nap_06_00ab')"
run "$VIRSH nodedev-dumpxml ap_06_0047"
has "virsh nodedev-dumpxml ap_06_0047: adapter 0x06, domain 0x0047, driver vfio_ap" \
	"<name>vfio_ap</name>" "<ap-adapter>0x06</ap-adapter>" \
	"<ap-domain>0x0047</ap-domain>"
run "$VIRSH nodedev-dumpxml ap_matrix"
avail=$(cat $TYPE/available_instances)
has "virsh nodedev-dumpxml ap_matrix: type vfio_ap-passthrough, device API vfio-ap, $avail instances available" \
	"<name>vfio_ap</name>" "<type id='vfio_ap-passthrough'>" \
	"<deviceAPI>vfio-ap</deviceAPI>" \
	"<availableInstances>$avail</availableInstances>"
yes_ "... and that is more than none" test "$avail" -gt 0

echo
echo "### mdevctl: a persistent definition, started and stopped"
run "mdevctl types"
has "mdevctl types: parent matrix offers vfio_ap-passthrough with device API vfio-ap" \
	"matrix" "  vfio_ap-passthrough" "    Device API: vfio-ap" \
	"    Available instances: $avail"
run "mdevctl define -u $U1 -p matrix -t vfio_ap-passthrough"
run "mdevctl modify -u $U1 --addattr=assign_adapter --value=5"
run "mdevctl modify -u $U1 --addattr=assign_adapter --value=6"
run "mdevctl modify -u $U1 --addattr=assign_domain --value=4"
run "mdevctl modify -u $U1 --addattr=assign_domain --value=0xab"
run "mdevctl modify -u $U1 --addattr=assign_control_domain --value=0xab"
run "mdevctl list --defined"
is "mdevctl list --defined: $U1, manual start" "$OUT" \
	"$U1 matrix vfio_ap-passthrough manual"
yes_ "a definition alone creates no mdev" test ! -e /sys/bus/mdev/devices/$U1
run "mdevctl start -u $U1" || nok "mdevctl start -u $U1"
is "mdevctl start: the mdev has adapters 5-6 x domains 4, 0xab" \
	"$(cat $MATRIX/$U1/matrix)" "$(printf '05.0004\n05.00ab\n06.0004\n06.00ab')"
is "mdevctl start: control domain 0xab" "$(cat $MATRIX/$U1/control_domains)" "00ab"
run "mdevctl list"
is "mdevctl list: $U1 running" "$OUT" \
	"$U1 matrix vfio_ap-passthrough manual (defined)"

echo
echo "### A definition that clashes with $U1 (05.0004)"
run "mdevctl define -u $U2 -p matrix -t vfio_ap-passthrough"
run "mdevctl modify -u $U2 --addattr=assign_adapter --value=5"
run "mdevctl modify -u $U2 --addattr=assign_domain --value=0x47"
run "mdevctl modify -u $U2 --addattr=assign_domain --value=4"
dmesg -c > /dev/null
if run "mdevctl start -u $U2"; then
	nok "mdevctl start of a clashing definition fails"
else
	ok "mdevctl start of a clashing definition fails"
fi
has "... with the driver's EADDRINUSE, on the domain that clashes" \
	"Failed to write 4 to attribute assign_domain" \
	"Address already in use (os error 98)"
yes_ "... and leaves no mdev $U2 behind" test ! -e /sys/bus/mdev/devices/$U2
run "mdevctl list"
is "mdevctl list: only $U1 running" "$OUT" \
	"$U1 matrix vfio_ap-passthrough manual (defined)"
run "dmesg | grep 'cannot assign'"
is "the kernel log names the clashing APQNs and both mdevs" "$OUT" \
	"vfio_ap_mdev $U2: cannot assign queues of adapters 05 x domains 0004: already assigned to mdev $U1"
run "mdevctl undefine -u $U2"

echo
echo "### The host cannot take back what $U1 holds (chzdev -t ap apmask=+5 writes this)"
dmesg -c > /dev/null
if run "echo +5 > $AP/apmask"; then
	nok "apmask +5 refused while $U1 holds adapter 5"
else
	ok "apmask +5 refused while $U1 holds adapter 5"
fi
has "... with EBUSY" "Device or resource busy"
run "dmesg | grep 'cannot be returned'"
is "the kernel log names the APQNs and the mdev" "$OUT" \
	"vfio_ap: queues of adapters 05 x domains 0004,00ab are assigned to mdev $U1 and cannot be returned to the host"
run "lszcrypt -V 05.0004"
is "05.0004 stays with vfio_ap" "$(lszcrypt_cols 05.0004)" \
	"05.0004 CEX8C CCA-Coproc 14 vfio_ap"

echo
echo "### Over-provisioning: adapter 7 is not in the host yet"
run "echo -7 > $AP/apmask"
run "mdevctl define -u $U3 -p matrix -t vfio_ap-passthrough"
run "mdevctl modify -u $U3 --addattr=assign_adapter --value=7"
run "mdevctl modify -u $U3 --addattr=assign_domain --value=0x47"
run "mdevctl start -u $U3"
is "mdevctl start of a definition with an absent adapter" "$RC" 0
is "its matrix has 07.0047" "$(cat $MATRIX/$U3/matrix)" "07.0047"
# the guest's masks have domain 0x47 and no adapter: no APQN, and
# guest_matrix shows the domain alone
is "the guest gets no APQN of it yet" "$(cat $MATRIX/$U3/guest_matrix)" ".0047"
run "echo 7 > $SIM/add_adapter"
is "adapter 7 arrives: the guest gets 07.0047" \
	"$(cat $MATRIX/$U3/guest_matrix)" "07.0047"
run "lszcrypt -V 07"
is "lszcrypt -V 07: the new queues, 07.0047 with vfio_ap" \
	"$(lszcrypt_cols 07)" "$(cat <<EOF
07 CEX8C CCA-Coproc 14 cex4card
07.0004 CEX8C CCA-Coproc 14 vfio_ap
07.0047 CEX8C CCA-Coproc 14 vfio_ap
07.00ab CEX8C CCA-Coproc 14 vfio_ap
EOF
)"

echo
echo "### Automatic start: what mdevctl's udev rule runs when the parent appears"
run "mdevctl modify -u $U3 --auto"
run "mdevctl stop -u $U3"
yes_ "mdevctl stop -u $U3 removes the mdev" test ! -e /sys/bus/mdev/devices/$U3
run "mdevctl start-parent-mdevs matrix"
yes_ "mdevctl start-parent-mdevs matrix starts $U3 again" \
	test -e /sys/bus/mdev/devices/$U3
is "... with its matrix" "$(cat $MATRIX/$U3/matrix)" "07.0047"
run "mdevctl list --defined"
is "mdevctl list --defined: $U1 manual, $U3 auto" "$(echo "$OUT" | sort)" \
	"$(printf '%s\n%s' "$U1 matrix vfio_ap-passthrough manual (active)" \
		"$U3 matrix vfio_ap-passthrough auto (active)" | sort)"

echo
echo "### libvirt defines and starts an mdev through mdevctl"
cat > /tmp/nodedev.xml <<EOF
<device>
  <parent>ap_matrix</parent>
  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
    <uuid>$U4</uuid>
    <attr name='assign_adapter' value='6'/>
    <attr name='assign_domain' value='0x47'/>
    <attr name='assign_control_domain' value='0x47'/>
  </capability>
</device>
EOF
N4=mdev_$(echo $U4 | tr - _)_matrix
run "$VIRSH nodedev-define /tmp/nodedev.xml"
is "virsh nodedev-define" "$RC" 0
run "$VIRSH nodedev-list --cap mdev --all"
is "virsh nodedev-list --cap mdev --all: the new definition" "$OUT" "$N4"
run "mdevctl list --defined -u $U4 --dumpjson"
OUT=$(printf '%s' "$OUT" | tr -d ' \n')
has "... a definition for mdevctl with the three attributes in order" \
	'"attrs":[{"assign_adapter":"6"},{"assign_domain":"0x47"},{"assign_control_domain":"0x47"}]'
run "$VIRSH nodedev-start $N4"
is "virsh nodedev-start" "$RC" 0
is "... the mdev has 06.0047" "$(cat $MATRIX/$U4/matrix 2>&1)" "06.0047"
is "... and control domain 0x47" "$(cat $MATRIX/$U4/control_domains 2>&1)" "0047"

vfio_ap_guest_xml g1 $U4 > /tmp/g1.xml
run "$VIRSH define /tmp/g1.xml"
# the lab's KVM cannot run vCPUs: the guest stays paused
run "$VIRSH start --paused g1"
is "virsh start --paused of a guest with the mdev as <hostdev>" "$RC" 0
set -- /sys/kernel/debug/kvm/*/crycb
run "cat $1"
is "the guest's CRYCB: adapter 6, domain 0x47, control domain 0x47" "$OUT" \
	"$(printf '%s\n%s\n%s' "$(mask 6)" "$(mask 71)" "$(mask 71)")"
is "06.0047 is in use by the guest" "$(cat $AP/devices/06.0047/status)" "in use"
run "$VIRSH destroy g1"
run "$VIRSH undefine g1"
# libvirt marks an mdev active when udevd reports it, and the VM runs
# no udevd: nodedev-destroy would answer "not active", so the mdev is
# stopped with the command it runs
run "mdevctl stop -u $U4"
yes_ "mdevctl stop -u $U4 (what virsh nodedev-destroy runs)" \
	test ! -e /sys/bus/mdev/devices/$U4
run "$VIRSH nodedev-undefine $N4"
is "virsh nodedev-undefine" "$RC" 0
run "mdevctl list --defined -u $U4"
is "... removes mdevctl's definition" "$OUT" ""

echo
echo "### Tear down with mdevctl"
for u in $U1 $U3; do
	run "mdevctl stop -u $u"
	run "mdevctl undefine -u $u"
done
run "mdevctl list --defined"
is "mdevctl stop, undefine: nothing defined" "$OUT" ""
is "... nothing running" "$(ls /sys/bus/mdev/devices)" ""
run "echo +5,+6,+7 > $AP/apmask"
is "the host takes its adapters back" "$(lszcrypt_cols 05.0004)" \
	"05.0004 CEX8C CCA-Coproc 14 cex4queue"

echo
if [ $FAILED -ne 0 ]; then
	echo "admin-tools: $FAILED steps failed"
	tail -n 30 /tmp/libvirtd.log
	exit 1
fi
echo "admin-tools: every step as expected"
