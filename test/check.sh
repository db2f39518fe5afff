#!/bin/bash
# usage: test/check.sh [--install] [SUITE...]   (default: bookworm; make check-matrix: --install and every suite)
# Driver of make check: builds the test programs once, then for each Debian suite fetches its kernel,
# builds toa.ko (and with W=1) and runs test/guest.sh in a VM; with --install, then runs the installer
# test on a booted Debian (test/install/run.sh). Prints TAP; last line "N passed, N failed".
set -u

repo=$(realpath "$(dirname "$0")/..")
cache=${TOA_CACHE:-/var/cache/toa-test}
work=${TOA_WORK:-/tmp/toa-check}
timeout=${TOA_TIMEOUT:-1500}

# What the rig and the guest's tests need on the host (the host root is the guest's root).
host_packages=(bc bison busybox-static bpftool clang cpio debootstrap ethtool flex gcc iproute2 kmod
	libbpf-dev libc6-dev libelf-dev linux-source-6.1 llvm make nftables nginx openssl
	qemu-system-x86 shellcheck sparse tcpdump xz-utils zstd)
host_packages+=(curl dkms git lintian rpm)	# make dist and its checks (test/test_dist.sh)
# An arm64 suite's (test/qemu/arch.sh): cross compilers, its emulator, and qemu-user-static, through
# which debootstrap makes its guest root.
arm64_host_packages=(binfmt-support gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
	qemu-user-static)
# toa's records get their own slab caches, red zones and checks (SLUB does not poison
# SLAB_TYPESAFE_BY_RCU caches).
guest_kargs='slab_nomerge slub_debug=FZPU,toa_sock4,toa_sock6'

# shellcheck source=test/tap.sh
. "$repo/test/tap.sh"
# shellcheck source=test/kernel-log.sh
. "$repo/test/kernel-log.sh"

comment() {
	sed 's/^/# /'
}

since() {
	echo "$((SECONDS - $1))s"
}

# kselftest_harness.h and kselftest.h, from Debian's kernel source tarball, once.
fetch_kselftest_headers() {
	"$repo/test/linux-source.sh" ksft tools/testing/selftests/kselftest_harness.h \
		tools/testing/selftests/kselftest.h
}

# build_test_programs [MAKE ARGS...]: e.g. CC=aarch64-linux-gnu-gcc OUT=out/arm64
build_test_programs() {
	fetch_kselftest_headers && make -C "$repo/test" KSFT_DIR="$cache/ksft" "$@"
}

