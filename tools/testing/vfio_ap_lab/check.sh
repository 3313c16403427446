#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - everything "make check" runs, tallied into one closing line.
#
# Each step adds passed/failed counts: static checks count per file or per
# build, KUnit per test case, the selftests per test case (TAP totals).

set -uo pipefail
LAB_SOURCED=1
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"
set -uo pipefail
set +e

PASSED=0
FAILED=0
FAILURES=()
STEPS=${CHECK_STEPS:-static docs kunit lab selftests two_hosts qemu_migration dkms}

pass() { PASSED=$((PASSED + ${2:-1})); echo "check: PASS $1"; }
fail() { FAILED=$((FAILED + ${2:-1})); FAILURES+=("$1"); echo "check: FAIL $1"; }

# run_step NAME CMD...: one counted item, output kept for the log
run_step() {
	local name=$1 log
	shift
	log=$(mktemp)
	if "$@" > "$log" 2>&1; then
		pass "$name"
	else
		cat "$log"
		fail "$name"
	fi
	rm -f "$log"
}

our_sources() {
	(cd "$REPO" && git ls-files -- 'vfio_ap_*.[ch]' \
		'tools/testing/selftests/vfio_ap/*.[ch]' \
		'tools/testing/vfio_ap_lab/apsim/*.[ch]')
}

checkpatch_one() {
	local ignore=FILE_PATH_CHANGES,SPDX_LICENSE_TAG

	# The simulator's asm/ap.h must keep upstream's ap_qid_t typedef.
	case $1 in
	*/apsim/ap.h) ignore=$ignore,NEW_TYPEDEFS ;;
	esac
	"$(pristine_tree)/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--show-types --ignore "$ignore" -f "$REPO/$1"
}

kerneldoc_all() {
	local out f
	f=$(cd "$REPO" && git ls-files -- 'vfio_ap_*.[ch]')
	[ -n "$f" ] || return 0
	out=$(cd "$REPO" && "$(pristine_tree)/scripts/kernel-doc" -none -Wall $f 2>&1)
	[ -z "$out" ] || { echo "$out"; return 1; }
}

# Compiler and sparse output for our files, nothing else, must be empty.
no_warnings() {
	local log=$1
	! grep -E '(warning|error):' "$log"
}

oot_build() {
	local log rc
	log=$(mktemp)
	with_lock build_module_locked debug "W=1 C=2" > "$log" 2>&1
	rc=$?
	cat "$log"
	[ $rc -eq 0 ] && no_warnings "$log"
	rc=$?
	rm -f "$log"
	return $rc
}

step_static() {
	local f
	cmd_deps || { fail "deps"; return; }
	for f in $(our_sources); do
		run_step "checkpatch $f" checkpatch_one "$f"
	done
	run_step "kernel-doc" kerneldoc_all
	run_step "out-of-tree build W=1 C=2 (debug kernel)" oot_build
}

rst_check() {
	python3 - "$1" <<'PY'
import sys
import docutils.core
src = open(sys.argv[1]).read()
docutils.core.publish_doctree(src, source_path=sys.argv[1],
                              settings_overrides={"halt_level": 2,
                                                  "report_level": 2})
PY
}

step_docs() {
	local f n=0
	for f in $(cd "$REPO" && git ls-files -- 'Documentation/*.rst'); do
		run_step "docs $f" rst_check "$REPO/$f"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || fail "docs: no reStructuredText documentation"
}

kunit_run_locked() {
	local wd=$1 src=$2
	prepare_intree_tree "$src"
	(cd "$src" && ./tools/testing/kunit/kunit.py run --arch=s390 \
		--cross_compile=$CROSS --build_dir="$wd/build-kunit" \
		--kunitconfig="$REPO/.kunitconfig" --jobs="$JOBS" --timeout=600)
}

