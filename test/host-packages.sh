#!/bin/bash
# usage: test/host-packages.sh PACKAGE...
# Installs those of the Debian packages PACKAGE... that the host lacks, with its own apt sources,
# waiting for another apt's lock. Says which on stdout ("# installing ...", a TAP comment); apt's
# output goes to stderr. For the rig, the installer test, the benchmark and test/unit's Makefile.
set -eu

missing=()
for package in "$@"; do
	dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$package")
done
[ ${#missing[@]} -gt 0 ] || exit 0
echo "# installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
{
	apt-get -o DPkg::Lock::Timeout=600 update -qq &&
		apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
} >&2
