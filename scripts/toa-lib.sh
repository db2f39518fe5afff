# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# toa-lib.sh: what install_toa.sh and compile_install_toa.sh share. Sourced,
# never run. Every name here starts with toa_ (functions) or TOA_ (variables).
#
# An install run journals an undo step for each change it makes; if the run
# fails, the EXIT trap plays the journal backwards and the system is as it was.
# What a successful run installed is written to $TOA_STATE_DIR/installed, which
# --uninstall reads.
#
# Knobs from the environment, for test rigs and image builders:
#   TOA_KERNEL            kernel release to build and install for, taken as the
#                         running one (loading uses modprobe -S); default uname -r
#   TOA_SIGN_KEY/_CERT    sign toa.ko with this MOK key and certificate (Secure Boot)
#   TOA_STATE_DIR         default /var/lib/toa
#   TOA_RC_LOCAL          default /etc/rc.local
#   TOA_MODULES_LOAD_DIR  default /etc/modules-load.d
#   TOA_MODPROBE_DIR      default /etc/modprobe.d
#   TOA_INIT              systemd or other: skip init system detection
#   TOA_OS_RELEASE        default /etc/os-release
#   TOA_LOCK_TIMEOUT      seconds to wait for another package manager run
#                         (cloud-init, unattended-upgrades) to release its
#                         lock; default 600
#   TOA_LOCK_POLL         seconds between tries while apt's lists or archives
#                         lock is held; default 10

: "${TOA_STATE_DIR:=/var/lib/toa}"
: "${TOA_RC_LOCAL:=/etc/rc.local}"
: "${TOA_MODULES_LOAD_DIR:=/etc/modules-load.d}"
: "${TOA_MODPROBE_DIR:=/etc/modprobe.d}"
: "${TOA_OS_RELEASE:=/etc/os-release}"
: "${TOA_LOCK_TIMEOUT:=600}"
: "${TOA_LOCK_POLL:=10}"
: "${TOA_SIGN_KEY:=}"
: "${TOA_SIGN_CERT:=}"
export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

TOA_PROG=${TOA_PROG:-toa}
TOA_MODE=${TOA_MODE:-file}	# dkms or file (set by the calling script)
TOA_SRC=
TOA_KINDS=
TOA_IPV6_ON_IPV4=
TOA_TRUST=		# the trusted prefixes, comma-separated (--trust, --trust-file)
TOA_TRUST_FILES=()
TOA_AUTOLOAD=1
TOA_LOAD=1
TOA_UNINSTALL=0
TOA_KVER=
TOA_KDIR=
TOA_VERSION=
TOA_PM=none
TOA_DISTRO=
TOA_OS_ID=
TOA_TMP=
TOA_KO=
TOA_UNDO=()
TOA_NEW_PKGS=
TOA_STATE="$TOA_STATE_DIR/installed"
TOA_MARK="# Written by toa's installer; install_toa.sh --uninstall removes it."
TOA_RC_LINE="/sbin/modprobe toa # toa: load at boot (install_toa.sh)"
TOA_MOD_SUBDIR=kernel/net/netfilter/ipvs

# --- messages ------------------------------------------------------------

toa_say() { printf '%s: %s\n' "$TOA_PROG" "$*"; }
toa_warn() { printf '%s: warning: %s\n' "$TOA_PROG" "$*" >&2; }

# toa_die WHAT [WHAT-TO-DO...]: what is wrong, then one line per remedy.
toa_die() {
	printf '%s: error: %s\n' "$TOA_PROG" "$1" >&2
	shift
	local line
	for line in "$@"; do
		printf '    %s\n' "$line" >&2
	done
	exit 1
}

# --- the undo journal ----------------------------------------------------

# toa_undo CMD [ARGS...]: on failure, run this; the last pushed runs first.
toa_undo() {
	TOA_UNDO+=("$(printf '%q ' "$@")")
}

toa_rollback() {
	local i
	[ "${#TOA_UNDO[@]}" -gt 0 ] || return 0
	toa_say "rolling back what this run changed"
	for ((i = ${#TOA_UNDO[@]} - 1; i >= 0; i--)); do
		eval "${TOA_UNDO[i]}" ||
			toa_warn "could not undo: ${TOA_UNDO[i]}"
	done
	TOA_UNDO=()
	if [ -n "$TOA_NEW_PKGS" ]; then
		toa_say "rolled back: the system is as it was before this run, but for the packages installed for building"
	else
		toa_say "rolled back: the system is as it was before this run"
	fi
}

toa_on_exit() {
	local rc=$?
	trap - EXIT
	if [ "$rc" -ne 0 ]; then
		toa_rollback
		# Removing packages from a production machine is not ours to do
		# (as --uninstall): the next run finds them there.
		[ -z "$TOA_NEW_PKGS" ] ||
			toa_say "kept the packages installed for building ($TOA_NEW_PKGS); remove them if nothing else needs them"
	fi
	[ -z "$TOA_TMP" ] || rm -rf "$TOA_TMP"
	exit "$rc"
}

toa_begin() {
	TOA_TMP=$(mktemp -d "${TMPDIR:-/tmp}/toa.XXXXXX")
	trap toa_on_exit EXIT
	trap 'exit 130' INT TERM HUP
}

# --- options -------------------------------------------------------------

toa_usage() {
	local what
	if [ "$TOA_MODE" = dkms ]; then
		what="Builds toa.ko, installs it with DKMS where the distribution has it
(so it is rebuilt on kernel upgrades), otherwise into
/lib/modules/\$(uname -r)/$TOA_MOD_SUBDIR, loads it and loads it at boot."
	else
		what="Compiles toa.ko from source for the running kernel (no DKMS), installs
it into /lib/modules/\$(uname -r)/$TOA_MOD_SUBDIR, loads it and loads it
at boot. After a kernel upgrade, run it again."
	fi
	cat <<EOF
Usage: $TOA_PROG [OPTIONS]

$what
Installs gcc, make and the kernel headers first if they are missing.
Run as root. Nothing is asked; on failure everything this run did is undone.

Options:
  --kinds LIST    TCP option kinds carrying the client address, e.g. 254,253,200
                  (module default 254,253; 200: Tencent CLB hybrid cloud, original LVS)
  --ipv6-on-ipv4 MODE
                  what an IPv4-only listener gets for an IPv6 client: sockaddr_in6
                  (module default: the client's IPv6 address) or proxy (the proxy's
                  address; for servers such as nginx's listen 80, which drop a
                  sockaddr_in6)
  --trust LIST    CIDR prefixes of the proxies, the only sources whose TOA is used,
                  e.g. 203.0.113.0/24,2001:db8:1::/48 (README: Security)
  --trust-file F  the same from file F: one prefix a line, # comments
  --no-autoload   do not load toa at boot
  --no-load       install only, do not load now (image builds, chroots)
EOF
	[ "$TOA_MODE" != dkms ] ||
		echo "  --no-dkms       install the file even if DKMS is available"
	cat <<EOF
  --source DIR    toa source tree (default: $(dirname "$TOA_SCRIPT_DIR"))
  --uninstall     unload toa and remove everything an install put in place
  -h, --help      this text

Then check:  lsmod | grep toa;  cat /proc/net/toa_stats
EOF
}

toa_parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--uninstall) TOA_UNINSTALL=1 ;;
		--no-autoload) TOA_AUTOLOAD=0 ;;
		--no-load) TOA_LOAD=0 ;;
		--no-dkms)
			[ "$TOA_MODE" = dkms ] ||
				toa_die "unknown option $1" "see $TOA_PROG --help"
			TOA_MODE='file'
			;;
		--kinds | --ipv6-on-ipv4 | --source | --trust | --trust-file)
			[ $# -ge 2 ] || toa_die "$1 needs a value" "see $TOA_PROG --help"
			toa_set_opt "$1" "$2"
			shift
			;;
		--kinds=* | --ipv6-on-ipv4=* | --source=* | --trust=* | --trust-file=*)
			toa_set_opt "${1%%=*}" "${1#*=}"
			;;
		-h | --help)
			toa_usage
			exit 0
			;;
		*) toa_die "unknown option $1" "see $TOA_PROG --help" ;;
		esac
		shift
	done
	[ -n "$TOA_SRC" ] || TOA_SRC=$(dirname "$TOA_SCRIPT_DIR")
}

