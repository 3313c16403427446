#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# coverage.sh - "make coverage": how much of the driver the selftests and
# the lab's scripts run, as line and function coverage from gcov.
#
# Our module is built with gcov profiling (Kbuild: VFIO_AP_GCOV=y) against
# the cov kernel (lab.config plus config/coverage.fragment). One VM per
# piece of work (a share of the selftests, demo.sh, module_cycle.sh,
# libvirt.sh) runs it and then copies the module's .gcda files from
# /sys/kernel/debug/gcov to /lab/out, which lab.sh hands back (LAB_OUTPUT).
# Unloading the module loses nothing: gcov keeps an unloaded module's
# counts (gcov_persist=1, the default) and adds the next load's to them,
# so the rmmod/insmod of module_cycle.sh and module_test still count.
# On the host gcov-tool adds the VMs' counts together and gcov reports.
#
# Not part of "make check". Output in $COVERAGE_DIR (default
# $CACHE/coverage): summary.txt, gcov/*.gcov (annotated sources),
# merged/*.gcda, logs/<piece>.log (each VM's console).

set -uo pipefail
CHECK_SOURCED=1
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"
set -uo pipefail
set +e

COV=${COVERAGE_DIR:-$CACHE/coverage}
GCOV=${CROSS}gcov
GCOV_TOOL=${CROSS}gcov-tool

cov_log() { echo "coverage: $*"; }

# The script a VM runs: one of the lab's scripts, then the module's
# counts out to the run share, whatever the script's status.
vm_script() {
	cat <<EOF
sh /src/${LAB#"$REPO"/}/$1
rc=\$?
mkdir -p /lab/out
find /sys/kernel/debug/gcov -name 'vfio_ap_*.gcda' | while read -r f; do
	cat "\$f" > "/lab/out/\${f##*/}"
done
echo "coverage: \$(ls /lab/out | wc -l) .gcda files collected"
exit \$rc
EOF
}

# Everything the VMs need, built (or fetched) before any of them starts:
# on a cold cache, VMs started together would each fetch busybox into the
# same temporary directory and boot a broken initramfs (measured).
cov_build() {
	local wd=$1
	{ kernel_current "$(kernel_dir cov)" || with_lock build_kernel_locked cov; } &&
		with_lock build_module_locked cov &&
		with_lock build_selftests "$wd" "$wd/selftests-cov" &&
		busybox_bin > /dev/null && initramfs > /dev/null &&
		libvirt_s390x > /dev/null
}

# Run the pieces side by side, each VM's counts into raw/<piece>/.
# Prints the pieces that failed (exit status or kernel splat).
cov_run() {
	local wd=$1 tmp=$2 n i p name
	local -a names pids
	n=$(nproc)
	[ "$n" -gt 2 ] && n=2
	shard_selftests "$wd/selftests-cov" "$n"
	for ((i = 0; i < n; i++)); do
		vm_script run_selftests.sh > "$tmp/selftests.$i.sh"
		names+=("selftests.$i")
	done
	for p in demo module_cycle libvirt; do
		vm_script "$p.sh" > "$tmp/$p.sh"
		names+=("$p")
	done
	for name in "${names[@]}"; do
		case $name in
		selftests.*) p=$wd/selftests-cov.${name#selftests.} ;;
		libvirt) p=$(libvirt_s390x) ;;
		*) p= ;;
		esac
		(
			t0=$(date +%s)
			VM_TIMEOUT=${VM_TIMEOUT:-3600} LAB_PAYLOAD=$p \
				LAB_OUTPUT=$COV/raw/$name \
				vm_run cov project "$tmp/$name.sh"
			rc=$?
			echo $(($(date +%s) - t0)) > "$tmp/$name.time"
			exit $rc
		) > "$COV/logs/$name.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!names[@]}"; do
		if wait "${pids[i]}"; then
			cov_log "${names[i]}: passed in $(cat "$tmp/${names[i]}.time")s" >&2
		else
			cov_log "${names[i]}: FAILED, see $COV/logs/${names[i]}.log" >&2
			echo "${names[i]}"
		fi
	done
	for ((i = 0; i < n; i++)); do
		rm -rf "$wd/selftests-cov.$i"
	done
}

