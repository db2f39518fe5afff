#!/bin/bash
# usage: test/qemu/build.sh SUITE SRCDIR OUTDIR [MAKE ARGS...]     (e.g. W=1)
# Copies the toa source tree SRCDIR to OUTDIR (emptied first) and builds toa.ko, and the tests'
# test/kmod/toa_test_kmod.ko, there for SUITE's kernel with SUITE's compiler, through the
# top-level Makefile: make KDIR=<headers> MAKE ARGS module test-kmod.
set -eu

here=$(dirname "$(realpath "$0")")
[ $# -ge 3 ] || { sed -n '2,4s/^# \{0,1\}//p' "$0" >&2; exit 2; }
suite=$1
src=$(realpath "$2")
out=$(realpath -m "$3")
shift 3
dir=${TOA_CACHE:-/var/cache/toa-test}/$suite
# shellcheck source=test/qemu/arch.sh
. "$here/arch.sh"
# Another architecture's kernel: a cross build.
[ -z "$cross_compile" ] || set -- ARCH="$kernel_arch" CROSS_COMPILE="$cross_compile" "$@"

case $out/ in
/ | "$src"/*) echo "build.sh: OUTDIR must be outside SRCDIR" >&2; exit 2 ;;
esac
[ -f "$src/Makefile" ] || { echo "build.sh: no Makefile in $src" >&2; exit 2; }

kver=$("$here/kernel.sh" "$suite" | tail -n1)

# The sources only: no VCS data, no objects left by a build for another kernel.
rm -rf "$out"
mkdir -p "$out"
tar -C "$src" -c --exclude=.git --exclude=test/out --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' --exclude=modules.order \
	--exclude=Module.symvers . | tar -C "$out" -x

if [ -d "$dir/chroot" ]; then
	"$here/chroot.sh" "$dir/chroot" -b "$out" make -C "$out" -j"$(nproc)" \
		KDIR="/lib/modules/$kver/build" "$@" module test-kmod
else
	# The fetched headers; or the debug suite's own build tree (debug-kernel.sh), which its
	# modules_install linked as lib/modules/KVER/build, as on an installed kernel.
	kdir=$dir/headers/usr/src/linux-headers-$kver
	[ -d "$kdir" ] || kdir=$(realpath -e "$dir/kernel/lib/modules/$kver/build")
	# The headers come without vmlinux, and the host has no pahole: no BTF for modules.
	# A calling make's flags (make check) must not reach this one: its jobserver would warn.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$out" -j"$(nproc)" \
		KDIR="$kdir" CONFIG_DEBUG_INFO_BTF_MODULES= "$@" module test-kmod
fi
