# shellcheck shell=sh
# Sourced by test/guest.sh and bench/guest.sh, inside the guest: the client and server network
# namespaces and the option sender, as test/toa_wire.h expects them.

# toa-cli 10.88.0.1 / fd88::1 and toa-srv 10.88.0.2 / fd88::2, joined by veth cli0-srv0.
setup_netns() {
	ip netns add toa-cli && ip netns add toa-srv &&
	ip link add cli0 netns toa-cli type veth peer name srv0 netns toa-srv &&
	ip -n toa-cli addr add 10.88.0.1/24 dev cli0 &&
	ip -n toa-cli addr add fd88::1/64 dev cli0 nodad &&
	ip -n toa-srv addr add 10.88.0.2/24 dev srv0 &&
	ip -n toa-srv addr add fd88::2/64 dev srv0 nodad &&
	ip -n toa-cli link set lo up && ip -n toa-srv link set lo up &&
	ip -n toa-cli link set cli0 up && ip -n toa-srv link set srv0 up
}

# attach_client DIR: the client kernel puts the option on the wire (test/toa_client.bpf.c, built
# as DIR/toa_client.bpf.o) for the sockets of cgroup toa-client, which the calling shell joins.
attach_client() {
	bpftool prog load "$1/toa_client.bpf.o" /sys/fs/bpf/toa_client \
		type sockops pinmaps /sys/fs/bpf &&
	mkdir -p /sys/fs/cgroup/toa-client &&
	bpftool cgroup attach /sys/fs/cgroup/toa-client sock_ops \
		pinned /sys/fs/bpf/toa_client &&
	echo $$ > /sys/fs/cgroup/toa-client/cgroup.procs
}
