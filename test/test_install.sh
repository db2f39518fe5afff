#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_install.sh: the installers' promises, on a machine that may not be able
# to load modules: a failed run leaves the system as it was, a second run
# changes nothing, --uninstall leaves nothing, rc.local keeps all but our line.
# Root. The checks of options, messages and package managers (with stand-ins)
# need no kernel headers; the rest builds against the headers of
# TOA_TEST_KERNEL (default: the first /lib/modules/*/build found), which it
# treats as the running kernel, and is skipped without them.
# Autoload files go to a scratch directory, not /etc.
#
#   sudo test/test_install.sh          # ends with "N passed, N failed"
set -eu

# The installers under test.
scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)
# shellcheck source=test/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
check() { # check NAME CMD...
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

if [ "$(id -u)" -ne 0 ]; then
	skip "needs root"
	tap_end
	exit
fi
kver=${TOA_TEST_KERNEL:-}
if [ -z "$kver" ]; then
	for d in /lib/modules/*/build/Makefile; do
		[ -e "$d" ] || continue
		kver=${d#/lib/modules/}
		kver=${kver%%/*}
		break
	done
fi

scratch=$(mktemp -d /tmp/toa-test.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export TOA_RC_LOCAL=$scratch/etc/rc.local
export TOA_MODULES_LOAD_DIR=$scratch/etc/modules-load.d
export TOA_MODPROBE_DIR=$scratch/etc/modprobe.d
# As on a real system, the directories are there; the files are not.
mkdir -p "$TOA_MODULES_LOAD_DIR" "$TOA_MODPROBE_DIR"

# Names, sizes and contents of what an install may touch, with the packages;
# "nopkgs": without the packages; "times": with modification times, without
# the packages.
snapshot() {
	local fmt='%p %s\n'
	[ "${1:-}" != times ] || fmt='%p %s %T@\n'
	{
		find "/lib/modules/$kver" /usr/src /var/lib/dkms/toa /var/lib/toa "$scratch/etc" \
			-maxdepth 6 -path '/usr/src/linux-*' -prune -o \
			-printf "$fmt" 2>/dev/null || true
		find "/lib/modules/$kver" -maxdepth 1 -name 'modules.*' ! -name '*.bin' \
			-type f -exec md5sum {} + 2>/dev/null || true
		[ -n "${1:-}" ] ||
			dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 2>/dev/null || true
	} | sort
}

same_as() { # same_as FILE [nopkgs]
	snapshot "${2:-}" >"$scratch/now"
	diff "$1" "$scratch/now" >&2
}

run() { # run LOG SCRIPT ARGS...: the script's exit code, output in LOG
	local log=$1 rc=0
	shift
	bash "$scripts/$1" "${@:2}" >"$log" 2>&1 || rc=$?
	return "$rc"
}

# check_run NAME SCRIPT ARGS...: one result for the script's exit code, its output shown under a
# failure; returns that code.
check_run() {
	local name=$1
	shift
	if run "$scratch/o" "$@"; then
		pass "$name"
	else
		fail "$name"
		cat "$scratch/o" >&2
		return 1
	fi
}

has() { grep -q -- "$2" "$1"; }

# --- options, no system change ------------------------------------------
# expect NAME ok|fail PATTERN SCRIPT ARGS...: exit status and a line of output
expect() {
	local name=$1 want=$2 pattern=$3 rc=0
	shift 3
	run "$scratch/o" "$@" || rc=$?
	if { [ "$want" = ok ] && [ "$rc" -eq 0 ]; } ||
		{ [ "$want" = fail ] && [ "$rc" -ne 0 ]; }; then
		if has "$scratch/o" "$pattern"; then
			pass "$name"
			return 0
		fi
	fi
	fail "$name (exit $rc)"
	cat "$scratch/o" >&2
}

expect "--help" ok '--uninstall' install_toa.sh --help
expect "unknown option refused" fail 'unknown option --bogus' install_toa.sh --bogus
expect "compile_install_toa.sh has no --no-dkms" fail 'unknown option' \
	compile_install_toa.sh --no-dkms
expect "--kinds 254,x refused" fail 'comma-separated' install_toa.sh --kinds 254,x
expect "--kinds 300 refused" fail 'not a TCP option kind' install_toa.sh --kinds 300
expect "--trust /33 refused" fail '10.0.0.0/33 is not a CIDR prefix' \
	install_toa.sh --trust 10.0.0.0/24,10.0.0.0/33
expect "--trust /129 refused" fail '2001:db8::/129 is not a CIDR prefix' \
	install_toa.sh --trust 2001:db8::/129
expect "--trust a name refused" fail 'proxy.example is not a CIDR prefix' \
	install_toa.sh --trust proxy.example
expect "--trust empty prefix refused" fail 'an empty prefix' install_toa.sh --trust 10.0.0.0/8,,10.1.0.0/16
expect "--trust-file missing refused" fail 'cannot read it' \
	install_toa.sh --trust-file "$scratch/no-such-file"
printf '# only a comment\n\n' >"$scratch/trust-empty"
expect "--trust-file without a prefix refused" fail 'no prefix in it' \
	install_toa.sh --trust-file "$scratch/trust-empty"
if command -v runuser >/dev/null 2>&1; then
	if ! runuser -u nobody -- bash "$scripts/install_toa.sh" >"$scratch/o" 2>&1 &&
		has "$scratch/o" 'must run as root'; then
		pass "refuses to run as non-root"
	else
		fail "refuses to run as non-root"
	fi
fi

# --- --ipv6-on-ipv4, and the note for servers that drop IPv6 clients ----
expect "--ipv6-on-ipv4 bogus refused" fail '--ipv6-on-ipv4 bogus: not a choice' \
	install_toa.sh --ipv6-on-ipv4 bogus
expect "--help names --ipv6-on-ipv4" ok '--ipv6-on-ipv4 MODE' install_toa.sh --help

# lib SCRIPT...: runs SCRIPT with toa-lib.sh sourced, output in $scratch/o.
lib() {
	# shellcheck disable=SC2016
	bash -c '. "$1"; eval "$2"' _ "$scripts/toa-lib.sh" "$1" >"$scratch/o" 2>&1
}
# The modprobe.d line an install writes.
params_conf() { # params_conf ARGS...
	lib "toa_parse_args $*; TOA_TMP=$scratch; toa_write_params" &&
		tail -n 1 "$TOA_MODPROBE_DIR/toa.conf" 2>/dev/null
	rm -f "$TOA_MODPROBE_DIR/toa.conf"
}
check "--ipv6-on-ipv4 proxy: written to modprobe.d" \
	test "$(params_conf --ipv6-on-ipv4 proxy)" = 'options toa ipv6_on_ipv4=proxy'
check "--kinds and --ipv6-on-ipv4: one modprobe.d line" \
	test "$(params_conf --kinds 254,200 --ipv6-on-ipv4=sockaddr_in6)" = \
	'options toa kinds=254,200 ipv6_on_ipv4=sockaddr_in6'

# A stand-in nginx; the real one (if any) is in /usr/sbin, left out of PATH.
mkdir -p "$scratch/servers"
printf '#!/bin/sh\nexit 0\n' >"$scratch/servers/nginx"
chmod +x "$scratch/servers/nginx"
note() { # note PATH ARGS...: what the install's last step says
	lib "PATH=$1; toa_parse_args ${*:2}; toa_ipv6_on_ipv4_note"
}
if note "$scratch/servers:/usr/bin:/bin" && [ "$(grep -c 'note: nginx is installed' "$scratch/o")" = 1 ] &&
	has "$scratch/o" "'listen \[::\]:80 ipv6only=off;'" && has "$scratch/o" '--ipv6-on-ipv4 proxy'; then
	pass "nginx installed: the note, once, with both ways out"
else
	fail "nginx installed: the note, once, with both ways out"
	cat "$scratch/o" >&2
fi
note "$scratch/servers:/usr/bin:/bin" --ipv6-on-ipv4 proxy
check "nginx installed, --ipv6-on-ipv4 proxy: no note" test ! -s "$scratch/o"
note /usr/bin:/bin
check "no nginx: no note" test ! -s "$scratch/o"

# --- what a refused load says ------------------------------------------
# diagnose NAME PATTERN SECURE-BOOT(0|1) MODPROBE-OUTPUT
diagnose() {
	local name=$1 pattern=$2
	# shellcheck disable=SC2016
	if bash -c '
		set -eu
		. "$1"
		sb=$2 ko=$3
		TOA_KVER=$(uname -r)
		toa_in_container() { return 1; }
		toa_secure_boot() { [ "$sb" = 1 ]; }
		toa_modinfo() { [ "$1" != filename ] || echo "$ko"; }
		toa_load_failed "$4"' _ "$scripts/toa-lib.sh" "$3" "$scratch/unsigned.ko" "$4" \
		>"$scratch/o" 2>&1; then
		fail "$name: did not fail"
	elif has "$scratch/o" "$pattern"; then
		pass "$name"
	else
		fail "$name"
		cat "$scratch/o" >&2
	fi
}
: >"$scratch/unsigned.ko"
diagnose "Secure Boot, unsigned: how to sign" 'mokutil --import MOK.der' 0 \
	"modprobe: ERROR: could not insert 'toa': Key was rejected by service"
diagnose "Secure Boot, unsigned: sign-file/kmodsign" 'kmodsign' 1 \
	"modprobe: ERROR: could not insert 'toa': Required key not available"
diagnose "Secure Boot on, other error: still the key advice" 'not signed' 1 \
	"modprobe: ERROR: could not insert 'toa': Operation not permitted"
diagnose "wrong kernel: reboot" 'reboot' 0 \
	"modprobe: ERROR: could not insert 'toa': Exec format error"
diagnose "bad kinds" 'kinds are TCP option numbers' 0 \
	"modprobe: ERROR: could not insert 'toa': Invalid argument"
diagnose "SUSE unsupported module" 'allow_unsupported_modules 1' 0 \
	"modprobe: ERROR: module 'toa' is unsupported"
diagnose "no module support" 'without module support' 0 \
	"modprobe: ERROR: could not insert 'toa': Function not implemented"

# --- distributions ------------------------------------------------------
# Only Debian runs here. For the others, their os-release and stand-in
# package managers (they answer queries and install nothing) check which
# package manager the installer picks, which header packages it asks for, and
# the command it gives when they cannot be had.
stubs=$scratch/pm
mkdir -p "$stubs/dnf" "$stubs/yum"
cat >"$stubs/dnf/zypper" <<'STUB'
#!/bin/sh
# zypper search -s -x NAME: one match, a release digit past uname -r's.
[ "$3 $4 $5" = "search -s -x" ] || exit 1
printf '%s\n' 'S | Name | Type | Version | Arch | Repository' \
	"  | $6 | package | 5.14.21-150500.55.39.1 | x86_64 | Update"
STUB
printf '#!/bin/sh\nexit 1\n' >"$stubs/dnf/rpm"	# nothing is installed
# shellcheck disable=SC2016 # for the stub's shell
printf '#!/bin/sh\ncase " $* " in *" list "*) exit 0 ;; esac\nexit 1\n' >"$stubs/dnf/dnf"
cp "$stubs/dnf/dnf" "$stubs/dnf/yum"
cp "$stubs/dnf/yum" "$stubs/dnf/rpm" "$stubs/yum/"
chmod +x "$stubs"/*/*

# distro NAME STUBS KVER OS-RELEASE EXPECTED [TOLD]: the first line of output
# is EXPECTED ("pm: header packages"), and the no-headers error tells TOLD.
distro() {
	local name=$1
	printf '%s\n' "$4" >"$scratch/os-release"
	# shellcheck disable=SC2016
	bash -c '
		. "$1"
		PATH=$2:$PATH TOA_KVER=$3 TOA_KDIR=/nonexistent
		toa_newer_kernel() { return 1; }
		toa_detect_distro
		echo "$TOA_PM: $(toa_header_pkgs)"
		toa_headers_die "$(toa_header_pkgs)"' _ "$scripts/toa-lib.sh" "$stubs/$2" "$3" \
		>"$scratch/o" 2>&1 || true	# it ends in that error
	if [ "$(head -n 1 "$scratch/o")" = "$5" ] && has "$scratch/o" "error: no kernel headers" &&
		has "$scratch/o" "${6:-then: ${5%%:*} install -y ${5#*: }}"; then
		pass "$name: $5"
	else
		fail "$name: want $5"
		cat "$scratch/o" >&2
	fi
}
export TOA_OS_RELEASE=$scratch/os-release
el9=5.14.0-362.8.1.el9_3.x86_64
distro "Ubuntu 22.04" dnf 5.15.0-91-generic 'ID=ubuntu
ID_LIKE=debian' "apt: linux-headers-5.15.0-91-generic" \
	"then: apt-get install -y linux-headers-5.15.0-91-generic"
distro "RHEL 9" dnf $el9 'ID="rhel"
ID_LIKE="fedora"' "dnf: kernel-devel-$el9 kernel-headers elfutils-libelf-devel"
# arm64: the release names the architecture, so the same rule names its packages.
distro "Debian 12 arm64" dnf 6.1.0-57-arm64 'ID=debian' "apt: linux-headers-6.1.0-57-arm64" \
	"then: apt-get install -y linux-headers-6.1.0-57-arm64"
distro "RHEL 9 aarch64" dnf 5.14.0-362.8.1.el9_3.aarch64 'ID="rhel"
ID_LIKE="fedora"' "dnf: kernel-devel-5.14.0-362.8.1.el9_3.aarch64 kernel-headers elfutils-libelf-devel"
distro "Rocky 9" dnf $el9 'ID="rocky"
ID_LIKE="rhel centos fedora"' "dnf: kernel-devel-$el9 kernel-headers elfutils-libelf-devel"
distro "AlmaLinux 9" dnf $el9 'ID="almalinux"
ID_LIKE="rhel centos fedora"' "dnf: kernel-devel-$el9 kernel-headers elfutils-libelf-devel"
distro "TencentOS 3" dnf 5.4.119-19.0009.28 'ID="tencentos"
ID_LIKE="rhel fedora centos"' "dnf: kernel-devel-5.4.119-19.0009.28 kernel-headers elfutils-libelf-devel"
distro "Fedora 39" dnf 6.5.6-300.fc39.x86_64 'ID=fedora' \
	"dnf: kernel-devel-6.5.6-300.fc39.x86_64 kernel-headers elfutils-libelf-devel"
distro "CentOS 7 (yum)" yum 3.10.0-1160.el7.x86_64 'ID="centos"
ID_LIKE="rhel fedora"' "yum: kernel-devel-3.10.0-1160.el7.x86_64 kernel-headers elfutils-libelf-devel"
distro "openSUSE Leap 15.5" dnf 5.14.21-150500.55.39-default 'ID="opensuse-leap"
ID_LIKE="suse opensuse"' "zypper: kernel-default-devel=5.14.21-150500.55.39.1" \
	"then: zypper install kernel-default-devel=5.14.21-150500.55.39.1"
distro "SLES 15" dnf 5.14.21-150500.55.39-default 'ID="sles"
ID_LIKE="suse"' "zypper: kernel-default-devel=5.14.21-150500.55.39.1" \
	"then: zypper install kernel-default-devel=5.14.21-150500.55.39.1"
distro "Alpine (unknown)" dnf 6.6.0-0-lts 'ID=alpine' "none: " \
	"install the headers of kernel 6.6.0-0-lts"
unset TOA_OS_RELEASE

# --- package managers: lock waits, packages kept --------------------------
# Stand-ins for every package manager: each records its arguments (and
# ZYPP_LOCK_TIMEOUT) in calls.log and "installs" into the list "installed";
# apt-get update finds the lists lock held on its first $LOCKED runs.
rec=$scratch/rec
mkdir -p "$rec"
cat >"$rec/pm" <<'STUB'
#!/bin/bash
dir=$(dirname "$0") name=$(basename "$0")
echo "$name $*${ZYPP_LOCK_TIMEOUT:+ ZYPP_LOCK_TIMEOUT=$ZYPP_LOCK_TIMEOUT}" >>"$dir/calls.log"
installed=$dir/installed
touch "$installed"
# shellcheck disable=SC2016 # dpkg-query's formats
case "$name $*" in
'dpkg-query '*'${Status}'*) grep -qx -- "${!#}" "$installed" && echo "install ok installed" ;;
'dpkg-query '*) sed 's/^/ii /' "$installed" ;;
'rpm -qa '*) cat "$installed" ;;
'rpm '*) grep -qx -- "${!#}" "$installed" ;;
'apt-cache '*) echo "  Candidate: 1.0" ;;
'apt-get '*' update'*)
	if [ "$(grep -c '^apt-get .* update' "$dir/calls.log")" -le "${LOCKED:-0}" ]; then
		echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1 (apt-get)" >&2
		exit 100
	fi
	;;
