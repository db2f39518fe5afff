#!/bin/bash
# usage: test/qemu/debug-kernel.sh DIR       (kernel.sh debug calls it, holding DIR's lock)
# Builds the debug suite's kernel: Debian's linux-source-6.1 configured by debug-kernel.config
# (allnoconfig, what the guest needs, KASAN, kmemleak, lockdep...). Leaves what run.sh and
# build.sh expect of a suite in DIR: kernel/vmlinux, kernel/lib/modules/KVER (its build link is
# the build tree, DIR/linux, for toa.ko). Cached, keyed by the source package's version and the
# fragment: rebuilt when either changes. The last line of stdout is the kernel release.
set -eu

here=$(dirname "$(realpath "$0")")
dir=$(realpath -m "${1:?usage: debug-kernel.sh DIR}")
fragment=$here/debug-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz
tree=$dir/linux

log() { echo "debug-kernel.sh: $*" >&2; }

# Code that runs before KASAN has mapped its shadow memory must not be instrumented. microvm boots
# vmlinux through the PVH entry, whose C code runs that early, calls memcmp() (lib/string.c) and
# can call UBSAN's handlers, which print; instrumented, the guest resets before printing anything.
# 6.1 exempts lib/string.o only when built with AMD_MEM_ENCRYPT (Debian's kernels are). Lines
# appended to the tree's Makefiles (MAKEFILE LINE):
early_boot_exemptions='arch/x86/platform/pvh/Makefile KASAN_SANITIZE := n
arch/x86/platform/pvh/Makefile UBSAN_SANITIZE := n
lib/Makefile KASAN_SANITIZE_string.o := n'

key=$( (dpkg-query -W -f='${Version}\n' linux-source-6.1 && cat "$fragment" &&
	echo "$early_boot_exemptions") | sha256sum)

# Every line of the fragment, as .config has it once the dependencies are resolved: an option
# that Kconfig dropped (a dependency missing from the fragment) would silently test less.
check_config() {
	local line name wrong=''
	while IFS= read -r line; do
		case $line in
		CONFIG_*) grep -qxF -- "$line" "$tree/.config" || wrong+=" $line" ;;
		'# CONFIG_'*' is not set')
			name=${line#\# } name=${name%% *}
			! grep -q "^$name=" "$tree/.config" || wrong+=" $name=n" ;;
		esac
	done < "$fragment"
	[ -z "$wrong" ] || { log "Kconfig did not give:$wrong"; return 1; }
}

if [ "$(cat "$dir/key" 2>/dev/null)" != "$key" ]; then
	log "building the debug kernel from linux-source-6.1 (cold: minutes)"
	start=$SECONDS
	# The link modules_install makes to the tree is absolute: build in place, and mark the
	# result complete (key) only at the end.
	rm -rf "$dir/key" "$dir/kver" "$dir/kernel" "$tree"
	mkdir -p "$tree"
	tar -xJf "$tarball" -C "$tree" --strip-components=1
	while read -r makefile line; do
		echo "$line" >> "$tree/$makefile"
	done <<< "$early_boot_exemptions"
	# allnoconfig with the fragment's values pinned: the smallest kernel that has them.
	make -s -C "$tree" KCONFIG_ALLCONFIG="$fragment" allnoconfig
	check_config
	make -s -C "$tree" -j"$(nproc)" vmlinux modules
	make -s -C "$tree" INSTALL_MOD_PATH="$dir/kernel" modules_install
	cp "$tree/vmlinux" "$dir/kernel/vmlinux"
	log "built in $((SECONDS - start))s"
	echo "$key" > "$dir/key"
fi
make -s -C "$tree" kernelrelease
