#!/bin/bash
# usage: test/lint.sh [--no-w1]                                      (make lint)
# The lint gate: checkpatch --strict --no-tree on the module's sources; sparse (C=2, endian checks)
# and W=1, in one build of toa.ko against bookworm's headers; shellcheck on every shell script.
# Prints TAP, one result per tool, each finding under it as "# FILE:LINE: message"; any finding
# fails. --no-w1 leaves W=1 out: test/check.sh builds every suite with W=1 itself.
set -u

repo=$(realpath "$(dirname "$0")/..")
work=${TOA_WORK:-/tmp/toa-check}/lint
suite=bookworm
w1=W=1
[ "${1:-}" != --no-w1 ] || w1=

# shellcheck source=test/tap.sh
. "$repo/test/tap.sh"

# result NAME FINDINGS: ok if FINDINGS (one a line) is empty.
result() {
	if [ -z "$2" ]; then
		pass "$1"
	else
		fail "$1"
		printf '%s\n' "$2" | sed 's/^/# /'
	fi
}

# The kernel code: the module and the tests' module (not the user-space C of test/ and bench/).
module_sources() {
	(cd "$repo" && ls toa_*.c toa*.h compat.h test/kmod/*.c)
}

# checkpatch DIR [ARGS...] FILES...: its findings, one a line (FILE:LINE: LEVEL: message).
# Perl's own errors show as they are.
checkpatch() {
	local dir=$1 out
	shift
	out=$(cd "$repo" && perl "$dir/checkpatch.pl" --strict --no-tree --terse --showfile \
		--no-summary --no-color -f "$@" 2>&1) ||
		[ -n "$out" ] || out="checkpatch.pl failed without a message"
	[ -z "$out" ] || printf '%s\n' "$out"
}

lint_checkpatch() {
	local dir files out
	mapfile -t files < <(module_sources | grep -vx toa_uapi.h)
	if ! dir=$("$repo/test/linux-source.sh" checkpatch scripts/checkpatch.pl \
		scripts/spelling.txt scripts/const_structs.checkpatch 2>&1); then
		result "checkpatch: from linux-source-6.1" "$dir"
		return
	fi
	# toa_uapi.h's TOA_STATS is an X-macro list, as the kernel's own are (include/net/
	# dropreason-core.h): checkpatch wants parentheses around any macro that expands to more
	# than one call, and takes an argument used in every entry for one evaluated twice.
	out=$(checkpatch "$dir" "${files[@]}"
		checkpatch "$dir" --ignore COMPLEX_MACRO,MACRO_ARG_REUSE toa_uapi.h)
	result "checkpatch --strict --no-tree: $((${#files[@]} + 1)) files" "$out"
}

# sparse's findings carry its -fdiagnostic-prefix ("FILE:LINE:COL: sparse: warning: ..."), the
# compiler's do not. Paths are made relative to the tree.
lint_build() {
	local out=$work/build log=$work/build.log status findings
	command -v sparse > /dev/null ||
		{ result "sparse" "sparse is not installed: apt-get install sparse"; return; }
	mkdir -p "$work"
	"$repo/test/qemu/build.sh" "$suite" "$repo" "$out" $w1 C=2 \
		"CF=-D__CHECK_ENDIAN__ -fdiagnostic-prefix" > "$log" 2>&1
	status=$?
	findings=$(grep -a ': sparse: ' "$log" | sed "s|^$out/||")
	[ $status -eq 0 ] || findings+=${findings:+$'\n'}"the build failed: see $log"
	result "sparse C=2 ($suite)" "$findings"
	[ -n "$w1" ] || return 0
	findings=$(grep -a -E ': (warning|error):' "$log" | grep -av ': sparse: ' | sed "s|^$out/||")
	[ $status -eq 0 ] || findings+=${findings:+$'\n'}"the build failed: see $log"
	result "W=1 build ($suite): no warnings" "$findings"
}

# Every *.sh, and every file whose first line runs a shell.
shell_scripts() {
	local f first
	cd "$repo" || return
	find . -path ./.git -prune -o -path ./test/out -prune -o -path ./bench/out -prune -o \
		-type f -print | sed 's|^\./||' | sort | while IFS= read -r f; do
		case $f in
		*.sh) echo "$f" ;;
		*)
			IFS= read -r first < "$f" 2> /dev/null
			[[ ${first:-} =~ ^#!.*[/\ ](ba|da)?sh([[:space:]]|$) ]] && echo "$f"
			;;
		esac
		first=
	done
}

lint_shellcheck() {
	local files out
	command -v shellcheck > /dev/null ||
		{ result "shellcheck" "shellcheck is not installed: apt-get install shellcheck"; return; }
	mapfile -t files < <(shell_scripts)
	# -x: follow the files a script sources (their paths are relative to the tree).
	out=$(cd "$repo" && shellcheck -x -f gcc "${files[@]}" 2>&1) ||
		[ -n "$out" ] || out="shellcheck failed without a message"
	result "shellcheck: ${#files[@]} scripts" "$out"
}

echo "TAP version 13"
lint_checkpatch
lint_build
lint_shellcheck
tap_end
