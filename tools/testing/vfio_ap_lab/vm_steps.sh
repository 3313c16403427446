# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the lab's VM scripts that check their work step by step
# (admin_tools.sh, seed_migrate.sh): each checked step prints
# "$STEP_TAG: ok - STEP" or "$STEP_TAG: not ok - STEP", which check.sh
# counts (steps_result), and FAILED counts the failed ones.

FAILED=0

ok() { echo "$STEP_TAG: ok - $*"; }
nok() { echo "$STEP_TAG: not ok - $*"; FAILED=$((FAILED + 1)); }

# is STEP GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		nok "$1"
		printf 'got:\n%s\nwant:\n%s\n' "$2" "$3"
	fi
}

# yes_ STEP COMMAND...: the command must succeed
yes_() {
	step=$1
	shift
	if "$@"; then ok "$step"; else nok "$step"; fi
}

# has STEP STRING...: the last command's output contains every STRING
has() {
	step=$1
	shift
	for want; do
		if ! printf '%s\n' "$OUT" | grep -q -F -e "$want"; then
			nok "$step"
			echo "missing: $want"
			return
		fi
	done
	ok "$step"
}

# show a command as typed, run it, keep its output in $OUT, status in $RC
run() {
	echo "# $*"
	OUT=$(sh -c "$*" 2>&1)
	RC=$?
	[ -n "$OUT" ] && echo "$OUT"
	return $RC
}
