#!/bin/bash
# usage: test/linux-source.sh NAME PATH...   e.g. ksft tools/testing/selftests/kselftest.h
# Extracts the files PATH... (paths in the kernel tree) of Debian's kernel source tarball
# (package linux-source-6.1) side by side into the cache directory NAME, once, and prints that
# directory. It is made beside and renamed into place: a directory there is complete (a
# concurrent run never sees a half-written file).
set -eu

cache=${TOA_CACHE:-/var/cache/toa-test}
tarball=/usr/src/linux-source-6.1.tar.xz
[ $# -ge 2 ] || { sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2; }
dir=$cache/$1
shift

complete() {
	local path
	for path in "$@"; do
		[ -f "$dir/${path##*/}" ] || return 1
	done
}

if ! complete "$@"; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$dir.XXXXXX")
	chmod 755 "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	tar -xJf "$tarball" -C "$tmp" --transform='s,.*/,,' "${@/#/linux-source-6.1/}"
	# A directory there now is another run's (complete), or an old one that lacks a file.
	if ! mv -T "$tmp" "$dir" 2> /dev/null && ! complete "$@"; then
		rm -rf "$dir"
		mv -T "$tmp" "$dir"
	fi
fi
echo "$dir"
