# shellcheck shell=sh
# What a kernel log says about a test run: sourced by the rig (test/check.sh), the installer test
# (test/install/run.sh, and its guest.sh from the share) and the benchmark (bench/run.sh).

# kernel_log_errors [FILE...]: the lines of the kernel log FILE (or stdin) that fail a run; true
# if there is one. Left out: the warnings a test provoked on purpose, between the lines
# "toa-test: expect WARNING at FILE" and "toa-test: expected warnings end" (the test writes them
# to /dev/kmsg), a WARNING at FILE.
kernel_log_errors() {
	LC_ALL=C awk '/toa-test: expect WARNING at / { expect = $NF; next }
		/toa-test: expected warnings end/ { expect = ""; next }
		expect != "" && /WARNING:/ && index($0, expect ":") { next }
		# RCU stalls, hung tasks and lockdep on a non-static key say INFO:.
		/BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kernel BUG|list_add corruption|refcount_t:/ ||
		/rcu: INFO:|self-detected stall|detected (expedited )?stalls|INFO: task .* blocked for more than/ ||
		/INFO: trying to register non-static key/ {
			print
			found = 1
		}
		END { exit !found }' "$@"
}

# kernel_died_early CONSOLE: the kernel of the console log CONSOLE panicked with no toa loaded.
# Multi-threaded TCG can run a vCPU into kernel text that another vCPU is patching (the kernel's
# own static keys at boot, e.g. the sched_clock ones at late_initcall: "Oops: int3" in
# sched_clock_cpu): such a boot is tried once more on one host thread, where that cannot happen.
kernel_died_early() {
	grep -aq 'Kernel panic' "$1" && ! grep -aEq 'Modules linked in:.*\<toa\>' "$1"
}