toa_set_opt() {
	case $1 in
	--kinds) TOA_KINDS=$2 ;;
	--ipv6-on-ipv4) TOA_IPV6_ON_IPV4=$2 ;;
	--source) TOA_SRC=$2 ;;
	--trust) TOA_TRUST=${TOA_TRUST:+$TOA_TRUST,}$2 ;;
	--trust-file) TOA_TRUST_FILES+=("$2") ;;
	esac
}

# The prefixes of --trust and --trust-file, checked here so that a typo fails
# before anything is installed (the module checks them again, fully).
toa_check_trust() {
	local f p list n=0 max
	for f in "${TOA_TRUST_FILES[@]}"; do
		[ -r "$f" ] || toa_die "--trust-file $f: cannot read it"
		list=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$f" | paste -sd, -)
		[ -n "$list" ] ||
			toa_die "--trust-file $f: no prefix in it" \
				"one CIDR prefix a line, e.g. 203.0.113.0/24; # starts a comment"
		TOA_TRUST=${TOA_TRUST:+$TOA_TRUST,}$list
	done
	[ -n "$TOA_TRUST" ] || return 0
	case $TOA_TRUST in
	,* | *, | *,,*)
		toa_die "--trust $TOA_TRUST: an empty prefix (two commas, or a comma at either end)" \
			"example: --trust 203.0.113.0/24,2001:db8:1::/48"
		;;
	esac
	IFS=, read -r -a list <<<"$TOA_TRUST"
	for p in "${list[@]}"; do
		n=$((n + 1))
		max=32
		case $p in *:*) max=128 ;; esac
		if ! [[ $p =~ ^[0-9a-fA-F.:]+(/[0-9]{1,3})?$ ]] ||
			{ [ "$p" != "${p%/*}" ] && [ "$((10#${p#*/}))" -gt "$max" ]; }; then
			toa_die "--trust: $p is not a CIDR prefix (address/length, length up to $max)" \
				"example: --trust 203.0.113.0/24,2001:db8:1::/48"
		fi
	done
	[ "$n" -le 4096 ] || toa_die "--trust: at most 4096 prefixes, got $n"
}

# The module's parameters given to this run, as modprobe takes them.
toa_module_params() {
	local params=()
	[ -z "$TOA_KINDS" ] || params+=("kinds=$TOA_KINDS")
	[ -z "$TOA_TRUST" ] || params+=("trusted=$TOA_TRUST")
	[ -z "$TOA_IPV6_ON_IPV4" ] || params+=("ipv6_on_ipv4=$TOA_IPV6_ON_IPV4")
	echo "${params[*]}"
}

# Where modprobe finds the parameters at every load, with autoload or not.
toa_write_params() {
	[ -z "$(toa_module_params)" ] ||
		toa_write_conf "$TOA_MODPROBE_DIR/toa.conf" "options toa $(toa_module_params)"
}

# The most kinds the module takes (its kinds= array is that long).
toa_kinds_max() {
	sed -n 's/^#define TOA_KINDS_MAX[[:space:]]*\([0-9]*\)$/\1/p' "$TOA_SRC/toa_uapi.h" 2>/dev/null
}

toa_check_kinds() {
	local k n=0 list max
	[ -n "$TOA_KINDS" ] || return 0
	case $TOA_KINDS in
	*[!0-9,]* | ,* | *, | *,,*)
		toa_die "--kinds $TOA_KINDS: not a comma-separated list of numbers" \
			"example: --kinds 254,253,200"
		;;
	esac
	IFS=, read -r -a list <<<"$TOA_KINDS"
	for k in "${list[@]}"; do
		n=$((n + 1))
		if [ "$((10#$k))" -lt 1 ] || [ "$((10#$k))" -gt 255 ]; then
			toa_die "--kinds: $k is not a TCP option kind (1-255)" \
				"the proxy's TOA kind is usually 254 (EdgeOne), or 200 (Tencent CLB hybrid cloud, original LVS)"
		fi
	done
	max=$(toa_kinds_max)
	[ -n "$max" ] || toa_die "$TOA_SRC is not the toa source tree (no TOA_KINDS_MAX in toa_uapi.h)" \
		"point --source to the unpacked toa directory"
	[ "$n" -le "$max" ] || toa_die "--kinds: at most $max kinds, got $n"
}

toa_check_ipv6_on_ipv4() {
	case $TOA_IPV6_ON_IPV4 in
	'' | sockaddr_in6 | proxy) ;;
	*)
		toa_die "--ipv6-on-ipv4 $TOA_IPV6_ON_IPV4: not a choice" \
			"sockaddr_in6 (the default): an IPv4-only listener gets an IPv6 client's own address, as a sockaddr_in6" \
			"proxy: it gets the proxy's address, as without toa (for servers such as nginx's 'listen 80;')"
		;;
	esac
}

# The module's parameters this run sets, as modprobe takes them.
toa_need_root() {
	[ "$(id -u)" -eq 0 ] ||
		toa_die "must run as root: it installs packages and a kernel module" \
			"run: sudo $TOA_PROG ${TOA_ARGS:-}"
}

# --- the system ----------------------------------------------------------

