#!/bin/sh
# Runs inside the guest (bench/run.sh), as root on a throwaway root: what toa costs, in one boot.
#   1. connection rate and 2. getpeername()/getsockname() cost, in interleaved rounds, for four
#      setups: no module or toa loaded, times TOA on the wire or not;
#   3. kernel memory with 0, N1, N2, ... connections held open, without and with TOA, and 1 and 2
#      again (shorter) with the most connections open.
# Appends "metric,setup,open,round,value" rows to $RESULTS/raw.csv; bench/report.sh sums them up.
# env: TOA_KO (toa.ko for this kernel), TOA_BPF (dir of toa_client.bpf.o), TOA_BENCH (toa_bench),
#      RESULTS (a directory shared with the host), ROUNDS, RATE_SECONDS, CALLS, BENCH_OPEN (N1,N2,...)
# toa_bench hold runs "sh bench/guest.sh level SETUP" at each step, with OPEN set.
set -eu

bench=${TOA_BENCH:?}
raw=${RESULTS:?}/raw.csv
levels=${BENCH_OPEN:?}
max=${levels##*,}
# At the most connections open: rounds, seconds and calls of the shorter runs.
busy_rounds=4 busy_seconds=2 busy_calls=300000

log() {
	echo "# $(cut -d' ' -f1 /proc/uptime)s: $*"
}

csv() {	# csv METRIC SETUP OPEN ROUND VALUE
	echo "$1,$2,$3,$4,$5" >> "$raw"
}

loaded() {
	grep -q '^toa ' /proc/modules
}

# The four setups: nomod_* or toa_* (module), *_toa or *_none (wire).
setup() {
	case $1 in
	nomod_*) if loaded; then rmmod toa; fi ;;
	toa_*) loaded || insmod "$TOA_KO" ;;
	esac
	case $1 in
	*_toa) "$bench" wire toa ;;
	*) "$bench" wire none ;;
	esac
}

# measure SETUP OPEN ROUND SECONDS CALLS: one connection rate and one getname sample; round 0
# warms up (TCG translates the paths on first use) and is not recorded.
measure() {
	setup "$1"
	peer=client
	[ "$1" != toa_toa ] || peer=toa
	rate=$("$bench" rate "$4" "$peer")
	names=$("$bench" getname "$5" "$peer")
	[ "$3" != 0 ] || return 0
	csv rate "$1" "$2" "$3" "$rate"
	csv getpeername "$1" "$2" "$3" "${names% *}"
	csv getsockname "$1" "$2" "$3" "${names#* }"
	log "$1, $2 open, round $3: $rate conn/s, getpeername ${names% *} ns, getsockname ${names#* } ns"
}

# Rounds alternate the order of the setups, so that a drift hits them all alike, and load or
# unload the module once each.
rounds() {	# rounds OPEN COUNT SECONDS CALLS SETUP...
	r_open=$1 r_count=$2 r_seconds=$3 r_calls=$4
	shift 4
	round=1
	while [ "$round" -le "$r_count" ]; do
		if [ $((round % 2)) = 1 ]; then order=$*; else order=$(echo "$*" | tr ' ' '\n' | tac); fi
		for s in $order; do
			measure "$s" "$r_open" "$round" "$r_seconds" "$r_calls"
		done
		round=$((round + 1))
	done
}

meminfo_kb() {
	awk -v key="$1:" '$1 == key { print $2 }' /proc/meminfo
}

# slab CACHE FIELD: active objects (2), object size (4) or bytes of its slabs (0) of a cache.
slab() {
	awk -v cache="$1" -v f="$2" '$1 == cache { v = f ? $f : $15 * $6 * 4096 } END { print v + 0 }' \
		/proc/slabinfo
}

# level SETUP: $OPEN connections held open by toa_bench hold, in setup toa_none or toa_toa.
level() {
	held=${OPEN:?}
	# What is left of earlier connections goes first: RCU callbacks, then caches.
	sleep 2
	echo 3 > /proc/sys/vm/drop_caches
	csv slab_kb "$1" "$held" 1 "$(meminfo_kb Slab)"
	csv used_kb "$1" "$held" 1 $(($(meminfo_kb MemTotal) - $(meminfo_kb MemFree)))
	csv tcp_objs "$1" "$held" 1 "$(slab TCP 2)"
	csv toa_objs "$1" "$held" 1 "$(slab toa_sock4 2)"
	csv toa_objsize "$1" "$held" 1 "$(slab toa_sock4 4)"
	csv toa_slab_bytes "$1" "$held" 1 "$(slab toa_sock4 0)"
	log "$held connections open ($1): Slab $(meminfo_kb Slab) kB, $(slab toa_sock4 2) toa_sock"
	# The table holds $max records: do toa's setups pay for it? (rmmod then drops them all.)
	if [ "$1" = toa_toa ] && [ "$held" = "$max" ]; then
		rounds "$held" "$busy_rounds" "$busy_seconds" "$busy_calls" toa_toa toa_none
		rounds "$held" "$busy_rounds" "$busy_seconds" "$busy_calls" nomod_none nomod_toa
	fi
}

# hold SETUP: toa loaded, 0, N1, N2, ... connections open, with or without TOA (toa_toa, toa_none).
hold() {
	setup "$1"
	peer=client
	[ "$1" != toa_toa ] || peer=toa
	# shellcheck disable=SC2046 # one argument per address
	"$bench" hold "0,$levels" "$peer" "sh $0 level $1" $(hold_addrs "$max")
}

main() {
	# shellcheck source=test/netns.sh
	. "$(dirname "$0")/../test/netns.sh"
	setup_netns
	attach_client "$TOA_BPF"
	hold_setup "$max"
	echo "$(uname -r) $(nproc) $(meminfo_kb MemTotal)" > "$RESULTS/guest.txt"
	: > "$raw"

	log "warming up"
	for s in nomod_toa nomod_none toa_toa toa_none; do
		measure "$s" 0 0 1 100000
	done
	log "${ROUNDS:?} rounds of four setups"
	rounds 0 "$ROUNDS" "${RATE_SECONDS:?}" "${CALLS:?}" nomod_toa nomod_none toa_toa toa_none
	log "memory: $levels connections open"
	hold toa_none
	hold toa_toa
	log finished
}

# shellcheck source=bench/hold.sh
. "$(dirname "$0")/hold.sh"
if [ "${1:-}" = level ]; then
	level "$2"
else
	main
fi