# The in-tree build: our files in drivers/s390/crypto of the KUnit tree,
# recompiled with W=1 and sparse.
intree_build_locked() {
	local wd=$1 src=$2 objs f
	objs=()
	for f in "$REPO"/vfio_ap_*.c; do
		objs+=("drivers/s390/crypto/$(basename "${f%.c}").o")
	done
	"${KMAKE[@]}" -C "$src" O="$wd/build-kunit" W=1 C=2 "${objs[@]}"
}

step_kunit() {
	local wd src log ran passed failed
	wd=$(treedir)
	src=$wd/intree-src
	log=$(mktemp)
	with_lock kunit_run_locked "$wd" "$src" > "$log" 2>&1
	cat "$log"
	ran=$(grep -oE 'Ran [0-9]+ tests' "$log" | tail -n 1 | grep -oE '[0-9]+')
	passed=$(grep -oE 'passed: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
	failed=$(grep -oE 'failed: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
	if [ -z "$ran" ] || [ "${ran:-0}" -eq 0 ]; then
		fail "kunit: no test ran"
	else
		[ "${passed:-0}" -gt 0 ] && pass "kunit: $passed test cases" "$passed"
		[ "${failed:-0}" -gt 0 ] && fail "kunit: $failed test cases" "$failed"
		[ "$((${passed:-0} + ${failed:-0}))" -eq "$ran" ] ||
			fail "kunit: $ran ran, $((${passed:-0} + ${failed:-0})) accounted for"
	fi
	log2=$(mktemp)
	with_lock intree_build_locked "$wd" "$src" > "$log2" 2>&1
	if [ $? -eq 0 ] && no_warnings "$log2"; then
		pass "in-tree build W=1 C=2"
	else
		cat "$log2"
		fail "in-tree build W=1 C=2"
	fi
	rm -f "$log" "$log2"
}

# The lab checks itself: the runner must notice a splat, and the demo
# walk-through must show what the documentation promises.
# vm_result NAME LOG RC: count a VM run that had to succeed.
vm_result() {
	if [ "$3" -eq 0 ]; then
		pass "$1"
	else
		cat "$2"
		fail "$1"
	fi
}

# panic_result NAME LOG RC WHAT [NOT]: the run failed, the runner printed
# the panic, the log has WHAT (and not NOT), and nobody waited for
# VM_TIMEOUT.
panic_result() {
	if [ "$3" -ne 0 ] &&
	   grep -q '^lab: the kernel panicked; the VM ended there' "$2" &&
	   grep -q "$4" "$2" && ! grep -q 'ran into VM_TIMEOUT' "$2" &&
	   { [ -z "${5:-}" ] || ! grep -q "$5" "$2"; }; then
		pass "$1"
	else
		cat "$2"
		fail "$1"
	fi
}

# QEMU exits by itself once every CPU stopped; for a panicked guest that
# neither re-IPLs nor stops (a CPU left spinning), the runner's watcher
# is the last line: fed a panic line by a "VM" that then stays silent,
# it must stop that VM and say so.
panic_watch_stops_silent_vm() {
	local run
	run=$(mktemp -d)
	( echo "$BASHPID" > "$run/vm.pid"
	  echo "Kernel panic - not syncing: lab self-test"
	  exec sleep 120 ) | panic_watch "$run" > "$run/out" 2>&1
	if [ -f "$run/panicked" ] &&
	   grep -q 'quiet for 5 s after the panic: the runner stops the VM' \
		"$run/out"; then
		pass "lab: the runner stops a VM that stays silent after a panic"
	else
		cat "$run/out"
		fail "lab: the runner stops a VM that stays silent after a panic"
	fi
	rm -rf "$run"
}

# A VM script that sources vm_steps.sh prints one "TAG: ok - ..." or
# "TAG: not ok - ..." line per checked step; each counts.
# steps_result TAG NAME WHAT OUT RC
steps_result() {
	local tag=$1 name=$2 what=$3 out=$4 rc=$5 np nf
	np=$(grep -c "^$tag: ok - " "$out")
	nf=$(grep -c "^$tag: not ok - " "$out")
	[ "$nf" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$np" -eq 0 ] && cat "$out"
	[ "$np" -gt 0 ] && pass "$name: $np steps of $what" "$np"
	[ "$nf" -gt 0 ] && fail "$name: $nf steps" "$nf"
	[ "$np" -gt 0 ] || fail "$name: no step ran"
	[ "$rc" -eq 0 ] || [ "$nf" -gt 0 ] ||
		fail "$name: VM run (exit status or kernel splat)"
}

admin_tools_result() {
	steps_result admin-tools "admin tools" \
		"mdevctl, lszcrypt, virsh nodedev (plain kernel)" "$@"
}

seed_migrate_result() {
	steps_result seed-migrate "seed migration" \
		"virsh/QMP unplug, save/restore, plug (plain kernel)" "$@"
}

# doctest.sh prints "doctest: ok - ..." or "doctest: not ok - ..." and
# the differences per example of the guide, then a summary line; the
# whole guide counts as one check.
doctest_result() {
	local out=$1 rc=$2 np nf
	np=$(grep -c '^doctest: ok - ' "$out")
	nf=$(grep -c '^doctest: not ok - ' "$out")
	if [ "$rc" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$np" -gt 0 ]; then
		pass "doc test: the $np console examples of vfio-ap.rst print what the guide shows (plain kernel)"
	else
		cat "$out"
		fail "doc test: $nf of $((np + nf)) console examples of vfio-ap.rst differ from the guide, or the VM run failed (plain kernel)"
	fi
}

step_lab() {
	local d k rc_warn rc_demo rc_cycle rc_libvirt rc_admin rc_panic
	local rc_stop_panic rc_doctest rc_seed pw pd pc pl pa pt ps
	d=$(mktemp -d)
	echo 'echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' > "$d/warn.sh"
	# Kernels and modules first: the VMs below must not build them.
	for k in debug plain; do
		if ! { kernel_current "$(kernel_dir $k)" ||
		       with_lock build_kernel_locked $k; } >> "$d/build.log" 2>&1 ||
		   ! with_lock build_module_locked $k >> "$d/build.log" 2>&1; then
			cat "$d/build.log"
			fail "lab: $k kernel and module build"
			rm -rf "$d"
			return
		fi
	done
	# Independent VMs, side by side on the host's CPUs. libvirt runs on
	# the plain kernel: its daemon needs six minutes to start under KASAN.
	# The first two run as "make demo" does (LAB_QUIET): a failed run
	# must print its console, a good one only the admin session.
	LAB_QUIET=1 KEEP_CONSOLE=$d/warn.console \
		vm_run debug none "$d/warn.sh" > "$d/warn.out" 2>&1 &
	pw=$!
	# Two panics: with the VM's re-IPL on panic, and with s390's default
	# (stopped CPUs, where a TCG guest sits until killed). The runner
	# must end each VM at the panic, well before the VM_TIMEOUT here.
	echo 'echo PANIC > /sys/kernel/debug/provoke-crash/DIRECT' > "$d/panic.sh"
	{ echo 'echo stop > /sys/firmware/shutdown_actions/on_panic'
	  cat "$d/panic.sh"; } > "$d/stop-panic.sh"
	VM_TIMEOUT=600 vm_run plain none "$d/panic.sh" > "$d/panic.out" 2>&1
	rc_panic=$?
	VM_TIMEOUT=600 vm_run plain none "$d/stop-panic.sh" \
		> "$d/stop-panic.out" 2>&1
	rc_stop_panic=$?
	LAB_QUIET=1 KEEP_CONSOLE=$d/demo.console \
		vm_run debug project "$LAB/demo.sh" > "$d/demo.out" 2>&1 &
	pd=$!
	vm_run debug project "$LAB/module_cycle.sh" > "$d/cycle.out" 2>&1 &
	pc=$!
	LAB_PAYLOAD=$(libvirt_s390x) \
		vm_run plain project "$LAB/libvirt.sh" > "$d/libvirt.out" 2>&1 &
	pl=$!
	LAB_PAYLOAD=$(admin_s390x) \
		vm_run plain project "$LAB/admin_tools.sh" > "$d/admin.out" 2>&1 &
	pa=$!
	vm_run plain project "$LAB/doctest.sh" > "$d/doctest.out" 2>&1 &
	pt=$!
	LAB_PAYLOAD=$(libvirt_s390x) \
		vm_run plain project "$LAB/seed_migrate.sh" > "$d/seed.out" 2>&1 &
	ps=$!
	wait $pw
	rc_warn=$?
	wait $pd
	rc_demo=$?
	wait $pc
	rc_cycle=$?
	wait $pl
	rc_libvirt=$?
	wait $pa
	rc_admin=$?
	wait $pt
	rc_doctest=$?
	wait $ps
	rc_seed=$?
	if [ $rc_warn -ne 0 ] &&
	   grep -q '^lab: kernel splat during the run' "$d/warn.out"; then
		pass "lab: an injected WARNING fails the run"
	else
		cat "$d/warn.out"
		fail "lab: an injected WARNING fails the run"
	fi
	panic_result "lab: a panic re-IPLs and ends the VM there" \
		"$d/panic.out" $rc_panic 'Kernel panic - not syncing: dumptest' \
		'the runner stops the VM'
	panic_result "lab: a panic that stops the CPUs ends the VM there" \
		"$d/stop-panic.out" $rc_stop_panic 'Kernel panic - not syncing: dumptest'
	panic_watch_stops_silent_vm
	if grep -q '^Linux version ' "$d/warn.out" &&
	   grep -q 'WARNING:' "$d/warn.out"; then
		pass "lab: a failed quiet run prints its whole console"
	else
		cat "$d/warn.out"
		fail "lab: a failed quiet run prints its whole console"
	fi
	vm_result "demo: admin walk-through with our module (debug kernel)" \
		"$d/demo.out" $rc_demo
	# quiet: the session is shown, the boot log is not but is in the file
	if [ $rc_demo -eq 0 ] &&
	   grep -q '^# echo -5,-6 > /sys/bus/ap/apmask$' "$d/demo.out" &&
	   ! grep -q '^Linux version ' "$d/demo.out" &&
	   grep -q "^lab: kernel console of this run: $d/demo.console$" "$d/demo.out" &&
	   grep -q '^Linux version ' "$d/demo.console" &&
	   grep -q '^# echo -5,-6 > /sys/bus/ap/apmask$' "$d/demo.console"; then
		pass "demo: quiet, the session on screen and the console in the file it names"
	else
		cat "$d/demo.out"
		fail "demo: quiet, the session on screen and the console in the file it names"
	fi
	vm_result "module: 20 load/use/unload cycles, no leak or splat (debug kernel)" \
		"$d/cycle.out" $rc_cycle
	vm_result "libvirt: virsh start --paused, detach-device, attach-device (plain kernel)" \
		"$d/libvirt.out" $rc_libvirt
	admin_tools_result "$d/admin.out" $rc_admin
	doctest_result "$d/doctest.out" $rc_doctest
	seed_migrate_result "$d/seed.out" $rc_seed
	rm -rf "$d"
}

build_selftests() {
	local wd=$1 out=$2
	prepare_intree_tree "$wd/intree-src"
	rm -rf "$out"
	mkdir -p "$out"
	make -s -C "$wd/intree-src/tools/testing/selftests/vfio_ap" \
		ARCH=s390 CROSS_COMPILE=$CROSS OUTPUT="$out" all
	# qemu_test runs Debian's s390x QEMU from here (issue 5)
	cp -a "$(qemu_s390x)" "$out/qemu"
}

# One binary $3 of the selftests directory into $2, as make sees fit
# (bench.sh's workloads, the two hosts' VMM).
build_selftest_one() {
	local wd=$1 out=$2 t=$3
	prepare_intree_tree "$wd/intree-src"
	mkdir -p "$out"
	make -s -C "$wd/intree-src/tools/testing/selftests/vfio_ap" \
		ARCH=s390 CROSS_COMPILE=$CROSS OUTPUT="$out" "$out/$t"
}

# Kernel $1 and our module for it; then the selftests of tree directory
# $2: all of them into $3 afresh, or only binary $4.
selftests_prepare() {
	local k=$1 wd=$2 out=$3 only=${4:-}
	{ kernel_current "$(kernel_dir "$k")" ||
	  with_lock build_kernel_locked "$k"; } &&
		with_lock build_module_locked "$k" || return 1
	if [ -n "$only" ]; then
		with_lock build_selftest_one "$wd" "$out" "$only"
	else
		with_lock build_selftests "$wd" "$out"
	fi
}

# Seconds each selftest binary takes on the debug kernel (measured; see
# README), to balance the VMs; a binary not listed counts as 60.
SELFTEST_COST="migration_test=125 irq_test=100 qemu_test=87 assign_test=64 format_test=49
fuzz_test=47 stress_test=46 reset_test=45 kvm_test=35 hotplug_test=28
mdev_test=17 filter_test=16 apmask_test=16 module_test=12 status_test=10
why_test=30 parent_test=1"

selftest_cost() {
	local kv
	for kv in $SELFTEST_COST; do
		[ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }
	done
	echo 60
}

# Binaries that test what only our module has (the reference module
# lacks it, so they say nothing about it): left out with
# SELFTEST_MODULE=reference.
OURS_ONLY="why_test"

# selftest_runs NAME: whether binary NAME runs against SELFTEST_MODULE.
selftest_runs() {
	local t
	[ "${SELFTEST_MODULE:-project}" = reference ] || return 0
	for t in $OURS_ONLY; do
		[ "$t" = "$1" ] && return 1
	done
	return 0
}

# Deal the binaries of $1 into payload directories $1.0 .. $1.(n-1),
# costliest first, each to the VM with the least work so far.
shard_selftests() {
	local out=$1 n=$2 t i best
	local -a load
	for ((i = 0; i < n; i++)); do
		load[i]=0
		rm -rf "$out.$i"
		mkdir -p "$out.$i"
	done
	for t in $(for t in "$out"/*_test; do
			   selftest_runs "${t##*/}" || continue
			   echo "$(selftest_cost "${t##*/}") ${t##*/}"
		   done | sort -rn | cut -d' ' -f2); do
		best=0
		for ((i = 1; i < n; i++)); do
			[ "${load[i]}" -lt "${load[best]}" ] && best=$i
		done
		cp -a "$out/$t" "$out.$best/"
		[ "$t" = qemu_test ] && cp -a "$out/qemu" "$out.$best/"
		load[best]=$((load[best] + $(selftest_cost "$t")))
	done
}

# Lockdep stays silent only about orders it saw: it must have recorded
# vfio_ap's locks nested with VFIO's dev_set lock and with kvm->lock as
# QEMU's open and close and the hot plug take them, the PQAP hook under
# KVM's hook lock, dma_unmap under VFIO's device list lock, and the
# migration locks outside cfg_lock (migration_test; see
# Documentation/arch/s390/vfio-ap-locking.rst).
lockdep_saw() {
	local edge
	for edge in '&new_dev_set->lock -> vfio_ap_drv.cfg_lock' \
		    'ap_perms_mutex -> vfio_ap_drv.cfg_lock' \
		    'vfio_ap_drv.cfg_lock -> &kvm->lock' \
		    'vfio_ap_drv.cfg_lock -> &kvm->arch.crypto.pqap_hook_rwsem' \
		    'vfio_ap_drv.cfg_lock -> vfio_ap_drv.state_lock' \
		    '&kvm->arch.crypto.pqap_hook_rwsem -> vfio_ap_drv.state_lock' \
		    '&iommu->device_list_lock -> vfio_ap_drv.state_lock' \
		    '&new_dev_set->lock -> &m->mig_lock' \
		    '&m->mig_lock -> &f->lock' \
		    '&f->lock -> vfio_ap_drv.cfg_lock' \
		    '&m->mig_lock -> vfio_ap_drv.cfg_lock'; do
		if grep -q -F "lab-lockdep: $edge" "$1"; then
			pass "lockdep recorded $edge"
		else
			fail "lockdep recorded $edge"
		fi
	done
}

step_selftests() {
	local wd out log tp tf ts n i rc=0 k=${SELFTEST_KERNEL:-debug}
	local -a pids
	wd=$(treedir)
	out=$wd/selftests-out
	log=$(mktemp)
	# Kernel and module first: the VMs below must not both build them.
	if ! selftests_prepare "$k" "$wd" "$out" > "$log" 2>&1; then
		cat "$log"
		fail "selftests: build"
		rm -f "$log"
		return
	fi
	# One single-vCPU VM per host CPU (two at most): the binaries are
	# independent and each VM has its own simulator, so the suite takes
	# half the time on the two cores CI has.
	n=$(nproc)
	[ "$n" -gt 2 ] && n=2
	[ "${SELFTEST_MODULE:-project}" = reference ] &&
		echo "check: not run against the reference module (it lacks what they test): $OURS_ONLY"
	shard_selftests "$out" "$n"
	for ((i = 0; i < n; i++)); do
		VM_TIMEOUT=${VM_TIMEOUT:-3600} LAB_PAYLOAD=$out.$i \
			vm_run "$k" "${SELFTEST_MODULE:-project}" \
			"$LAB/run_selftests.sh" > "$log.$i" 2>&1 &
		pids[i]=$!
	done
	for ((i = 0; i < n; i++)); do
		wait "${pids[i]}" || rc=1
		echo "check: selftests VM $((i + 1)) of $n: $(ls "$out.$i" | grep -c _test) binaries"
		cat "$log.$i"
		cat "$log.$i" >> "$log"
		rm -f "$log.$i"
	done
	tp=$(grep -oE '^# Totals: pass:[0-9]+' "$log" | grep -oE '[0-9]+$' |
	     paste -sd+ | bc)
	tf=$(grep -oE '^# Totals: pass:[0-9]+ fail:[0-9]+' "$log" |
	     grep -oE '[0-9]+$' | paste -sd+ | bc)
	ts=$(grep -oE 'skip:[0-9]+' "$log" | grep -oE '[0-9]+$' | paste -sd+ | bc)
	[ "${tp:-0}" -gt 0 ] && pass "selftests: ${tp} cases" "$tp"
	[ "${tf:-0}" -gt 0 ] && fail "selftests: ${tf} cases" "$tf"
	[ "${ts:-0}" -gt 0 ] && fail "selftests: ${ts} skipped cases count as failures" "$ts"
	grep -q '^lab-selftests: incomplete' "$log" &&
		fail "selftests: a test binary died before reporting totals"
	[ "${tp:-0}" -gt 0 ] || fail "selftests: no test ran"
	[ $rc -eq 0 ] || fail "selftests: VM run (exit status or kernel splat)"
	[ "$k" = debug ] && lockdep_saw "$log"
	rm -f "$log"
	for ((i = 0; i < n; i++)); do
		rm -rf "$out.$i"
	done
}

# Two lab hosts at once (issue 10, item 4): two VMs, each with its own
# AP simulator, joined by a virtio serial port whose ends QEMU connects
# through a UNIX socket; a guest migrates from host A to host B over it.
# B's adapters are accelerators of another type at first: B must refuse
# the guest while A's keeps running untouched. Then B's administrator
# puts in A's kind of card and the migration goes through
# (selftests/vfio_ap/vfio_ap_two_hosts.c, which both VMs run).
TWO_HOSTS_CONFIG="adapters=5-7 domains=4,0x47,0xab,0xff control_domains=4,0x47,0xab,0xff"
TWO_HOSTS_PORT="-device virtio-serial-ccw -device virtserialport,chardev=link,name=lab.link"

step_two_hosts() {
	local wd out log d k=${SELFTEST_KERNEL:-debug} pa pb rc=0
	wd=$(treedir)
	out=$wd/two-hosts-out
	log=$(mktemp)
	if ! selftests_prepare "$k" "$wd" "$out" vfio_ap_two_hosts \
		> "$log" 2>&1; then
		cat "$log"
		fail "two hosts: build"
		rm -f "$log"
		return
	fi
	rm -f "$log"
	d=$(mktemp -d)
	mkdir -p "$d/a" "$d/b"
	cp "$out/vfio_ap_two_hosts" "$d/a/"
	cp "$out/vfio_ap_two_hosts" "$d/b/"
	echo source > "$d/a/role"
	echo target > "$d/b/role"
	# A listens; B connects, and retries until A's QEMU is up.
	SIMCFG="$TWO_HOSTS_CONFIG type=14 mode=cca" LAB_PAYLOAD=$d/a \
	LAB_QEMU_ARGS="-chardev socket,id=link,path=$d/link,server=on,wait=off $TWO_HOSTS_PORT" \
		VM_TIMEOUT=900 vm_run "$k" project "$LAB/two_hosts_vm.sh" \
		> "$d/a.out" 2>&1 &
	pa=$!
	SIMCFG="$TWO_HOSTS_CONFIG type=13 mode=accel" LAB_PAYLOAD=$d/b \
	LAB_QEMU_ARGS="-chardev socket,id=link,path=$d/link,reconnect=1 $TWO_HOSTS_PORT" \
		VM_TIMEOUT=900 vm_run "$k" project "$LAB/two_hosts_vm.sh" \
		> "$d/b.out" 2>&1 &
	pb=$!
	wait $pa || rc=1
	wait $pb || rc=1
	cat "$d/a.out" "$d/b.out" > "$d/both.out"
	steps_result two-hosts "two hosts" \
		"a guest's migration from lab host A to lab host B, refused, then done ($k kernel)" \
		"$d/both.out" $rc
	rm -rf "$d"
}

# A guest migrates with its vfio-ap device attached between two real
# QEMUs (issue 10, item 5): the lab's QEMU 10 with qemu/*.patch (lab.sh
# qemu_mig_s390x), driven through QMP by
# selftests/vfio_ap/vfio_ap_qemu_migrate.c, each of whose cases counts.
step_qemu_migration() {
	local wd out log d k=${SELFTEST_KERNEL:-debug} qemu rc=0 np nf
	wd=$(treedir)
	out=$wd/qemu-migration-out
	log=$(mktemp)
	if ! qemu=$(qemu_mig_s390x 2> "$log") ||
	   ! selftests_prepare "$k" "$wd" "$out" vfio_ap_qemu_migrate \
		>> "$log" 2>&1; then
		cat "$log"
		fail "QEMU migration: build"
		rm -f "$log"
		return
	fi
	rm -f "$log"
	d=$(mktemp -d)
	mkdir -p "$d/payload"
	cp "$out/vfio_ap_qemu_migrate" "$d/payload/"
	cp -a "$qemu" "$d/payload/qemu-mig"
	printf '#!/bin/sh\ncd /lab/payload && ./vfio_ap_qemu_migrate\n' > "$d/run.sh"
	LAB_PAYLOAD=$d/payload VM_TIMEOUT=1200 vm_run "$k" project "$d/run.sh" \
		> "$d/out" 2>&1 || rc=1
	np=$(grep -cE '^ok [0-9]+ qmig\.' "$d/out")
	nf=$(grep -cE '^not ok [0-9]+ qmig\.' "$d/out")
	[ "$nf" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$np" -eq 0 ] && cat "$d/out"
	[ "$np" -gt 0 ] &&
		pass "QEMU migration: $np cases, a guest migrated by real QEMU with vfio-ap attached ($k kernel)" "$np"
	[ "$nf" -gt 0 ] && fail "QEMU migration: $nf cases" "$nf"
	[ "$np" -gt 0 ] || [ "$nf" -gt 0 ] || fail "QEMU migration: no case ran"
	[ "$rc" -eq 0 ] || [ "$nf" -gt 0 ] ||
		fail "QEMU migration: VM run (exit status or kernel splat)"
	rm -rf "$d"
}

# Selftests that make a quick smoke test of a module: the matrix device,
# an mdev's life, module load and unload.
DKMS_SMOKE="parent_test mdev_test module_test"

# The module built by DKMS from dkms.conf (lab.sh dkms_build_locked)
# loads on the plain kernel and passes the smoke selftests.
step_dkms() {
	local wd out log ko p t tp tf rc
	wd=$(treedir)
	out=$wd/selftests-out
	log=$(mktemp)
	if ! ko=$(with_lock dkms_build_locked 2> "$log"); then
		cat "$log"
		fail "dkms: dkms add and build against the lab's 6.12 kernel"
		rm -f "$log"
		return
	fi
	cat "$log"
	pass "dkms: dkms add and build against the lab's 6.12 kernel"
	if [ ! -x "$out/parent_test" ] &&
	   ! with_lock build_selftests "$wd" "$out" > "$log" 2>&1; then
		cat "$log"
		fail "dkms: selftest build"
		rm -f "$log"
		return
	fi
	p=$(mktemp -d)
	for t in $DKMS_SMOKE; do
		cp -a "$out/$t" "$p/"
	done
	LAB_PAYLOAD=$p vm_run plain "$ko" "$LAB/run_selftests.sh" > "$log" 2>&1
	rc=$?
	cat "$log"
	tp=$(grep -oE '^# Totals: pass:[0-9]+' "$log" | grep -oE '[0-9]+$' |
	     paste -sd+ | bc)
	tf=$(grep -oE '^# Totals: pass:[0-9]+ fail:[0-9]+' "$log" |
	     grep -oE '[0-9]+$' | paste -sd+ | bc)
	if [ $rc -eq 0 ] && [ "${tp:-0}" -gt 0 ] && [ "${tf:-0}" -eq 0 ] &&
	   ! grep -q '^lab-selftests: incomplete' "$log" &&
	   ! grep -qE '^# Totals: .* skip:[1-9]' "$log" &&
	   grep -q "^lab: kernel .*, vfio_ap module: $ko$" "$log"; then
		pass "dkms: the DKMS-built module passes $tp smoke selftest cases (plain kernel)"
	else
		fail "dkms: the DKMS-built module passes the smoke selftests (plain kernel)"
	fi
	rm -rf "$p" "$log"
}

main_check() {
	local s start t0
	start=$(date +%s)
	cmd_deps || { echo "0 passed, 1 failed"; exit 1; }
	for s in $STEPS; do
		echo "check: === $s ==="
		t0=$(date +%s)
		"step_$s"
		echo "check: step $s took $(( $(date +%s) - t0 ))s"
	done
	echo "check: took $(( $(date +%s) - start ))s"
	if [ ${#FAILURES[@]} -gt 0 ]; then
		echo "check: failures:"
		printf '  %s\n' "${FAILURES[@]}"
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# coverage.sh sources this file for the selftest build and sharding.
[ "${CHECK_SOURCED:-0}" = 1 ] || main_check