# Reads os-release once: every later question about the distribution is
# answered from TOA_OS_ID, TOA_PM and TOA_DISTRO.
toa_detect_distro() {
	local id="" like="" name=""
	if [ -r "$TOA_OS_RELEASE" ]; then
		{ IFS= read -r id; IFS= read -r like; IFS= read -r name; } < <(
			# shellcheck disable=SC1090
			. "$TOA_OS_RELEASE" && printf '%s\n' "${ID:-}" "${ID_LIKE:-}" "${PRETTY_NAME:-}") || true
	fi
	TOA_OS_ID=$id
	TOA_DISTRO=${name:-${id:-unknown}}
	case " $id $like " in
	*" debian "* | *" ubuntu "*) TOA_PM=apt ;;
	*" rhel "* | *" centos "* | *" fedora "* | *" rocky "* | *" almalinux "* | \
		*" tencentos "* | *" opencloudos "* | *" ol "* | *" amzn "*)
		if command -v dnf >/dev/null 2>&1; then
			TOA_PM=dnf
		else
			TOA_PM=yum
		fi
		;;
	*" suse "* | *" sles "* | *" opensuse"*) TOA_PM=zypper ;;
	*) TOA_PM=none ;;
	esac
	command -v "${TOA_PM/apt/apt-get}" >/dev/null 2>&1 || TOA_PM=none
}

toa_systemd() {
	case ${TOA_INIT:-} in
	systemd) return 0 ;;
	other) return 1 ;;
	esac
	[ -d /run/systemd/system ]
}

toa_in_container() {
	[ -f /.dockerenv ] || [ -f /run/.containerenv ] ||
		{ command -v systemd-detect-virt >/dev/null 2>&1 &&
			systemd-detect-virt -q -c; }
}

toa_secure_boot() {
	local f
	if command -v mokutil >/dev/null 2>&1 &&
		mokutil --sb-state 2>/dev/null | grep -q 'SecureBoot enabled'; then
		return 0
	fi
	# efivars: 4 bytes of attributes, then the value.
	for f in /sys/firmware/efi/efivars/SecureBoot-*; do
		[ -r "$f" ] || continue
		[ "$(od -An -t u1 -j 4 -N 1 "$f" | tr -d ' ')" = 1 ] && return 0
	done
	return 1
}

toa_set_kernel() {
	TOA_KVER=${TOA_KERNEL:-$(uname -r)}
	TOA_KDIR=/lib/modules/$TOA_KVER/build
}

toa_source_version() {
	local src=$1
	for f in Kbuild Makefile toa_main.c dkms.conf; do
		[ -f "$src/$f" ] ||
			toa_die "$src is not the toa source tree (no $f)" \
				"point --source to the unpacked toa directory"
	done
	# Kbuild takes MODULE_VERSION from there too.
	TOA_VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$src/dkms.conf")
	[ -n "$TOA_VERSION" ] || toa_die "no PACKAGE_VERSION in $src/dkms.conf"
}

# --- packages ------------------------------------------------------------
#
# What the tests run for real, and what only against stand-ins:
# - make check-install (test/install) installs on a booted Debian whose image
#   already has gcc, make, dkms and the headers: no package manager runs there.
# - test/test_install.sh, on a Debian host with kernel headers, runs
#   apt-get update, apt-cache policy and dpkg-query for real (its no-headers
#   check asks for the headers of kernel 0.0.0-toa-test), and apt-get install
#   only where that host lacks dkms.
# - Everything else only against the stand-ins of test/test_install.sh,
#   which answer queries, record their arguments and keep a list of
#   "installed" packages: dnf, yum, zypper and rpm entirely, apt-get's lock
#   options and retries, and a failed install keeping its packages.
#
# Another run of the package manager may hold its lock (on a fresh cloud VM,
# unattended-upgrades while cloud-init runs us): every call below waits for
# it, up to TOA_LOCK_TIMEOUT where the package manager has a timeout.

toa_pkg_installed() {
	case $TOA_PM in
	apt) dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed' ;;
	*) rpm -q "${1/=/-}" >/dev/null 2>&1 || rpm -q --whatprovides "$1" >/dev/null 2>&1 ;;
	esac
}

toa_pkg_available() {
	case $TOA_PM in
	apt) apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]' ;;
	dnf | yum) toa_rpm_pm -q list "$1" >/dev/null 2>&1 ;;
	zypper) toa_zypper -q search -x "${1%%=*}" >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}

TOA_PM_UPDATED=0
toa_pm_update() {
	[ "$TOA_PM_UPDATED" = 0 ] || return 0
	TOA_PM_UPDATED=1
	case $TOA_PM in
	apt) toa_apt_get update -q >/dev/null || toa_warn "apt-get update failed; using the package lists as they are" ;;
	esac
}

# DPkg::Lock::Timeout makes apt-get wait for dpkg's lock, but not for the
# lists and archives locks that update and downloads take: a run that failed
# on one of those (apt's English message) is tried again until the timeout.
toa_apt_get() {
	local log="$TOA_TMP/apt-get.log" start=$SECONDS rc tries=0
	while :; do
		apt-get -o "DPkg::Lock::Timeout=$TOA_LOCK_TIMEOUT" "$@" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		[ "$rc" -ne 0 ] && grep -q 'Could not get lock\|Unable to lock' "$log" &&
			[ $((SECONDS - start)) -lt "$TOA_LOCK_TIMEOUT" ] || return "$rc"
		[ $((tries++)) -gt 0 ] ||
			toa_warn "another package manager run holds apt's lock: waiting up to $TOA_LOCK_TIMEOUT s"
		sleep "$TOA_LOCK_POLL"
	done
}

# dnf and yum wait for their lock unless exit_on_lock is set (in their
# configuration, perhaps): it is cleared for our runs.
toa_rpm_pm() {
	"$TOA_PM" --setopt=exit_on_lock=False "$@"
}

# zypper gives up on its lock at once unless told how long to wait.
toa_zypper() {
	ZYPP_LOCK_TIMEOUT=$TOA_LOCK_TIMEOUT zypper --non-interactive "$@"
}

toa_pkg_list() {
	case $TOA_PM in
	apt) dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 ~ /^.i/ { print $2 }' ;;
	*) rpm -qa --qf '%{NAME}\n' ;;
	esac | sort -u
}

# toa_pkg_install PKG...: install those missing. What the install brought in
# (dependencies too) is named in TOA_NEW_PKGS and stays, also when the run
# fails: as with --uninstall, removing packages is left to the admin.
toa_pkg_install() {
	local p missing=() before="$TOA_TMP/pkgs.before" added rc=0
	for p in "$@"; do
		toa_pkg_installed "$p" || missing+=("$p")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0
	toa_say "installing ${missing[*]}"
	toa_pkg_list >"$before"
	case $TOA_PM in
	apt) toa_apt_get install -y -q --no-install-recommends "${missing[@]}" ;;
	dnf) toa_rpm_pm install -y -q "${missing[@]}" ;;
	yum) toa_rpm_pm install -y -q --setopt=skip_missing_names_on_install=False "${missing[@]}" ;;
	zypper) toa_zypper -q install --no-recommends "${missing[@]}" ;;
	esac || rc=1
	added=$(toa_pkg_list | comm -13 "$before" - | tr '\n' ' ')
	[ -z "$added" ] || TOA_NEW_PKGS="${TOA_NEW_PKGS:+$TOA_NEW_PKGS }${added% }"
	[ "$rc" = 0 ] || return 1
	for p in "${missing[@]}"; do
		toa_pkg_installed "$p" || return 1
	done
}