*' install '*)
	while [ "$1" != install ]; do shift; done
	for p in "${@:2}"; do
		case $p in -*) ;; *) echo "$p" >>"$installed" ;; esac
	done
	sort -o "$installed" "$installed"
	;;
esac
STUB
chmod +x "$rec/pm"
for p in apt-get apt-cache dpkg-query dnf yum zypper rpm; do
	ln -s pm "$rec/$p"
done

# pm_run PM [LOCKED]: with the stand-in PM, update, ask for dkms, install gcc
# and make, and then a later step fails; the output goes to $scratch/o.
pm_run() {
	rm -f "$rec/calls.log" "$rec/installed"
	# shellcheck disable=SC2016
	LOCKED=${2:-0} bash -c '
		set -eu
		. "$1"
		PATH=$2:$PATH TOA_PM=$3 TOA_LOCK_POLL=0
		toa_begin
		toa_pm_update
		toa_pkg_available dkms || true
		toa_pkg_install gcc make
		toa_die "a later step failed"' _ "$scripts/toa-lib.sh" "$rec" "$1" >"$scratch/o" 2>&1
}

# pm_waits PM OPTION: every call of PM carried OPTION, an install among them.
pm_waits() {
	local calls
	calls=$(grep "^${1/#apt/apt-get} " "$rec/calls.log")
	grep -q ' install ' <<<"$calls" && ! grep -v -- "$2" <<<"$calls" >&2
}

