#!/bin/sh
# Runs inside the guest (test/qemu/run.sh), as root on a throwaway root:
# makes the client and server namespaces, attaches the option sender to the
# cgroup the tests run in, loads toa.ko and runs each test program (TAP).
# env: TOA_KO (toa.ko for this kernel), TOA_TEST_OUT (built tests), TOA_SRC (the
#      source tree, whose scripts the tests run), TOA_TESTS (optional: which test
#      programs, default all), TOA_SLOWDOWN (optional: how many times slower the
#      kernel runs the tests; test/toa_wire.h).
set -u
out=${TOA_TEST_OUT:?}
ko=${TOA_KO:?}

# tap STATUS NAME: one guest-level result
# shellcheck source=test/tap.sh
. "$(dirname "$0")/tap.sh"

# setup_netns and attach_client
# shellcheck source=test/netns.sh
. "$(dirname "$0")/netns.sh"

echo "# kernel $(uname -r), $(nproc) CPUs"
setup_netns; tap $? "guest: network namespaces"
attach_client "$out"; tap $? "guest: option sender attached"
# A kernel with kmemleak (the debug suite): the suspects the kernel had before toa are set aside,
# so that the scan after the tests reports only what was left unreferenced since.
kmemleak=/sys/kernel/debug/kmemleak
kmemleak() { echo "$1" > "$kmemleak"; }	# a write fails once kmemleak has turned itself off
if [ -w "$kmemleak" ]; then
	kmemleak scan && kmemleak clear
	tap $? "guest: kmemleak: earlier suspects set aside"
fi

insmod "$ko"; tap $? "guest: insmod toa.ko"

for t in ${TOA_TESTS:-toa_test guide_test toa_hostile_test toa_trust_test toa_netns_test toa_stress_test}; do
	echo "# $t"
	(cd "$out" && TOA_KO="$ko" TOA_TEST_OUT="$out" "./$t")
	tap $? "guest: $t exit status"
done

# Scanned twice: an object that was only in flight (in a register, on a queue) at the first scan
# is found referenced at the second. kmemleak names a stack's functions when the report is read:
# a frame in a module that has since been unloaded (a toa the tests reloaded, or one that refused
# to load) shows as a bare address in the modules' area, or with the name of whatever module
# now lies there. So a suspect with any frame in a module fails, not only one that names toa;
# the whole report is kept.
module_frame='\[toa|\] 0xffffffff[a-f][0-9a-f]{7}$'
if [ -w "$kmemleak" ]; then
	leaks=${RESULTS:-/tmp}/kmemleak.txt
	kmemleak scan && kmemleak scan && cat "$kmemleak" > "$leaks"
	tap $? "guest: kmemleak: scanned, report in $leaks"
	echo "# kmemleak: $(grep -c '^unreferenced object' "$leaks") suspects, $(grep -cE "$module_frame" "$leaks") frames in toa or an unloaded module"
	! grep -qE "$module_frame" "$leaks"; tap $? "guest: kmemleak: nothing leaked by toa"
fi

rmmod toa; tap $? "guest: rmmod toa"
! grep -q '^toa ' /proc/modules; tap $? "guest: nothing left loaded"
