#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install_toa.sh: install the toa kernel module on an origin server, so that
# accept() and getpeername() return the real client address behind the L4
# proxy. DKMS where the distribution has it, loaded now and at boot.
#
#   sudo ./scripts/install_toa.sh [--trust CIDR,...] [--kinds 254,253,200] [--ipv6-on-ipv4 proxy]
#                                 [--no-autoload]
#   sudo ./scripts/install_toa.sh --uninstall
#
# Run from the source tree. As a one-liner (the script alone, fetched with
# curl), set TOA_SOURCE_URL to the toa source tarball:
#   TOA_SOURCE_URL=https://.../toa.tar.gz bash -c "$(curl -fsSL https://.../install_toa.sh)"
# make dist's dist/install_toa.sh is this script with the source embedded
# (toa_embedded_source, after its last function): it needs no TOA_SOURCE_URL.
set -eu

TOA_PROG=install_toa.sh
TOA_MODE=dkms
# Under bash -c "$(curl ...)" there is no script file: BASH_SOURCE is unset.
TOA_SCRIPT_DIR=$(dirname "${BASH_SOURCE[0]:-/nonexistent/x}")
TOA_SCRIPT_DIR=$(cd "$TOA_SCRIPT_DIR" 2>/dev/null && pwd) || TOA_SCRIPT_DIR=/nonexistent

toa_oneliner_die() {
	echo "$TOA_PROG: error: $1" >&2
	shift
	printf '    %s\n' "$@" >&2
	exit 1
}

# toa_fetch_source TARBALL: TOA_SOURCE_URL's tarball, else the embedded one,
# checked against the SHA-256 it was embedded with before anything uses it.
toa_fetch_source() {
	local url=${TOA_SOURCE_URL:-} sum
	if [ -n "$url" ]; then
		echo "$TOA_PROG: downloading the toa source from $url"
		if command -v curl >/dev/null 2>&1; then
			curl -fsSL -o "$1" "$url"
		else
			wget -q -O "$1" "$url"
		fi || toa_oneliner_die "could not download $url"
	elif declare -F toa_embedded_source >/dev/null; then
		toa_embedded_source | base64 -d >"$1" 2>/dev/null ||
			toa_oneliner_die "the toa source embedded in this script is not valid base64: the script is damaged" \
				"download it again (and check it against its .sha256)"
		sum=$(sha256sum "$1")
		[ "${sum%% *}" = "$TOA_EMBEDDED_SHA256" ] ||
			toa_oneliner_die "the toa source embedded in this script does not match its SHA-256 $TOA_EMBEDDED_SHA256: the script is damaged; nothing was installed" \
				"download it again (and check it against its .sha256)"
		echo "$TOA_PROG: using the toa source embedded in this script (SHA-256 $TOA_EMBEDDED_SHA256, checked)"
	else
		toa_oneliner_die "toa-lib.sh is not beside this script, and TOA_SOURCE_URL is not set" \
			"run it from the unpacked toa source: tar -xzf toa.tar.gz && sudo toa/scripts/$TOA_PROG" \
			"or set TOA_SOURCE_URL to the toa source tarball"
	fi
}

toa_install_main() {
	local script
	if [ -f "$TOA_SCRIPT_DIR/toa-lib.sh" ]; then
		# shellcheck source=scripts/toa-lib.sh
		. "$TOA_SCRIPT_DIR/toa-lib.sh"
		toa_main "$@"
		return
	fi
	# A one-liner: no toa-lib.sh beside us. Unpack the tree and run its copy.
	# Global: the EXIT trap runs after this function has returned.
	TOA_SRC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/toa-src.XXXXXX")
	trap 'rm -rf "$TOA_SRC_TMP"' EXIT
	toa_fetch_source "$TOA_SRC_TMP/toa.tar.gz"
	tar -xzf "$TOA_SRC_TMP/toa.tar.gz" -C "$TOA_SRC_TMP" ||
		toa_oneliner_die "${TOA_SOURCE_URL:-the embedded source} is not a gzip tarball"
	script=$(find "$TOA_SRC_TMP" -maxdepth 3 -path "*/scripts/$TOA_PROG" | head -n 1)
	[ -n "$script" ] ||
		toa_oneliner_die "no scripts/$TOA_PROG in ${TOA_SOURCE_URL:-the embedded source}"
	bash "$script" "$@"
}

toa_install_main "$@"
