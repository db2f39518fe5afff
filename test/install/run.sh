#!/bin/bash
# usage: test/install/run.sh     (as root; env: TOA_CACHE, TOA_WORK, TOA_TIMEOUT; make check-install runs it)
# The user's journey on a booted Debian bookworm VM (test/install/README.md). Prints TAP; last line "N passed, N failed".
# shellcheck disable=SC2317 # the steps run through check()
set -eu

repo=$(realpath "$(dirname "$0")/../..")
here=$repo/test/install
cache=${TOA_CACHE:-/var/cache/toa-test}
work=${TOA_WORK:-/tmp/toa-check}/install
timeout=${TOA_TIMEOUT:-1800}	# each boot; boot 1 takes 7-14 minutes, more on a busy host
share=$work/share
# kernel.sh and its initramfs.sh, rootfs.sh, the BPF client's build, and the VM.
# make dist's git and rpmbuild.
host_packages=(busybox-static clang cpio debootstrap e2fsprogs git libbpf-dev make qemu-system-x86 qemu-utils
	rpm xz-utils zstd)

# shellcheck source=test/tap.sh
. "$repo/test/tap.sh"
# shellcheck source=test/kernel-log.sh
. "$repo/test/kernel-log.sh"

# check NAME LOG CMD...: CMD's output goes to LOG.
check() {
	local name=$1 log=$2 start=$SECONDS
	shift 2
	if "$@" >"$log" 2>&1; then
		pass "$name"
		echo "# $name: $((SECONDS - start))s"
	else
		fail "$name" "$log"
		return 1
	fi
}

finish() {
	tap_end
	exit
}

fetch_kernel() {
	"$repo/test/qemu/kernel.sh" bookworm >"$work/kver" && kver=$(tail -n1 "$work/kver") && [ -n "$kver" ]
}

# The share: the source tarball a user unpacks (the tree's files, not its build products), what
# make dist makes of the last commit (the self-contained installer, the .deb), the BPF client and
# the guest's driver. The guest appends its TAP lines to tap.txt.
make_share() {
	rm -rf "$share" && mkdir -p "$share" &&
		make -C "$repo/test" out/toa_client.bpf.o &&
		cp "$repo/test/out/toa_client.bpf.o" "$here/guest.sh" "$repo/test/kernel-log.sh" \
			"$repo/scripts/install_toa.sh" "$share/" &&
		(cd "$repo" && git ls-files -z -co --exclude-standard |
			while IFS= read -r -d '' f; do [ ! -e "$f" ] || printf '%s\0' "$f"; done |
			tar --null -T - --transform 's,^,toa/,' -czf "$share/toa.tar.gz") &&
		"$repo/scripts/dist.sh" "$share/dist" &&
		cp "$cache/rootfs-bookworm/kver2" "$cache/rootfs-bookworm/kver3" "$share/" &&
		echo "$kver" >"$share/kver1"
}

# The guest's disk: a throw-away layer over the cached image, kept from one boot to the next.
make_disk() {
	rm -f "$work/disk.qcow2" && qemu-img create -q -f qcow2 -b "$cache/rootfs-bookworm/root.img" -F raw "$work/disk.qcow2"
}

# qemu_boot THREADS KERNEL INITRD: one boot, until the guest reboots or powers off: QEMU exits on
# both (-no-reboot), and on a panic (panic=-1). A reboot inside one QEMU run makes TCG several times
# slower. QEMU boots the kernel the guest would boot: boot 1 installs a second one.
qemu_boot() {
	local img=$cache/rootfs-bookworm
	timeout --foreground -k 5 "$timeout" \
		qemu-system-x86_64 -M q35 -accel "tcg,thread=$1" -cpu max -smp 2 -m 2048 \
		-nodefaults -no-user-config -display none -no-reboot -serial stdio \
		-kernel "$img/$2" -initrd "$img/$3" \
		-append "root=/dev/vda rw console=ttyS0 loglevel=4 panic=-1" \
		-drive "file=$work/disk.qcow2,format=qcow2,if=virtio" \
		-fsdev "local,id=share,path=$share,security_model=none" \
		-device virtio-9p-pci,fsdev=share,mount_tag=toa-test </dev/null
}

