#!/bin/bash
# usage: test/qemu/chroot.sh ROOT [-b DIR] CMD...
# Runs CMD in the chroot ROOT with a clean environment, /proc mounted and DIR bound at its own
# path, in a private mount namespace: the mounts vanish with CMD, however it ends.
set -eu

[ $# -ge 2 ] || { sed -n '2,4s/^# \{0,1\}//p' "$0" >&2; exit 2; }
root=$(realpath "$1")
shift
bind=
if [ "$1" = -b ]; then
	bind=$(realpath "$2")
	shift 2
fi

# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare --mount --propagation private sh -euc '
	root=$1 bind=$2
	shift 2
	mount -t proc proc "$root/proc"
	if [ -n "$bind" ]; then
		mkdir -p "$root$bind"
		mount --bind "$bind" "$root$bind"
	fi
	exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"' \
	sh "$root" "$bind" "$@"
