#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_dist.sh: make dist's promises, on the host (no kernel needed): it works
# from a clean checkout; every file matches its .sha256; the self-contained
# install_toa.sh checks its embedded source, refuses a damaged one having
# changed nothing, and passes every option through; the .deb and the .rpm hold
# the source DKMS builds, the modules-load.d entry, their dependencies and
# the same maintainer scripts, which do what they say against a stand-in dkms;
# lintian finds nothing in the .deb.
#
#   test/test_dist.sh          # TAP; ends with "N passed, N failed"
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/tap.sh
. "$repo/test/tap.sh"
check() { # check NAME CMD...: CMD's output shows under a failure
	local label=$1 out
	shift
	if out=$("$@" 2>&1); then pass "$label"; else fail "$label"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}

scratch=$(mktemp -d /tmp/toa-test-dist.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
echo "TAP version 13"

# --- make dist from a clean checkout of this commit --------------------------
clone=$scratch/clone
dist=$clone/dist
if ! git -C "$repo" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	skip "make dist: $repo is not a git checkout"
	tap_end
	exit
fi
git clone -q "$repo" "$clone" && git -C "$clone" checkout -q "$(git -C "$repo" rev-parse HEAD)"
if ! make -C "$clone" -s dist >"$scratch/dist.log" 2>&1; then
	fail "make dist from a clean checkout"
	sed 's/^/# /' "$scratch/dist.log"
	tap_end
	exit
fi
pass "make dist from a clean checkout"
check "dist/ is not part of the tree (gitignored)" test -z "$(git -C "$clone" status --porcelain)"

# The version as make dist reads it; toa-lib.sh also says which files build toa.
# shellcheck source=scripts/toa-lib.sh
. "$clone/scripts/toa-lib.sh"
toa_source_version "$clone"
version=$TOA_VERSION
name=toa-$version
deb=$dist/toa-dkms_${version}_all.deb
rpm=$dist/toa-dkms-$version-1.noarch.rpm
srpm=$dist/toa-dkms-$version-1.src.rpm
installer=$dist/install_toa.sh

all_there() {
	local f
	for f in "$name.tar.gz" install_toa.sh "${deb##*/}" toa.spec "${rpm##*/}" "${srpm##*/}"; do
		[ -f "$dist/$f" ] || { echo "missing: $f"; return 1; }
		[ -f "$dist/$f.sha256" ] || { echo "missing: $f.sha256"; return 1; }
	done
}
check "dist/ has the tarball, installer, .deb, spec, .rpm and .src.rpm of toa $version, each with a .sha256" all_there
check "every file matches its .sha256" sh -c "cd '$dist' && sha256sum -c --strict *.sha256"

tarball_is_head() {
	diff <(tar -tzf "$dist/$name.tar.gz" | grep -v '/$' | sort) \
		<(git -C "$clone" ls-files | sed "s|^|$name/|" | sort)
}
check "$name.tar.gz: the committed files under $name/" tarball_is_head

# --- the self-contained installer ------------------------------------------
tar -xzf "$dist/$name.tar.gz" -C "$scratch"
# What a package installs: the files that build toa.ko as the installers copy
# them, and the boot entry.
TOA_SRC=$scratch/$name
toa_copy_source "$scratch/build-files"
src_files() {
	(cd "$scratch/build-files" && find . -type f | sed "s|^\.|/usr/src/$name|")
	echo /usr/lib/modules-load.d/toa.conf
}
check "install_toa.sh fits in one argument of bash -c \"\$(curl ...)\" (128 KiB)" \
	test "$(stat -c %s "$installer")" -le 131072

# The embedded tar.gz: the lines between the marker and TOA_SOURCE_END.
payload() {
	sed -n "/^	cat <<'TOA_SOURCE_END'\$/,/^TOA_SOURCE_END\$/p" "$1" | sed '1d;$d'
}
payload_checks() {
	local want
	want=$(sed -n 's/^TOA_EMBEDDED_SHA256=//p' "$installer")
	payload "$installer" | base64 -d >"$scratch/payload.tar.gz" || return 1
	[ "$(sha256sum <"$scratch/payload.tar.gz" | cut -d' ' -f1)" = "$want" ] ||
		{ echo "embedded source does not match TOA_EMBEDDED_SHA256=$want"; return 1; }
	mkdir "$scratch/payload" && tar -xzf "$scratch/payload.tar.gz" -C "$scratch/payload" || return 1
	for f in toa_main.c Kbuild Makefile compat.mk dkms.conf scripts/install_toa.sh scripts/toa-lib.sh; do
		[ -f "$scratch/payload/$name/$f" ] || { echo "not embedded: $f"; return 1; }
	done
	# The tarball's own files, dkms.conf's version set as the installers set it.
	(cd "$scratch/payload" && find "$name" -type f ! -name dkms.conf) | while read -r f; do
		cmp "$scratch/payload/$f" "$scratch/$f" || exit 1
	done || return 1
	grep -qx "PACKAGE_VERSION=\"$version\"" "$scratch/payload/$name/dkms.conf"
}
check "install_toa.sh: the embedded source matches its SHA-256 and $name.tar.gz" payload_checks

# shown FILE: fails, FILE's text under the result.
shown() {
	cat "$1"
	return 1
}
no_temp_files() {
	[ -z "$(ls -A "$scratch/tmp")" ] || { echo "left in TMPDIR: $(ls -A "$scratch/tmp")"; return 1; }
}

# run_installer LOG ARGS...: install_toa.sh from dist, in its own TMPDIR
run_installer() {
	local log=$1
	shift
	rm -rf "$scratch/tmp" && mkdir "$scratch/tmp"
	TMPDIR=$scratch/tmp bash "$@" >"$log" 2>&1
}
embedded_help() {
	{ run_installer "$scratch/o" "$installer" --help &&
		grep -q "using the toa source embedded in this script (SHA-256 .*, checked)" "$scratch/o" &&
		grep -q -- '--uninstall' "$scratch/o" && no_temp_files; } || shown "$scratch/o"
}
check "install_toa.sh --help: checks the embedded source, runs its installer, leaves no temp files" embedded_help

# The one-liner's own form: the script as bash -c's argument, the options after.
oneliner_options() {
	local script
	script=$(cat "$installer")
	{ ! run_installer "$scratch/o" -c "$script" install_toa.sh --kinds 254,300 &&
		grep -q -- '--kinds: 300 is not a TCP option kind' "$scratch/o"; } || shown "$scratch/o"
}
check "bash -c \"\$(cat install_toa.sh)\" install_toa.sh --kinds 254,300: the option reaches the installer" \
	oneliner_options
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null; then
	not_root() {
		rm -rf "$scratch/tmp" && mkdir -m 1777 "$scratch/tmp" && chmod 755 "$scratch"
		{ ! TMPDIR=$scratch/tmp runuser -u nobody -- bash "$installer" --trust 203.0.113.0/24 \
			>"$scratch/o" 2>&1 && grep -q 'must run as root' "$scratch/o"; } || shown "$scratch/o"
	}
	check "install_toa.sh --trust ... as a user: the install itself refuses (must run as root)" not_root
else
	skip "install_toa.sh as a user: needs root and runuser"
fi

# damaged WHAT SED-SCRIPT PATTERN: the installer with its payload edited by
# SED-SCRIPT (@ in it: a line of the payload) refuses with PATTERN, runs nothing and
# leaves nothing in its TMPDIR.
damaged() {
	local first
	first=$(grep -n "^	cat <<'TOA_SOURCE_END'\$" "$installer" | cut -d: -f1)
	sed "${2//@/$((first + 5))}" "$installer" >"$scratch/damaged.sh"
	! cmp -s "$installer" "$scratch/damaged.sh" || { echo "the edit changed nothing"; return 1; }
	{ ! run_installer "$scratch/o" "$scratch/damaged.sh" --help &&
		grep -q "$3" "$scratch/o" && grep -q 'download it again' "$scratch/o" &&
		! grep -q 'Usage:' "$scratch/o" && no_temp_files; } || shown "$scratch/o"
}
check "install_toa.sh with one character of its source changed: refused, nothing run or left" \
	damaged char '@{s/^\(.\{10\}\)A/\1B/;t;s/^\(.\{10\}\)./\1A/}' 'does not match its SHA-256'
check "install_toa.sh with lines of its source missing: refused, nothing run or left" \
	damaged lines '@,+3d' 'does not match its SHA-256'
check "install_toa.sh with a broken line in its source: refused as not base64" \
	damaged garbage '@s/^..../!!!!/' 'not valid base64'

if command -v curl >/dev/null; then
	source_url() {
		{ TOA_SOURCE_URL=file://$dist/$name.tar.gz run_installer "$scratch/o" "$installer" --help &&
			grep -q "downloading the toa source from file://$dist/$name.tar.gz" "$scratch/o" &&
			! grep -q 'embedded' "$scratch/o" && grep -q -- '--uninstall' "$scratch/o"; } ||
			shown "$scratch/o"
	}
	check "install_toa.sh with TOA_SOURCE_URL: uses that tarball, not the embedded one" source_url
else
	skip "TOA_SOURCE_URL: no curl"
fi

# --- the .deb ----------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
check ".deb: toa-dkms $version, Architecture all" \
	test "$(field Package) $(field Version) $(field Architecture)" = "toa-dkms $version all"
check ".deb: Depends on dkms and the headers metapackage" test "$(field Depends)" = \
	"dkms (>= 2.1.0.0), linux-headers-amd64 | linux-headers-arm64 | linux-headers-generic | linux-headers"

deb_files() { dpkg-deb -c "$deb" | awk '$6 !~ /\/$/ { print $6 }' | sed 's|^\.||' | sort; }
deb_contents() {
	diff <(deb_files | grep -v '^/usr/share/doc/toa-dkms/') <(src_files | sort) || return 1
	diff <(deb_files | grep '^/usr/share/doc/') - <<EOF || return 1
/usr/share/doc/toa-dkms/changelog.gz
/usr/share/doc/toa-dkms/copyright
EOF
	dpkg-deb -c "$deb" | awk '$2 != "root/root" { print "not owned by root: " $0; bad = 1 } END { exit bad }'
}
check ".deb: /usr/src/$name with the build files, the modules-load.d entry, the docs, all root's" \
	deb_contents
dpkg-deb -R "$deb" "$scratch/deb"
check ".deb: dkms.conf of version $version, AUTOINSTALL" sh -c \
	"grep -qx 'PACKAGE_VERSION=\"$version\"' '$scratch/deb/usr/src/$name/dkms.conf' &&
	 grep -qx 'AUTOINSTALL=\"yes\"' '$scratch/deb/usr/src/$name/dkms.conf'"
check ".deb: modules-load.d loads toa" grep -qx toa "$scratch/deb/usr/lib/modules-load.d/toa.conf"
check ".deb: postinst and prerm, executable, sh -n clean" sh -c \
	"for s in postinst prerm; do test -x '$scratch/deb/DEBIAN/'\$s && sh -n '$scratch/deb/DEBIAN/'\$s || exit 1; done"

# The maintainer scripts against a dkms that keeps its state in a file and
# logs its calls, a modprobe that logs: what each step asks of DKMS.
stub=$scratch/stub
mkdir -p "$stub/bin"
cat >"$stub/bin/dkms" <<'EOF'
#!/bin/sh
echo "dkms $*" >>"$STUB/log"
case $1 in
status) [ ! -f "$STUB/added" ] || echo "toa/$(cat "$STUB/added"): added" ;;
add) echo "$5" >"$STUB/added" ;;
remove) rm -f "$STUB/added" ;;
esac
EOF
cat >"$stub/bin/modprobe" <<'EOF'
#!/bin/sh
echo "modprobe $*" >>"$STUB/log"
EOF
chmod +x "$stub/bin/dkms" "$stub/bin/modprobe"
# run_scriptlet SCRIPT ARGS...: the log of the calls DKMS got.
run_scriptlet() {
	: >"$stub/log"
	STUB=$stub PATH=$stub/bin:$PATH sh "$@" >"$stub/out" 2>&1 ||
		{ echo "exit $?: $*"; cat "$stub/out"; return 1; }
	grep -v '^dkms status' "$stub/log" || true
}
# expect_calls WANT SCRIPT ARGS...
expect_calls() {
	local want=$1 got
	shift
	got=$(run_scriptlet "$@") || return 1
	[ "$got" = "$want" ] ||
		{ printf 'wanted: %s\ngot: %s\n' "$want" "$got"; cat "$stub/out"; return 1; }
}
# On a host with kernel headers, postinst also builds (dkms install -k): only
# the calls that do not depend on the host are compared.
no_headers() { ! ls /lib/modules/*/build/Makefile >/dev/null 2>&1; }
scriptlet_cycle() { # scriptlet_cycle POSTINST-ARGS... -- PRERM-ARGS...
	local post=() pre=()
	while [ "$1" != -- ]; do post+=("$1"); shift; done
	shift
	pre=("$@")
	rm -f "$stub/added"
	if no_headers; then
		expect_calls "dkms add -m toa -v $version" "${post[@]}" || return 1
		grep -q "no headers for the running kernel" "$stub/out" || { cat "$stub/out"; return 1; }
	else
		run_scriptlet "${post[@]}" | grep -qx "dkms add -m toa -v $version" || return 1
	fi
	# Again: already registered, no second add.
	! run_scriptlet "${post[@]}" | grep '^dkms add' || { echo "added twice"; return 1; }
	expect_calls "dkms remove -m toa -v $version --all" "${pre[@]}" || return 1
	test ! -f "$stub/added" || { echo "still registered"; return 1; }
	# Removed already: nothing to do, and no failure.
	expect_calls "" "${pre[@]}"
}
check ".deb: postinst configure registers toa $version with DKMS once, prerm remove removes it" \
	scriptlet_cycle "$scratch/deb/DEBIAN/postinst" configure -- "$scratch/deb/DEBIAN/prerm" remove
upgrade_remove() {
	echo "$version" >"$stub/added"
	expect_calls "dkms remove -m toa -v $version --all" "$scratch/deb/DEBIAN/prerm" upgrade
}
check ".deb: prerm upgrade removes this version from DKMS (the new one's postinst adds its own)" \
	upgrade_remove

# DKMS builds toa.ko from the .deb's /usr/src/toa-VERSION, in trees of this
# test's own (the system's DKMS tree is left alone), against the first headers
# found: TOA_DIST_KDIR, /lib/modules/*/build, or bookworm's that the VM tests
# cache (not the backports' 6.12: without pahole on the host, its BTF step fails).
kdir=${TOA_DIST_KDIR:-}
for d in /lib/modules/*/build "${TOA_CACHE:-/var/cache/toa-test}"/bookworm/headers/usr/src/linux-headers-*-amd64; do
	[ -n "$kdir" ] || [ ! -e "$d/Makefile" ] || kdir=$d
done
if ! command -v dkms >/dev/null; then
	skip ".deb: DKMS builds toa.ko from /usr/src/$name: no dkms (apt-get install dkms)"
elif [ -z "$kdir" ]; then
	skip ".deb: DKMS builds toa.ko from /usr/src/$name: no kernel headers"
else
	dkms_build() {
		local kver
		kver=$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "$kdir/include/generated/utsrelease.h")
		mkdir -p "$scratch/dkms/src" "$scratch/dkms/tree" "$scratch/dkms/installed"
		cp -r "$scratch/deb/usr/src/$name" "$scratch/dkms/src/"
		dkms build -m toa -v "$version" -k "$kver" --kernelsourcedir "$kdir" \
			--sourcetree "$scratch/dkms/src" --dkmstree "$scratch/dkms/tree" \
			--installtree "$scratch/dkms/installed" ||
			{ tail -n 20 "$scratch/dkms/tree/toa/$version/build/make.log"; return 1; }
		ls "$scratch/dkms/tree/toa/$version/$kver"/*/module/toa.ko
	}
	check ".deb: DKMS builds toa.ko from /usr/src/$name (headers: $kdir)" dkms_build
