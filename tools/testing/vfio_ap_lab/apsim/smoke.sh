#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the AP simulator, run as root inside the lab VM:
#   make vm-run SCRIPT=tools/testing/vfio_ap_lab/apsim/smoke.sh MODULE=none
# Checks that the AP bus and the zcrypt drivers come up on the simulated
# configuration and follow changes made through debugfs.

D=/sys/kernel/debug/ap_sim
B=/sys/bus/ap/devices
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {	# check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
is() {		# is DESCRIPTION ACTUAL EXPECTED
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got '$2', want '$3'"; fi
}
# wait_for FILE VALUE: the AP bus runs a queue's reset and interrupt
# setup from its poll timer, after the debugfs write has returned
wait_for() {
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ "$(cat "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
settle() {
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		busy=0
		for r in $B/*.*/reset; do
			[ -f "$r" ] || continue
			grep -q "in progress" "$r" && busy=1
		done
		[ $busy = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

check "debugfs directory" test -d $D
dmesg | grep -i "ap_sim"

# a configuration given on the kernel command line is there at boot
case "$(cat /proc/cmdline)" in
*ap_sim.config=*)
	cat $D/config
	ls $B
	check "boot configuration has devices" test -n "$(ls $B)"
	;;
esac

echo "adapters=5,6 domains=4,71,0xab,255 control_domains=4,71,171,255" > $D/config
is "config canonical form" "$(cat $D/config)" \
	"adapters=5-6 domains=4,71,171,255 control_domains=4,71,171,255 type=14 mode=cca apxa=1 na=255 nd=255"
ls $B
for q in 05.0004 05.0047 05.00ab 05.00ff 06.0004 06.00ff; do
	check "queue $q exists" test -d $B/$q
done
check "card05 exists" test -d $B/card05
is "card05 type" "$(cat $B/card05/type)" "CEX8C"
is "card05 hwtype" "$(cat $B/card05/hwtype)" "14"
is "card05 depth" "$(cat $B/card05/depth)" "8"
is "card05 driver" "$(basename "$(readlink $B/card05/driver)")" "cex4card"
is "05.0004 driver" "$(basename "$(readlink $B/05.0004/driver)")" "cex4queue"
is "05.0004 online" "$(cat $B/05.0004/online)" "1"
is "05.0004 config" "$(cat $B/05.0004/config)" "1"
wait_for $B/05.0004/interrupt "Interrupts enabled."
is "05.0004 interrupt" "$(cat $B/05.0004/interrupt)" "Interrupts enabled."
cat $D/counters
check "counters show the bus resetting 05.0004" \
	grep -q "^05.0004 zapq=0 rapq=[1-9].* irq=1" $D/counters

# hwrng through the simulated CCA random-number request
cat /sys/class/misc/hw_random/rng_current
dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1
check "hwrng reads 16 bytes" \
	test "$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | wc -c)" = 16

# hot plug through the add_/remove_ files, no sleeps needed
echo 0 > $D/counters
echo 7 > $D/add_adapter
check "card07 appears" test -d $B/card07
check "07.00ab appears" test -d $B/07.00ab
echo 0x07 > $D/remove_adapter
check "card07 disappears" test ! -e $B/card07
check "07.0004 disappears" test ! -e $B/07.0004
echo 5 > $D/add_domain
check "05.0005 appears" test -d $B/05.0005
echo 5 > $D/remove_domain
check "05.0005 disappears" test ! -e $B/05.0005
echo 3 > $D/add_control_domain
check "control domain in QCI" grep -q "control_domains=3-4,71," $D/config
echo 3 > $D/remove_control_domain
cat $D/counters

# the bus resets (ZAPQ) a queue when its driver lets go of it
echo 0 > $D/counters
echo -6 > /sys/bus/ap/apmask
check "06.0004 unbound" test ! -e $B/06.0004/driver
cat $D/counters
check "unbind issued ZAPQ, interrupts off" \
	grep -q "^06.0004 zapq=1 rapq=0 aqic_on=0 aqic_off=0 irq=0" $D/counters
echo +6 > /sys/bus/ap/apmask
is "06.0004 bound again" "$(basename "$(readlink $B/06.0004/driver)")" "cex4queue"

# adapter type and mode
echo "6 13 accel" > $D/adapter_mode
is "card06 becomes CEX7A" "$(cat $B/card06/type)" "CEX7A"
cat $D/adapter_mode
echo "6 12 ep11" > $D/adapter_mode
is "card06 becomes CEX6P" "$(cat $B/card06/type)" "CEX6P"

# malformed writes change nothing
before=$(cat $D/config)
for bad in "adapters=300" "adapters=5-" "domains=x" "foo=1" "mode=cex" \
	   "apxa=0 adapters=64" "apxa=2" "adapters"; do
	if echo "$bad" > $D/config 2>/dev/null; then
		nok "config '$bad' rejected"
	else
		ok "config '$bad' rejected"
	fi
done
is "config unchanged" "$(cat $D/config)" "$before"

# faults
echo "05.0004 checkstop" > $D/fault
is "05.0004 chkstop" "$(cat $B/05.0004/chkstop)" "1"
echo "05.0004 clear" > $D/fault
is "05.0004 chkstop cleared" "$(cat $B/05.0004/chkstop)" "0"
echo "05.0047 deconfig" > $D/fault
is "05.0047 config off" "$(cat $B/05.0047/config)" "0"
echo "all clear" > $D/fault
is "05.0047 config on" "$(cat $B/05.0047/config)" "1"
check "bad fault rejected" sh -c "! echo '05.0004 explode' > $D/fault"

# reset latency and a hung reset
echo 300 > $D/reset_delay_ms
is "reset_delay_ms" "$(cat $D/reset_delay_ms)" "300"
settle
echo 1 > $B/05.00ab/reset
is "reset in progress" "$(cat $B/05.00ab/reset)" "Reset in progress."
wait_for $B/05.00ab/reset "No Reset Timer set."
is "reset done" "$(cat $B/05.00ab/reset)" "No Reset Timer set."
echo 0 > $D/reset_delay_ms
echo "05.00ff reset_hang" > $D/fault
echo 1 > $B/05.00ff/reset
sleep 0.5
is "hung reset" "$(cat $B/05.00ff/reset)" "Reset in progress."
echo "05.00ff clear" > $D/fault
wait_for $B/05.00ff/reset "No Reset Timer set."
is "hung reset completes after clear" "$(cat $B/05.00ff/reset)" "No Reset Timer set."

# a configuration without APXA
echo "adapters=1 domains=2 apxa=0 mode=accel type=11" > $D/config
is "apxa=0 canonical" "$(cat $D/config)" \
	"adapters=1 domains=2 control_domains= type=11 mode=accel apxa=0 na=63 nd=15"
is "card01 type" "$(cat $B/card01/type)" "CEX5A"
check "card05 gone" test ! -e $B/card05

echo "" > $D/config
is "empty config" "$(ls $B | wc -l)" "0"
settle
echo "adapters=5 domains=4" > $D/config
settle

echo "--- dmesg (ap/zcrypt/sim) ---"
dmesg | grep -i -E "ap_sim|zcrypt|\bap\b|crypto|hwrng|random" | tail -n 40
check "no warnings from the AP bus or zcrypt" \
	sh -c "! dmesg | grep -i -E 'ap:|zcrypt|ap_sim' | grep -i -E 'warn|err|fail'"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
