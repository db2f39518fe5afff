#!/bin/bash
# usage: test/qemu/run.sh [-k KVER] [-s SMP] [-m MEM_MB] [-t TIMEOUT_S] [-w RWDIR] [-a KARGS] [-S] [-i] [-- CMD...]
# Boots a kernel fetched by kernel.sh (default: bookworm's) under QEMU, TCG, with the host root as
# the guest's root and RWDIR shared read-write, and runs CMD (default: an interactive shell) in the
# current directory; KARGS go on the guest kernel's command line (e.g. slab_nomerge). -S runs all
# vCPUs on one host thread (single-threaded TCG), for loops that re-patch kernel text. -i counts
# instructions: -S, and the guest's clock advances 1 ns per instruction (-icount shift=0; boots
# with one vCPU only: bench/run.sh).
# Exit: CMD's status; 124 timeout; 125 the guest did not boot; 126 it died in CMD.
set -eu

here=$(dirname "$(realpath "$0")")
cache=${TOA_CACHE:-/var/cache/toa-test}

usage() {
	sed -n '2,9s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# The guest runs this script with bash, in the caller's directory.
write_command() {
	printf 'cd %q || exit 1\n' "$PWD"
	if [ $# -eq 0 ]; then
		echo 'exec bash -i'
	else
		printf 'exec'
		printf ' %q' "$@"
		echo
	fi
}

kver='' smp=2 mem=2048 timeout='' rwdir='' kargs='' tcg_threads=multi icount=()
while getopts k:s:m:t:w:a:Sih opt; do
	case $opt in
	k) kver=$OPTARG ;;
	s) smp=$OPTARG ;;
	m) mem=$OPTARG ;;
	t) timeout=$OPTARG ;;
	w) rwdir=$OPTARG ;;
	a) kargs=$OPTARG ;;
	S) tcg_threads=single ;;
	i) tcg_threads=single icount=(-icount "shift=0,sleep=off") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

[ -n "$kver" ] || kver=$(cat "$cache/bookworm/kver" 2>/dev/null) ||
	{ echo "run.sh: no kernel: run test/qemu/kernel.sh bookworm" >&2; exit 125; }
# kernel.sh left the release in SUITE/kver, and the kernel in SUITE/kernel.
kver_file=$(grep -lx -- "$kver" "$cache"/*/kver 2>/dev/null | head -n1)
[ -n "$kver_file" ] || { echo "run.sh: no kernel $kver in $cache: run kernel.sh SUITE" >&2; exit 125; }
kdir=$(dirname "$kver_file")/kernel
suite=$(basename "$(dirname "$kver_file")")
# shellcheck source=test/qemu/arch.sh
. "$here/arch.sh"
"$here/initramfs.sh" "$kdir" "$kver"

if [ -z "$rwdir" ]; then
	rwdir=$(mktemp -d /tmp/toa-vm.XXXXXX)
	echo "run.sh: shared directory $rwdir" >&2
fi
mkdir -p "$rwdir"
rwdir=$(realpath "$rwdir")
case $rwdir$PWD$here in
*[[:space:]]*) echo "run.sh: paths with spaces cannot go on the kernel command line" >&2; exit 2 ;;
esac
write_command "$@" > "$rwdir/.toa-cmd"
rm -f "$rwdir/.toa-status" "$rwdir/dmesg.txt"

case $arch in
amd64)
	qemu=("qemu-system-$qemu_arch" -M "microvm,pit=on,pic=on,rtc=on" -cpu max -kernel "$kdir/vmlinux")
	# Under TCG, microvm boots hang at random in the PIT calibration of the TSC: give its rate
	# instead. The vCPUs' TSCs fail the kernel's sync check, which would leave it a 4 ms clock.
	append="console=ttyS0 loglevel=5 log_buf_len=4M panic=-1 tsc=reliable"
	append+=" tsc_early_khz=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)"
	;;
arm64)
	# max: BTI and pointer authentication as on recent cores; QEMU's own PAC algorithm is the
	# one TCG runs fast.
	qemu=("qemu-system-$qemu_arch" -M virt -cpu "max,pauth-impdef=on" -kernel "$kdir/Image")
	append="console=ttyAMA0 loglevel=5 log_buf_len=4M panic=-1"
	# Its programs: the suite's root of that architecture (kernel.sh), over the host's.
	qemu+=(-fsdev "local,id=guestroot,path=$(dirname "$kdir")/root,security_model=none,readonly=on,multidevs=remap"
		-device "virtio-9p-device,fsdev=guestroot,mount_tag=guestroot")
	append+=" rig.lower=guestroot"
	;;
esac
# rig.*: for initramfs-init.sh and vm-init.sh (a toa.* one would reach the module as a parameter).
append+="${kargs:+ $kargs}"
append+=" rig.modules=$kdir/lib/modules/$kver rig.rwdir=$rwdir rig.init=$here/vm-init.sh"
if [ -t 0 ] && [ -t 1 ]; then
	# Interactive: Ctrl-A X quits QEMU; the guest learns the terminal's type and size.
	append+=" rig.term=${TERM:-vt100} rig.rows=$(tput lines) rig.cols=$(tput cols)"
	serial=mon:stdio
	stdin=/dev/stdin
	: "${timeout:=0}"
else
	serial=stdio
	stdin=/dev/null
	: "${timeout:=600}"
fi

# multidevs=remap keeps inode numbers unique across the host file systems seen through one share.
status=0
timeout --foreground -k 5 "$timeout" \
	"${qemu[@]}" -accel "tcg,thread=$tcg_threads" "${icount[@]}" \
	-smp "$smp" -m "$mem" -nodefaults -no-user-config -display none -no-reboot \
	-serial "$serial" -initrd "$kdir/initramfs.cpio.gz" -append "$append" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-device,fsdev=hostroot,mount_tag=hostroot \
	-fsdev "local,id=rwshare,path=$rwdir,security_model=none,multidevs=remap" \
	-device virtio-9p-device,fsdev=rwshare,mount_tag=rwshare \
	< "$stdin" || status=$?

if [ "$status" -eq 124 ]; then
	echo "run.sh: timeout after ${timeout}s" >&2
	exit 124
fi
case $(cat "$rwdir/.toa-status" 2>/dev/null) in
'')
	echo "run.sh: the guest did not boot (qemu exit status $status)" >&2
	exit 125
	;;
running)
	echo "run.sh: the guest died while running the command" >&2
	exit 126
	;;
esac
exit "$(cat "$rwdir/.toa-status")"
