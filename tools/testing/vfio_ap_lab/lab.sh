#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab.sh - build, boot and test vfio_ap on a machine without s390 hardware.
#
# Everything expensive (the kernel trees and builds, busybox, the initramfs)
# lives in a cache outside the clone, keyed by the kernel version and the
# lab's config fragments, so a second run only rebuilds what changed.
# See README.md next to this file.

set -euo pipefail

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB/../../.." && pwd)
CACHE=${VFIO_AP_LAB_CACHE:-$HOME/.cache/vfio-ap-lab}
CROSS=s390x-linux-gnu-
JOBS=${JOBS:-$(nproc)}
KMAKE=(make -s ARCH=s390 CROSS_COMPILE=$CROSS)

# Debian packages the lab needs on the build machine.
PACKAGES=(gcc-s390x-linux-gnu linux-source-6.12 qemu-system-misc sparse
	  flex bison bc libssl-dev libelf-dev cpio xz-utils kmod rsync
	  python3 python3-docutils perl
	  curl patch ninja-build pkg-config python3-venv)
# ... and those whose recommendations it does not want (dkms recommends
# the build machine's own kernel headers).
PACKAGES_ALONE=(dkms)

log() { echo "lab: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }

# Install what is missing; apt-get update only when something is.
cmd_deps() {
	local missing=() alone=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	for p in "${PACKAGES_ALONE[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || alone+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && [ ${#alone[@]} -eq 0 ] && return 0
	log "installing ${missing[*]} ${alone[*]}"
	local sudo=
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get update -qq
	[ ${#missing[@]} -eq 0 ] ||
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			"${missing[@]}" >/dev/null
	[ ${#alone[@]} -eq 0 ] ||
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends "${alone[@]}" >/dev/null
}

source_tarball() {
	local t
	t=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1)
	[ -n "$t" ] || die "linux-source-6.12 is not installed (run: $0 deps)"
	echo "$t"
}

# The pristine tree, extracted once per Debian package version.
pristine_tree() {
	local ver dir
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	dir=$CACHE/pristine-$ver
	if [ ! -f "$dir/.complete" ]; then
		log "extracting linux-source-6.12 $ver"
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		tar -xf "$(source_tarball)" -C "$dir.tmp" --strip-components=1
		touch "$dir.tmp/.complete"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# An outer "make -C" exports --print-directory through MAKEFLAGS, which
# would mix "Entering directory" lines into the answer.
kernel_version() {
	make -s --no-print-directory -C "$1" kernelversion 2>/dev/null
}

# Key of everything that needs a fresh configuration when it changes.
config_key() {
	cat "$LAB"/config/*.config | sha256sum | cut -c1-12
}

workdir() {
	local p
	p=$(pristine_tree)
	echo "$CACHE/k-$(kernel_version "$p")-$(config_key)"
}

# What is built from one work tree's sources (our module, the in-tree
# copy for KUnit and the selftests, their outputs) lives in a directory
# of that tree's own: work trees that share a cache must never build into,
# or load, each other's module. The kernels stay shared.
treedir() {
	local d
	d=$(workdir)/tree-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)
	mkdir -p "$d"
	touch "$d"
	echo "$d"
}

# Work directories of older config fragments, unused for an hour, go:
# each holds a few GiB of kernel builds. So do the tree directories of
# work trees unused for a day (a removed clone's, say).
prune_workdirs() {
	find "$CACHE" -maxdepth 1 -name 'k-*' -type d -mmin +60 \
		-not -path "$(workdir)" -exec rm -rf {} + 2>/dev/null || true
	find "$(workdir)" -maxdepth 1 -name 'tree-*' -type d -mmin +1440 \
		-exec rm -rf {} + 2>/dev/null || true
}

# Replace $2 with $1 unless equal; a new inode keeps hard links intact.
install_file() {
	cmp -s "$1" "$2" && return 0
	mkdir -p "$(dirname "$2")"
	cp --remove-destination "$1" "$2"
}

# Lab copy of the tree: pristine (hard links) plus the AP simulator and the
# lab's kernel patches. Safe to call on every run; it only touches changes.
prepare_lab_tree() {
	local dst=$1 p
	p=$(pristine_tree)
	if [ ! -f "$dst/.complete" ]; then
		prune_workdirs
		rm -rf "$dst"
		mkdir -p "$(dirname "$dst")"
		cp -al "$p" "$dst"
		touch "$dst/.complete"
	fi
	if [ -f "$LAB/apsim/ap.h" ]; then
		install_file "$LAB/apsim/ap.h" "$dst/arch/s390/include/asm/ap.h"
		install_file "$LAB/apsim/ap_sim.c" "$dst/drivers/s390/crypto/ap_sim.c"
		local mk
		mk=$(mktemp)
		cat "$p/drivers/s390/crypto/Makefile" > "$mk"
		printf '\n# lab: software AP facility\nobj-y += ap_sim.o\n' >> "$mk"
		install_file "$mk" "$dst/drivers/s390/crypto/Makefile"
		rm -f "$mk"
	fi
	apply_lab_patches "$dst"
}

# Kernel patches of the lab (e.g. KVM without SIE), all of patches/*.patch
# in order. When the set changes (a patch added, edited or removed), the
# files the old set touched are restored from the pristine tree (as fresh
# copies, so make sees them change) and the new set is applied; the files a
# patch touches are unshared from the pristine tree first.
patches_key() {
	cat "$LAB"/patches/*.patch 2>/dev/null | sha256sum | cut -c1-12
}

patch_files() {
	grep -E '^\+\+\+ ' "$1" | awk '{print $2}' | sed 's|^b/||'
}

apply_lab_patches() {
	local dst=$1 p patch f key
	key=$(patches_key)
	[ "$(cat "$dst/.lab-patches" 2>/dev/null)" = "$key" ] && return 0
	p=$(pristine_tree)
	if [ -f "$dst/.lab-patched-files" ]; then
		while read -r f; do
			if [ -f "$p/$f" ]; then
				cp "$p/$f" "$dst/$f.tmp" && mv "$dst/$f.tmp" "$dst/$f"
			else
				rm -f "$dst/$f"
			fi
		done < "$dst/.lab-patched-files"
	fi
	: > "$dst/.lab-patched-files"
	for patch in "$LAB"/patches/*.patch; do
		[ -f "$patch" ] || continue
		for f in $(patch_files "$patch"); do
			echo "$f" >> "$dst/.lab-patched-files"
			[ -f "$dst/$f" ] && cp "$dst/$f" "$dst/$f.tmp" &&
				mv "$dst/$f.tmp" "$dst/$f"
		done
		patch -d "$dst" -p1 -s --forward < "$patch" ||
			die "lab patch $(basename "$patch") does not apply"
	done
	echo "$key" > "$dst/.lab-patches"
}

# Our driver dropped into drivers/s390/crypto in place of upstream's.
prepare_intree_tree() {
	local dst=$1 p f
	p=$(pristine_tree)
	prepare_lab_tree "$dst"
	for f in "$dst"/drivers/s390/crypto/vfio_ap_*; do
		[ -e "$f" ] || continue
		[ -e "$REPO/$(basename "$f")" ] || rm -f "$f"
	done
	for f in "$REPO"/vfio_ap_*.[ch]; do
		install_file "$f" "$dst/drivers/s390/crypto/$(basename "$f")"
	done
	install_file "$REPO/Kconfig" "$dst/drivers/s390/crypto/Kconfig.vfio_ap"
	install_file "$REPO/Kbuild" "$dst/drivers/s390/crypto/Kbuild.vfio_ap"

	local mk kc
	mk=$(mktemp)
	{
		grep -v -E '^(vfio_ap-objs|obj-\$\(CONFIG_VFIO_AP\))' \
			"$dst/drivers/s390/crypto/Makefile"
		echo 'include $(src)/Kbuild.vfio_ap'
	} > "$mk"
	install_file "$mk" "$dst/drivers/s390/crypto/Makefile"
	kc=$(mktemp)
	# swap upstream's "config VFIO_AP" block for ours
	awk '
		/^config VFIO_AP$/ { skip = 1
			print "source \"drivers/s390/crypto/Kconfig.vfio_ap\""
			next }
		skip && /^(config|menu|endmenu|source|if|endif|comment)/ { skip = 0 }
		!skip { print }
	' "$p/arch/s390/Kconfig" > "$kc"
	install_file "$kc" "$dst/arch/s390/Kconfig"
	rm -f "$mk" "$kc"

	rsync -a --delete "$REPO/tools/testing/selftests/vfio_ap/" \
		"$dst/tools/testing/selftests/vfio_ap/"
}

with_lock() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/build.lock"
	if ! flock -n 9; then
		log "waiting for another lab build to finish"
		flock 9
	fi
	"$@"
	local rc=$?	# reached with errexit off only, as in check.sh
	flock -u 9
	return $rc
}

fragments_for() {
	case $1 in
	plain) echo "$LAB/config/lab.config" ;;
	debug) echo "$LAB/config/lab.config $LAB/config/debug.config" ;;
	# "make coverage" only; not *.config, so config_key() stays the same
	cov) echo "$LAB/config/lab.config $LAB/config/coverage.fragment" ;;
	*) die "unknown kernel flavour '$1' (plain|debug|cov)" ;;
	esac
}

# Every option a fragment asks for must survive Kconfig, or the lab is
# not testing what it claims to.
check_config() {
	local cfg=$1 bad=0 line
	shift
	while read -r line; do
		case $line in
		CONFIG_*=n) grep -qx "${line%=n}=y" "$cfg" && { log "not off: $line"; bad=1; } ;;
		CONFIG_*=*) grep -qx "$line" "$cfg" || { log "not set: $line"; bad=1; } ;;
		esac
	done < <(cat "$@")
	return $bad
}

build_kernel_locked() {
	local flavour=$1 wd src out frags merged
	wd=$(workdir)
	src=$wd/lab-src
	out=$wd/build-$flavour
	prepare_lab_tree "$src"
	frags=$(fragments_for "$flavour")
	merged=$(cat $frags | sha256sum | cut -c1-12)
	mkdir -p "$out"
	if [ "$(cat "$out/.lab-config" 2>/dev/null)" != "$merged" ]; then
		log "configuring $flavour kernel"
		cat $frags > "$out/lab.fragment"
		"${KMAKE[@]}" -C "$src" O="$out" \
			KCONFIG_ALLCONFIG="$out/lab.fragment" allnoconfig >/dev/null
		check_config "$out/.config" $frags ||
			die "config fragments do not apply cleanly"
		echo "$merged" > "$out/.lab-config"
	fi
	log "building $flavour kernel $(kernel_version "$src") in $out"
	"${KMAKE[@]}" -C "$src" O="$out" -j"$JOBS" all
	patches_key > "$out/.lab-patches"
	touch "$out/.lab-built"
}

# A kernel exists, carries the current lab patches, and no simulator file
# changed since its last build (a fresh clone pays one no-op make).
kernel_current() {
	[ -f "$1/arch/s390/boot/bzImage" ] && [ -f "$1/.lab-built" ] &&
		[ "$(cat "$1/.lab-patches" 2>/dev/null)" = "$(patches_key)" ] &&
		[ -z "$(find "$LAB/apsim" -type f -newer "$1/.lab-built" | head -n 1)" ]
}

cmd_kernel() {
	local flavour=${1:-plain}
	with_lock build_kernel_locked "$flavour"
}

kernel_dir() {
	echo "$(workdir)/build-$1"
}

# Our module, built out of tree from a copy of the sources so that two
# flavours never share object files and the clone stays clean. On the cov
# kernel its objects are built with gcov profiling (see Kbuild).
build_module_locked() {
	local flavour=$1 wd out mod extra=${2:-}
	[ "$flavour" = cov ] && extra="$extra VFIO_AP_GCOV=y"
	wd=$(workdir)
	out=$(kernel_dir "$flavour")
	[ -f "$out/vmlinux" ] || build_kernel_locked "$flavour"
	mod=$(treedir)/mod-$flavour
	mkdir -p "$mod"
	rsync -a --delete --include='vfio_ap_*.[ch]' --include=Kbuild \
		--exclude='*' --filter='P *.o' --filter='P *.ko' \
		--filter='P .*.cmd' --filter='P *.mod*' --filter='P Module.symvers' \
		--filter='P modules.order' --filter='P *.a' \
		"$REPO/" "$mod/"
	"${KMAKE[@]}" -C "$wd/lab-src" O="$out" M="$mod" $extra modules
}

cmd_module() {
	with_lock build_module_locked "${1:-plain}" "${2:-}"
}

# The module as DKMS builds it from the repository's dkms.conf (issue
# 11), against the plain kernel: "dkms add" of a copy of the work tree's
# files (as a clone has them), then "dkms build", in a DKMS tree inside the
# cache, so the machine's /var/lib/dkms and /usr/src stay untouched.
# ARCH and CROSS_COMPILE reach kbuild through the environment of the
# make command dkms.conf gives; the lab kernel checks no module
# signatures, so dkms is pointed at no sign-file. DKMS's output goes to
# stderr, the module's path to stdout.
dkms_build_locked() {
	local out d ver kver
	out=$(kernel_dir plain)
	kernel_current "$out" || build_kernel_locked plain >&2
	d=$(treedir)/dkms
	rm -rf "$d"
	mkdir -p "$d/clone" "$d/tree" "$d/src" "$d/install"
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
		rsync -a --from0 --ignore-missing-args --files-from=- . "$d/clone/")
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf")
	kver=$(cat "$out/include/config/kernel.release")
	local dkms=(env ARCH=s390 CROSS_COMPILE=$CROSS sign_file=/nonexistent
		    dkms --dkmstree "$d/tree" --sourcetree "$d/src"
		    --installtree "$d/install")
	log "dkms add, dkms build vfio_ap/$ver for $kver (s390x)"
	"${dkms[@]}" add "$d/clone" >&2 &&
	"${dkms[@]}" build -m vfio_ap -v "$ver" -k "$kver" -a s390x \
		--kernelsourcedir "$out" >&2 || {
		cat "$d/tree/vfio_ap/$ver/build/make.log" >&2 2>/dev/null
		return 1
	}
	echo "$d/tree/vfio_ap/$ver/$kver/s390x/module/vfio_ap.ko"
}

# An apt of its own for Debian's s390x packages, rooted in $1, so the
# machine's dpkg architectures and status stay untouched. Sets APT_OPTS.
s390x_apt() {
	local d=$1
	mkdir -p "$d/etc/sources.list.d" "$d/etc/preferences.d" "$d/state/lists/partial" \
		"$d/cache/archives/partial" "$d/deb"
	: > "$d/state/status"
	local deb="deb [arch=s390x signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian"
	printf '%s bookworm main\n%s bookworm-backports main\n' "$deb" "$deb" \
		> "$d/etc/sources.list"
	APT_OPTS=(-o "Dir::Etc=$d/etc"
		  -o "Dir::Etc::sourcelist=$d/etc/sources.list"
		  -o "Dir::Etc::sourceparts=$d/etc/sources.list.d"
		  -o "Dir::State=$d/state" -o "Dir::State::status=$d/state/status"
		  -o "Dir::Cache=$d/cache"
		  -o APT::Architecture=s390x -o APT::Architectures=s390x
		  -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	apt-get "${APT_OPTS[@]}" -qq update
}

# busybox for s390x from Debian.
busybox_bin() {
	local d=$CACHE/busybox-s390x
	if [ ! -x "$d/busybox" ]; then
		log "fetching busybox-static for s390x"
		rm -rf "$d.tmp"
		s390x_apt "$d.tmp"
		(cd "$d.tmp/deb" && apt-get "${APT_OPTS[@]}" -qq download busybox-static:s390x)
		dpkg-deb -x "$d.tmp"/deb/busybox-static_*.deb "$d.tmp/root"
		mkdir -p "$d"
		cp "$d.tmp/root/bin/busybox" "$d/busybox"
		rm -rf "$d.tmp"
	fi
	echo "$d/busybox"
}

# The shared libraries @1 needs, by path under sysroot @2, recursively.
elf_closure() {
	local root=$2 lib p
	local -A seen=()
	local todo=("$1")
	while [ ${#todo[@]} -gt 0 ]; do
		for lib in $(s390x-linux-gnu-readelf -d "$root/${todo[0]}" |
			     sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
			[ -n "${seen[$lib]:-}" ] && continue
			p=$(cd "$root" && find lib usr/lib -name "$lib" | head -n 1)
			[ -n "$p" ] || die "$1 needs $lib, which no package brought"
			seen[$lib]=1
			todo+=("$p")
			echo "$p"
		done
		todo=("${todo[@]:1}")
	done
}

# backports_root DIR PACKAGE...: the packages from bookworm-backports for
# s390x and their whole dependency closure, downloaded into DIR's own apt
# cache and unpacked together into DIR/root.
backports_root() {
	local d=$1 p
	shift
	rm -rf "$d"
	s390x_apt "$d"
	apt-get "${APT_OPTS[@]}" -qq -y --no-install-recommends \
		-t bookworm-backports install --download-only "$@" > /dev/null
	mkdir -p "$d/root"
	for p in "$d"/cache/archives/*.deb; do
		dpkg-deb -x "$p" "$d/root"
	done
}

# Debian's qemu-system-s390x built for s390x, with the libraries it loads
# and its firmware, for the VM to run as a KVM user (issue 5). It comes
# from bookworm-backports (QEMU 10): bookworm's own 7.2 registers neither
# the REQ nor the CFG_CHG eventfd of vfio-ap, so it can neither answer
# the removal of an mdev nor hear of configuration changes. Layout:
# bin/qemu-system-s390x, lib/ (ld64.so.1 and the rest), share/ (-L).
qemu_s390x() {
	local d=$CACHE/qemu-s390x p
	if [ ! -x "$d/bin/qemu-system-s390x" ]; then
		log "fetching Debian's qemu-system-s390x for s390x"
		backports_root "$d.tmp" qemu-system-s390x
		mkdir -p "$d.tmp/out/bin" "$d.tmp/out/lib" "$d.tmp/out/share"
		cp "$d.tmp/root/usr/bin/qemu-system-s390x" "$d.tmp/out/bin/"
		for p in $(elf_closure usr/bin/qemu-system-s390x "$d.tmp/root"); do
			cp -L "$d.tmp/root/$p" "$d.tmp/out/lib/"
		done
		cp "$d.tmp/root/usr/share/qemu/s390-ccw.img" "$d.tmp/out/share/"
		dpkg-deb -f "$d.tmp"/cache/archives/qemu-system-s390x_*.deb Version \
			> "$d.tmp/out/version"
		rm -rf "$d"
		mv "$d.tmp/out" "$d"
		rm -rf "$d.tmp"
	fi
	echo "$d"
}

# QEMU 10 with the lab's patches (qemu/*.patch: vfio-ap registers for
# VFIO migration), cross-built for s390x (issue 10, item 5). The source is
# the upstream tarball Debian's qemu-system-s390x above is built from
# (Debian's mirror has its orig.tar.xz; its debian.tar.xz is not served),
# checked against the sha256 of bookworm-backports' Sources index. Only
# qemu-system-s390x is built, KVM only (no TCG) and without optional
# features, which takes about two minutes. The libraries and firmware
# are Debian's (qemu_s390x), the binary ours. Keyed by source, patches
# and configure options.
QEMU_MIG_VERSION=10.0.2+ds
QEMU_MIG_SHA256=0901da33844a331bf8b3602b9c1fbd178e60b737c8e3ade678255bd090c9b9f1
QEMU_MIG_CONFIGURE="--python=/usr/bin/python3 --target-list=s390x-softmmu --disable-tcg --enable-kvm
--without-default-features --disable-docs --disable-tools --disable-user
--disable-guest-agent --disable-download --disable-install-blobs"
# Build tools and s390x libraries QEMU wants: meson >= 1.5 and pycotap
# from bookworm-backports (bookworm's meson is 1.0); the C library comes
# from the cross toolchain, not from these.
QEMU_MIG_BUILD_DEPS="libglib2.0-dev zlib1g-dev meson/bookworm-backports
python3-pycotap/bookworm-backports"

qemu_mig_s390x() {
	local key d
	key=$({ echo "$QEMU_MIG_VERSION $QEMU_MIG_SHA256 $QEMU_MIG_CONFIGURE"
		cat "$LAB"/qemu/*.patch; } | sha256sum | cut -c1-12)
	d=$CACHE/qemu-mig-$key
	[ -x "$d/bin/qemu-system-s390x" ] || with_lock qemu_mig_build "$d" >&2 ||
		die "building the lab's QEMU failed"
	echo "$d"
}

# The s390x build dependencies, unpacked into $1/sysroot; meson and
# pycotap (pure Python) importable from $1/python.
qemu_mig_sysroot() {
	local d=$1 p
	s390x_apt "$d/apt"
	apt-get "${APT_OPTS[@]}" -qq -y --no-install-recommends \
		install --download-only $QEMU_MIG_BUILD_DEPS > /dev/null
	mkdir -p "$d/sysroot" "$d/python"
	for p in "$d"/apt/cache/archives/*.deb; do
		case ${p##*/} in
		libc6_*|libc6-dev_*|linux-libc-dev_*|libcrypt-dev_*|libnsl-dev_*|\
		libtirpc-dev_*|libgcc-*|libstdc++*) continue ;;
		esac
		dpkg-deb -x "$p" "$d/sysroot"
	done
	cp -a "$d"/sysroot/usr/lib/python3/dist-packages/{mesonbuild,meson-*,pycotap*} \
		"$d/python/"
	cat > "$d/s390x-linux-gnu-pkg-config" <<-EOF
	#!/bin/sh
	PKG_CONFIG_SYSROOT_DIR=$d/sysroot \\
	PKG_CONFIG_LIBDIR=$d/sysroot/usr/lib/s390x-linux-gnu/pkgconfig:$d/sysroot/usr/share/pkgconfig \\
	exec pkg-config "\$@"
	EOF
	chmod +x "$d/s390x-linux-gnu-pkg-config"
}

qemu_mig_build() {
	local out=$1 w src tar debian p
	[ -x "$out/bin/qemu-system-s390x" ] && return 0
	debian=$(qemu_s390x)
	w=$CACHE/qemu-mig.tmp
	rm -rf "$w"
	mkdir -p "$w/build"
	tar=$CACHE/qemu_$QEMU_MIG_VERSION.orig.tar.xz
	if ! echo "$QEMU_MIG_SHA256  $tar" | sha256sum -c --status 2>/dev/null; then
		log "fetching QEMU $QEMU_MIG_VERSION's source from Debian"
		curl -sSf -o "$tar.tmp" \
			"http://deb.debian.org/debian/pool/main/q/qemu/qemu_$QEMU_MIG_VERSION.orig.tar.xz" ||
			return 1
		echo "$QEMU_MIG_SHA256  $tar.tmp" | sha256sum -c --status ||
			{ log "QEMU source: sha256 mismatch"; return 1; }
		mv "$tar.tmp" "$tar"
	fi
	log "building QEMU $QEMU_MIG_VERSION with the lab's patches for s390x"
	tar -C "$w" -xJf "$tar"
	src=$(echo "$w"/qemu-*/)
	for p in "$LAB"/qemu/*.patch; do
		patch -s -d "$src" -p1 < "$p" || return 1
	done
	qemu_mig_sysroot "$w"
	# shellcheck disable=SC2086 # the options are words
	(cd "$w/build" &&
	 export PATH=$w:$PATH PYTHONPATH=$w/python &&
	 "$src/configure" --cross-prefix=$CROSS $QEMU_MIG_CONFIGURE \
		--extra-cflags="-idirafter $w/sysroot/usr/include" \
		--extra-ldflags="-Wl,-rpath-link=$w/sysroot/usr/lib/s390x-linux-gnu:$w/sysroot/lib/s390x-linux-gnu" \
		> configure.log 2>&1 &&
	 ninja -j"$JOBS" qemu-system-s390x > build.log 2>&1) || {
		tail -n 40 "$w"/build/configure.log "$w"/build/build.log >&2
		return 1
	}
	rm -rf "$out.tmp"
	cp -a "$debian" "$out.tmp"
	${CROSS}strip -o "$out.tmp/bin/qemu-system-s390x" "$w/build/qemu-system-s390x"
	echo "$QEMU_MIG_VERSION + $(cd "$LAB/qemu" && ls ./*.patch | xargs -n1 basename | paste -sd' ')" \
		> "$out.tmp/version"
	mv "$out.tmp" "$out"
	rm -rf "$w"
	# builds of other patches or options are not used again
	for p in "$CACHE"/qemu-mig-*; do
		[ "$p" = "$out" ] || rm -rf "$p"
	done
}

# libvirt and QEMU from bookworm-backports for s390x, every package of
# their dependency closure unpacked into one root (issue 5): the VM's
# libvirt.sh links it into its own / and runs libvirtd from it.
libvirt_s390x() {
	local d=$CACHE/libvirt-s390x
	if [ ! -x "$d/root/usr/sbin/libvirtd" ]; then
		log "fetching Debian's libvirt and QEMU for s390x"
		backports_root "$d.tmp" libvirt-daemon libvirt-daemon-driver-qemu \
			libvirt-clients qemu-system-s390x
		mkdir -p "$d.tmp/out"
		mv "$d.tmp/root" "$d.tmp/out/root"
		rm -rf "$d"
		mv "$d.tmp/out" "$d"
		rm -rf "$d.tmp"
	fi
	echo "$d"
}

# What an s390 administrator uses on vfio_ap, for admin_tools.sh (issue
# 11): s390-tools (lszcrypt, chzdev), mdevctl, and libvirt with its
# node-device driver and QEMU, every package of their dependency closure
# unpacked into one root like libvirt_s390x's. Newest for s390x in the
# lab's sources (bookworm, bookworm-backports); "versions" records what
# came. A change of ADMIN_PACKAGES fetches again.
ADMIN_PACKAGES="s390-tools mdevctl libvirt-daemon libvirt-daemon-driver-qemu
libvirt-daemon-driver-nodedev libvirt-clients qemu-system-s390x"

admin_s390x() {
	local d=$CACHE/admin-s390x key p
	key=$(echo $ADMIN_PACKAGES | sha256sum | cut -c1-12)
	if [ "$(cat "$d/key" 2>/dev/null)" != "$key" ]; then
		log "fetching s390-tools, mdevctl and libvirt for s390x"
		backports_root "$d.tmp" $ADMIN_PACKAGES
		mkdir -p "$d.tmp/out"
		mv "$d.tmp/root" "$d.tmp/out/root"
		for p in $ADMIN_PACKAGES; do
			echo "$p $(dpkg-deb -f "$d.tmp"/cache/archives/"${p}"_*.deb Version)"
		done > "$d.tmp/out/versions"
		echo "$key" > "$d.tmp/out/key"
		rm -rf "$d"
		mv "$d.tmp/out" "$d"
		rm -rf "$d.tmp"
	fi
	echo "$d"
}

initramfs() {
	local bb img key stage
	bb=$(busybox_bin)
	key=$(cat "$LAB/vm/init" "$bb" | sha256sum | cut -c1-12)
	img=$CACHE/initramfs-$key.cpio.gz
	if [ ! -f "$img" ]; then
		stage=$(mktemp -d)
		mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,src,lab,root,etc}
		cp "$bb" "$stage/bin/busybox"
		ln -s busybox "$stage/bin/sh"
		cp "$LAB/vm/init" "$stage/init"
		chmod 755 "$stage/init"
		(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -9) > "$img.tmp"
		mv "$img.tmp" "$img"
		rm -rf "$stage"
	fi
	echo "$img"
}

# What the kernel prints when something went wrong that no exit status shows.
SPLAT_RE='WARNING:|BUG:|Oops|Kernel panic|general protection|KASAN:|kmemleak: [0-9]+ new suspected|unreferenced object|possible circular locking|possible recursive locking|inconsistent lock state|lock held when returning|suspicious RCU usage|INFO: task .* blocked|sleeping function called from invalid context|UBSAN:|list_add corruption|list_del corruption|ODEBUG:|Unable to handle kernel|rcu_sched detected stalls|BUG: workqueue lockup|Call Trace:'

# Copy the console through and stop the VM once its kernel panicked. The
# VM's init makes a panic re-IPL, which -no-reboot turns into QEMU's exit;
# a panic before init (or one that cannot re-IPL) stops the CPUs, s390's
# default, and a TCG guest would sit there until VM_TIMEOUT: five quiet
# seconds after the panic line end it instead.
panic_watch() {
	local run=$1 line rc panicked=0
	while :; do
		rc=0
		# (set -e: a read's failure must not end the function)
		if [ $panicked = 1 ]; then
			IFS= read -r -t 5 line || rc=$?
		else
			IFS= read -r line || rc=$?
		fi
		if [ $rc -gt 128 ]; then
			log "quiet for 5 s after the panic: the runner stops the VM"
			kill -TERM "$(cat "$run/vm.pid")" 2>/dev/null
			panicked=2
			continue
		fi
		[ $rc -eq 0 ] || break
		printf '%s\n' "$line"
		case $line in
		*"Kernel panic - not syncing"*)
			[ $panicked = 0 ] && panicked=1 && : > "$run/panicked" ;;
		esac
	done
	[ -n "$line" ] && printf '%s' "$line"
	return 0
}

# The panic and what led to it: from the first splat line (an oops comes
# before the panic it causes) to 40 lines past the panic line.
panic_text() {
	awk -v re="$SPLAT_RE" '
		{ l[NR] = $0 }
		first == 0 && $0 ~ re { first = NR }
		/Kernel panic - not syncing/ && !p { p = NR }
		END {
			if (!first || first > p) first = p
			if (p - first > 80) first = p - 80
			for (i = first; i <= p + 40 && i <= NR; i++) print l[i]
		}' "$1"
}

# QEMU's console, cleaned of CRs and watched for a panic. timeout's pid
# is for panic_watch to stop; its status tells a VM that ran into
# VM_TIMEOUT (124). Called by vm_run, whose qemu array it runs.
vm_console() {
	local run=$1
	( timeout "${VM_TIMEOUT:-1800}" "${qemu[@]}" < /dev/null 2>&1 &
	  echo $! > "$run/vm.pid"
	  wait $!
	  echo $? > "$run/vm.status" ) |
		sed -u 's/\r$//' | panic_watch "$run"
}

# vm_run FLAVOUR MODULE SCRIPT [SHELL]
vm_run() {
	local flavour=$1 module=$2 script=$3 shell=${4:-0}
	local out run img ko rc console cmdline mem
	out=$(kernel_dir "$flavour")
	mkdir -p "$CACHE/runs"
	exec 8>"$CACHE/build.lock"
	flock -s 8
	kernel_current "$out" ||
		{ flock -u 8; with_lock build_kernel_locked "$flavour"; flock -s 8; }
	run=$(mktemp -d "$CACHE/runs/run.XXXXXX")
	case $module in
	project) ko=$(treedir)/mod-$flavour/vfio_ap.ko
		 flock -u 8; with_lock build_module_locked "$flavour"; flock -s 8 ;;
	reference) ko=$out/drivers/s390/crypto/vfio_ap.ko ;;
	none) ko= ;;
	/*.ko) ko=$module ;;
	*) die "MODULE must be project, reference, none or /path/to/vfio_ap.ko" ;;
	esac
	[ -z "$ko" ] || cp "$ko" "$run/vfio_ap.ko"
	# VFIO_MDEV can only be selected, so it is a module next to vfio_ap
	[ -f "$out/drivers/vfio/mdev/mdev.ko" ] && cp "$out/drivers/vfio/mdev/mdev.ko" "$run/"
	if [ "$shell" = 1 ]; then
		touch "$run/shell"
	else
		cp "$script" "$run/script.sh"
	fi
	[ -n "${SIMCFG:-}" ] && echo "$SIMCFG" > "$run/simcfg"
	[ -n "${LAB_PAYLOAD:-}" ] && cp -a "$LAB_PAYLOAD" "$run/payload"
	{
		echo "LAB_MODULE=$module"
		echo "LAB_KERNEL=$flavour"
		echo "LAB_KVER=$(kernel_version "$(workdir)/lab-src")"
		echo "LAB_QUIET=${LAB_QUIET:-0}"
	} > "$run/env"
	img=$(initramfs)
	# Under TCG a debug kernel (KASAN, lockdep) with two vCPUs spends
	# minutes in cross-CPU waits during boot; one vCPU boots in seconds.
	# Lockdep needs no real parallelism to see an inverted lock order.
	mem=1024 smp=2
	[ "$flavour" = debug ] && mem=2048 smp=1
	# LAB_SMP: another vCPU count, e.g. to tell a guest race from TCG's
	smp=${LAB_SMP:-$smp}
	# Emulation stretches time, so RCU gets longer before it cries stall.
	cmdline="console=ttysclp0 facilities=12,15,65 panic=-1 oops=panic rcupdate.rcu_cpu_stall_timeout=120 ${LAB_CMDLINE:-$(sim_cmdline)}"
	console=$run/console.log
	local qemu=(qemu-system-s390x -M s390-ccw-virtio -cpu max -smp $smp -m $mem
		    -nographic -no-reboot
		    -kernel "$out/arch/s390/boot/bzImage" -initrd "$img"
		    -append "$cmdline"
		    -fsdev local,id=src,path="$REPO",security_model=none,readonly=on
		    -device virtio-9p-ccw,fsdev=src,mount_tag=src
		    -fsdev local,id=run,path="$run",security_model=none
		    -device virtio-9p-ccw,fsdev=run,mount_tag=lab)
	# More devices, e.g. the serial link between two VMs of check.sh's
	# two_hosts step; words without spaces.
	local extra
	read -r -a extra <<< "${LAB_QEMU_ARGS:-}"
	qemu+=("${extra[@]}")
	if [ "$shell" = 1 ]; then
		"${qemu[@]}"
		flock -u 8
		rm -rf "$run"
		return 0
	fi
	rc=0
	if [ "${LAB_QUIET:-0}" = 1 ]; then
		# Only the script's output (vm/init copies it to session.log)
		# is shown; the console goes to a file of its own.
		console=${KEEP_CONSOLE:-$CACHE/console.log}
		mkdir -p "$(dirname "$console")"
		log "kernel console of this run: $console"
		: > "$run/session.log"
		vm_console "$run" > "$console" &
		local vm=$!
		tail -n +1 -f --pid=$vm "$run/session.log"
		wait $vm || true
	else
		vm_console "$run" | tee "$console" || true
	fi
	[ "$(cat "$run/vm.status" 2>/dev/null)" = 124 ] &&
		log "the VM ran into VM_TIMEOUT (${VM_TIMEOUT:-1800} s)"
	flock -u 8
	if [ -f "$run/panicked" ]; then
		log "the kernel panicked; the VM ended there:"
		panic_text "$console" >&2
		rc=1
	elif [ ! -f "$run/rc" ]; then
		log "the VM did not report an exit status (crash or timeout)"
		rc=1
	else
		rc=$(cat "$run/rc")
	fi
	if grep -E -q "$SPLAT_RE" "$console"; then
		log "kernel splat during the run:"
		grep -E -n -A3 "$SPLAT_RE" "$console" | head -n 60 >&2
		[ "$rc" = 0 ] && rc=1
	fi
	if [ "${LAB_QUIET:-0}" = 1 ]; then
		if [ "$rc" != 0 ]; then
			log "the run failed; the whole console ($console) follows"
			cat "$console"
		fi
		log "kernel console of this run: $console"
	elif [ -n "${KEEP_CONSOLE:-}" ]; then
		cp "$console" "$KEEP_CONSOLE"
	fi
	# What the script left in /lab/out (the writable run share)
	if [ -n "${LAB_OUTPUT:-}" ] && [ -d "$run/out" ]; then
		mkdir -p "$LAB_OUTPUT"
		cp -a "$run/out/." "$LAB_OUTPUT/"
	fi
	rm -rf "$run"
	return "$rc"
}

# Kernel parameters the AP simulator wants (its README says why).
sim_cmdline() {
	local f=$LAB/apsim/cmdline
	[ -f "$f" ] && grep -v '^#' "$f" | tr '\n' ' '
	true
}

cmd_vm_run() {
	local script=${SCRIPT:-}
	[ -n "$script" ] || die "SCRIPT=path is required"
	[ -f "$script" ] || die "no such script: $script"
	vm_run "${KERNEL:-plain}" "${MODULE:-project}" "$(realpath "$script")"
}

# The admin session of demo.sh, without the boot log (LAB_QUIET): the
# whole console goes to demo-console.log in the cache, and is printed
# only if the demo fails.
cmd_demo() {
	LAB_QUIET=1 KEEP_CONSOLE=${KEEP_CONSOLE:-$CACHE/demo-console.log} \
		vm_run "${KERNEL:-plain}" "${MODULE:-project}" "$LAB/demo.sh"
}

cmd_vm_shell() {
	vm_run "${KERNEL:-plain}" "${MODULE:-project}" /dev/null 1
}

main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	deps) cmd_deps ;;
	kernel) cmd_deps; cmd_kernel "$@" ;;
	module) cmd_deps; cmd_module "$@" ;;
	vm-run) cmd_deps; cmd_vm_run ;;
	vm-shell) cmd_deps; cmd_vm_shell ;;
	demo) cmd_deps; cmd_demo ;;
	workdir) workdir ;;
	treedir) treedir ;;
	initramfs) initramfs ;;
	qemu-s390x) qemu_s390x ;;
	qemu-mig-s390x) qemu_mig_s390x ;;
	libvirt-s390x) libvirt_s390x ;;
	admin-s390x) admin_s390x ;;
	admin-tools) cmd_deps; LAB_PAYLOAD=$(admin_s390x) vm_run "${KERNEL:-plain}" \
		"${MODULE:-project}" "$LAB/admin_tools.sh" ;;
	seed-migrate) cmd_deps; LAB_PAYLOAD=$(libvirt_s390x) vm_run "${KERNEL:-plain}" \
		"${MODULE:-project}" "$LAB/seed_migrate.sh" ;;
	*) die "usage: $0 deps|kernel [plain|debug|cov]|module [plain|debug|cov]|vm-run|vm-shell|demo|workdir|treedir" ;;
	esac
}

[ "${LAB_SOURCED:-0}" = 1 ] || main "$@"
