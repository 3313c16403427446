#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load, use and unload vfio_ap 20 times. Run on the debug kernel: the
# runner's final kmemleak scan and splat check are the verdict, so every
# cycle must leave nothing behind and take its locks in a lockdep-clean
# order. The module must also come back fully each time.

SIM=/sys/kernel/debug/ap_sim
MATRIX=/sys/devices/vfio_ap/matrix
TYPE=$MATRIX/mdev_supported_types/vfio_ap-passthrough
DEBUGFS=/sys/kernel/debug/vfio_ap
UUID=0b1ad0fe-0000-4000-8000-00000000c1c1
CYCLES=${CYCLES:-20}

fail() {
	echo "module_cycle: cycle $i: $*"
	exit 1
}

echo 'adapters=3-4 domains=1,2 control_domains=1,2' > $SIM/config || exit 1
echo -3,-4 > /sys/bus/ap/apmask || exit 1

i=0
while [ $i -lt $CYCLES ]; do
	i=$((i + 1))
	echo $UUID > $TYPE/create || fail "create"
	for a in 3 4; do
		echo $a > $MATRIX/$UUID/assign_adapter || fail "assign adapter $a"
	done
	echo 1 > $MATRIX/$UUID/assign_domain || fail "assign domain"
	echo 2 > $MATRIX/$UUID/assign_control_domain || fail "assign control domain"
	[ "$(cat $MATRIX/$UUID/guest_matrix)" = "$(printf '03.0001\n04.0001')" ] ||
		fail "guest_matrix"
	echo 03.0001 > /sys/bus/ap/drivers/vfio_ap/unbind || fail "unbind"
	[ "$(cat $MATRIX/$UUID/guest_matrix)" = "04.0001" ] || fail "filtered guest_matrix"
	echo 03.0001 > /sys/bus/ap/drivers/vfio_ap/bind || fail "bind"
	echo 4 > $SIM/remove_adapter || fail "remove adapter"
	echo 4 > $SIM/add_adapter || fail "add adapter"
	# every other cycle unloads with the mdev still defined
	[ -r $DEBUGFS/$UUID/not_in_guest ] || fail "no debugfs view"
	[ $((i % 2)) -eq 0 ] && {
		echo 1 > $MATRIX/$UUID/remove || fail "remove"
		[ -e $DEBUGFS/$UUID ] && fail "debugfs directory of a removed mdev left behind"
	}
	rmmod vfio_ap || fail "rmmod"
	[ -e $MATRIX ] && fail "matrix device left behind"
	[ -e $DEBUGFS ] && fail "debugfs directory left behind"
	insmod /lab/vfio_ap.ko || fail "insmod"
	case $(readlink /sys/bus/ap/devices/03.0001/driver) in
	*/vfio_ap) ;;
	*) fail "queue not bound to vfio_ap after reload" ;;
	esac
done
echo "module_cycle: $CYCLES cycles of load, use and unload"
