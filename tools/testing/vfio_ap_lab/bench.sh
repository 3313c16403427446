#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - "make bench": our vfio_ap against the reference module (the
# kernel tree's own, built with the lab kernel), in one boot of the plain
# lab kernel. bench_vm.sh alternates the modules inside the VM and runs
# the workloads of selftests/vfio_ap/vfio_ap_bench.c against each; this
# script builds what the VM needs and prints one table of the records.
#
# Timings are reported, never asserted. CRYCB update counts and the
# one-reset-per-queue check are assertions for our module: a wrong count
# fails make bench. The reference module's counts are shown beside ours.
#
# BENCH_ROUNDS (default 2) rounds per module in each of the two passes.
# BENCH_RAW=file keeps the raw records.

set -uo pipefail
CHECK_SOURCED=1
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"
set -uo pipefail
set +e

bench_log() { echo "bench: $*"; }

# Kernel $3 (plain), both modules and the bench binary into payload $2.
bench_build() {
	local wd=$1 pl=$2 k=${3:-plain} out
	out=$(kernel_dir "$k")
	{ kernel_current "$out" || with_lock build_kernel_locked "$k"; } &&
		with_lock build_module_locked "$k" &&
		with_lock build_bench "$wd" || return 1
	mkdir -p "$pl"
	cp "$wd/mod-$k/vfio_ap.ko" "$pl/ours.ko" &&
		cp "$out/drivers/s390/crypto/vfio_ap.ko" "$pl/ref.ko" &&
		cp "$wd/bench-out/vfio_ap_bench" "$pl/"
}

build_bench() {
	build_selftest_one "$1" "$1/bench-out" vfio_ap_bench
}

# min and median of each metric per module, ours/reference of the medians
bench_table() {
	awk '
	function sort(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
	}
	function median(a, n) {
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	($3 == "time" || $3 == "size" || $3 == "num") && NF == 5 {
		k = $3 " " $4
		if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
		v[$1, k, ++n[$1, k]] = $5
	}
	END {
		printf "%-34s %5s %12s %12s %12s %12s %9s\n", "metric", "unit",
		       "ours min", "ours median", "ref min", "ref median",
		       "ours/ref"
		for (i = 1; i <= nk; i++) {
			k = order[i]
			split(k, kk, " ")
			scale = kk[1] == "time" ? 1e6 : 1
			unit = kk[1] == "time" ? "ms" : kk[1] == "size" ? "bytes" : "calls"
			for (m = 1; m <= 2; m++) {
				mod = m == 1 ? "ours" : "ref"
				c = n[mod, k]
				delete a
				for (j = 1; j <= c; j++)
					a[j] = v[mod, k, j]
				sort(a, c)
				mn[mod] = c ? a[1] / scale : -1
				md[mod] = c ? median(a, c) / scale : -1
			}
			ratio = "-"
			if (md["ref"] > 0)
				ratio = sprintf("%.3f", md["ours"] / md["ref"])
			printf "%-34s %5s %12.3f %12.3f %12.3f %12.3f %9s\n",
			       kk[2], unit, mn["ours"], md["ours"], mn["ref"],
			       md["ref"], ratio
		}
	}' "$1"
}

# CRYCB updates per action: ours (asserted) and the reference's, per round
crycb_table() {
	awk '
	$3 == "count" {
		k = $4 " " $5
		if (!(k in seen)) { seen[k] = 1; order[++nk] = k; want[k] = $7 }
		if ($1 == "ours") { o[k] = o[k] " " $6; if ($6 != $7) bad[k] = 1 }
		else r[k] = r[k] " " $6
	}
	END {
		printf "%-38s %5s %-14s %-14s %s\n", "CRYCB updates: action",
		       "guest", "want", "ours", "reference"
		for (i = 1; i <= nk; i++) {
			k = order[i]
			split(k, kk, " ")
			printf "%-38s %5s %-14s %-14s %s%s\n", kk[1], kk[2],
			       want[k], substr(o[k], 2), substr(r[k], 2),
			       bad[k] ? "   <-- ours WRONG" : ""
		}
	}' "$1"
}

main_bench() {
	local wd tmp raw rc start
	start=$(date +%s)
	cmd_deps || exit 1
	wd=$(treedir)
	tmp=$(mktemp -d)
	if ! bench_build "$wd" "$tmp/payload" > "$tmp/build.log" 2>&1; then
		cat "$tmp/build.log"
		bench_log "build failed"
		exit 1
	fi
	raw=$tmp/out/bench.raw
	echo "${BENCH_ROUNDS:-2}" > "$tmp/payload/rounds"
	bench_log "booting the plain lab kernel; console in $tmp/console.log"
	LAB_PAYLOAD=$tmp/payload LAB_OUTPUT=$tmp/out \
		KEEP_CONSOLE=$tmp/console.log \
		vm_run plain none "$LAB/bench_vm.sh" > "$tmp/vm.log" 2>&1
	rc=$?
	grep '^bench:' "$tmp/vm.log"
	if [ $rc -ne 0 ] || [ ! -s "$raw" ]; then
		tail -n 60 "$tmp/vm.log"
		bench_log "the VM run failed (exit $rc)"
		exit 1
	fi
	[ -n "${BENCH_RAW:-}" ] && cp "$raw" "$BENCH_RAW"
	echo
	bench_table "$raw"
	echo
	crycb_table "$raw"
	echo
	rc=0
	# Our module's assertions: CRYCB counts, one reset per queue, and
	# every workload ran to its end.
	if grep -E '^ours [0-9]+ (check [^ ]+ FAIL|exit )' "$raw"; then
		bench_log "FAILED: our module broke an assertion (above)"
		rc=1
	fi
	grep -E '^ref [0-9]+ (check [^ ]+ FAIL|exit )' "$raw" |
		sed 's/^/bench: reference module (not asserted): /'
	bench_log "took $(( $(date +%s) - start ))s"
	rm -rf "$tmp"
	exit $rc
}

# bench.sh switch [alternate|ours|ref] [N] [WORKLOAD...]: module_switch.sh
# on the debug kernel (issue 12, item 4): N loads in that order under host
# changes, each also running those workloads of vfio_ap_bench.
# SWITCH_KERNEL=plain runs it where make bench runs (and the oops was seen).
main_switch() {
	local order=${1:-alternate} n=${2:-12} k=${SWITCH_KERNEL:-debug} wd tmp rc
	cmd_deps || exit 1
	wd=$(treedir)
	tmp=$(mktemp -d)
	if ! bench_build "$wd" "$tmp/payload" "$k" > "$tmp/build.log" 2>&1; then
		cat "$tmp/build.log"
		exit 1
	fi
	echo "$order" > "$tmp/payload/order"
	echo "$n" > "$tmp/payload/switches"
	shift 2 2>/dev/null && echo "$*" > "$tmp/payload/workloads"
	LAB_PAYLOAD=$tmp/payload vm_run "$k" none "$LAB/module_switch.sh"
	rc=$?
	rm -rf "$tmp"
	exit $rc
}

case ${1:-} in
switch) shift; main_switch "$@" ;;
*) main_bench ;;
esac