# pm_kept: the failed run removed no package, and named the ones it kept.
pm_kept() {
	! grep -E ' (remove|purge|erase|autoremove) ' "$rec/calls.log" &&
		[ "$(cat "$rec/installed")" = "$(printf 'gcc\nmake')" ] &&
		has "$scratch/o" 'kept the packages installed for building (gcc make)'
}

for pm in apt dnf yum zypper; do
	case $pm in
	apt) opt='-o DPkg::Lock::Timeout=600' ;;
	dnf | yum) opt='--setopt=exit_on_lock=False' ;;
	zypper) opt='ZYPP_LOCK_TIMEOUT=600' ;;
	esac
	if pm_run "$pm"; then
		fail "$pm: the run did not fail"
		cat "$scratch/o" >&2
		continue
	fi
	check "$pm: every call waits for the lock ($opt)" pm_waits "$pm" "$opt"
	check "$pm: a failed install keeps the packages installed for building, names them" pm_kept
done
if ! pm_run apt 2 && [ "$(grep -c '^apt-get .* update' "$rec/calls.log")" = 3 ] &&
	! has "$scratch/o" 'apt-get update failed' && has "$scratch/o" "holds apt's lock"; then
	pass "apt: update waits for the lists lock (held for two runs), says so"
else
	fail "apt: update waits for the lists lock (held for two runs), says so"
	cat "$scratch/o" "$rec/calls.log" >&2
