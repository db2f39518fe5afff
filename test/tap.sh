# shellcheck shell=sh
# TAP results, numbered and counted: sourced by the test scripts, bash and the guest's sh alike.
# pass NAME; fail NAME [LOG] (LOG: where to look); skip NAME [WHY]; tap STATUS NAME: pass if STATUS
# is 0;
# tap_end: the plan and the last line, "N passed, N failed" (", N skipped" if any); true if none
# failed.
tap_count=0 tap_passed=0 tap_failed=0 tap_skipped=0

pass() {
	tap_count=$((tap_count + 1)) tap_passed=$((tap_passed + 1))
	echo "ok $tap_count - $1"
}

fail() {
	tap_count=$((tap_count + 1)) tap_failed=$((tap_failed + 1))
	echo "not ok $tap_count - $1"
	[ $# -lt 2 ] || echo "# see $2"
}

skip() {
	tap_count=$((tap_count + 1)) tap_skipped=$((tap_skipped + 1))
	echo "ok $tap_count - $1 # SKIP${2:+ $2}"
}

tap() {
	if [ "$1" = 0 ]; then pass "$2"; else fail "$2"; fi
}

tap_end() {
	echo "1..$tap_count"
	if [ $tap_skipped -eq 0 ]; then
		echo "$tap_passed passed, $tap_failed failed"
	else
		echo "$tap_passed passed, $tap_failed failed, $tap_skipped skipped"
	fi
	[ $tap_failed -eq 0 ]
}
