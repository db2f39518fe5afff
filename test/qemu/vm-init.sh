#!/bin/sh
# PID 1 of the guest, on the overlaid host root (see initramfs-init.sh): mounts what tests expect,
# runs the command run.sh left in RWDIR/.toa-cmd, saves dmesg and the command's exit status to
# RWDIR, and powers off. Parameters come from run.sh on the kernel command line (rig.*).

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
export TERM=dumb
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
	case $arg in
	rig.rwdir=*) rwdir=${arg#*=} ;;
	rig.term=*) TERM=${arg#*=} ;;
	rig.rows=*) rows=${arg#*=} ;;
	rig.cols=*) cols=${arg#*=} ;;
	console=*) console=/dev/${arg#*=} ;;	# ttyS0, or arm64's ttyAMA0
	esac
done
# Tells run.sh that the guest booted, should it die before the command's status replaces it.
echo running > "$rwdir/.toa-status"

mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/lock
mkdir -p /dev/shm
mount -t tmpfs tmpfs /dev/shm
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=666 devpts /dev/pts
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
hostname toa-vm
ip link set lo up
echo "vm-init: $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s"

if [ -n "${rows:-}" ]; then
	# Interactive: the serial port becomes the command's controlling terminal, for job control.
	stty -F "$console" rows "$rows" cols "$cols"
	# shellcheck disable=SC2094 # a terminal, read and written
	setsid -w -c bash "$rwdir/.toa-cmd" <"$console" >"$console" 2>&1
else
	bash "$rwdir/.toa-cmd" </dev/null
fi
status=$?

dmesg > "$rwdir/dmesg.txt"
echo "$status" > "$rwdir/.toa-status"
sync
exec busybox poweroff -f