toa_pm_cmd() {
	case $TOA_PM in
	apt) echo "apt-get install -y $*" ;;
	dnf | yum) echo "$TOA_PM install -y $*" ;;
	zypper) echo "zypper install $*" ;;
	*) echo "install $* with your package manager" ;;
	esac
}

# The packages holding the headers to build against $TOA_KVER.
toa_header_pkgs() {
	local flavour base ver
	case $TOA_PM in
	apt) echo "linux-headers-$TOA_KVER" ;;
	dnf | yum) echo "kernel-devel-$TOA_KVER kernel-headers elfutils-libelf-devel" ;;
	zypper)
		# uname -r 5.14.21-150500.55.39-default is kernel-default-devel
		# 5.14.21-150500.55.39.1: the package has one more release digit.
		flavour=${TOA_KVER##*-}
		base=${TOA_KVER%-*}
		ver=$(toa_zypper -q search -s -x "kernel-$flavour-devel" 2>/dev/null |
			awk -F'|' -v b="$base" '{ gsub(/ /, "", $4) }
				$4 == b || index($4, b ".") == 1 { print $4; exit }')
		echo "kernel-$flavour-devel=${ver:-$base}"
		;;
	esac
}

# Newest kernel release under /lib/modules, if newer than $TOA_KVER.
toa_newer_kernel() {
	local newest
	newest=$(find /lib/modules -mindepth 1 -maxdepth 1 -type d \
		-exec test -d '{}/kernel' ';' -printf '%f\n' 2>/dev/null |
		sort -V | tail -n 1)
	[ -n "$newest" ] && [ "$newest" != "$TOA_KVER" ] &&
		[ "$(printf '%s\n%s\n' "$TOA_KVER" "$newest" | sort -V | tail -n 1)" = "$newest" ] &&
		echo "$newest"
}

# toa_headers_die PKG [installed]: no headers; PKG was not to be had, or
# was installed and still did not give $TOA_KDIR.
toa_headers_die() {
	local pkg=$1 newer
	if [ "${2:-}" = installed ]; then
		toa_die "$pkg is installed, but $TOA_KDIR is still missing" \
			"reinstall it: $(toa_pm_cmd "$pkg"), or link $TOA_KDIR to the kernel's build tree"
	fi
	newer=$(toa_newer_kernel || true)
	if [ -n "$newer" ]; then
		toa_die "no kernel headers for the running kernel $TOA_KVER, and the package repositories no longer have $pkg" \
			"the running kernel is older than the installed kernel $newer (upgraded, not rebooted):" \
			"reboot into $newer, then run $TOA_PROG again"
	fi
	if [ "$TOA_PM" = none ]; then
		toa_die "no kernel headers for the running kernel $TOA_KVER ($TOA_KDIR is missing)" \
			"install the headers of kernel $TOA_KVER (with gcc and make), then run $TOA_PROG again"
	fi
	toa_die "no kernel headers for the running kernel $TOA_KVER: $TOA_KDIR is missing and the package repositories have no $pkg" \
		"if the repositories are out of date or incomplete, fix them, then: $(toa_pm_cmd "$pkg")" \
		"if not, this kernel is not from $TOA_DISTRO (a custom or cloud vendor's kernel):" \
		"install its headers from where the kernel came from, so that $TOA_KDIR exists," \
		"or boot a kernel of the distribution; then run $TOA_PROG again"
}

# gcc, make, the headers and (wanted) dkms; TOA_MODE falls back to file
# when the distribution has no dkms.
toa_build_deps() {
	local need=() hdr="" p
	command -v gcc >/dev/null 2>&1 || need+=(gcc)
	command -v make >/dev/null 2>&1 || need+=(make)
	if [ ! -e "$TOA_KDIR/Makefile" ]; then
		[ "$TOA_PM" != none ] || toa_headers_die "the headers package for $TOA_KVER"
		toa_pm_update
		hdr=$(toa_header_pkgs)
		for p in $hdr; do
			toa_pkg_installed "$p" || toa_pkg_available "$p" || toa_headers_die "$p"
		done
		# shellcheck disable=SC2206
		need+=($hdr)
	fi
	if [ "$TOA_MODE" = dkms ] && ! command -v dkms >/dev/null 2>&1; then
		toa_pm_update
		if [ "$TOA_PM" != none ] && toa_pkg_available dkms; then
			need+=(dkms)
			toa_meta_headers_pkg && need+=("$TOA_META_HEADERS")
		else
			case $TOA_PM in
			dnf | yum) p=" (RHEL family: DKMS comes from EPEL)" ;;
			*) p= ;;
			esac
			toa_say "DKMS is not available here$p: installing toa.ko itself; run $TOA_PROG again after each kernel upgrade"
			TOA_MODE='file'
		fi
	fi
	[ "${#need[@]}" -gt 0 ] || return 0
	[ "$TOA_PM" != none ] ||
		toa_die "cannot install ${need[*]}: $TOA_DISTRO is not a distribution this script knows" \
			"install ${need[*]} yourself, then run $TOA_PROG again"
	toa_pm_update
	toa_pkg_install "${need[@]}" ||
		toa_die "could not install ${need[*]} (package manager output above)" \
			"fix the package manager's problem (network, repositories), then run $TOA_PROG again" \
			"or install them yourself: $(toa_pm_cmd "${need[@]}")"
	[ -e "$TOA_KDIR/Makefile" ] || toa_headers_die "$hdr" installed
}

