# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# dkms-scriptlets.sh: what the toa-dkms packages do when installed and
# removed, the .deb's postinst/prerm and the .rpm's %post/%preun alike.
# scripts/dist.sh sets toa_pkg_version, and calls toa_pkg_configure or
# toa_pkg_remove after it. POSIX sh: dpkg runs these with dash, rpm with sh.
# They print what they do, as Debian's own DKMS packages do.

toa_pkg_version=@VERSION@

# Registers the source (/usr/src/toa-VERSION) with DKMS, builds and installs
# toa for every kernel whose headers are there, and loads it into the running
# kernel. Kernels installed later get it from DKMS itself (AUTOINSTALL in
# dkms.conf).
toa_pkg_configure() {
	v=$toa_pkg_version
	running=$(uname -r)
	dkms status -m toa -v "$v" | grep -q . || dkms add -m toa -v "$v"
	for build in /lib/modules/*/build; do
		[ -e "$build/Makefile" ] || continue
		k=${build#/lib/modules/}
		k=${k%/build}
		dkms status -m toa -v "$v" -k "$k" | grep -q ': installed' && continue
		echo "toa-dkms: building toa $v for kernel $k"
		# Only the running kernel's failure fails the install: an old
		# kernel's headers left behind must not block it.
		dkms install -m toa -v "$v" -k "$k" || [ "$k" != "$running" ] || return 1
	done
	if [ ! -e "/lib/modules/$running/build/Makefile" ]; then
		echo "toa-dkms: no headers for the running kernel $running, so toa is not built for it."
		echo "    Install linux-headers-$running (Debian, Ubuntu) or kernel-devel-$running (RHEL family),"
		echo "    then: dkms install -m toa -v $v"
	fi
	toa_pkg_load
	# The same advice as install_toa.sh's warning (README: Security).
	grep -qs '^options toa .*trusted=' /etc/modprobe.d/*.conf ||
		echo "toa-dkms: note: no trusted= list in /etc/modprobe.d: toa uses TOA from any source. Name the proxies: echo 'options toa trusted=203.0.113.0/24,2001:db8:1::/48' > /etc/modprobe.d/toa.conf (README: Security)"
}

# Now, into the running kernel, where DKMS installed it (not in a chroot,
# whose uname -r is the host's); at boot, /usr/lib/modules-load.d/toa.conf.
toa_pkg_load() {
	if [ -e /sys/module/toa ]; then
		echo "toa-dkms: a toa module is loaded already; this one is loaded at the next boot (or now: modprobe -r toa && modprobe toa)"
	elif dkms status -m toa -v "$v" -k "$running" | grep -q ': installed'; then
		if modprobe toa; then
			echo "toa-dkms: loaded toa"
		else
			echo "toa-dkms: warning: could not load toa now (dmesg | tail says why); it is loaded at boot"
		fi
	fi
}

# Unloads toa and removes this version from DKMS, for every kernel: nothing
# of it is left (dpkg and rpm remove /usr/src/toa-VERSION). Connections open
# at the unload keep working, with the proxy's address.
toa_pkg_remove() {
	v=$toa_pkg_version
	if [ -e /sys/module/toa ]; then
		modprobe -r toa ||
			echo "toa-dkms: warning: toa is in use and stays loaded until the next boot"
	fi
	if dkms status -m toa -v "$v" | grep -q .; then
		dkms remove -m toa -v "$v" --all ||
			echo "toa-dkms: warning: dkms remove -m toa -v $v --all failed (output above)"
	fi
}
