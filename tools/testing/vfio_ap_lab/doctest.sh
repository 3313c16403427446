#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The administrator's guide, executed: runs inside the lab VM as root
# (make vm-run SCRIPT=tools/testing/vfio_ap_lab/doctest.sh) and compares
# every console example of Documentation/arch/s390/vfio-ap.rst with what
# the driver really prints, so the guide cannot drift from the driver.
#
# An example is a ".. code-block:: console" block: "# " starts a command,
# every other line is what the commands before it print. The rst comment
# right above it says where it starts from:
#
#   .. doctest: SETUP[, defines NAME]
#      hidden command        (optional: run before the block, not shown)
#
# SETUP is "host" (the worked example's host: adapters 5 and 6, usage and
# control domains 4, 0x47, 0xab and 0xff, AP bus masks all ones, no
# mdevs), "continue" (the state the previous example left) or a NAME that
# an example defines: that example's own setup followed by its commands.
# Hidden commands stand for what the guide's text says happens outside
# the shell (an adapter configured at the HMC); they may use $SIM, the
# simulator's debugfs directory. The guide's examples are run in one
# shell, in the guide's order. A console block without the comment, or a
# "::" literal block with "# " prompts, fails the test: it would be an
# example nobody runs.
#
# Before comparing, both sides drop empty lines and trailing blanks, turn
# dmesg timestamps into [TIME] (the test turns printk's timestamps on, as
# distribution kernels have them), and reduce a shell's message for a failed
# write to "SHELL: write error: <errno text>": the guide shows bash's
# "bash: echo: write error: ...", busybox sh (the VM's) prints
# "sh: write error: ...". busybox has no uuidgen; a function reading
# /proc/sys/kernel/random/uuid stands in for it.

DT_RST=${DT_RST:-/src/Documentation/arch/s390/vfio-ap.rst}
DT_W=/tmp/doctest
SIM=/sys/kernel/debug/ap_sim
DT_HOST='adapters=5-6 domains=4,0x47,0xab,0xff control_domains=4,0x47,0xab,0xff'
DT_ONES=0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff

uuidgen() {
	cat /proc/sys/kernel/random/uuid
}