# Debian/Ubuntu: the headers meta package that follows the kernel meta
# package, so that DKMS finds headers for the next kernel too.
TOA_META_HEADERS=
toa_meta_headers_pkg() {
	local flavour=${TOA_KVER##*-}
	[ "$TOA_PM" = apt ] || return 1
	toa_pkg_installed "linux-image-$flavour" || return 1
	toa_pkg_installed "linux-headers-$flavour" && return 1
	toa_pkg_available "linux-headers-$flavour" || return 1
	TOA_META_HEADERS=linux-headers-$flavour
}

# --- build ---------------------------------------------------------------

# toa_copy_source DEST: the files that build toa.ko (no build products).
toa_copy_source() {
	mkdir -p "$1"
	cp "$TOA_SRC"/Kbuild "$TOA_SRC"/compat.mk "$TOA_SRC"/Makefile "$TOA_SRC"/dkms.conf \
		"$TOA_SRC"/*.c "$TOA_SRC"/*.h "$1"/
}

toa_build() {
	local dir="$TOA_TMP/build"
	toa_say "building toa.ko $TOA_VERSION for $TOA_KVER"
	toa_copy_source "$dir"
	if ! make -C "$dir" KDIR="$TOA_KDIR" >"$TOA_TMP/build.log" 2>&1; then
		tail -n 25 "$TOA_TMP/build.log" >&2
		toa_die "toa.ko did not build against $TOA_KDIR (compiler output above)" \
			"check that gcc is the one the kernel was built with and the headers are complete" \
			"then report the output above with: uname -r; cat /etc/os-release"
	fi
	TOA_KO=$dir/toa.ko
	[ -n "$TOA_SIGN_KEY$TOA_SIGN_CERT" ] || return 0
	toa_sign "$TOA_KO"
}

toa_sign() {
	if [ ! -r "$TOA_SIGN_KEY" ] || [ ! -r "$TOA_SIGN_CERT" ]; then
		toa_die "TOA_SIGN_KEY and TOA_SIGN_CERT must both name readable files"
	fi
	if [ -x "$TOA_KDIR/scripts/sign-file" ]; then
		"$TOA_KDIR/scripts/sign-file" sha256 "$TOA_SIGN_KEY" "$TOA_SIGN_CERT" "$1"
	elif command -v kmodsign >/dev/null 2>&1; then
		kmodsign sha512 "$TOA_SIGN_KEY" "$TOA_SIGN_CERT" "$1"
	else
		toa_die "no signing tool: neither $TOA_KDIR/scripts/sign-file nor kmodsign" \
			"install the full kernel headers (they carry scripts/sign-file)"
	fi || toa_die "signing toa.ko with $TOA_SIGN_KEY failed"
	toa_say "signed toa.ko with $TOA_SIGN_CERT"
}

# toa_modinfo FIELD FILE-OR-NAME
toa_modinfo() {
	modinfo -k "$TOA_KVER" -F "$1" "$2" 2>/dev/null | head -n 1
}

# --- install -------------------------------------------------------------

toa_state_add() {
	grep -qFx "$1" "$TOA_STATE" 2>/dev/null && return 0
	echo "$1" >>"$TOA_STATE"
}

toa_state_begin() {
	if [ -f "$TOA_STATE" ]; then
		cp -p "$TOA_STATE" "$TOA_TMP/state"
		toa_undo cp -p "$TOA_TMP/state" "$TOA_STATE"
	elif [ -d "$TOA_STATE_DIR" ]; then
		toa_undo rm -f "$TOA_STATE"
	else
		mkdir -p "$TOA_STATE_DIR"
		toa_undo rm -rf "$TOA_STATE_DIR"
	fi
	[ -f "$TOA_STATE" ] || : >"$TOA_STATE"
}

toa_install_file() {
	local dest=/lib/modules/$TOA_KVER/$TOA_MOD_SUBDIR/toa.ko
	if [ -f "$dest" ] &&
		[ "$(toa_modinfo srcversion "$dest")" = "$(toa_modinfo srcversion "$TOA_KO")" ] &&
		[ "$(toa_modinfo vermagic "$dest")" = "$(toa_modinfo vermagic "$TOA_KO")" ] &&
		{ [ -z "$TOA_SIGN_KEY" ] || [ -n "$(toa_modinfo signer "$dest")" ]; }; then
		toa_say "$dest is already this toa.ko"
	else
		toa_undo depmod -a "$TOA_KVER"
		if [ -f "$dest" ]; then
			cp -p "$dest" "$TOA_TMP/toa.ko.before"
			toa_undo cp -p "$TOA_TMP/toa.ko.before" "$dest"
		else
			toa_undo rm -f "$dest"
			toa_undo_mkdir "${dest%/*}"
		fi
		install -D -m 0644 "$TOA_KO" "$dest"
		depmod -a "$TOA_KVER"
		toa_say "installed $dest"
	fi
	toa_state_add "file $dest"
}

# toa_undo_mkdir DIR: the journal removes the part of DIR made from here on.
toa_undo_mkdir() {
	local dir=$1 top=
	while [ ! -d "$dir" ]; do
		top=$dir
		dir=${dir%/*}
	done
	[ -z "$top" ] || toa_undo rm -rf "$top"
}

# toa_dkms_remove VERSION [KERNEL]: remove from DKMS, if DKMS has it.
toa_dkms_remove() {
	toa_dkms_versions | grep -qFx "$1" || return 0
	if [ -n "${2:-}" ]; then
		dkms remove -m toa -v "$1" -k "$2" >/dev/null
	else
		dkms remove -m toa -v "$1" --all >/dev/null
	fi
}

# Where DKMS keeps the key and certificate it signs modules with.
toa_dkms_conf() {
	sed -n "s/^$1=[\"]*\([^\"]*\)[\"]*\$/\1/p" \
		/etc/dkms/framework.conf /etc/dkms/framework.conf.d/*.conf 2>/dev/null | tail -n 1
}
# Ubuntu's DKMS uses the key of update-secureboot-policy, shared with other
# modules (never removed here).
toa_dkms_key() {
	local k
	k=$(toa_dkms_conf mok_signing_key)
	[ -n "$k" ] || [ "$TOA_OS_ID" != ubuntu ] ||
		k=/var/lib/shim-signed/mok/MOK.priv
	echo "${k:-/var/lib/dkms/mok.key}"
}
toa_dkms_cert() {
	local c
	c=$(toa_dkms_conf mok_certificate)
	[ -n "$c" ] || [ "$TOA_OS_ID" != ubuntu ] ||
		c=/var/lib/shim-signed/mok/MOK.der
	echo "${c:-/var/lib/dkms/mok.pub}"
}

# DKMS made its MOK key in this run: it goes with the rest, unless Secure
# Boot needs it enrolled before the next run.
TOA_KEEP_MOK=0
toa_dkms_key_undo() {
	if [ "$TOA_KEEP_MOK" = 1 ]; then
		toa_say "kept $(toa_dkms_key) and $(toa_dkms_cert): enroll the certificate, then run $TOA_PROG again"
		return 0
	fi
	# Not /var/lib/dkms: it is the dkms package's, which stays.
	rm -f "$(toa_dkms_key)" "$(toa_dkms_cert)"
}

toa_dkms_status() {
	dkms status -m toa -v "$1" -k "$TOA_KVER" 2>/dev/null | grep -q ": $2"
}

# The versions of toa in the DKMS tree (not from dkms status, which fails
# once a version's source is gone).
toa_dkms_versions() {
	find /var/lib/dkms/toa -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort
}

toa_dkms_install() {
	local usrsrc=/usr/src/toa-$TOA_VERSION v log
	case $(toa_dkms_key) in
	/var/lib/dkms/*) [ -e "$(toa_dkms_key)" ] || toa_undo toa_dkms_key_undo ;;
	esac
	for v in $(toa_dkms_versions); do
		[ "$v" != "$TOA_VERSION" ] || continue
		toa_say "dkms: removing toa/$v, replaced by toa/$TOA_VERSION"
		toa_undo dkms install -m toa -v "$v" -k "$TOA_KVER"
		toa_dkms_remove "$v"
	done
	toa_copy_source "$TOA_TMP/dkms-src"
	if [ -d "$usrsrc" ] && ! diff -r "$TOA_TMP/dkms-src" "$usrsrc" >/dev/null 2>&1; then
		toa_say "dkms: $usrsrc differs from $TOA_SRC; replacing it"
		if toa_dkms_versions | grep -qFx "$TOA_VERSION"; then
			toa_undo dkms install -m toa -v "$TOA_VERSION" -k "$TOA_KVER"
			toa_undo dkms add -m toa -v "$TOA_VERSION"
			toa_dkms_remove "$TOA_VERSION"
		fi
		mv "$usrsrc" "$TOA_TMP/usrsrc.before"
		toa_undo mv "$TOA_TMP/usrsrc.before" "$usrsrc"
	fi
	if [ ! -d "$usrsrc" ]; then
		toa_undo rm -rf "$usrsrc"
		cp -r "$TOA_TMP/dkms-src" "$usrsrc"
	fi
	toa_state_add "usrsrc $usrsrc"
	if ! toa_dkms_versions | grep -qFx "$TOA_VERSION"; then
		toa_undo toa_dkms_remove "$TOA_VERSION"
		dkms add -m toa -v "$TOA_VERSION" >/dev/null ||
			toa_die "dkms add toa/$TOA_VERSION failed (output above)"
	fi
	toa_state_add "dkms $TOA_VERSION"
	if toa_dkms_status "$TOA_VERSION" installed; then
		toa_say "dkms: toa/$TOA_VERSION is already installed for $TOA_KVER"
		return 0
	fi
	toa_say "dkms: building and installing toa/$TOA_VERSION for $TOA_KVER"
	toa_undo toa_dkms_remove "$TOA_VERSION" "$TOA_KVER"
	if ! dkms install -m toa -v "$TOA_VERSION" -k "$TOA_KVER" >"$TOA_TMP/dkms.log" 2>&1; then
		cat "$TOA_TMP/dkms.log" >&2
		for log in "/var/lib/dkms/toa/$TOA_VERSION/build/make.log" \
			"/var/lib/dkms/toa/$TOA_VERSION/$TOA_KVER"/*/log/make.log; do
			[ ! -f "$log" ] || tail -n 25 "$log" >&2
		done
		toa_die "dkms install toa/$TOA_VERSION for $TOA_KVER failed (output above)" \
			"run $TOA_PROG --no-dkms to install without DKMS, or report the output above"
	fi
}

# --- load ----------------------------------------------------------------

toa_modprobe() {
	if [ "$TOA_KVER" != "$(uname -r)" ]; then
		modprobe -S "$TOA_KVER" "$@"
	else
		modprobe "$@"
	fi
}

toa_unload() {
	[ -d /sys/module/toa ] || return 0
	modprobe -r toa 2>/dev/null || rmmod toa
}

# A toa already loaded that is not the one being installed (other source,
# other kinds) is unloaded before the install; the journal loads it again.
toa_unload_other() {
	local have want mode
	[ "$TOA_LOAD" = 1 ] && [ -d /sys/module/toa ] || return 0
	have="$(cat /sys/module/toa/srcversion 2>/dev/null)"
	want="$(toa_modinfo srcversion "$TOA_KO")"
	if [ "$have" = "$want" ] && { [ -z "$TOA_KINDS" ] ||
		[ "$(cat /sys/module/toa/parameters/kinds 2>/dev/null)" = "$TOA_KINDS" ]; }; then
		return 0
	fi
	have=$(cat /sys/module/toa/parameters/kinds 2>/dev/null || true)
	mode=$(cat /sys/module/toa/parameters/ipv6_on_ipv4 2>/dev/null || true)
	toa_say "unloading the toa module that is loaded (another build or other kinds)"
	toa_unload || toa_die "the loaded toa module cannot be unloaded (in use?)" \
		"stop what uses it or reboot, then run $TOA_PROG again"
	toa_undo toa_modprobe toa ${have:+"kinds=$have"} ${mode:+"ipv6_on_ipv4=$mode"}
}

toa_load() {
	local out
	if [ "$TOA_LOAD" = 0 ]; then
		toa_say "not loading toa now (--no-load)"
		return 0
	fi
	if [ -d /sys/module/toa ]; then
		toa_say "toa is already loaded"
		toa_ipv6_on_ipv4_now
		return 0
	fi
	toa_say "loading toa$([ -z "$(toa_module_params)" ] || echo " with $(toa_module_params)")"
	toa_undo toa_unload
	# shellcheck disable=SC2046 # one word per parameter
	out=$(toa_modprobe toa $(toa_module_params) 2>&1) ||
		toa_load_failed "$out"
	[ -d /sys/module/toa ] || toa_load_failed "${out:-modprobe reported success but /sys/module/toa does not exist}"
}

# The loaded toa takes ipv6_on_ipv4 at run time: no reload for it.
toa_ipv6_on_ipv4_now() {
	local param=/sys/module/toa/parameters/ipv6_on_ipv4 have
	[ -n "$TOA_IPV6_ON_IPV4" ] && [ -f "$param" ] || return 0
	have=$(cat "$param")
	[ "$have" != "$TOA_IPV6_ON_IPV4" ] || return 0
	toa_undo toa_ipv6_on_ipv4_write "$have"
	toa_ipv6_on_ipv4_write "$TOA_IPV6_ON_IPV4" ||
		toa_die "the loaded toa refused ipv6_on_ipv4=$TOA_IPV6_ON_IPV4"
	toa_say "set ipv6_on_ipv4=$TOA_IPV6_ON_IPV4 in the loaded toa"
}

toa_ipv6_on_ipv4_write() {
	echo "$1" >/sys/module/toa/parameters/ipv6_on_ipv4
}

# Servers that drop a client whose address does not fit their listener.
TOA_SERVERS_IPV4_ONLY="nginx openresty"

# Says once what an IPv4-only listener of such a server does with an IPv6 client.
toa_ipv6_on_ipv4_note() {
	local server mode=$TOA_IPV6_ON_IPV4
	[ -n "$mode" ] || mode=$(cat /sys/module/toa/parameters/ipv6_on_ipv4 2>/dev/null || true)
	[ "$mode" != proxy ] || return 0
	for server in $TOA_SERVERS_IPV4_ONLY; do
		command -v "$server" >/dev/null 2>&1 || continue
		toa_say "note: $server is installed. Behind a proxy that carries IPv6 clients, toa gives an IPv4-only listener (nginx: 'listen 80;') an IPv6 client as a sockaddr_in6, and $server closes such connections without a reply or a log line. Two ways out:"
		echo "    listen dual-stack: 'listen [::]:80 ipv6only=off;' instead of 'listen 80;' (the client shows as its IPv6 address)"
		echo "    or run $TOA_PROG --ipv6-on-ipv4 proxy (IPv6 clients show as the proxy's address; the client through getsockopt(IPPROTO_IP, 4096); now: echo proxy > /sys/module/toa/parameters/ipv6_on_ipv4)"
		return 0
	done
}

# The trusted list in force now, also where toa was loaded before this run.
toa_apply_trust() {
	local proc=/proc/net/toa_trusted
	[ "$TOA_LOAD" = 1 ] && [ -n "$TOA_TRUST" ] || return 0
	[ -e "$proc" ] || toa_die "toa is loaded but has no $proc: an older toa is loaded" \
		"unload it (modprobe -r toa), then run $TOA_PROG again"
	if [ "${#TOA_TRUST}" -ge 4096 ]; then
		toa_say "the trusted list is longer than a page: it takes effect when toa is next loaded (modprobe -r toa && modprobe toa)"
		return 0
	fi
	printf '%s\n' "$TOA_TRUST" >"$proc" 2>"$TOA_TMP/trust.err" ||
		toa_die "the module refused the trusted list: $(cat "$TOA_TMP/trust.err") (dmesg | tail tells which prefix)"
	toa_say "trusted sources in force ($proc): $(paste -sd, - <"$proc")"
}

# No list: say what that leaves open, once per install.
toa_warn_untrusted() {
	[ -z "$TOA_TRUST" ] || return 0
	grep -qs 'trusted=' "$TOA_MODPROBE_DIR/toa.conf" && return 0
	toa_warn "no --trust given: toa uses TOA from any source. Any host that can reach this server directly, not through the proxy, can make its connections look as if they came from any address it likes (to your logs, access rules, rate limits). Give the proxies' source ranges: --trust CIDR[,CIDR...] or --trust-file FILE (README: Security)"
}

toa_load_failed() {
	local out=$1 file
	printf '%s\n' "$out" >&2
	dmesg 2>/dev/null | grep -i toa | tail -n 5 >&2 || true
	file=$(toa_modinfo filename toa)
	case $out in
	*"Required key not available"* | *"Key was rejected"*)
		toa_secure_boot_die "$file"
		;;
	*"Invalid module format"* | *"Exec format error"*)
		toa_die "the kernel refused toa.ko as built for another kernel (running: $(uname -r), built for: $TOA_KVER)" \
			"if a kernel upgrade is pending, reboot, then run $TOA_PROG again"
		;;
	*"Invalid argument"*)
		toa_die "the module refused its parameters ($(toa_module_params)) (dmesg above tells which)" \
			"kinds are TCP option numbers the proxy uses for TOA: 254 and 253 by default, 200 for Tencent CLB hybrid cloud" \
			"trusted= is a list of CIDR prefixes, e.g. 203.0.113.0/24,2001:db8:1::/48"
		;;
	*"not supported"* | *"unsupported"*)
		toa_die "this SUSE kernel refuses modules that are not supported by SUSE" \
			"allow them: echo 'allow_unsupported_modules 1' > /etc/modprobe.d/10-unsupported-modules.conf, then run $TOA_PROG again"
		;;
	esac
	if toa_in_container; then
		toa_die "loading toa failed: this is a container, which cannot load kernel modules" \
			"install toa on the host: containers share the host's kernel, and /proc/net/toa_stats shows in every container"
	fi
	if toa_secure_boot; then
		toa_secure_boot_die "$file"
	fi
	case $out in
	*"Function not implemented"*)
		toa_die "loading toa failed: this kernel cannot load modules (built without module support)" \
			"boot a kernel with module support (any distribution kernel), then run $TOA_PROG again"
		;;
	esac
	if [ "$(cat /proc/sys/kernel/modules_disabled 2>/dev/null || echo 0)" = 1 ]; then
		toa_die "loading toa failed: module loading is disabled on this machine (kernel.modules_disabled=1)" \
			"it is reset only by a reboot; load toa early at boot before that setting takes effect"
	fi
	toa_die "loading toa failed: ${out:-no reason given}" \
		"see dmesg | tail for the kernel's reason; check that this kernel can load modules at all (lsmod)"
}

