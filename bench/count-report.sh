#!/bin/bash
# usage: bench/count-report.sh COUNTDIR OUTDIR
# Sums up what bench/count.sh counted (COUNTDIR/count.csv: op,wire,setup,round,instructions) into
# OUTDIR/count.txt (instructions per operation, no module and toa, what toa adds in each round, and
# the targets of BENCHMARKS.md) and OUTDIR/count.png (gnuplot: what toa adds, per operation).
set -euo pipefail

[ $# -eq 2 ] || { sed -n '2s/^# //p' "$0" >&2; exit 2; }
csv=$1/count.csv out=$2
mkdir -p "$out"

# Rows: label, op, wire, setup, target (%, or - for none).
rows() {
	cat <<-EOF
	accepted connection, TOA|conn|toa|toa|1
	accepted connection, no TOA|conn|none|toa|0.5
	getpeername(), TOA socket|getpeer|toa|toa|3
	getpeername(), no TOA|getpeer|none|toa|5
	getpeername(), no TOA, TOA conns. open|getpeer-busy|none|toa|5
	getsockname()|getsock|toa|toa|-
	getpeername(), TOA, initial netns|getpeer-init|toa|toa|3
	SYN flood, per SYN|syn|none|toa|-
	connection, TOA, 1 trusted prefix|conn|toa|trust1|1
	connection, TOA, 100 trusted prefixes|conn|toa|trust100|1
	connection, TOA, 4096 trusted prefixes|conn|toa|trust4096|1
	EOF
}

# table: one line a row; the plot's data in $out/count.dat.
table() {
	rows | awk -F'|' -v csv="$csv" -v dat="$out/count.dat" '
		BEGIN {
			FS = ","
			while ((getline line < csv) > 0) {
				split(line, f, ",")
				v[f[1] "|" f[2] "|" f[3] "|" f[4]] = f[5]
				if (f[4] > rounds)
					rounds = f[4]
			}
			FS = "|"
			printf "%-40s %12s %12s  %-9s %-22s %s\n", "operation", "no module", "toa",
				"toa adds", "each round", "target"
		}
		{
			adds = ""
			for (r = 1; r <= rounds; r++) {
				base = v[$2 "|" $3 "|nomod|" r]
				with = v[$2 "|" $3 "|" $4 "|" r]
				if (base == "" || with == "")
					continue
				pct[r] = (with / base - 1) * 100
				adds = adds sprintf("%+.2f%% ", pct[r])
				sb += base; sw += with
			}
			if (adds == "") {
				printf "%-40s (not measured)\n", $1
				next
			}
			n = split(adds, a, " ")
			all = (sw / sb - 1) * 100
			printf "%-40s %12.0f %12.0f  %+7.2f%%  %-22s %s\n", $1, sb / n, sw / n, all, adds,
				($5 == "-" ? "-" : sprintf("+%s%%%s", $5, (sprintf("%.2f", all) + 0 <= $5 + 0 ? "" : " MISSED")))
			printf "%d \"%s\" %.3f\n", NR - 1, $1, all > dat
			sb = sw = 0
		}'
}

# What counting in a namespace's own counters costs: toa's extra instructions for a getpeername()
# in toa-srv, less the same in the initial namespace, whose counters are the host's only.
netns_cost() {
	awk -F, '$1 ~ /^getpeer(-init)?$/ && $2 == "toa" { s[$1 "|" $3] += $5; n[$1 "|" $3]++ }
		END {
			if (!n["getpeer|toa"] || !n["getpeer-init|toa"])
				exit
			d = s["getpeer|toa"] / n["getpeer|toa"] - s["getpeer|nomod"] / n["getpeer|nomod"]
			i = s["getpeer-init|toa"] / n["getpeer-init|toa"] - \
				s["getpeer-init|nomod"] / n["getpeer-init|nomod"]
			printf "per-netns counting: toa adds %.0f instructions to a getpeername() in toa-srv, %.0f in the initial namespace: %.0f for the namespace'"'"'s own counters\n", d, i, d - i
		}' "$csv"
}

# With toa loaded, TOA connections held open (setups open0, openN...): instructions per operation
# at each level, and the change from none open.
flat() {
	awk -F, '$3 ~ /^open[0-9]+$/ {
			n = substr($3, 5) + 0
			key = $1 "|" $2
			if (!(key in seen)) { seen[key] = 1; ops[++nops] = key }
			if (!(n in have)) { have[n] = 1; levels[++nlev] = n }
			v[key "|" n] = $5
		}
		END {
			if (!nlev)
				exit
			for (i = 1; i < nlev; i++)	# few levels: sort in place
				for (j = i + 1; j <= nlev; j++)
					if (levels[j] < levels[i]) { t = levels[i]; levels[i] = levels[j]; levels[j] = t }
			print ""
			print "toa, with TOA connections held open (instructions per operation; change from none open)"
			printf "%-26s", "operation, wire"
			for (i = 1; i <= nlev; i++)
				printf " %16s", levels[i] " open"
			print ""
			for (k = 1; k <= nops; k++) {
				split(ops[k], o, "|")
				printf "%-26s", o[1] ", " o[2]
				base = v[ops[k] "|" levels[1]]
				for (i = 1; i <= nlev; i++) {
					x = v[ops[k] "|" levels[i]]
					if (i == 1)
						printf " %16.0f", x
					else
						printf " %8.0f %+6.2f%%", x, (x / base - 1) * 100
				}
				print ""
			}
		}' "$csv"
}

plot() {
	gnuplot <<-EOF
	set terminal pngcairo size 900,600 font ",10"
	set bmargin 12
	set offsets 0.5, 0.5, 0, 0
	set output "$out/count.png"
	set title "What toa adds, in guest instructions per operation (QEMU -icount)"
	set ylabel "% over no module"
	set style fill solid 0.6
	set boxwidth 0.6
	set xtics rotate by -30 left
	set grid ytics
	set yrange [*:*]
	plot "$out/count.dat" using 1:3:xtic(2) with boxes notitle, \
		"" using 1:3:(sprintf("%+.2f", \$3)) with labels offset 0,0.8 notitle
	EOF
}

{
	echo "Instructions per operation (QEMU -icount shift=0: the guest's, kernel and user, one vCPU)"
	table
	netns_cost
	flat
} > "$out/count.txt"
plot
cat "$out/count.txt"
