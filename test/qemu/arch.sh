# shellcheck shell=bash
# Sourced with $suite set: the Debian distribution and architecture of a suite of the rig.
# DIST-arm64 (bookworm-arm64, trixie-arm64) is DIST's arm64 kernel: toa is cross-built for it
# and it boots under qemu-system-aarch64; the others are amd64.
# shellcheck disable=SC2034,SC2154 # $suite is the sourcing script's; the rest is for it
case $suite in
*-arm64)
	dist=${suite%-arm64} arch=arm64
	# The kernel's name for it, QEMU's (qemu-system-aarch64, qemu-user-static's qemu-aarch64)
	# and the prefix of the cross tools (gcc-aarch64-linux-gnu).
	kernel_arch=arm64 qemu_arch=aarch64 cross_compile=aarch64-linux-gnu-
	;;
*) dist=$suite arch=amd64 qemu_arch=x86_64 cross_compile='' ;;
esac
host_arch=$(dpkg --print-architecture)