fi

# os-release is read once: from a pipe, a second read would wait forever.
mkfifo "$scratch/os-release.fifo"
# shellcheck disable=SC2016 # for the writer's shell
timeout 30 sh -c 'printf "%s\n" ID=ubuntu ID_LIKE=debian "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"" \
	>"$1"' _ "$scratch/os-release.fifo" &
# shellcheck disable=SC2016
TOA_OS_RELEASE=$scratch/os-release.fifo timeout 30 bash -c '
	set -eu
	. "$1"
	PATH=$2:$PATH
	toa_dkms_conf() { :; }	# not this host'"'"'s DKMS configuration
	toa_detect_distro
	echo "$TOA_PM|$TOA_DISTRO|$(toa_dkms_key)|$(toa_dkms_cert)"' _ "$scripts/toa-lib.sh" "$rec" \
	>"$scratch/o" 2>&1 || true
wait
if [ "$(cat "$scratch/o")" = \
	"apt|Ubuntu 22.04.4 LTS|/var/lib/shim-signed/mok/MOK.priv|/var/lib/shim-signed/mok/MOK.der" ]; then
	pass "os-release read once: distribution, package manager, Ubuntu's DKMS key"
else
	fail "os-release read once: distribution, package manager, Ubuntu's DKMS key"
	cat "$scratch/o" >&2