toa_secure_boot_die() {
	local file=$1 cert
	TOA_KEEP_MOK=1
	if [ -n "$file" ] && [ -n "$(modinfo -F signer "$file" 2>/dev/null)" ]; then
		cert=${TOA_SIGN_CERT:-$(toa_dkms_cert)}
		toa_die "Secure Boot refused toa.ko: it is signed ($(modinfo -F signer "$file")), but with a key the firmware does not trust yet" \
			"enroll the key: mokutil --import $cert   (choose a one-time password)" \
			"reboot, pick 'Enroll MOK' in the blue MOK manager screen, enter the password" \
			"then run $TOA_PROG again"
	fi
	toa_die "Secure Boot is on and toa.ko is not signed, so the kernel will not load it" \
		"either install with DKMS on Debian/Ubuntu (install_toa.sh does): DKMS signs with its MOK key; enroll it once with mokutil --import $(toa_dkms_cert) and a reboot" \
		"or make your own key and enroll it:" \
		"  openssl req -new -x509 -newkey rsa:2048 -nodes -days 36500 -subj '/CN=toa module signing/' -keyout MOK.priv -outform DER -out MOK.der" \
		"  mokutil --import MOK.der; reboot; pick 'Enroll MOK'" \
		"  then: TOA_SIGN_KEY=\$PWD/MOK.priv TOA_SIGN_CERT=\$PWD/MOK.der $TOA_PROG   (signs with the headers' scripts/sign-file, or kmodsign on Ubuntu)" \
		"or turn Secure Boot off in the firmware setup"
}

