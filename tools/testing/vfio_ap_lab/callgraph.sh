#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# callgraph.sh - which file of the driver calls which, from the objects.
#
#   callgraph.sh [-v] [DIR]
#
# Reads the symbols of the vfio_ap_*.o in DIR (default: the lab's plain
# module build, which "make module" leaves in the cache) and prints one
# line per pair of files, "caller -> callee", for every global function or
# data object one uses of the other; -v also names the symbols.  Then it
# checks that the calls run one way: it fails if the files call each other
# in a circle, or if a file calls one of a layer above its own (the layers
# of vfio_ap_private.h).  The KUnit suites are left out.

set -uo pipefail

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NM=s390x-linux-gnu-nm
command -v "$NM" > /dev/null || NM=nm

verbose=0
if [ "${1:-}" = -v ]; then
	verbose=1
	shift
fi
dir=${1:-$("$LAB/lab.sh" treedir)/mod-plain}

# Layer of each file, from the top; a file not listed is a leaf.
layer() {
	case $1 in
	vfio_ap_drv|vfio_ap_ops|vfio_ap_migration|vfio_ap_sysfs|vfio_ap_pqap|vfio_ap_debugfs) echo 1 ;;
	vfio_ap_guest) echo 2 ;;
	vfio_ap_reset|vfio_ap_irq) echo 3 ;;
	vfio_ap_model) echo 4 ;;
	*) echo 5 ;;
	esac
}

# The objects of the module (vfio_ap.mod lists them; a build directory
# may also hold stale ones), without the KUnit suites.
if [ -f "$dir/vfio_ap.mod" ]; then
	list=$(sed 's,.*/,,' "$dir/vfio_ap.mod")
else
	list=$(cd "$dir" && ls vfio_ap_*.o 2>/dev/null)
fi
objs=()
for o in $list; do
	case $o in
	*_test.o|*.mod.o) continue ;;
	esac
	[ -f "$dir/$o" ] && objs+=("$dir/$o")
done
[ ${#objs[@]} -gt 0 ] || { echo "callgraph: no objects in $dir" >&2; exit 2; }

defs=$(mktemp)
edges=$(mktemp)
trap 'rm -f "$defs" "$edges"' EXIT

# "symbol file" for everything an object defines for the others
for o in "${objs[@]}"; do
	"$NM" -g --defined-only "$o" |
		awk -v f="$(basename "${o%.o}")" 'NF == 3 { print $3, f }'
done | sort -u > "$defs"

# "caller callee symbol" for every use of another object's symbol
for o in "${objs[@]}"; do
	"$NM" -u "$o" | awk '{ print $NF }' | sort -u |
		join - "$defs" |
		awk -v f="$(basename "${o%.o}")" '$2 != f { print f, $2, $1 }'
done | sort > "$edges"

awk -v v=$verbose '
	{ k = $1 ".c -> " $2 ".c"; n[k]++; s[k] = s[k] " " $3 }
	END { for (k in n) print k (v ? ":" s[k] : " (" n[k] " symbols)") }
' "$edges" | sort

rc=0
# tsort names the files of each circle it finds on stderr.
loops=$(awk '{ print $1, $2 }' "$edges" | sort -u | tsort 2>&1 >/dev/null)
if [ -n "$loops" ]; then
	echo "callgraph: the files call each other in a circle"
	echo "$loops"
	rc=1
fi
while read -r from to; do
	if [ "$(layer "$from")" -gt "$(layer "$to")" ]; then
		echo "callgraph: $from.c calls $to.c, a layer above it"
		rc=1
	fi
done < <(awk '{ print $1, $2 }' "$edges" | sort -u)
[ $rc -eq 0 ] && echo "callgraph: no circle, no call up a layer"
exit $rc
