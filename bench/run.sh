#!/bin/bash
# usage: bench/run.sh [--quick]     (make bench, make bench-quick; as root)
# Builds toa.ko for bookworm's kernel and the bench programs. Boots the kernel under QEMU counting
# instructions (one vCPU, -icount) for bench/count.sh, then bench/count-report.sh writes
# bench/out/count.txt and count.png. Without --quick, boots it again on 2 vCPUs for bench/guest.sh
# (wall clock and memory); bench/report.sh writes bench/out/results.txt, results.csv and
# results.png. The plots are copied to bench/ for BENCHMARKS.md. About 35 minutes on 2 cores; 6
# with --quick.
# env: ROUNDS (9), RATE_SECONDS (3), CALLS (getpeername() calls per sample, 500000),
#      BENCH_OPEN (connections held open, 10000,100000,500000), COUNT_ROUNDS (2; --quick 1),
#      COUNT_CONNS (5000; 1000), COUNT_CALLS (100000; 20000), COUNT_SYNS (10000; 2000),
#      COUNT_OPEN (TOA connections held open while counting, 100000,500000; --quick none),
#      TOA_VM_LOCK (/tmp/toa-vm.lock)
set -euo pipefail

repo=$(realpath "$(dirname "$0")/..")
out=$repo/bench/out
work=${TOA_WORK:-/tmp/toa-bench}
lock=${TOA_VM_LOCK:-/tmp/toa-vm.lock}
rounds=${ROUNDS:-9} rate_seconds=${RATE_SECONDS:-3} calls=${CALLS:-500000}
bench_open=${BENCH_OPEN:-10000,100000,500000}
quick=false
case ${1:-} in
--quick) quick=true ;;
'') ;;
*) sed -n '2s/^# //p' "$0" >&2; exit 2 ;;
esac
if $quick; then
	count_env=(COUNT_ROUNDS="${COUNT_ROUNDS:-1}" COUNT_CONNS="${COUNT_CONNS:-1000}"
		COUNT_CALLS="${COUNT_CALLS:-20000}" COUNT_SYNS="${COUNT_SYNS:-2000}" COUNT_OPEN="${COUNT_OPEN:-}")
else
	count_env=(COUNT_ROUNDS="${COUNT_ROUNDS:-2}" COUNT_CONNS="${COUNT_CONNS:-5000}"
		COUNT_CALLS="${COUNT_CALLS:-100000}" COUNT_SYNS="${COUNT_SYNS:-10000}"
		COUNT_OPEN="${COUNT_OPEN-100000,500000}")
fi
# Enough for 500000 connections (both ends: about 7.6 kB a pair) and the rest.
mem=8192

host_packages=(qemu-system-x86 gcc clang bpftool gnuplot-nox util-linux bc make iproute2)

# CPU time the host's processes spent (user, nice, system) and its hypervisor took (steal), in
# clock ticks.
cpu_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4, $9; exit }' /proc/stat
}

# Sets children_cpu to the user and system seconds of this script's children that ended (QEMU,
# once it has). times runs in this shell: in a subshell it would know no children.
children_seconds() {
	times > "$work/times"
	children_cpu=$(awk 'NR == 2 { gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }' "$work/times")
}

# shellcheck source=test/kernel-log.sh
. "$repo/test/kernel-log.sh"

# A run whose guest kernel complained is no result.
kernel_quiet() {
	if kernel_log_errors "$1"; then
		echo "bench: the guest's kernel complained: see $1" >&2
		exit 1
	fi
}

step() {
	echo "bench: $(date +%T) $*"
}

