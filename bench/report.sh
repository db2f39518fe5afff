#!/bin/bash
# usage: bench/report.sh RAWDIR OUTDIR
# Sums up what bench/guest.sh measured (RAWDIR/raw.csv, guest.txt, and host.txt from bench/run.sh)
# into OUTDIR/results.csv (one row per metric, setup and connections open: n, median, min, max,
# quartiles; METRIC_ratio rows: toa over no module, same wire, round by round; memory per
# connection), OUTDIR/results.txt (tables) and OUTDIR/results.png (gnuplot: connection rate and
# getpeername() cost per setup, min-max whiskers).
set -euo pipefail

[ $# -eq 2 ] || { sed -n '2s/^# //p' "$0" >&2; exit 2; }
raw=$1 out=$2
mkdir -p "$out"
csv=$out/results.csv

label() {
	case $1 in
	nomod_toa) echo "no module, TOA on the wire" ;;
	nomod_none) echo "no module, no TOA" ;;
	toa_toa) echo "toa, TOA on the wire" ;;
	toa_none) echo "toa, no TOA" ;;
	esac
}

# Each round's toa sample over the no module sample of the same round, wire and connections open:
# METRIC_ratio rows. Pairs measured seconds apart cancel the slow drifts of an emulated machine.
paired() {
	awk -F, -v OFS=, '$1 ~ /^(rate|getpeername|getsockname)$/ { v[$1 OFS $2 OFS $3 OFS $4] = $5 }
		END {
			for (k in v) {
				split(k, f, ",")
				base = f[1] OFS (f[2] ~ /_toa$/ ? "nomod_toa" : "nomod_none") OFS f[3] OFS f[4]
				if (f[2] ~ /^toa_/ && v[base])
					print f[1] "_ratio", f[2], f[3], f[4], v[k] / v[base]
			}
		}' "$raw/raw.csv"
}

# Median, min, max and quartiles (linear interpolation) of each metric, setup and open.
summary() {
	echo "metric,setup,open,n,median,min,max,q1,q3"
	{ cat "$raw/raw.csv"; paired; } | sort -t, -k1,1 -k2,2 -k3,3n -k5,5g | awk -F, -v OFS=, '
		function q(p,   x, i) {
			x = (n - 1) * p
			i = int(x)
			return i + 1 < n ? v[i] + (x - i) * (v[i + 1] - v[i]) : v[i]
		}
		function flush() {
			if (n)
				print key, n, q(0.5), v[0], v[n - 1], q(0.25), q(0.75)
			n = 0
		}
		$1 OFS $2 OFS $3 != key { flush(); key = $1 OFS $2 OFS $3 }
		{ v[n++] = $5 }
		END { flush() }'
}

# The value of METRIC for SETUP with OPEN connections open, from results.csv.
value() {
	awk -F, -v m="$1" -v s="$2" -v o="$3" '$1 == m && $2 == s && $3 == o { print $5 }' "$csv"
}

opens() {
	awk -F, -v m="$1" 'NR > 1 && $1 == m { print $3 }' "$csv" | sort -nu
}

speed_table() {	# speed_table METRIC TITLE
	local open setup
	echo "$2"
	printf '%-28s %7s %9s %9s %9s %9s %9s  %s\n' setup open median min max q1 q3 \
		"paired ratio to no module: median (min-max)"
	for open in $(opens "$1"); do
		for setup in nomod_toa nomod_none toa_toa toa_none; do
			awk -F, -v m="$1" -v s="$setup" -v o="$open" -v l="$(label "$setup")" '
				$2 == s && $3 == o && $1 == m { row = sprintf("%-28s %7d %9.1f %9.1f %9.1f %9.1f %9.1f", l, o, $5, $6, $7, $8, $9) }
				$2 == s && $3 == o && $1 == m "_ratio" { ratio = sprintf("  %.3f (%.3f-%.3f)", $5, $6, $7) }
				END { if (row) print row ratio }' "$csv"
		done
	done
	echo
}

# Buckets of toa's rhashtable holding N records: it doubles from 64 past 75 % full.
buckets() {
	local b=64
	while [ $(($1 * 4)) -gt $((b * 3)) ]; do
		b=$((b * 2))
	done
	echo "$b"
}

# derived METRIC SETUP OPEN VALUE: a row of results.csv computed from others.
derived() {
	printf '%s,%s,%s,1,%.1f,%.1f,%.1f,%.1f,%.1f\n' "$1" "$2" "$3" "$4" "$4" "$4" "$4" "$4" >> "$csv"
}