# Re-prints the TAP results of log $2 under name $1, nested ones included; after a failed one,
# the last lines of what its test said (TH_LOG, a timeout), so that a CI log shows why.
report_tap() {
	local line result rest said=()
	while IFS= read -r line; do
		if [[ $line =~ ^[[:space:]]*#[[:space:]](.*)$ ]]; then
			said+=("${BASH_REMATCH[1]}")
			[ ${#said[@]} -le 8 ] || said=("${said[@]:1}")
			continue
		fi
		[[ $line =~ ^[[:space:]]*(ok|not\ ok)(\ [0-9]+)?\ (.*)$ ]] || continue
		result=${BASH_REMATCH[1]} rest=${BASH_REMATCH[3]#- }
		if [[ $rest =~ ^(.*[^[:space:]])?[[:space:]]*\#[[:space:]]*[Ss][Kk][Ii][Pp][[:alpha:]]*[[:space:]]*(.*)$ ]]; then
			skip "$1: ${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
		elif [ "$result" = ok ]; then
			pass "$1: $rest"
		else
			fail "$1: $rest"
			[ ${#said[@]} -eq 0 ] || printf '%s\n' "${said[@]}" | comment
		fi
		said=()
	done < <(tr -d '\r' < "$2")
}

# True if the unindented TAP plans of the console log $1 add up to its unindented results.
tap_complete() {
	tr -d '\r' < "$1" | awk '
		/^1\.\.[0-9]+/ { planned += substr($1, 4); plans++ }
		/^(ok|not ok) [0-9]+/ { results++ }
		END { exit !(plans && planned == results) }'
}

check_dmesg() {
	local label=$1 w=$2 errors
	if [ ! -f "$w/results/dmesg.txt" ]; then
		fail "$label: dmesg clean" "$w/console.log"
		echo "# no dmesg.txt: the guest did not shut down cleanly"
		kernel_log_errors "$w/console.log" | comment
	elif errors=$(kernel_log_errors "$w/results/dmesg.txt"); then
		fail "$label: dmesg clean" "$w/results/dmesg.txt"
		echo "$errors" | comment
	else
		pass "$label: dmesg clean"
	fi
}

# check_tap LOG NAME CMD...: a test program that speaks TAP, its results counted; its output
# goes to $work/LOG.log.
check_tap() {
	local log=$work/$1.log name=$2 start status
	shift 2
	start=$SECONDS
	"$@" > "$log" 2>&1 < /dev/null
	status=$?
	report_tap "$name" "$log"
	if [ $status -eq 0 ]; then
		pass "$name ran to completion ($(since "$start"))"
	else
		fail "$name ran to completion" "$log"
	fi
}

# boot_guest DIR KVER KO TESTS [RUN_OPTION...]: one boot of the VM for run_guest.
boot_guest() {
	local w=$1 kver=$2 ko=$3 tests=$4
	shift 4
	(cd "$repo" && test/qemu/run.sh -k "$kver" -w "$w/results" -t "$guest_timeout" \
		-a "$guest_kargs" "$@" -- env TOA_KO="$ko" TOA_TEST_OUT="$test_out" \
		${slowdown:+"TOA_SLOWDOWN=$slowdown"} \
		TOA_SRC="$repo" TOA_TESTS="$tests" RESULTS="$w/results" sh test/guest.sh) \
		> "$w/console.log" 2>&1 < /dev/null
}

# run_guest LABEL DIR KVER KO TESTS [RUN_OPTION...]: test/guest.sh runs TESTS in a VM booting
# KVER, with toa.ko KO; the console and results go to DIR, the results are counted under LABEL.
run_guest() {
	local label=$1 w=$2 kver=$3 ko=$4 tests=$5 start status
	shift 5
	mkdir -p "$w/results"
	start=$SECONDS
	boot_guest "$w" "$kver" "$ko" "$tests" "$@"
	status=$?
	# 125: the kernel died before the guest's init ran, so before toa was loaded.
	if [ $status -eq 125 ] && kernel_died_early "$w/console.log"; then
		echo "# $label: the kernel died while booting, before toa was loaded; booting again on one host thread"
		mv "$w/console.log" "$w/console-first-boot.log"
		boot_guest "$w" "$kver" "$ko" "$tests" "$@" -S
		status=$?
	fi
	echo "# $label: guest exited with $status after $(since "$start")"
	report_tap "$label" "$w/console.log"
	case $status in
	124 | 125 | 126) fail "$label: guest ran to completion" "$w/console.log" ;;
	*)
		if [ $status -eq 0 ] || tap_complete "$w/console.log"; then
			pass "$label: guest ran to completion"
		else
			fail "$label: guest ran to completion" "$w/console.log"
		fi
		;;
	esac
	check_dmesg "$label" "$w"
}

# The stress tests take minutes: they run on the first kernel only, and the load loop there in
# a guest of its own under single-threaded TCG (see test/toa_load_loop_test.c).
stress_suite=''

check_suite() {
	local suite=$1 w=$work/$1 kver start status warnings tests reloading dist arch cross_compile
	# For boot_guest. The debug kernel (KASAN, lockdep, kmemleak) under TCG runs the tests
	# several times slower: twice the time for the guest, ten times each test's own, and the
	# tests that churn connections a tenth of them.
	local guest_timeout=$timeout slowdown=''
	if [ "$suite" = debug ]; then
		guest_timeout=$((timeout * 2)) slowdown=10
	fi
	# The programs that load and unload toa, or switch a tracepoint on and off (kernel text
	# patched by static keys: toa_hostile_test), run under single-threaded TCG:
	# with a host thread per vCPU, QEMU can run a stale translation of kernel text patched on
	# the other vCPU and hang the guest (README: Reliability). The others keep both host cores.
	tests="guide_test"
	reloading="toa_hostile_test toa_test toa_trust_test toa_netns_test"
	[ -n "$stress_suite" ] || stress_suite=$suite
	[ "$suite" != "$stress_suite" ] || reloading+=" toa_stress_test"
	rm -rf "$w"
	mkdir -p "$w/results"

	# shellcheck source=test/qemu/arch.sh
	. "$repo/test/qemu/arch.sh"
	test_out=$repo/test/out
	if [ -n "$cross_compile" ]; then
		test_out+=/$arch
		if build_test_programs CC="${cross_compile}gcc" OUT="out/$arch" > "$w/programs.log" 2>&1; then
			pass "$suite: build test programs"
		else
			fail "$suite: build test programs" "$w/programs.log"
		fi
	fi

	start=$SECONDS
	if ! "$repo/test/qemu/kernel.sh" "$suite" > "$w/kernel.out" 2> "$w/kernel.log" ||
		! kver=$(tail -n1 "$w/kernel.out") || [ -z "$kver" ]; then
		fail "$suite: fetch kernel" "$w/kernel.log"
		return
	fi
	pass "$suite: fetch kernel"
	echo "# $suite: kernel $kver ($(since "$start"))"

	start=$SECONDS
	if ! "$repo/test/qemu/build.sh" "$suite" "$repo" "$w/build" > "$w/build.log" 2>&1; then
		fail "$suite: build toa.ko" "$w/build.log"
		echo "# $suite: no toa.ko, no guest tests"
		return
	fi
	pass "$suite: build toa.ko"
	echo "# $suite: built in $(since "$start")"

	"$repo/test/qemu/build.sh" "$suite" "$repo" "$w/build-w1" W=1 > "$w/build-w1.log" 2>&1
	status=$?
	warnings=$(grep -ai 'warning:' "$w/build-w1.log")
	if [ $status -eq 0 ] && [ -z "$warnings" ]; then
		pass "$suite: build W=1 without warnings"
	else
		fail "$suite: build W=1 without warnings" "$w/build-w1.log"
		[ -z "$warnings" ] || echo "$warnings" | comment
	fi

	run_guest "$suite" "$w" "$kver" "$w/build/toa.ko" "$tests"
	run_guest "$suite, single-threaded TCG" "$w/reloading" "$kver" "$w/build/toa.ko" \
		"$reloading" -S
	[ "$suite" != "$stress_suite" ] ||
		run_guest "$suite, load loop, single-threaded TCG" "$w/load-loop" "$kver" \
			"$w/build/toa.ko" toa_load_loop_test -S
}

# prepare_when_idle SUITE...: kernel.sh for each, in the background, on the CPU time the other
# stages leave idle (a single-threaded TCG guest uses one core; the host checks, downloads and
# debootstrap leave one too), so that each stage's own kernel.sh or rootfs.sh only waits, on the
# cache's lock, for what is left. Cold, the debug kernel takes some 16 minutes of CPU time to
# build: it has a lane of its own, as it is needed last; the other suites, in their order, then
# with --install the install test's disk image, share the other (downloads and debootstrap, a
# minute or a few each). SCHED_IDLE: they never take a core from a guest, whose tests would time out.
prepare_when_idle() {
	local suite kver others=()
	for suite; do
		if [ "$suite" = debug ]; then
			prepare_idle "$suite" "$repo/test/qemu/kernel.sh" debug &
		else
			others+=("$suite")
		fi
	done
	{
		for suite in "${others[@]}"; do
			prepare_idle "$suite" "$repo/test/qemu/kernel.sh" "$suite"
		done
		if [ -n "$install" ] &&
			kver=$(chrt --idle 0 "$repo/test/qemu/kernel.sh" bookworm 2> /dev/null | tail -n1); then
			prepare_idle rootfs "$repo/test/install/rootfs.sh" "$kver"
		fi
	} &
}

# prepare_idle NAME CMD...: CMD under SCHED_IDLE, its messages in $work/NAME-prepare.log.
prepare_idle() {
	local name=$1
	shift
	chrt --idle 0 "$@" > /dev/null 2> "$work/$name-prepare.log" < /dev/null
}

# stage_done NAME: one row of the table of stage times that ends the run.
stages='' stage_start=0
stage_done() {
	stages+=$(printf '# %-24s %d' "$1" $((SECONDS - stage_start)))$'\n'
	stage_start=$SECONDS
}

install=''

main() {
	local suite
	if [ "${1:-}" = --install ]; then
		install=y
		shift
	fi
	# A calling make's flags must not reach the builds below.
	unset MAKEFLAGS MFLAGS MAKELEVEL
	mkdir -p "$work"
	echo "TAP version 13"

	[[ " $* " != *-arm64\ * ]] || host_packages+=("${arm64_host_packages[@]}")
	if [ "$(id -u)" -ne 0 ]; then
		fail "host: running as root (needed for QEMU's 9p root, chroots and apt)"
	elif ! "$repo/test/host-packages.sh" "${host_packages[@]}" 2> "$work/host.log"; then
		fail "host: install packages" "$work/host.log"
	else
		pass "host: install packages"
		# The first suite's kernel is needed first: its check_suite fetches it.
		prepare_when_idle "${@:2}"
		if build_test_programs > "$work/programs.log" 2>&1; then
			pass "host: build test programs"
		else
			fail "host: build test programs" "$work/programs.log"
		fi
		check_tap host-parser "host: option parser" make -C "$repo/test/unit" test
		check_tap host-fuzzing "host: fuzzing" make -C "$repo/test/unit" fuzz-ci
		check_tap host-installers "host: installers" "$repo/test/test_install.sh"
		check_tap host-dist "host: make dist" "$repo/test/test_dist.sh"
		# W=1 is left to check_suite, which builds every suite with it.
		check_tap lint "host: lint" "$repo/test/lint.sh" --no-w1
		grep -a '^# ' "$work/lint.log"	# the findings, FILE:LINE: message
		if "$repo/test/noipv6.sh" "$work/noipv6" > "$work/noipv6.log" 2>&1; then
			pass "host: toa.ko for a kernel without IPv6"
		else
			fail "host: toa.ko for a kernel without IPv6" "$work/noipv6.log"
		fi
		stage_done host
		for suite in "${@:-bookworm}"; do
			check_suite "$suite"
			stage_done "$suite"
		done
		if [ -n "$install" ]; then
			check_tap install "install: booted bookworm" "$repo/test/install/run.sh"
			stage_done install
		fi
	fi

	wait	# for prepare_when_idle, if a stage was not reached
	# How long each stage took, for the CI budget (README: Testing).
	echo "# stage                    seconds"
	printf '%s' "$stages"
	echo "# total                    $SECONDS"
	tap_end
}

main "$@"