# Add the counts of every raw/<piece>/ into merged/.
cov_merge() {
	local tmp=$1 acc='' d k=0
	for d in "$COV"/raw/*/; do
		ls "$d"/*.gcda > /dev/null 2>&1 || {
			cov_log "no counts from $(basename "$d")" >&2
			continue
		}
		if [ -z "$acc" ]; then
			acc=$d
			continue
		fi
		k=$((k + 1))
		"$GCOV_TOOL" merge -o "$tmp/merge.$k" "$acc" "$d" || return 1
		acc=$tmp/merge.$k
	done
	[ -n "$acc" ] || { cov_log "no counts at all" >&2; return 1; }
	mkdir -p "$COV/merged"
	cp "$acc"/*.gcda "$COV/merged/"
}

# The driver's files in directory $1: vfio_ap_*.c but the KUnit suites.
driver_sources() {
	local f
	for f in "$1"/vfio_ap_*.c; do
		case $f in *_test.c) ;; *) echo "$f" ;; esac
	done
}

# gcov over the driver's files with the merged counts: annotated sources
# into gcov/, gcov's JSON on stdout.
cov_gcov() {
	local mod=$1 tmp=$2 srcs
	mkdir -p "$tmp/obj" "$COV/gcov"
	cp "$mod"/vfio_ap_*.gcno "$COV"/merged/*.gcda "$tmp/obj/"
	mapfile -t srcs < <(driver_sources "$mod")
	(cd "$COV/gcov" && "$GCOV" -r -s "$mod" -o "$tmp/obj" "${srcs[@]}" > /dev/null) &&
		"$GCOV" -j -t -o "$tmp/obj" "${srcs[@]}"
}

# From gcov's JSON (one document per object) on stdin: per driver file
# named in "$@" its line and function coverage, then every function never
# entered. A file whose code all comes from headers (vfio_ap_trace.c: the
# tracepoints of vfio_ap_trace.h) has no lines of its own. A function
# counts as entered when gcov counted its entry or any of its lines ran:
# gcov can give a function that is inlined everywhere an entry count of 0
# while its body ran (vfio_ap_reset_finish, measured).
cov_summary() {
	python3 -c '
import json, os, sys
files = {}
for doc in sys.stdin:
    for f in json.loads(doc)["files"]:
        name = os.path.basename(f["file"])
        if name.startswith("vfio_ap_") and name.endswith(".c") \
           and not name.endswith("_test.c"):
            files[name] = f
never = []
tl = tr = tf = te = 0
print("%-20s %22s %22s" % ("file", "lines", "functions"))
for name in sorted(sys.argv[1:]):
    if name not in files:
        print("%-20s %45s" % (name, "no code of its own"))
        continue
    f = files[name]
    lines = len(f["lines"])
    run = sum(1 for l in f["lines"] if l["count"] > 0)
    fns = len(f["functions"])
    def entered(fn):
        return fn["execution_count"] > 0 or any(
            l["count"] > 0 for l in f["lines"]
            if fn["start_line"] <= l["line_number"] <= fn["end_line"])
    ent = [fn for fn in f["functions"] if entered(fn)]
    never += ["%s:%d %s" % (name, fn["start_line"], fn["name"])
              for fn in sorted(f["functions"], key=lambda fn: fn["start_line"])
              if not entered(fn)]
    print("%-20s %7.2f%% (%4d of %4d) %7.2f%% (%3d of %3d)" %
          (name, 100.0 * run / max(lines, 1), run, lines,
           100.0 * len(ent) / max(fns, 1), len(ent), fns))
    tl += lines; tr += run; tf += fns; te += len(ent)
print("%-20s %7.2f%% (%4d of %4d) %7.2f%% (%3d of %3d)" %
      ("total", 100.0 * tr / max(tl, 1), tr, tl,
       100.0 * te / max(tf, 1), te, tf))
print("\nfunctions never entered (%d):" % len(never))
for n in never:
    print("  " + n)
' "$@"
}

main_coverage() {
	local wd tmp failed start srcs rc=0
	start=$(date +%s)
	cmd_deps || exit 1
	wd=$(treedir)
	tmp=$(mktemp -d)
	rm -rf "$COV"
	mkdir -p "$COV/raw" "$COV/logs"
	cov_log "building the cov kernel, the module with gcov and the selftests"
	if ! cov_build "$wd" > "$COV/logs/build.log" 2>&1; then
		cat "$COV/logs/build.log"
		cov_log "build failed"
		exit 1
	fi
	cov_log "running the selftests, demo.sh, module_cycle.sh and libvirt.sh"
	failed=$(cov_run "$wd" "$tmp")
	if ! cov_merge "$tmp" ||
	   ! cov_gcov "$wd/mod-cov" "$tmp" > "$COV/gcov.json" 2> "$COV/gcov.err"; then
		cat "$COV/gcov.err" 2>/dev/null
		rm -rf "$tmp"
		exit 1
	fi
	{
		echo "vfio_ap coverage, $(cd "$REPO" && git describe --always --dirty --abbrev=12)," \
			"$(date -u +%Y-%m-%d)"
		mapfile -t srcs < <(driver_sources "$wd/mod-cov")
		cov_summary "${srcs[@]##*/}" < "$COV/gcov.json"
	} > "$COV/summary.txt"
	cat "$COV/summary.txt"
	echo
	cov_log "annotated sources (.gcov) in $COV/gcov"
	if [ -n "$failed" ]; then
		cov_log "failed pieces (coverage counted anyway): $(echo "$failed" | paste -sd" ")"
		rc=1
	fi
	cov_log "took $(($(date +%s) - start))s"
	rm -rf "$tmp"
	exit $rc
}

main_coverage