# died_early N LOG: boot N's kernel panicked before the guest's test began, with no toa loaded.
died_early() {
	! grep -q "^# boot $1:" "$share/tap.txt" 2>/dev/null && kernel_died_early "$2"
}

# boot_guest N KERNEL INITRD: boot N, its console on stdout. Once, if the kernel died before the
# test began, again on one host thread, where no vCPU runs while another patches; slower, so
# only then. The comment reaches the TAP stream through fd 3.
boot_guest() {
	local n=$1 log=$work/console-boot$1.log status=0
	shift
	qemu_boot multi "$@" || status=$?
	died_early "$n" "$log" || return "$status"
	echo "# boot $n: the kernel died before the test began, toa not loaded; booting again on one host thread" |
		tee /dev/fd/3
	qemu_boot single "$@"
}

# Re-numbers the guest's TAP lines into ours; true if its plan was there and complete.
report_guest() {
	local line planned=
	while IFS= read -r line; do
		case $line in
		'ok '*) pass "guest: ${line#ok [0-9]* }" ;;
		'not ok '*) fail "guest: ${line#not ok [0-9]* }" "$share/logs/" ;;
		'#'*) echo "$line" ;;
		1..*) planned=${line#1..} ;;
		esac
	done <"$share/tap.txt"
	[ -n "$planned" ] && [ "$planned" -eq "$(grep -cE '^(not )?ok ' "$share/tap.txt")" ]
}

main() {
	local start
	unset MAKEFLAGS MFLAGS MAKELEVEL	# a calling make's flags must not reach the builds
	mkdir -p "$work"
	exec 3>&1	# the TAP stream, for what a step says beside its log
	echo "TAP version 13"
	[ "$(id -u)" -eq 0 ] || { fail "host: running as root"; finish; }
	check "host: install packages" "$work/host.log" "$repo/test/host-packages.sh" "${host_packages[@]}" || finish
	check "host: bookworm kernel" "$work/kernel.log" fetch_kernel || finish
	check "host: bookworm disk image" "$work/rootfs.log" "$here/rootfs.sh" "$kver" || finish
	kver2=$(cat "$cache/rootfs-bookworm/kver2")
	check "host: source tarball, make dist, BPF client" "$work/share.log" make_share || finish
	check "host: guest disk" "$work/disk.log" make_disk || finish
	# One VM at a time on this machine: wait for the others'.
	start=$SECONDS
	exec 8>/tmp/toa-vm.lock
	flock 8
	echo "# waited $((SECONDS - start))s for /tmp/toa-vm.lock"
	# Each boot continues where the last one left the disk: after a failed boot, none.
	if check "host: boot 1 ($kver: install, a second kernel, reboot)" "$work/console-boot1.log" \
		boot_guest 1 vmlinuz initrd.img &&
		check "host: boot 2 ($kver2: client, uninstall, method 2, reboot)" "$work/console-boot2.log" \
			boot_guest 2 vmlinuz2 initrd2.img &&
		check "host: boot 3 ($kver2: method 2 at boot, uninstall, the .deb, a third kernel, reboot)" \
			"$work/console-boot3.log" boot_guest 3 vmlinuz2 initrd2.img; then
		check "host: boot 4 ($kver2: the .deb at boot, purge, power off)" "$work/console-boot4.log" \
			boot_guest 4 vmlinuz2 initrd2.img || true
	fi
	exec 8>&-
	if [ -f "$share/tap.txt" ] && report_guest; then
		pass "guest: every check ran"
	else
		fail "guest: every check ran" "$work/ (console-boot*.log)"
	fi
	finish
}

main