# Per connection: Slab and used memory (MemTotal - MemFree) over what the guest used with none
# open, toa's records and its table's buckets; and toa's share: TOA on the wire less without.
memory_table() {
	local open setup slab used objs bytes b
	local -A per
	echo "Kernel memory per connection held open (bytes; both ends of each connection are in the guest)"
	printf '%-22s %8s %10s %10s %10s %14s %14s\n' setup open Slab/conn used/conn toa_sock \
		"toa slabs/conn" "buckets/conn"
	for open in $(opens slab_kb); do
		[ "$open" -gt 0 ] || continue
		for setup in toa_none toa_toa; do
			slab=$(value slab_kb "$setup" "$open") used=$(value used_kb "$setup" "$open")
			objs=$(value toa_objs "$setup" "$open") bytes=$(value toa_slab_bytes "$setup" "$open")
			# Without records the table stays at its smallest.
			b=0
			[ "$setup" = toa_none ] || b=$(buckets "$open")
			per[slab_$setup]=$(echo "($slab - $(value slab_kb "$setup" 0)) * 1024 / $open" | bc -l)
			per[used_$setup]=$(echo "($used - $(value used_kb "$setup" 0)) * 1024 / $open" | bc -l)
			per[toa_sock_$setup]=$(echo "$bytes / $open" | bc -l)
			per[buckets_$setup]=$(echo "$b * 8 / $open" | bc -l)
			printf '%-22s %8d %10.0f %10.0f %10d %14.1f %14.1f\n' "$(label "$setup")" "$open" \
				"${per[slab_$setup]}" "${per[used_$setup]}" "$objs" "${per[toa_sock_$setup]}" \
				"${per[buckets_$setup]}"
			derived slab_bytes_per_conn "$setup" "$open" "${per[slab_$setup]}"
			derived used_bytes_per_conn "$setup" "$open" "${per[used_$setup]}"
			derived toa_sock_bytes_per_conn "$setup" "$open" "${per[toa_sock_$setup]}"
			derived bucket_bytes_per_conn "$setup" "$open" "${per[buckets_$setup]}"
		done
		per[slab_toa]=$(echo "${per[slab_toa_toa]} - ${per[slab_toa_none]}" | bc -l)
		per[used_toa]=$(echo "${per[used_toa_toa]} - ${per[used_toa_none]}" | bc -l)
		per[own_toa]=$(echo "${per[toa_sock_toa_toa]} + ${per[buckets_toa_toa]}" | bc -l)
		printf '  toa per TOA connection: %.1f B by Slab, %.1f B by used memory, %.1f B counted (toa_sock slabs + buckets)\n' \
			"${per[slab_toa]}" "${per[used_toa]}" "${per[own_toa]}"
		derived toa_slab_bytes_per_conn toa_toa "$open" "${per[slab_toa]}"
		derived toa_used_bytes_per_conn toa_toa "$open" "${per[used_toa]}"
		derived toa_counted_bytes_per_conn toa_toa "$open" "${per[own_toa]}"
	done
	echo "toa_sock object size: $(value toa_objsize toa_toa "$(opens toa_objsize | tail -n1)") B"
	echo
}

# gnuplot data: x, label, then median, min and max of the rate and of getpeername().
plot_data() {	# plot_data OPEN
	local x=0 setup
	for setup in nomod_toa nomod_none toa_toa toa_none; do
		x=$((x + 1))
		[ -n "$(value rate "$setup" "$1")" ] || continue
		echo "$x \"$(label "$setup" | sed 's/, /\\n/')\"" \
			"$(awk -F, -v s="$setup" -v o="$1" '
				$2 == s && $3 == o && $1 == "rate" { r = $5 " " $6 " " $7 }
				$2 == s && $3 == o && $1 == "getpeername" { g = $5 " " $6 " " $7 }
				END { print r, g }' "$csv")"
	done
}

plot() {
	local busy
	busy=$(opens rate | tail -n1)
	plot_data 0 > "$out/plot-idle.dat"
	plot_data "$busy" > "$out/plot-busy.dat"
	gnuplot <<-EOF
		set terminal pngcairo size 1200,520 font ",10"
		set output "$out/results.png"
		set multiplot layout 1,2 title "toa on Linux $(cut -d' ' -f1 "$raw/guest.txt"), QEMU TCG guest, 2 vCPUs: median of each setup, whiskers min to max"
		set style fill solid 0.5 border -1
		set boxwidth 0.38
		set xrange [0.4:4.6]
		set yrange [0:*]
		set offsets 0, 0, graph 0.05, 0
		set bmargin 5
		set key below
		set grid ytics
		set title "connection rate (connections/s, higher is better)"
		plot "$out/plot-idle.dat" using (\$1-0.2):3:xtic(2) with boxes lc rgb "#4477aa" title "no other connection open", \
			"" using (\$1-0.2):3:4:5 with yerrorbars lc rgb "black" pt 0 notitle, \
			"$out/plot-busy.dat" using (\$1+0.2):3 with boxes lc rgb "#ee7733" title "$busy connections open", \
			"" using (\$1+0.2):3:4:5 with yerrorbars lc rgb "black" pt 0 notitle
		set title "getpeername() (ns/call, lower is better)"
		plot "$out/plot-idle.dat" using (\$1-0.2):6:xtic(2) with boxes lc rgb "#4477aa" title "no other connection open", \
			"" using (\$1-0.2):6:7:8 with yerrorbars lc rgb "black" pt 0 notitle, \
			"$out/plot-busy.dat" using (\$1+0.2):6 with boxes lc rgb "#ee7733" title "$busy connections open", \
			"" using (\$1+0.2):6:7:8 with yerrorbars lc rgb "black" pt 0 notitle
		unset multiplot
	EOF
	rm -f "$out/plot-idle.dat" "$out/plot-busy.dat"
}

summary > "$csv"
{
	cat "$raw/host.txt"
	read -r kver cpus mem < "$raw/guest.txt"
	echo "guest: Linux $kver, $cpus vCPUs, $((mem / 1024)) MB, QEMU TCG (emulated: absolute numbers are slow, ratios are the claim)"
	echo
	speed_table rate "Connection rate (connections/s)"
	speed_table getpeername "getpeername() on an accepted socket (ns/call)"
	speed_table getsockname "getsockname() on the same socket (ns/call): toa's hook on inet_getname, which leaves at once"
	memory_table
} > "$out/results.txt"
plot