fi

# --- from here on: builds against kernel headers ---------------------------
if [ -z "$kver" ]; then
	skip "the rest: no kernel headers under /lib/modules/*/build"
	tap_end
	exit
fi
export TOA_KERNEL=$kver
# A real system has modules.dep already; create it so snapshots compare.
[ -e "/lib/modules/$kver/modules.dep" ] || depmod -a "$kver" 2>/dev/null

# --- failures roll back -------------------------------------------------
snapshot >"$scratch/before"
if ! TOA_KERNEL=0.0.0-toa-test run "$scratch/o" install_toa.sh &&
	has "$scratch/o" 'no kernel headers for the running kernel 0.0.0-toa-test'; then
	pass "no headers: says which"
else
	fail "no headers: says which"
fi
check "no headers: nothing changed" same_as "$scratch/before"

installed_pkgs() {
	dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 ~ /^.i/ { print $2 }' | sort
}

# kept_named BEFORE: the packages installed since the list BEFORE are there,
# and the run's output named them as kept (or there are none, and it named none).
kept_named() {
	local added
	added=$(installed_pkgs | comm -13 "$1" - | tr '\n' ' ')
	if [ -n "$added" ]; then
		has "$scratch/o" "kept the packages installed for building (${added% })"
	elif has "$scratch/o" 'kept the packages'; then
		return 1
	fi
}

