#!/bin/bash
# usage: test/qemu/initramfs.sh KERNELDIR KVER
# Builds KERNELDIR/initramfs.cpio.gz for the kernel unpacked in KERNELDIR (by kernel.sh): static
# busybox, the modules that mount the host root, and initramfs-init.sh as /init. No-op if up to date.
set -eu

here=$(dirname "$(realpath "$0")")
kdir=${1:?usage: initramfs.sh KERNELDIR KVER}
kver=${2:?usage: initramfs.sh KERNELDIR KVER}
out=$kdir/initramfs.cpio.gz

# Rebuild whenever this script or the /init it packs changes.
stamp=$(cat "$0" "$here/initramfs-init.sh" | sha256sum)
[ -f "$out" ] && [ "$(cat "$kdir/initramfs.stamp" 2>/dev/null)" = "$stamp" ] && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/dev" "$tmp/proc" "$tmp/sys" "$tmp/modules"
# kernel.sh left one for another architecture's kernel.
busybox=$kdir/busybox
[ -f "$busybox" ] || busybox=/bin/busybox
cp "$busybox" "$tmp/bin/busybox"
cp "$here/initramfs-init.sh" "$tmp/init"
: > "$tmp/modules/order"

# virtio-mmio is microvm's bus; 9p over virtio carries the host root; overlay makes it writable.
# The list is in load order, dependencies first; busybox insmod needs them uncompressed.
for module in virtio_mmio 9pnet_virtio 9p overlay; do
	modprobe -d "$kdir" -S "$kver" --show-depends "$module" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r path; do
	name=$(basename "$path")
	name=${name%.ko*}.ko
	case $path in
	*.xz) xz -dc "$path" ;;
	*.zst) zstd -qdc "$path" ;;
	*.gz) gzip -dc "$path" ;;
	*) cat "$path" ;;
	esac > "$tmp/modules/$name"
	echo "$name" >> "$tmp/modules/order"
done

(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "$stamp" > "$kdir/initramfs.stamp"