# --- autoload ------------------------------------------------------------

# toa_write_conf PATH LINE: a file of ours with LINE; left alone if not ours.
toa_write_conf() {
	local path=$1 body
	body=$(printf '%s\n%s' "$TOA_MARK" "$2")
	if [ -f "$path" ] && [ "$(cat "$path")" = "$body" ]; then
		toa_state_add "conf $path"
		return 0
	fi
	if [ -f "$path" ] && ! grep -qFx "$TOA_MARK" "$path"; then
		toa_warn "$path exists and was not written by this installer; left as it is (wanted: $2)"
		return 0
	fi
	if [ -f "$path" ]; then
		cp -p "$path" "$TOA_TMP/conf.$$.${path##*/}"
		toa_undo cp -p "$TOA_TMP/conf.$$.${path##*/}" "$path"
	else
		toa_undo rm -f "$path"
		toa_undo_mkdir "${path%/*}"
		mkdir -p "${path%/*}"
	fi
	printf '%s\n' "$body" >"$path"
	toa_state_add "conf $path"
	toa_say "wrote $path"
}

toa_rc_local_in_use() {
	[ -f "$TOA_RC_LOCAL" ] && [ -x "$TOA_RC_LOCAL" ] || return 1
	toa_systemd || return 0
	systemctl is-enabled --quiet rc-local.service 2>/dev/null ||
		systemctl is-active --quiet rc-local.service 2>/dev/null
}