# Loading a module for a kernel that is not the running one fails (or the
# machine cannot load modules at all): the run must undo everything but the
# packages installed for building.
if [ "$kver" != "$(uname -r)" ] || [ ! -e /proc/modules ]; then
	for script in install_toa.sh compile_install_toa.sh; do
		touch "$TOA_RC_LOCAL" && chmod +x "$TOA_RC_LOCAL"
		snapshot nopkgs >"$scratch/before"
		installed_pkgs >"$scratch/pkgs.before"
		if ! run "$scratch/o" "$script" --kinds 254,253,200 &&
			has "$scratch/o" 'error: loading toa failed\|error: the kernel refused\|error: Secure Boot' &&
			has "$scratch/o" 'rolled back'; then
			pass "$script: load fails, says why, rolls back"
		else
			fail "$script: load fails, says why, rolls back"
			cat "$scratch/o" >&2
		fi
		check "$script: load failure left the system as it was" same_as "$scratch/before" nopkgs
		check "$script: load failure kept the packages it installed, and named them" \
			kept_named "$scratch/pkgs.before"
		rm -f "$TOA_RC_LOCAL"
	done
else
	skip "load failure (this machine can load toa for $kver)"
fi

# --- install twice, uninstall -------------------------------------------
printf '%s\n' '# the proxies' '203.0.113.0/24  # EdgeOne' '' '  2001:db8:1::/48' >"$scratch/trust"
trusted=198.51.100.0/24,203.0.113.0/24,2001:db8:1::/48
install_args=(--no-load --kinds "254,253,200" --trust 198.51.100.0/24 --trust-file "$scratch/trust")
for script in compile_install_toa.sh install_toa.sh; do
	printf '#!/bin/sh\n/sbin/modprobe toa\necho hello\nexit 0\n' >"$TOA_RC_LOCAL"
	chmod +x "$TOA_RC_LOCAL"
	cp -p "$TOA_RC_LOCAL" "$scratch/rc.before"
	snapshot nopkgs >"$scratch/before"
	TOA_INIT=systemd check_run "$script --no-load: installs" "$script" "${install_args[@]}" || continue
	mode='file'
	has "$scratch/o" '(dkms)$' && mode=dkms
	if [ "$mode" = dkms ]; then
		check "$script: dkms has toa installed for $kver" \
			bash -c "dkms status -m toa -k '$kver' | grep -q ': installed'"
	else
		check "$script: toa.ko in kernel/net/netfilter/ipvs" \
			test -f "/lib/modules/$kver/kernel/net/netfilter/ipvs/toa.ko"
	fi
	check "$script: modprobe finds it" \
		bash -c "modinfo -k '$kver' -F name toa | grep -qx toa"
	check "$script: modules-load.d/toa.conf" grep -qx toa "$TOA_MODULES_LOAD_DIR/toa.conf"
	check "$script: modprobe.d/toa.conf has the kinds and the trusted list" \
		grep -qx "options toa kinds=254,253,200 trusted=$trusted" "$TOA_MODPROBE_DIR/toa.conf"
	check "$script: no warning about untrusted sources with --trust" \
		bash -c "! grep -q 'no --trust given' '$scratch/o'"
	check "$script: rc.local line before exit 0" \
		bash -c "tail -n 2 '$TOA_RC_LOCAL' | head -n 1 | grep -q '^/sbin/modprobe toa # toa:'"
	snapshot times >"$scratch/installed"
	cp "$TOA_RC_LOCAL" "$scratch/rc.installed"
	TOA_INIT=systemd check_run "$script: second run succeeds" "$script" "${install_args[@]}" || true
	check "$script: second run changed nothing" same_as "$scratch/installed" times
	check "$script: one rc.local line" cmp -s "$TOA_RC_LOCAL" "$scratch/rc.installed"
	check_run "$script --uninstall" "$script" --uninstall || true
	check "$script: --uninstall left nothing" same_as "$scratch/before" nopkgs
	check "$script: rc.local as before, the user's modprobe line kept" \
		cmp -s "$TOA_RC_LOCAL" "$scratch/rc.before"
	check "$script: second --uninstall is fine" run "$scratch/o" "$script" --uninstall
