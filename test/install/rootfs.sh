#!/bin/bash
# usage: test/install/rootfs.sh KVER     (KVER: the release test/qemu/kernel.sh bookworm printed)
# Builds a bookworm disk image for booting the cached kernel KVER, cached in ${TOA_CACHE}/rootfs-bookworm/,
# with bookworm-backports' kernel beside it to install (kver2 names it; vmlinuz2, initrd2.img boot it), and
# bookworm's cloud flavour of KVER to install after the toa-dkms package (kver3 names it).
set -eu

here=$(dirname "$(realpath "$0")")
kver=${1:?usage: rootfs.sh KVER}
cache=${TOA_CACHE:-/var/cache/toa-test}
kdir=$cache/bookworm/kernel
dir=$cache/rootfs-bookworm

log() { echo "rootfs.sh: $*" >&2; }

# shellcheck source=test/mirror.sh
. "$here/../mirror.sh"

in_root() {
	"$here/../qemu/chroot.sh" "$tmp/root" env DEBIAN_FRONTEND=noninteractive "$@"
}

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

# Rebuilt when the kernel or what goes into the image changes.
stamp=$(cat "$0" "$here/toa-install-test.service" <(echo "$kver") | sha256sum)
[ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && exit 0
[ -d "$kdir/lib/modules/$kver" ] || { log "no kernel $kver in $kdir: run test/qemu/kernel.sh bookworm"; exit 1; }

tmp=$dir/build.tmp
rm -rf "$tmp" "$dir/stamp"
mkdir -p "$tmp"

# What a Debian server has, plus what install_toa.sh would fetch (gcc, make, dkms, the
# headers) and what the test needs (iproute2, curl, python3, bpftool): the guest has no network.
log "debootstrapping bookworm"
debootstrap --variant=minbase --include=systemd-sysv,udev,kmod,iproute2,python3,curl,openssl,initramfs-tools,zstd,gcc,make,libc6-dev,dkms,bpftool \
	bookworm "$tmp/root" "$(system_mirror debian)" >"$tmp/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$tmp/debootstrap.log" >&2; exit 1; }

# The kernel's ABI-named headers come from the security archive, like the kernel itself. The
# metapackage too, as a Debian server has it: the toa-dkms package depends on it.
cat >"$tmp/root/etc/apt/sources.list" <<-SOURCES
	deb $(system_mirror debian) bookworm main
	deb $(system_mirror debian-security) bookworm-security main
	deb $(system_mirror debian) bookworm-backports main
SOURCES
log "installing linux-headers-$kver"
if ! { in_root apt-get -q update && in_root apt-get install -y -q --no-install-recommends \
	"linux-headers-$kver" linux-headers-amd64; } >"$tmp/apt.log" 2>&1; then
	tail -n 20 "$tmp/apt.log" >&2
	exit 1
fi

# Most modules, plus what finds the root file system on a virtio disk, for sure.
printf '%s\n' virtio_pci virtio_blk ext4 >>"$tmp/root/etc/initramfs-tools/modules"

# The kernel upgrade of boot 1: bookworm-backports' kernel and headers, as .debs for the guest's
# dpkg, whose DKMS must then build toa for it. Boots 2 and 3 run that kernel, with an initramfs
# made here: under TCG the guest would take minutes to make it.
kver2=$(in_root apt-cache -t bookworm-backports depends linux-image-amd64 |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print substr($2, 13); exit }')
[ -n "$kver2" ] || { log "no linux-image-amd64 in bookworm-backports"; exit 1; }
log "downloading the second kernel, $kver2"
in_root apt-get clean
if ! in_root apt-get install -d -y -q --no-install-recommends -t bookworm-backports \
	"linux-image-$kver2" "linux-headers-$kver2" >>"$tmp/apt.log" 2>&1; then
	tail -n 20 "$tmp/apt.log" >&2
	exit 1
fi
mkdir "$tmp/root/root/second-kernel"
mv "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/root/second-kernel/"
# A kernel installed after the toa-dkms package, whose DKMS must build toa for it: the cloud
# flavour of the first kernel, in the archive as long as that kernel is.
kver3=${kver%-amd64}-cloud-amd64
log "downloading the third kernel, $kver3"
if ! in_root apt-get install -d -y -q --no-install-recommends \
	"linux-image-$kver3" "linux-headers-$kver3" >>"$tmp/apt.log" 2>&1; then
	tail -n 20 "$tmp/apt.log" >&2
	exit 1
fi
mkdir "$tmp/root/root/third-kernel"
mv "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/root/third-kernel/"
dpkg-deb -x "$tmp/root/root/second-kernel/linux-image-${kver2}_"*.deb "$tmp/kernel2"
cp -a "$tmp/kernel2/lib/modules/$kver2" "$tmp/root/lib/modules/"
cp -a "$tmp/kernel2/boot/." "$tmp/root/boot/"
in_root depmod "$kver2"
in_root update-initramfs -c -k "$kver2" >"$tmp/initramfs.log" 2>&1 ||
	{ tail -n 20 "$tmp/initramfs.log" >&2; exit 1; }
mv "$tmp/root/boot/initrd.img-$kver2" "$tmp/initrd2.img"
mv "$tmp/root/boot/vmlinuz-$kver2" "$tmp/vmlinuz2"
# Not installed until boot 1 installs it.
rm -rf "$tmp/kernel2" "$tmp/root/lib/modules/$kver2" "$tmp/root/boot/"*"-$kver2" \
	"$tmp/root/var/lib/initramfs-tools/$kver2"

# Offline from here on: no package lists, and no mirror name left in the image.
in_root apt-get clean
rm -rf "$tmp/root/var/lib/apt/lists/"*
echo "# The test VM has no network." >"$tmp/root/etc/apt/sources.list"

log "installing kernel $kver"
cp -a "$kdir/lib/modules/$kver/." "$tmp/root/lib/modules/$kver/"
cp -a "$kdir/boot/." "$tmp/root/boot/"
in_root update-initramfs -c -k "$kver" >"$tmp/initramfs.log" 2>&1 ||
	{ tail -n 20 "$tmp/initramfs.log" >&2; exit 1; }

log "configuring"
echo toa-vm >"$tmp/root/etc/hostname"
in_root systemd-machine-id-setup >/dev/null
cat >"$tmp/root/etc/fstab" <<-'FSTAB'
	/dev/vda / ext4 defaults 0 1
	toa-test /mnt/toa-test 9p trans=virtio,version=9p2000.L,msize=512000,nofail 0 0
FSTAB
mkdir -p "$tmp/root/mnt/toa-test"
cp "$here/toa-install-test.service" "$tmp/root/etc/systemd/system/"
in_root systemctl enable toa-install-test.service >/dev/null 2>&1
# Timers would start work at random times in a run.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
	e2scrub_all.timer fstrim.timer >/dev/null 2>&1

log "making the disk image"
cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
cp "$tmp/root/boot/initrd.img-$kver" "$tmp/initrd.img"
mkfs.ext4 -q -F -L toa-root -d "$tmp/root" "$tmp/root.img" 4G >/dev/null
rm -rf "$tmp/root"
rm -f "$dir/root.img" "$dir/vmlinuz" "$dir/initrd.img" "$dir/vmlinuz2" "$dir/initrd2.img"
mv "$tmp/root.img" "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/vmlinuz2" "$tmp/initrd2.img" "$dir/"
echo "$kver2" >"$dir/kver2"
echo "$kver3" >"$dir/kver3"
rm -rf "$tmp"
echo "$stamp" >"$dir/stamp"
