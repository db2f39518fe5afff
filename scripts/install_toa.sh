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
set -eu

TOA_PROG=install_toa.sh
TOA_MODE=dkms
# Under bash -c "$(curl ...)" there is no script file: BASH_SOURCE is unset.
TOA_SCRIPT_DIR=$(dirname "${BASH_SOURCE[0]:-/nonexistent/x}")
TOA_SCRIPT_DIR=$(cd "$TOA_SCRIPT_DIR" 2>/dev/null && pwd) || TOA_SCRIPT_DIR=/nonexistent

# Run as a one-liner: no toa-lib.sh beside us. Fetch the tree and run its copy.
if [ ! -f "$TOA_SCRIPT_DIR/toa-lib.sh" ]; then
	url=${TOA_SOURCE_URL:-}
	if [ -z "$url" ]; then
		echo "$TOA_PROG: error: toa-lib.sh is not beside this script, and TOA_SOURCE_URL is not set" >&2
		echo "    run it from the unpacked toa source: tar -xzf toa.tar.gz && sudo toa/scripts/$TOA_PROG" >&2
		echo "    or set TOA_SOURCE_URL to the toa source tarball" >&2
		exit 1
	fi
	echo "$TOA_PROG: downloading the toa source from $url"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/toa-src.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL -o "$tmp/toa.tar.gz" "$url"
	else
		wget -q -O "$tmp/toa.tar.gz" "$url"
	fi || { echo "$TOA_PROG: error: could not download $url" >&2; exit 1; }
	tar -xzf "$tmp/toa.tar.gz" -C "$tmp" ||
		{ echo "$TOA_PROG: error: $url is not a gzip tarball" >&2; exit 1; }
	script=$(find "$tmp" -maxdepth 3 -path "*/scripts/$TOA_PROG" | head -n 1)
	[ -n "$script" ] ||
		{ echo "$TOA_PROG: error: no scripts/$TOA_PROG in $url" >&2; exit 1; }
	bash "$script" "$@"
	exit
fi

# shellcheck source=scripts/toa-lib.sh
. "$TOA_SCRIPT_DIR/toa-lib.sh"
toa_main "$@"
