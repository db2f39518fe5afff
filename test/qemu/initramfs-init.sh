#!/bin/busybox sh
# shellcheck shell=dash
# /init of the initramfs built by initramfs.sh: mounts the host root (9p, read-only) under a tmpfs
# overlay, binds the guest kernel's modules and the read-write share into it, and hands over to
# vm-init.sh there. Parameters come from run.sh on the kernel command line (rig.*).

fail() {
	echo "initramfs: $*"
	poweroff -f
}

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

read -r cmdline < /proc/cmdline
for arg in $cmdline; do
	case $arg in
	rig.modules=*) modules=${arg#*=} ;;
	rig.rwdir=*) rwdir=${arg#*=} ;;
	rig.init=*) init=${arg#*=} ;;
	rig.lower=*) lower=${arg#*=} ;;
	esac
done

while read -r module; do
	insmod "/modules/$module" || fail "cannot load $module"
done < /modules/order

opts=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /host /lower /rw /root
mount -t 9p -o "$opts,ro,cache=loose" hostroot /host || fail "cannot mount the host root"
# rig.lower: the tag of a share with a root of the guest's architecture, its files over the
# host's. Its own share: overlayfs refuses a lower layer inside another.
if [ -n "${lower:-}" ]; then
	mount -t 9p -o "$opts,ro,cache=loose" "$lower" /lower || fail "cannot mount $lower"
fi
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o "lowerdir=${lower:+/lower:}/host,upperdir=/rw/upper,workdir=/rw/work" overlay /root ||
	fail "cannot mount the overlay"

# The host's /lib/modules belongs to the host kernel: show the guest kernel's instead.
mkdir -p "/root/lib/modules/$(uname -r)"
mount --bind "/root$modules" "/root/lib/modules/$(uname -r)" || fail "cannot bind $modules"
mount -t 9p -o "$opts,cache=none" rwshare "/root$rwdir" || fail "cannot mount $rwdir"

mount --move /dev /root/dev
mount --move /proc /root/proc
mount --move /sys /root/sys
exec switch_root /root /bin/sh "$init"