toa_rc_local_add() {
	if grep -qFx "$TOA_RC_LINE" "$TOA_RC_LOCAL"; then
		toa_state_add "rc_local $TOA_RC_LOCAL"
		return 0
	fi
	# Before a closing "exit 0", where one is, so that the line runs.
	awk -v line="$TOA_RC_LINE" '
		{ l[NR] = $0 }
		$0 ~ /^[ \t]*exit[ \t]+0[ \t]*$/ { last = NR }
		END {
			for (i = 1; i <= NR; i++) {
				if (i == last) print line
				print l[i]
			}
			if (!last) print line
		}' "$TOA_RC_LOCAL" >"$TOA_TMP/rc.local"
	toa_undo toa_rc_local_remove
	cat "$TOA_TMP/rc.local" >"$TOA_RC_LOCAL"
	toa_state_add "rc_local $TOA_RC_LOCAL"
	toa_say "added to $TOA_RC_LOCAL: $TOA_RC_LINE"
	if grep -q 'insmod .*toa\.ko' "$TOA_RC_LOCAL"; then
		toa_warn "$TOA_RC_LOCAL also has an insmod line for toa.ko (the manual install): remove it, the modprobe line loads the module installed now"
	fi
}

# Removes our line, and only that line.
toa_rc_local_remove() {
	[ -f "$TOA_RC_LOCAL" ] && grep -qFx "$TOA_RC_LINE" "$TOA_RC_LOCAL" || return 0
	grep -vFx "$TOA_RC_LINE" "$TOA_RC_LOCAL" >"$TOA_RC_LOCAL.toa-tmp" || true
	cat "$TOA_RC_LOCAL.toa-tmp" >"$TOA_RC_LOCAL"
	rm -f "$TOA_RC_LOCAL.toa-tmp"
	toa_say "removed the toa line from $TOA_RC_LOCAL"
}

toa_autoload() {
	local done=0
	if [ "$TOA_AUTOLOAD" = 0 ]; then
		toa_say "not loading toa at boot (--no-autoload)"
		return 0
	fi
	if toa_systemd; then
		toa_write_conf "$TOA_MODULES_LOAD_DIR/toa.conf" toa
		done=1
	fi
	if toa_rc_local_in_use; then
		toa_rc_local_add
		done=1
	fi
	[ "$done" = 1 ] ||
		toa_warn "no systemd and no executable $TOA_RC_LOCAL: toa will not load at boot; add 'modprobe toa' to your boot scripts"
}

# --- the two commands ----------------------------------------------------

toa_install() {
	toa_check_kinds
	toa_check_ipv6_on_ipv4
	toa_check_trust
	toa_need_root
	toa_begin
	toa_detect_distro
	toa_set_kernel
	toa_source_version "$TOA_SRC"
	toa_say "toa $TOA_VERSION for kernel $TOA_KVER on $TOA_DISTRO"
	toa_build_deps
	toa_build
	if toa_secure_boot && [ -z "$(toa_modinfo signer "$TOA_KO")" ] && [ "$TOA_MODE" = file ]; then
		toa_warn "Secure Boot is on and toa.ko is not signed: loading will likely be refused (set TOA_SIGN_KEY/TOA_SIGN_CERT to sign it)"
	fi
	toa_state_begin
	toa_unload_other
	if [ "$TOA_MODE" = dkms ]; then
		toa_dkms_install
	else
		toa_install_file
	fi
	[ -z "$TOA_NEW_PKGS" ] || toa_state_add "packages $TOA_NEW_PKGS"
	toa_write_params
	toa_autoload
	toa_load
	toa_apply_trust
	toa_warn_untrusted
	TOA_UNDO=()
	toa_say "done: toa $TOA_VERSION installed for $TOA_KVER ($TOA_MODE)"
	if [ "$TOA_LOAD" = 1 ]; then
		echo "\$ lsmod | grep toa"
		lsmod 2>/dev/null | grep toa || true
		echo "Check it works: cat /proc/net/toa_stats (syn_recv_sock_toa counts connections that carried the client address)"
	fi
	toa_ipv6_on_ipv4_note
}

toa_uninstall() {
	local kind arg pkgs="" kver removed=0
	toa_need_root
	toa_detect_distro
	if [ -d /sys/module/toa ]; then
		toa_unload || toa_die "toa is loaded and cannot be unloaded (in use?)" \
			"stop what uses it or reboot, then run $TOA_PROG --uninstall again"
		toa_say "unloaded toa"
		removed=1
	fi
	if [ -f "$TOA_STATE" ]; then
		# DKMS needs the source to remove a module: dkms lines first.
		sort "$TOA_STATE" >"$TOA_STATE.sorted"
		while read -r kind arg; do
			case $kind in
			dkms)
				if command -v dkms >/dev/null 2>&1 &&
					toa_dkms_versions | grep -qFx "$arg"; then
					toa_dkms_remove "$arg"
					toa_say "dkms: removed toa/$arg"
				fi
				;;
			usrsrc) rm -rf "$arg" ;;
			file)
				[ -f "$arg" ] || continue
				rm -f "$arg"
				rmdir -p --ignore-fail-on-non-empty "${arg%/*}" 2>/dev/null || true
				kver=${arg#/lib/modules/}
				kver=${kver%%/*}
				depmod -a "$kver"
				toa_say "removed $arg"
				;;
			packages) pkgs=$arg ;;
			esac
			removed=1
		done <"$TOA_STATE.sorted"
	fi
	# Ours by their mark, also without the record.
	for arg in "$TOA_MODULES_LOAD_DIR/toa.conf" "$TOA_MODPROBE_DIR/toa.conf"; do
		if [ -f "$arg" ] && grep -qFx "$TOA_MARK" "$arg"; then
			rm -f "$arg"
			toa_say "removed $arg"
			removed=1
		fi
	done
	toa_rc_local_remove
	rm -rf "$TOA_STATE_DIR"
	[ "$removed" = 1 ] || toa_say "nothing of toa's installer was found"
	[ -z "$pkgs" ] ||
		toa_say "kept the packages installed for building ($pkgs); remove them if nothing else needs them"
	toa_say "toa is uninstalled"
}

toa_main() {
	TOA_ARGS="$*"
	toa_parse_args "$@"
	if [ "$TOA_UNINSTALL" = 1 ]; then
		toa_uninstall
	else
		toa_install
	fi
}
