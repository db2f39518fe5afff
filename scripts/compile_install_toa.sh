#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# compile_install_toa.sh: the user guide's method 2. Compile toa.ko from this
# source tree for the running kernel, install it into
# /lib/modules/$(uname -r)/kernel/net/netfilter/ipvs, load it and load it at
# boot. No DKMS: run it again after a kernel upgrade.
#
#   sudo ./scripts/compile_install_toa.sh [--trust CIDR,...] [--kinds 254,253,200] [--ipv6-on-ipv4 proxy]
#                                          [--no-autoload]
#   sudo ./scripts/compile_install_toa.sh --uninstall
set -eu

TOA_PROG=compile_install_toa.sh
TOA_MODE='file'
TOA_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ ! -f "$TOA_SCRIPT_DIR/toa-lib.sh" ]; then
	echo "$TOA_PROG: error: run it from the unpacked toa source: tar -xzf toa.tar.gz && sudo toa/scripts/$TOA_PROG" >&2
	exit 1
fi
# shellcheck source=scripts/toa-lib.sh
. "$TOA_SCRIPT_DIR/toa-lib.sh"
toa_main "$@"