fi

if command -v lintian >/dev/null; then
	lintian_clean() {
		local out
		out=$(lintian --pedantic --info "$deb" 2>&1)
		! printf '%s\n' "$out" | grep -E '^[EWIPXO]: ' || return 1
	}
	check ".deb: lintian --pedantic --info: no tag" lintian_clean
else
	fail ".deb: lintian is not installed (apt-get install lintian)"
fi

# --- the .rpm ----------------------------------------------------------------
if command -v rpm >/dev/null; then
	rpm_contents() {
		diff <(rpm -qpl "$rpm" | grep -vx "/usr/src/$name" | sort) <(src_files | sort) &&
			rpm -qpR "$rpm" | grep -qx dkms && rpm -qpR "$rpm" | grep -qx kernel-devel &&
			test "$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}' "$rpm")" = "toa-dkms $version noarch"
	}
	check ".rpm: toa-dkms $version noarch, the .deb's files, Requires dkms and kernel-devel" rpm_contents
	check ".src.rpm: toa.spec and $name.tar.gz" test \
		"$(rpm -qpl "$srpm" | sort | paste -sd' ')" = "$name.tar.gz toa.spec"
	rpm -qp --qf '%{POSTIN}\n' "$rpm" >"$scratch/rpm-post"
	rpm -qp --qf '%{PREUN}\n' "$rpm" >"$scratch/rpm-preun"
	# The scriptlets' common part, from the version line to the last function's end.
	last_function() { sed -n '/^toa_pkg_version=/,$p' "$1" | tac | sed -n '/^}$/,$p' | tac; }
	same_scriptlets() {
		diff <(last_function "$scratch/deb/DEBIAN/postinst") <(last_function "$scratch/rpm-post") &&
			diff <(last_function "$scratch/deb/DEBIAN/prerm") <(last_function "$scratch/rpm-preun") &&
			grep -qx toa_pkg_configure "$scratch/rpm-post" && grep -qx toa_pkg_remove "$scratch/rpm-preun"
	}
	check ".rpm: %post and %preun are the .deb's postinst and prerm" same_scriptlets
	check ".rpm: %post registers toa $version with DKMS once, %preun (erase) removes it" \
		scriptlet_cycle "$scratch/rpm-post" 1 -- "$scratch/rpm-preun" 0
	# An upgrade to a newer release of the same version: rpm -q lists both.
	printf '#!/bin/sh\necho %s; echo %s\n' "$version" "$version" >"$stub/bin/rpm"
	chmod +x "$stub/bin/rpm"
	same_version_upgrade() {
		echo "$version" >"$stub/added"
		expect_calls "" "$scratch/rpm-preun" 1 && test -f "$stub/added"
	}
	check ".rpm: %preun on an upgrade to another release of $version leaves DKMS alone" \
		same_version_upgrade
	rm -f "$stub/bin/rpm"
else
	fail ".rpm: rpm is not installed (apt-get install rpm)"
fi

tap_end