done

# --- --no-autoload --------------------------------------------------------
snapshot nopkgs >"$scratch/before"
cp -p "$TOA_RC_LOCAL" "$scratch/rc.before"
if TOA_INIT=systemd run "$scratch/o" install_toa.sh --no-load --no-autoload &&
	has "$scratch/o" 'not loading toa at boot'; then
	pass "--no-autoload: installs, says toa will not load at boot"
else
	fail "--no-autoload: installs, says toa will not load at boot"
	cat "$scratch/o" >&2
fi
check "--no-autoload: no modules-load.d/toa.conf" test ! -e "$TOA_MODULES_LOAD_DIR/toa.conf"
check "without --trust: warns that TOA is used from any source, names the options" \
	bash -c "grep -q 'warning: no --trust given: toa uses TOA from any source.*--trust CIDR\[,CIDR...\] or --trust-file FILE' '$scratch/o'"
check "--no-autoload: rc.local untouched" cmp -s "$TOA_RC_LOCAL" "$scratch/rc.before"
run "$scratch/o" install_toa.sh --uninstall || cat "$scratch/o" >&2
check "--no-autoload: --uninstall left nothing" same_as "$scratch/before" nopkgs

# --- signing for Secure Boot ---------------------------------------------
# A MOK-style key of our own; the installed toa.ko must carry its signature.
if command -v openssl >/dev/null 2>&1; then
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=toa test key/" \
		-keyout "$scratch/MOK.priv" -outform DER -out "$scratch/MOK.der" >/dev/null 2>&1
	snapshot nopkgs >"$scratch/before"
	if TOA_SIGN_KEY=$scratch/MOK.priv TOA_SIGN_CERT=$scratch/MOK.der \
		run "$scratch/o" compile_install_toa.sh --no-load --no-autoload &&
		has "$scratch/o" 'signed toa.ko'; then
		pass "TOA_SIGN_KEY: compile_install_toa.sh signs toa.ko"
	else
		fail "TOA_SIGN_KEY: compile_install_toa.sh signs toa.ko"
		cat "$scratch/o" >&2
	fi
	check "TOA_SIGN_KEY: the installed toa.ko is signed by that key" bash -c \
		"modinfo -F signer '/lib/modules/$kver/kernel/net/netfilter/ipvs/toa.ko' | grep -qx 'toa test key'"
	run "$scratch/o" compile_install_toa.sh --uninstall || cat "$scratch/o" >&2
	check "TOA_SIGN_KEY: --uninstall left nothing" same_as "$scratch/before" nopkgs
