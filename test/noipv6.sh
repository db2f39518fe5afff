#!/bin/bash
# usage: test/noipv6.sh OUTDIR
# Builds toa.ko for a kernel configured without IPv6 (x86_64_defconfig of Debian's linux-source-6.1
# with CONFIG_IPV6=n and ftrace on; prepared once, cached in ${TOA_CACHE:-/var/cache/toa-test}/noipv6)
# and checks that it uses no symbol that net/ipv6 exports: such a module would not load there.
# Nothing boots: a compile test.
set -eu

repo=$(realpath "$(dirname "$0")/..")
out=$(realpath -m "${1:?usage: noipv6.sh OUTDIR}")
cache=${TOA_CACHE:-/var/cache/toa-test}/noipv6
tarball=/usr/src/linux-source-6.1.tar.xz
version=$(dpkg-query -W -f='${Version}' linux-source-6.1)

if [ "$(cat "$cache/prepared" 2>/dev/null)" != "$version" ]; then
	rm -rf "$cache"
	mkdir -p "$cache/linux"
	tar -xJf "$tarball" -C "$cache/linux" --strip-components=1
	make -s -C "$cache/linux" x86_64_defconfig
	"$cache/linux/scripts/config" --file "$cache/linux/.config" \
		-d IPV6 -e FTRACE -e FUNCTION_TRACER -e DYNAMIC_FTRACE -e KALLSYMS
	make -s -C "$cache/linux" olddefconfig
	grep -qx '# CONFIG_IPV6 is not set' "$cache/linux/.config"
	make -s -C "$cache/linux" -j"$(nproc)" modules_prepare
	echo "$version" > "$cache/prepared"
fi

rm -rf "$out"
mkdir -p "$out"
git -C "$repo" ls-files -z --cached --others --exclude-standard |
	tar -C "$repo" --null -T - -c | tar -C "$out" -x
# No vmlinux was built, so modpost cannot know the kernel's symbols: it only warns.
make -C "$out" KDIR="$cache/linux" KBUILD_MODPOST_WARN=1 module > "$out/build.log" 2>&1 ||
	{ cat "$out/build.log"; exit 1; }
used=$(nm -u "$out/toa.ko" | awk '{ print $2 }' | grep -Fx -f <(
	grep -rhoE 'EXPORT_SYMBOL[_A-Z]*\([a-z0-9_]+\)' "$cache/linux/net/ipv6" |
		sed 's/.*(\(.*\))/\1/' | sort -u) || true)
if [ -n "$used" ]; then
	echo "noipv6.sh: toa.ko needs symbols of net/ipv6: $used" >&2
	exit 1
fi
echo "noipv6.sh: toa.ko builds without IPv6 and needs nothing of net/ipv6"
