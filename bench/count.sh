#!/bin/sh
# Runs inside the guest (bench/run.sh), under QEMU's -icount shift=0 on one vCPU, where the guest's
# clock advances one nanosecond per instruction: what toa adds, in instructions per operation, for
# each setup: no module, toa, and toa with 1, 100 and 4096 trusted prefixes; then, if COUNT_OPEN
# is set, the same for a connection and a getpeername() with toa while 0, N1, N2, ... TOA
# connections are held open (setups open0, openN1, ...).
# Appends "op,wire,setup,round,instructions" rows to $RESULTS/count.csv (bench/count-report.sh).
# env: TOA_KO, TOA_BPF, TOA_BENCH (as bench/guest.sh), RESULTS, COUNT_ROUNDS, COUNT_CONNS,
#      COUNT_CALLS, COUNT_SYNS (operations per sample), COUNT_OPEN (N1,N2,..., or empty)
# toa_bench hold runs "sh bench/count.sh level" at each step, with OPEN set.
set -eu

bench=${TOA_BENCH:?}
csv=${RESULTS:?}/count.csv

log() {
	echo "# $(cut -d' ' -f1 /proc/uptime)s: $*"
}

# trusted_list N: N prefixes that do not merge, the client's address (the proxy's) among them.
trusted_list() {
	i=1
	printf '%s' 10.88.0.1
	while [ "$i" -lt "$1" ]; do
		printf ',172.16.%d.%d' $((i / 128)) $((i % 128 * 2))
		i=$((i + 1))
	done
}

# load SETUP: nomod, toa or trustN.
load() {
	if grep -q '^toa ' /proc/modules; then rmmod toa; fi
	case $1 in
	toa) insmod "$TOA_KO" ;;
	trust*) insmod "$TOA_KO" "trusted=$(trusted_list "${1#trust}")" ;;
	esac
}

# sample OP WIRE SETUP ROUND N PEER
sample() {
	"$bench" wire "$2"
	v=$("$bench" count "$1" "$5" "$6")
	echo "$1,$2,$3,$4,$v" >> "$csv"
	log "$3, $1, wire $2, round $4: $v"
}

# The peer the server must see: toa's claim with toa and TOA on the wire, the client's otherwise.
peer() {	# peer SETUP WIRE [LOOPBACK]
	if [ "$1" != nomod ] && [ "$2" = toa ]; then echo toa; else echo "${3:-client}"; fi
}

# One round: each setup in turn, the order reversed every other round.
round() {
	setups="nomod toa trust1 trust100 trust4096"
	[ $(($1 % 2)) = 1 ] || setups="trust4096 trust100 trust1 toa nomod"
	for s in $setups; do
		load "$s"
		for w in toa none; do
			sample conn "$w" "$s" "$1" "$COUNT_CONNS" "$(peer "$s" "$w")"
			case $s in trust*) continue ;; esac
			sample getpeer "$w" "$s" "$1" "$COUNT_CALLS" "$(peer "$s" "$w")"
		done
		case $s in trust*) continue ;; esac
		sample getpeer-busy none "$s" "$1" "$COUNT_CALLS" client
		sample getsock toa "$s" "$1" "$COUNT_CALLS" "$(peer "$s" toa)"
		sample getpeer-init toa "$s" "$1" "$COUNT_CALLS" "$(peer "$s" toa loopback)"
		sample syn none "$s" "$1" "$COUNT_SYNS" client
	done
}

# flat: toa's table grows with the connections held open; what an operation costs must not.
flat() {
	max=${COUNT_OPEN##*,}
	log "toa, with 0,$COUNT_OPEN TOA connections open"
	hold_setup "$max"
	load toa
	"$bench" wire toa
	# shellcheck disable=SC2046 # one argument per address
	"$bench" hold "0,$COUNT_OPEN" toa "sh $0 level" $(hold_addrs "$max")
}

# level: run by toa_bench hold with $OPEN connections open.
level() {
	for w in toa none; do
		sample conn "$w" "open$OPEN" 1 "$COUNT_CONNS" "$(peer toa "$w")"
		sample getpeer "$w" "open$OPEN" 1 "$COUNT_CALLS" "$(peer toa "$w")"
	done
	"$bench" wire toa	# what the next connections held carry
}

main() {
	# shellcheck source=test/netns.sh
	. "$(dirname "$0")/../test/netns.sh"
	setup_netns
	attach_client "$TOA_BPF"
	# The initial namespace by a name, for toa_bench's loopback connection.
	ip netns attach toa-init 1
	: > "$csv"
	log "warming up"
	load toa
	"$bench" wire toa
	"$bench" count conn 200 toa > /dev/null
	r=1
	while [ "$r" -le "${COUNT_ROUNDS:?}" ]; do
		round "$r"
		r=$((r + 1))
	done
	[ -z "${COUNT_OPEN:-}" ] || flat
	load nomod
	log finished
}

# shellcheck source=bench/hold.sh
. "$(dirname "$0")/hold.sh"
if [ "${1:-}" = level ]; then
	level
else
	main
fi