# The worked example's host, nothing assigned, nothing reserved. The
# adapters leave and come back around the masks' change, so every queue
# gets a new device bound as the masks say, whatever an example unbound.
dt_setup_host() {
	for dt_d in /sys/devices/vfio_ap/matrix/*-*-*-*-*; do
		[ -e "$dt_d/remove" ] && echo 1 > "$dt_d/remove"
	done
	echo 'all clear' > $SIM/fault
	echo 0 > $SIM/reset_delay_ms
	echo > $SIM/config
	echo $DT_ONES > /sys/bus/ap/apmask
	echo $DT_ONES > /sys/bus/ap/aqmask
	echo "$DT_HOST" > $SIM/config
	dmesg -c > /dev/null
	unset M T G1 G2 G3 UUID
}

# Turns the guide into $DT_W/session.sh (setup functions first, then the
# examples, each preceded by a marker line) and $DT_W/exp.N, what
# example N must print. $DT_W/index lists "N LINE SETUP" per example,
# $DT_W/errors what is wrong with the guide's markup.
dt_extract() {
	awk -v w="$DT_W" '
	function err(msg) { print FILENAME ":" FNR ": " msg > (w "/errors") }
	function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
	function fname(s) { gsub(/-/, "_", s); return "dt_setup_" s }
	function indent(s) { match(s, /^[ \t]*/); return RLENGTH }
	function marker(s,   spec) {
		spec = s
		sub(/^\.\. doctest:[ \t]*/, "", spec)
		defines = ""
		if (spec ~ /, defines /) {
			defines = spec
			sub(/.*, defines /, "", defines)
			sub(/, defines .*/, "", spec)
		}
		setup = spec
		hidden = ""
		mline = FNR
		state = 1
	}
	function open_block(   body) {
		n++
		print n, FNR, setup > (w "/index")
		if (setup == "continue" && n == 1)
			err("the first example cannot continue")
		body = "dt_mark " n "\n{\n\t:\n"
		if (setup != "continue")
			body = body "\t" fname(setup) "\n"
		blocks = blocks body hidden "} > " w "/setup." n " 2>&1\n"
		if (defines != "") {
			if (setup == "continue")
				err("an example that defines a setup must not continue")
			defs = defs fname(defines) "() {\n\t" fname(setup) "\n" hidden
		}
		shown = ""
		run = ""
		state = 3
	}
	function close_block() {
		if (shown != "")
			err("the example ends inside a command continued with \\")
		if (defines != "")
			defs = defs "}\n"
		close(w "/exp." n)
		state = 0
	}
	# A "# " line starts a command, a line after one ending in \ goes on
	# with it; the rest is output.
	function content(s,   c) {
		sub(/[ \t]+$/, "", s)
		print s > (w "/exp." n)
		if (shown == "" && s !~ /^# /)
			return
		c = s
		if (shown == "")
			sub(/^# /, "", c)
		shown = shown (shown == "" ? "# " : "\n") c
		if (c ~ /\\$/) {
			sub(/\\$/, "", c)
			run = run c " "
			return
		}
		run = run c
		blocks = blocks "printf \047%s\\n\047 " q(shown) "\n" run "\n"
		if (defines != "")
			defs = defs "\t" run "\n"
		shown = ""
		run = ""
	}
	{
		line = $0
		if (state == 1) {
			if (line ~ /^[ \t]+[^ \t]/) {
				sub(/^[ \t]+/, "", line)
				hidden = hidden "\t" line "\n"
				next
			}
			state = 2
		}
		if (state == 2) {
			if (line ~ /^[ \t]*$/)
				next
			if (line ~ /^\.\. code-block:: console[ \t]*$/) {
				open_block()
				next
			}
			err("the doctest comment of line " mline " is not followed by a console example")
			state = 0
		}
		if (state == 3) {
			if (line ~ /^[ \t]*$/ || line ~ /^[ \t]+:[a-z-]+:/)
				next
			if (indent(line) == 0) {
				err("empty console example")
				close_block()
			} else {
				bindent = indent(line)
				state = 4
			}
		}
		if (state == 4) {
			if (line ~ /^[ \t]*$/)
				next
			if (indent(line) >= bindent) {
				content(substr(line, bindent + 1))
				next
			}
			close_block()
		}
		if (state == 5) {
			if (line ~ /^[ \t]*$/)
				next
			if (indent(line) > 0) {
				if (line ~ /^[ \t]+# /)
					err("a \"::\" block shows a root prompt: make it a console example with a doctest comment")
				next
			}
			state = 0
		}
		if (line ~ /^\.\. doctest:/)
			marker(line)
		else if (line ~ /^\.\. code-block:: console/)
			err("console example without a \".. doctest:\" comment")
		else if (line ~ /::[ \t]*$/ && line !~ /^\.\. [a-z-]+::/)
			state = 5
	}
	END {
		if (state == 3 || state == 4)
			close_block()
		if (state == 1 || state == 2)
			err("the doctest comment of line " mline " is not followed by a console example")
		printf "%s%s", defs, blocks > (w "/session.sh")
	}' "$DT_RST"
}

dt_mark() {
	echo "@@doctest $1@@"
}

# Split the session's output at the markers into $DT_W/act.N.
dt_split() {
	awk -v w="$DT_W" '
		/^@@doctest [0-9]+@@$/ {
			if (f)
				close(f)
			n = $2
			sub(/@@$/, "", n)
			f = w "/act." n
			printf "" > f
			next
		}
		f { print > f }
	' "$DT_W/actual"
}

dt_normalize() {
	sed -E -e 's/[[:space:]]+$//' -e '/^$/d' \
		-e 's/^\[ *[0-9]+\.[0-9]+\] /[TIME] /' \
		-e 's/^-?[a-z]*sh: (line [0-9]+: )?(echo: )?write error: /SHELL: write error: /' \
		"$1"
}

dt_compare() {
	dt_pass=0
	dt_fail=0
	while read -r dt_n dt_line dt_setup; do
		dt_where="vfio-ap.rst:$dt_line ($dt_setup)"
		touch "$DT_W/exp.$dt_n" "$DT_W/act.$dt_n"
		dt_normalize "$DT_W/exp.$dt_n" > "$DT_W/exp.$dt_n.n"
		dt_normalize "$DT_W/act.$dt_n" > "$DT_W/act.$dt_n.n"
		if [ -s "$DT_W/setup.$dt_n" ]; then
			echo "doctest: not ok - $dt_where: its setup printed:"
			sed 's/^/    /' "$DT_W/setup.$dt_n"
			dt_fail=$((dt_fail + 1))
		elif cmp -s "$DT_W/exp.$dt_n.n" "$DT_W/act.$dt_n.n"; then
			echo "doctest: ok - $dt_where"
			dt_pass=$((dt_pass + 1))
		else
			echo "doctest: not ok - $dt_where: the guide (-) and the driver (+) differ:"
			diff -u "$DT_W/exp.$dt_n.n" "$DT_W/act.$dt_n.n" |
				sed -e '1,2d' -e 's/^/    /'
			dt_fail=$((dt_fail + 1))
		fi
	done < "$DT_W/index"
}

# dmesg timestamps, as distribution kernels (CONFIG_PRINTK_TIME) show them
echo 1 > /sys/module/printk/parameters/time
rm -rf "$DT_W"
mkdir -p "$DT_W"
: > "$DT_W/index"
dt_extract
if [ -s "$DT_W/errors" ]; then
	echo "doctest: the guide's examples are not all runnable:"
	cat "$DT_W/errors"
	exit 1
fi
( . "$DT_W/session.sh" ) > "$DT_W/actual" 2>&1
dt_split
dt_compare
echo "doctest: $((dt_pass + dt_fail)) examples of $DT_RST, $dt_pass as printed, $dt_fail differ"
[ "$dt_fail" -eq 0 ] && [ "$dt_pass" -gt 0 ]
