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

# setup_netns and attach_client
# shellcheck source=test/netns.sh
. "$(dirname "$0")/netns.sh"

echo "# kernel $(uname -r), $(nproc) CPUs"
setup_netns; tap $? "network namespaces"
attach_client "$out"; tap $? "option sender attached"
insmod "$ko"; tap $? "insmod toa.ko"

for t in ${TOA_TESTS:-toa_test guide_test toa_hostile_test toa_trust_test toa_netns_test toa_stress_test}; do
	echo "# $t"
	(cd "$out" && TOA_KO="$ko" TOA_TEST_OUT="$out" "./$t")
	tap $? "$t exit status"
done

rmmod toa; tap $? "rmmod toa"
! grep -q '^toa ' /proc/modules; tap $? "nothing left loaded"