main() {
	local kver start host_busy host_steal busy steal qemu_cpu children_cpu
	# A calling make's flags must not reach the builds below.
	unset MAKEFLAGS MFLAGS MAKELEVEL
	[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (QEMU's 9p root, insmod in the guest)" >&2; exit 1; }
	"$repo/test/host-packages.sh" "${host_packages[@]}"
	mkdir -p "$work" "$out"
	rm -rf "$out/raw"
	mkdir -p "$out/raw"

	step "kernel"
	kver=$("$repo/test/qemu/kernel.sh" bookworm 2> "$work/kernel.log" | tail -n1)
	step "toa.ko for $kver (log: $work/build.log)"
	"$repo/test/qemu/build.sh" bookworm "$repo" "$work/build" > "$work/build.log" 2>&1
	step "bench programs"
	make -s -C "$repo/test" out/toa_client.bpf.o
	gcc -O2 -Wall -I"$repo/test" -o "$out/toa_bench" "$repo/bench/toa_bench.c"

	{
		echo "toa $(git -C "$repo" describe --always --dirty 2>/dev/null || echo '(no git)'), $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "host: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)," \
			"$(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM"
		echo "command: make bench (ROUNDS=$rounds RATE_SECONDS=$rate_seconds CALLS=$calls BENCH_OPEN=$bench_open)"
	} > "$out/raw/host.txt"

	# One VM at a time on this machine: others' runs take the same lock.
	step "waiting for $lock"
	exec 9>> "$lock"
	flock 9
	step "counting instructions (console: $work/count-console.log)"
	start=$SECONDS
	rm -rf "$out/count"
	mkdir -p "$out/count"
	(cd "$repo" && test/qemu/run.sh -k "$kver" -s 1 -m "$mem" -i -t 3600 -a slab_nomerge -w "$out/count" \
		-- env TOA_KO="$work/build/toa.ko" TOA_BPF="$repo/test/out" TOA_BENCH="$out/toa_bench" \
		RESULTS="$out/count" "${count_env[@]}" sh bench/count.sh) > "$work/count-console.log" 2>&1 ||
		{ echo "bench: the counting guest failed: see $work/count-console.log" >&2; exit 1; }
	step "counting guest done in $((SECONDS - start))s"
	kernel_quiet "$out/count/dmesg.txt"
	"$repo/bench/count-report.sh" "$out/count" "$out"
	cp "$out/count.png" "$repo/bench/count.png"
	if $quick; then
		cat "$out/count.txt"
		return
	fi

	step "the timing guest (console: $work/console.log)"
	start=$SECONDS
	read -r host_busy host_steal < <(cpu_ticks)
	children_seconds
	qemu_cpu=$children_cpu
	# Higher priority than the host's other work, which would otherwise take turns with the
	# vCPUs and make the guest's clock run on while they wait.
	(cd "$repo" && nice -n -10 test/qemu/run.sh -k "$kver" -s 2 -m "$mem" -t 1800 -a slab_nomerge \
		-w "$out/raw" -- env TOA_KO="$work/build/toa.ko" TOA_BPF="$repo/test/out" \
		TOA_BENCH="$out/toa_bench" RESULTS="$out/raw" ROUNDS="$rounds" RATE_SECONDS="$rate_seconds" \
		CALLS="$calls" BENCH_OPEN="$bench_open" sh bench/guest.sh) > "$work/console.log" 2>&1 ||
		{ echo "bench: the guest failed: see $work/console.log" >&2; exit 1; }
	read -r busy steal < <(cpu_ticks)
	children_seconds
	exec 9>&-
	step "guest done in $((SECONDS - start))s"
	# Disclosed with the results: how much else ran beside the guest, here or under this host.
	awk -v busy=$((busy - host_busy)) -v steal=$((steal - host_steal)) -v hz="$(getconf CLK_TCK)" \
		-v qemu="$qemu_cpu" -v now="$children_cpu" -v s=$((SECONDS - start)) -v cpus="$(nproc)" '
		BEGIN {
			other = (busy / hz - (now - qemu)) * 100 / (s * cpus)
			printf "guest run: %d s; meanwhile other host processes took %.0f %% of the CPU time, " \
				"the hypervisor under the host %.0f %%\n", s, (other > 0 ? other : 0),
				steal / hz * 100 / (s * cpus)
		}' >> "$out/raw/host.txt"
	kernel_quiet "$out/raw/dmesg.txt"

	"$repo/bench/report.sh" "$out/raw" "$out"
	cp "$out/results.png" "$repo/bench/results.png"
	cat "$out/count.txt" "$out/results.txt"
}

main "$@"
