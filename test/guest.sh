#!/bin/sh
# Runs inside the guest (test/qemu/run.sh), as root on a throwaway root:
# makes the client and server namespaces, attaches the option sender to the
# cgroup the tests run in, loads toa.ko and runs each test program (TAP).
# env: TOA_KO (toa.ko for this kernel), TOA_TEST_OUT (built tests),
#      TOA_TESTS (optional: which test programs, default all).
set -u
out=${TOA_TEST_OUT:?}
ko=${TOA_KO:?}
n=0

tap() {	# tap STATUS NAME: one guest-level result
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n guest: $2"; else echo "not ok $n guest: $2"; fi
}

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

# The client kernel puts the option on the wire (test/toa_client.bpf.c).
attach_client() {
	bpftool prog load "$out/toa_client.bpf.o" /sys/fs/bpf/toa_client \
		type sockops pinmaps /sys/fs/bpf &&
	mkdir -p /sys/fs/cgroup/toa-client &&
	bpftool cgroup attach /sys/fs/cgroup/toa-client sock_ops \
		pinned /sys/fs/bpf/toa_client &&
	echo $$ > /sys/fs/cgroup/toa-client/cgroup.procs
}

echo "# kernel $(uname -r), $(nproc) CPUs"
setup_netns; tap $? "network namespaces"
attach_client; tap $? "option sender attached"
insmod "$ko"; tap $? "insmod toa.ko"

for t in ${TOA_TESTS:-toa_test guide_test}; do
	echo "# $t"
	(cd "$out" && TOA_KO="$ko" TOA_TEST_OUT="$out" "./$t")
	tap $? "$t exit status"
done

rmmod toa; tap $? "rmmod toa"
! grep -q '^toa ' /proc/modules; tap $? "nothing left loaded"
