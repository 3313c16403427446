#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# DKMS pre-build step of vfio_ap, run in the DKMS build directory:
#   ap_bus_header.sh KERNEL_SOURCE_DIR KERNEL_RELEASE
#
# vfio_ap includes the AP bus's own header, drivers/s390/crypto/ap_bus.h.
# A full kernel tree (or an O= build directory with its "source" link) has
# it; the kernel header packages of distributions do not (Debian's
# linux-headers-*-s390x ship include/ and arch/s390/include only). Then the
# header comes from the kernel's source package, which Debian installs as
# /usr/src/linux-source-<major>.<minor>.tar.xz, and is unpacked into
# ap_bus/ here, where Kbuild looks after the kernel tree.

ksrc=$1
krel=$2
hdr=drivers/s390/crypto/ap_bus.h

for d in "$ksrc" "$ksrc/source"; do
	if [ -f "$d/$hdr" ]; then
		echo "ap_bus.h: $d/$hdr"
		exit 0
	fi
done

series=$(echo "$krel" | cut -d. -f1-2)
for t in /usr/src/linux-source-"$series".tar.*; do
	[ -f "$t" ] || continue
	mkdir -p ap_bus
	# the tarball's top directory is linux-source-<series>/
	if tar -xf "$t" -O --wildcards "*/$hdr" > ap_bus/ap_bus.h.tmp &&
	   [ -s ap_bus/ap_bus.h.tmp ]; then
		mv ap_bus/ap_bus.h.tmp ap_bus/ap_bus.h
		echo "ap_bus.h: from $t"
		exit 0
	fi
	rm -f ap_bus/ap_bus.h.tmp
done

echo "ap_bus.h: not in $ksrc and no /usr/src/linux-source-$series.tar.*;" \
     "install the source package of kernel $krel (Debian: linux-source-$series)" >&2
exit 1
