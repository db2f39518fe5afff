#!/bin/bash
# usage: test/qemu/kernel.sh SUITE     (SUITE: bookworm, bookworm-backports, bullseye, trixie, sid;
#                                      debug: a kernel with sanitizers, built by debug-kernel.sh;
#                                      DIST-arm64, e.g. bookworm-arm64: that suite's arm64 kernel)
# Fetches the Debian suite's current amd64 (or arm64) kernel into ${TOA_CACHE:-/var/cache/toa-test}/SUITE/
# and prepares what run.sh and build.sh need. Cached; the last line of stdout is the kernel release.
set -eu

here=$(dirname "$(realpath "$0")")
suite=${1:?usage: kernel.sh SUITE}
dir=${TOA_CACHE:-/var/cache/toa-test}/$suite
# shellcheck source=test/qemu/arch.sh
. "$here/arch.sh"

# Progress goes to stderr; stdout carries only the kernel release (fd 3).
exec 3>&1 1>&2

log() { echo "kernel.sh: $suite: $*"; }

# shellcheck source=test/mirror.sh
. "$here/../mirror.sh"

suite_sources() {
	echo "deb $(system_mirror debian) $dist main"
	# Stable suites get their kernel updates through the security archive.
	case $dist in
	*-* | sid | unstable) ;;
	*) echo "deb $(system_mirror debian-security) $dist-security main" ;;
	esac
}

# apt-get or apt-cache ($1) restricted to the suite and its architecture (and the host's, for
# the build tools of a cross build), with private state: the system's apt configuration and
# package database are never touched.
suite_apt() {
	local tool=$1 archs=$arch
	shift
	[ "$arch" = "$host_arch" ] || archs+=,$host_arch
	"$tool" -q -o APT::Architecture="$arch" -o APT::Architectures="$archs" \
		-o Dir::Etc::SourceList="$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$dir/apt/lists" -o Dir::Cache="$dir/apt/cache" \
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root \
		-o Acquire::Check-Valid-Until=false "$@"
}

update_package_lists() {
	mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
	suite_sources > "$dir/apt/sources.list"
	suite_apt apt-get update -qq
}

# The release the metapackage linux-headers-ARCH points at, e.g. 6.1.0-56-amd64.
current_kernel_release() {
	suite_apt apt-cache show --no-all-versions "linux-headers-$arch" |
		sed -n 's/^Depends:.*linux-headers-\([^ ,]*\).*/\1/p'
}

# The dependencies of package $1 whose names match the extended regex $2.
dependencies() {
	suite_apt apt-cache show --no-all-versions "$1" | sed -n 's/^Depends: //p' |
		tr ',|' '\n' | awk '{ print $1 }' | grep -xE "$2" || true
}

# Finds the compressed payload of the bzImage $1 by its magic number and inflates the first
# candidate that yields an ELF file into $2: QEMU's microvm boots only an uncompressed vmlinux.
extract_vmlinux() {
	local magic tool offset
	while read -r magic tool; do
		while read -r offset; do
			tail -c +$((offset + 1)) "$1" | $tool > "$2" 2>/dev/null || true
			[ "$(head -c 4 "$2")" = $'\x7fELF' ] && return 0
		done < <(LC_ALL=C grep -obUaP "$magic" "$1" | cut -d: -f1)
	done <<-'EOF'
		\xfd7zXZ\x00 xz -dc --single-stream
		\x28\xb5\x2f\xfd zstd -dc
		\x1f\x8b\x08 gzip -dc
	EOF
	echo "kernel.sh: no vmlinux found in $1" >&2
	return 1
}

