# shellcheck shell=sh
# The client side of toa_bench hold, for bench/guest.sh and bench/count.sh: one source address
# beside 10.88.0.1 for each 20000 connections held: connect() looks for a port among the 32256
# even ones first, longer as they fill, and past them scans all every time.

# hold_addrs MAX: the addresses for MAX connections, one a line.
hold_addrs() {
	i=1
	while [ "$i" -le $(($1 / 20000 + 1)) ]; do
		echo "10.88.0.$((100 + i))"
		i=$((i + 1))
	done
}

# hold_setup MAX: those addresses on the client's end of the veth pair (test/netns.sh), and the
# whole port range.
hold_setup() {
	ip netns exec toa-cli sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	for a in $(hold_addrs "$1"); do
		ip -n toa-cli addr add "$a/24" dev cli0
	done
}