else
	skip "signing (no openssl)"
fi

# --- make install, make uninstall, modinfo --------------------------------
# In a copy of the source as the installers make it, into a staging root.
mkdir -p "$scratch/src/scripts" "$scratch/staging"
bash -c '. "$1"; TOA_SRC=$2; toa_copy_source "$3"' _ "$scripts/toa-lib.sh" "$scripts/.." "$scratch/src"
cp "$scripts/install.mk" "$scratch/src/scripts/"
staged=$scratch/staging/lib/modules/$kver/kernel/net/netfilter/ipvs
make_toa() {
	make -C "$scratch/src" KDIR="/lib/modules/$kver/build" \
		INSTALL_MOD_PATH="$scratch/staging" "$1" >"$scratch/o" 2>&1
}
if make_toa install && [ -f "$staged/toa.ko" ]; then
	pass "make install: toa.ko in kernel/net/netfilter/ipvs"
else
	fail "make install: toa.ko in kernel/net/netfilter/ipvs"
	cat "$scratch/o" >&2
fi
check "make install: depmod lists it" \
	grep -q '^kernel/net/netfilter/ipvs/toa.ko:' "$scratch/staging/lib/modules/$kver/modules.dep"
check "modinfo toa: the kinds parameter documented" \
	bash -c "modinfo -F parm '$staged/toa.ko' | grep -q '^kinds:TCP option kinds'"
check "modinfo toa: the ipv6_on_ipv4 parameter documented" \
	bash -c "modinfo -F parm '$staged/toa.ko' | grep -q '^ipv6_on_ipv4:What accept() and getpeername() on an IPv4 socket return for an IPv6 client: sockaddr_in6 (default.*or proxy'"
check "modinfo toa: the trusted parameter documented" \
	bash -c "modinfo -F parm '$staged/toa.ko' | grep -q '^trusted:CIDR prefixes of the proxies'"
if make_toa uninstall && [ ! -e "$staged/toa.ko" ]; then
	pass "make uninstall: toa.ko removed"
else
	fail "make uninstall: toa.ko removed"
	cat "$scratch/o" >&2
fi
check "make uninstall: depmod no longer lists it" \
	bash -c "! grep -q toa.ko '$scratch/staging/lib/modules/$kver/modules.dep'"

tap_end
