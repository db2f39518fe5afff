# shellcheck shell=bash
# system_mirror ARCHIVE: the Debian archive ARCHIVE (debian or debian-security) as this machine's
# apt reaches it, from /etc/apt's sources (one-line or deb822). Sourced by test/qemu/kernel.sh and
# test/install/rootfs.sh: no mirror is named anywhere in the tree.
system_mirror() {
	local uri
	uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
		/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' |
		grep -m1 "/$1/*\$") || { echo "${0##*/}: no $1 archive in /etc/apt" >&2; return 1; }
	echo "${uri%/}"
}