# unpack_package DIR PACKAGE DEPENDS: PACKAGE and those of its dependencies whose names match the
# extended regex DEPENDS, downloaded and unpacked into DIR, made afresh. linux-kbuild's fixdep and
# modpost run on the host: its build is the host's, also for another architecture's kernel.
unpack_package() {
	local deb
	rm -rf "$1"
	mkdir -p "$1/debs"
	# shellcheck disable=SC2046 # one word per package name
	(cd "$1/debs" && suite_apt apt-get download -qq "$2" $(dependencies "$2" "$3" |
		sed "/^linux-kbuild-/s/\$/:$host_arch/"))
	for deb in "$1"/debs/*.deb; do
		dpkg-deb -x "$deb" "$1"
	done
	rm -r "$1/debs"
}

# $dir/kernel: the image package(s) unpacked (sid splits them into linux-binary/-modules/-base),
# modules under lib/modules/$kver with their depmod index, and vmlinux.
fetch_kernel() {
	local tmp=$dir/kernel.tmp image vmlinuz
	[ -d "$dir/kernel/lib/modules/$kver" ] && return
	log "fetching linux-image-$kver"
	rm -rf "$dir/kernel"
	image=linux-image-$kver-unsigned
	suite_apt apt-cache show "$image" >/dev/null 2>&1 || image=linux-image-$kver
	unpack_package "$tmp" "$image" 'linux-(binary|modules|base)-.*'
	if [ -d "$tmp/usr/lib/modules" ] && [ ! -L "$tmp/lib" ]; then
		mkdir -p "$tmp/lib"
		mv "$tmp/usr/lib/modules" "$tmp/lib/"
	fi
	depmod -b "$tmp" "$kver"
	# The initramfs's busybox (initramfs.sh): the host's, unless the kernel is another arch's.
	if [ "$arch" != "$host_arch" ]; then
		unpack_package "$tmp/busybox-static" busybox-static '^$'
		mv "$tmp/busybox-static/bin/busybox" "$tmp/busybox"
		rm -r "$tmp/busybox-static"
	fi
	# In /boot, or in the modules directory since sid split the image.
	vmlinuz=$(find "$tmp" -name 'vmlinuz*' -type f | head -n1)
	case $arch in
	amd64) extract_vmlinux "$vmlinuz" "$tmp/vmlinux" ;;
	# An Image (an EFI stub too), or one gzipped, which the virt machine boots inflated.
	arm64) gzip -dcf "$vmlinuz" > "$tmp/Image" ;;
	esac
	mv "$tmp" "$dir/kernel"
}

# bookworm and bookworm-backports kernels were built with gcc-12, the host's compiler (or its
# cross compiler): their headers are unpacked into $dir/headers and used in place, with the
# host's build of kbuild's tools (fixdep, modpost).
fetch_headers() {
	local tmp=$dir/headers.tmp
	[ -d "$dir/headers/usr/src/linux-headers-$kver" ] && return
	log "fetching linux-headers-$kver"
	rm -rf "$dir/headers"
	unpack_package "$tmp" "linux-headers-$kver" 'linux-(headers|kbuild)-.*'
	# The arch Makefile includes the -common one by its absolute /usr/src path.
	sed -i "s|^include /usr/src/|include $dir/headers/usr/src/|" \
		"$tmp/usr/src/linux-headers-$kver/Makefile"
	mv "$tmp" "$dir/headers"
}

# Other suites build with their own gcc: $dir/chroot is a minimal Debian of the suite with the
# kernel's headers, gcc and make installed. For another architecture, its cross gcc, and the
# headers unpacked (the other architecture's packages do not install).
make_chroot() {
	local tmp=$dir/chroot.tmp packages=("linux-headers-$kver")
	[ -d "$dir/chroot/usr/src/linux-headers-$kver" ] && return
	log "debootstrapping a $suite build chroot"
	rm -rf "$tmp" "$dir/chroot"
	debootstrap --variant=minbase "$dist" "$tmp" "$(system_mirror debian)" >/dev/null
	suite_sources > "$tmp/etc/apt/sources.list"
	"$here/chroot.sh" "$tmp" apt-get -q -o Acquire::Check-Valid-Until=false update
	# A cross build: the cross gcc, and the host's build of the headers' kbuild, with what its
	# tools need (pahole).
	# shellcheck disable=SC2207 # one word per package name
	[ -z "$cross_compile" ] ||
		packages=("gcc-${cross_compile%-}" $(dependencies "linux-headers-$kver" 'linux-kbuild-.*'))
	# INITRD=No: the headers of some suites pull in the image, whose initramfs nobody needs.
	# perl: W=1 runs kernel-doc, which needs more of it than perl-base.
	"$here/chroot.sh" "$tmp" env DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -q \
		-o Dpkg::Use-Pty=0 --no-install-recommends "${packages[@]}" gcc make libc6-dev perl \
		>/dev/null
	"$here/chroot.sh" "$tmp" apt-get clean
	if [ -n "$cross_compile" ]; then
		unpack_package "$dir/headers.tmp" "linux-headers-$kver" 'linux-(headers|kbuild)-.*'
		cp -a "$dir/headers.tmp/." "$tmp/"
		rm -r "$dir/headers.tmp"
	fi
	mv "$tmp" "$dir/chroot"
}

# Another architecture's kernel cannot run on the host's root: $dir/root is a Debian of its
# architecture with what the guest's tests run (debootstrap runs its programs through
# qemu-user-static), laid over the host's root in the guest (initramfs-init.sh).
make_guest_root() {
	local tmp=$dir/root.tmp binfmt=/proc/sys/fs/binfmt_misc
	[ -x "$dir/root/bin/bash" ] && return
	if [ ! -e "$binfmt/qemu-$qemu_arch" ]; then
		mountpoint -q "$binfmt" || mount -t binfmt_misc binfmt_misc "$binfmt"
		update-binfmts --enable "qemu-$qemu_arch" ||
			{ log "cannot run $arch programs: install qemu-user-static and binfmt-support"; return 1; }
	fi
	log "debootstrapping an $arch guest root"
	rm -rf "$tmp" "$dir/root"
	debootstrap --arch="$arch" --variant=minbase \
		--include=busybox,iproute2,bpftool,kmod,procps,python3,nginx,nftables,tcpdump \
		"$dist" "$tmp" "$(system_mirror debian)" > "$dir/root.log" 2>&1 ||
		{ tail -n 20 "$dir/root.log"; return 1; }
	rm -f "$tmp/var/cache/apt/archives"/*.deb
	mv "$tmp" "$dir/root"
}

mkdir -p "$dir"
# One kernel.sh per suite at a time (build.sh calls it too).
exec 9>"$dir/.lock"
flock 9

if [ "$suite" = debug ]; then
	# Built, not fetched; rebuilt when its source or config changes.
	kver=$("$here/debug-kernel.sh" "$dir" | tail -n1)
elif [ -f "$dir/kver" ]; then
	kver=$(cat "$dir/kver")
else
	update_package_lists
	kver=$(current_kernel_release)
	[ -n "$kver" ] || { log "no linux-headers-$arch in the suite"; exit 1; }
	fetch_kernel
	case $dist in
	bookworm | bookworm-backports) fetch_headers ;;
	*) make_chroot ;;
	esac
	[ "$arch" = "$host_arch" ] || make_guest_root
fi
"$here/initramfs.sh" "$dir/kernel" "$kver"
echo "$kver" > "$dir/kver"
echo "$kver" >&3
