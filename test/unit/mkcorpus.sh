#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Writes the fuzzer's seed corpus, test/unit/corpus/. Each file is a flag
# byte (toa_parse_fuzz.c: 1 SYN, 2 kind 254, 4 kind 253, 8 kind 200, 0x10
# every kind) and then a TCP option area.
set -e
dir=$(dirname "$0")/corpus
mkdir -p "$dir"

# seed NAME HEX...: writes the bytes, given in hex (an argument may hold
# several, space-separated), to corpus/NAME.
seed() {
	name=$1
	shift
	printf '%s\n' "$@" | tr -s '[:blank:]' '\n' | while read -r b; do
		[ -z "$b" ] || printf '%b' "\\0$(printf %o "0x$b")"
	done >"$dir/$name"
}

V4='fe 08 1f 90 c0 00 02 01'				# 192.0.2.1:8080
V6='fd 14 1f 90 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01'
MCAST6='fd 14 1f 90 ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01'
SYN_OPTS='02 04 05 b4 04 02 08 0a 01 02 03 04 00 00 00 00 01 03 03 07'
NOPS12='01 01 01 01 01 01 01 01 01 01 01 01'

seed empty		06
seed v4			06 "$V4"
seed v6			06 "$V6"
seed tfo-syn		07 fe 08 f9 89 01 02 03 04
seed tfo-then-v4-syn	07 fe 08 f9 89 01 02 03 04 "$V4"
seed full-v4-syn	07 "$SYN_OPTS" "$NOPS12" "$V4"
seed full-v6-syn	07 "$SYN_OPTS" "$V6"
seed past-end		06 fe 14 1f 90 c0 00 02 01
seed truncated		06 01 01 fe
seed zero-length	06 fe 00 "$V4"
seed eol-then-v4	06 00 "$V4"
seed unusable-then-v4	06 fe 08 00 00 c0 00 02 01 "$MCAST6" "$V4"
seed kind200		08 c8 08 1f 90 c6 33 64 07
seed every-kind		11 01 00 fe 08 1f 90 c0 00 02 01
seed loopback-then-v4	06 fe 08 1f 90 7f 00 00 01 "$V4"
seed mapped-loopback6	06 fd 14 1f 90 00 00 00 00 00 00 00 00 00 00 ff ff 7f 00 00 01
seed link-local6	06 fd 14 1f 90 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01
