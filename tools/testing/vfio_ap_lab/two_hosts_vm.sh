#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Either host of check.sh's two_hosts step, inside its lab VM: the
# payload's "role" file says which side of the migration this VM plays
# (selftests/vfio_ap/vfio_ap_two_hosts.c), and the virtio serial port
# named lab.link is the link to the other VM.
port=
for n in /sys/class/virtio-ports/*/name; do
	[ "$(cat "$n" 2>/dev/null)" = lab.link ] &&
		port=/dev/$(basename "$(dirname "$n")")
done
if [ -z "$port" ]; then
	echo "two-hosts: not ok - no virtio serial port named lab.link"
	exit 1
fi
# KVM_CREATE_VM wants page status extensions, which only a process
# started after this has.
echo 1 > /proc/sys/vm/allocate_pgste
/lab/payload/vfio_ap_two_hosts "$(cat /lab/payload/role)" "$port"
