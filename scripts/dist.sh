#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dist.sh: what make dist writes under dist/, all from the committed tree
# (git archive HEAD), each with a .sha256 beside it:
#   toa-VERSION.tar.gz           the source, top folder toa-VERSION/
#   install_toa.sh               scripts/install_toa.sh with the source embedded
#   toa-dkms_VERSION_all.deb     DKMS package for Debian and Ubuntu (dpkg-deb)
#   toa.spec, toa-dkms-VERSION-1.src.rpm, toa-dkms-VERSION-1.noarch.rpm
#                                DKMS package for the RHEL family (rpmbuild)
# The packages' install and removal steps: scripts/dkms-scriptlets.sh.
#
#   scripts/dist.sh [OUTDIR]      (default: dist/ in the tree)
set -eu
umask 022

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-$repo/dist}")
TOA_PROG=dist.sh
# shellcheck source=scripts/toa-lib.sh
. "$repo/scripts/toa-lib.sh"

# The one-liner passes the whole script as one argument (bash -c "$(curl ...)"),
# and Linux takes no argument longer than 32 pages (MAX_ARG_STRLEN).
installer_max=131072
deb_depends='dkms (>= 2.1.0.0), linux-headers-amd64 | linux-headers-arm64 | linux-headers-generic | linux-headers'
rpm_release=1

for tool in git dpkg-deb rpmbuild base64 sha256sum gzip; do
	command -v "$tool" >/dev/null ||
		toa_die "$tool is missing" "apt-get install git dpkg rpm coreutils gzip"
done
git -C "$repo" rev-parse --verify -q HEAD >/dev/null || toa_die "$repo has no commit to archive"
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
	toa_warn "uncommitted changes are not in dist/: it is made from HEAD"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/toa-dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Files and packages carry the commit's time: the same commit gives the same
# tarball, installer and .deb (rpmbuild's headers still differ).
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct HEAD)
maintainer=$(git -C "$repo" log -1 --format='%an <%ae>' HEAD)

# The version, read where the installers read it (toa_source_version, from the
# committed tree): every file below is named and stamped with it.
git -C "$repo" archive --format=tar --prefix=head/ HEAD | tar -x -C "$tmp"
toa_source_version "$tmp/head"
version=$TOA_VERSION
name=toa-$version
mkdir -p "$out"
rm -f "$out"/toa-*.tar.gz* "$out"/install_toa.sh* "$out"/toa-dkms[_-]* "$out"/toa.spec*

# sha256 FILE: FILE.sha256, in sha256sum -c's format, beside it.
sha256() {
	(cd "${1%/*}" && sha256sum "${1##*/}" >"${1##*/}.sha256")
}

# stamp DIR: every file's time set to the commit's.
stamp() {
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# --- the source tarball, from which all the rest is made -------------------
git -C "$repo" archive --format=tar.gz --prefix="$name/" -o "$out/$name.tar.gz" HEAD
sha256 "$out/$name.tar.gz"
tar -xzf "$out/$name.tar.gz" -C "$tmp"
TOA_SRC=$tmp/$name

# --- install_toa.sh with the source embedded --------------------------------
# Only the files an install uses (what toa_copy_source copies, and the
# installer): the whole tarball would be longer than one argument can be.
toa_copy_source "$tmp/payload/$name"
mkdir "$tmp/payload/$name/scripts"
cp "$TOA_SRC/scripts/install_toa.sh" "$TOA_SRC/scripts/toa-lib.sh" "$tmp/payload/$name/scripts/"
stamp "$tmp/payload"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$tmp/payload" -cf - "$name" |
	gzip -9n >"$tmp/payload.tar.gz"
last='toa_install_main "$@"'
[ "$(tail -n 1 "$TOA_SRC/scripts/install_toa.sh")" = "$last" ] ||
	toa_die "scripts/install_toa.sh does not end with the line $last, before which the source goes"
{
	sed '$d' "$TOA_SRC/scripts/install_toa.sh"
	cat <<EOF
# The toa $version source (make dist): the files toa.ko is built from and the
# installer, as in $name.tar.gz; a tar.gz in base64 from the line after the
# marker (cat <<...) to TOA_SOURCE_END, checked against TOA_EMBEDDED_SHA256.
TOA_EMBEDDED_SHA256=$(sha256sum <"$tmp/payload.tar.gz" | cut -d' ' -f1)
toa_embedded_source() {
	cat <<'TOA_SOURCE_END'
$(base64 -w 76 "$tmp/payload.tar.gz")
TOA_SOURCE_END
}

$last
EOF
} >"$out/install_toa.sh"
chmod 0755 "$out/install_toa.sh"
[ "$(stat -c %s "$out/install_toa.sh")" -le "$installer_max" ] ||
	toa_die "dist/install_toa.sh is longer than $installer_max bytes: bash -c \"\$(curl ...)\" could not take it" \
		"leave more out of its embedded source (scripts/dist.sh)"
sha256 "$out/install_toa.sh"

# --- the packages' common parts -------------------------------------------
summary='real client address behind an L4 proxy (TCP option TOA), DKMS'
description="toa gives an origin server behind an L4 proxy (Tencent EdgeOne, CLB,
LVS FULLNAT, Huawei ELB, UCloud, DPVS) the real address of each client:
the proxy carries it in a TCP option (TOA), and accept() and getpeername()
return it, with no change to the application.

This package builds the toa kernel module with DKMS for every kernel with
headers, now and as kernels are installed, and loads it at boot. The
proxies whose TOA is believed go in /etc/modprobe.d/toa.conf
(options toa trusted=<the proxies' prefixes>)."

# scriptlet: the body of a maintainer script, which then calls one of its functions.
scriptlet() {
	printf '# Generated by scripts/dist.sh from scripts/dkms-scriptlets.sh.\n'
	sed -e "s/@VERSION@/$version/" -e '/^# shellcheck /d' "$TOA_SRC/scripts/dkms-scriptlets.sh"
}

# Loaded at boot. Under /usr/lib, the package's own: an admin turns it off with
# a file of the same name in /etc/modules-load.d (or a link to /dev/null).
modules_load='# toa-dkms: load toa at boot
toa'

# --- .deb -----------------------------------------------------------------
deb=$tmp/deb
doc=$deb/usr/share/doc/toa-dkms
toa_copy_source "$deb/usr/src/$name"
mkdir -p "$deb/DEBIAN" "$deb/usr/lib/modules-load.d" "$doc"
printf '%s\n' "$modules_load" >"$deb/usr/lib/modules-load.d/toa.conf"
years=$(git -C "$repo" log --format=%cd --date=format:%Y HEAD | sort -u | sed -n '1p;$p' | uniq | paste -sd-)
cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: toa

Files: *
Copyright: $years the toa developers
License: GPL-2.0
 On Debian systems, the full text of the GNU General Public License
 version 2 can be found in /usr/share/common-licenses/GPL-2.
EOF
cat <<EOF | gzip -9n >"$doc/changelog.gz"
toa-dkms ($version) unstable; urgency=medium

  * toa $version, made by make dist from commit $(git -C "$repo" rev-parse --short HEAD).

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
# maintainer_script FILE FUNCTION ACTIONS: FUNCTION runs when dpkg calls FILE
# with one of ACTIONS (a case pattern).
maintainer_script() {
	{
		printf '#!/bin/sh\nset -e\n'
		scriptlet
		printf '\ncase "%s" in\n%s) %s ;;\nesac\n' "\$1" "$3" "$2"
	} >"$deb/DEBIAN/$1"
	chmod 0755 "$deb/DEBIAN/$1"
}
maintainer_script postinst toa_pkg_configure 'configure | abort-upgrade | abort-remove | abort-deconfigure'
maintainer_script prerm toa_pkg_remove 'remove | upgrade | deconfigure'
cat >"$deb/DEBIAN/control" <<EOF
Package: toa-dkms
Version: $version
Architecture: all
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$deb" | cut -f1)
Depends: $deb_depends
Section: kernel
Priority: optional
Description: $summary
$(printf '%s\n' "$description" | sed -e 's/^/ /' -e 's/^ $/ ./')
EOF
(cd "$deb" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$deb/DEBIAN/md5sums"
stamp "$deb"
dpkg-deb --root-owner-group -Zxz --build "$deb" "$out/toa-dkms_${version}_all.deb" >/dev/null
sha256 "$out/toa-dkms_${version}_all.deb"

# --- .rpm -----------------------------------------------------------------
spec=$out/toa.spec
cat >"$spec" <<EOF
# Generated by scripts/dist.sh (make dist); the scriptlets come from
# scripts/dkms-scriptlets.sh, as the .deb's do.
Name:		toa-dkms
Version:	$version
Release:	$rpm_release
Summary:	$summary
License:	GPL-2.0-only
Source0:	$name.tar.gz
BuildArch:	noarch
Requires:	dkms
Requires:	kernel-devel
Requires(post):	dkms
Requires(preun):	dkms

%description
$description

%prep
%setup -q -n $name

%build

%install
# The files that build toa.ko, dkms.conf with this version: the installers' own
# list (toa_copy_source).
bash -c '. scripts/toa-lib.sh && TOA_SRC=. TOA_VERSION=%{version} && toa_copy_source "\$1"' \\
	sh %{buildroot}/usr/src/$name
mkdir -p %{buildroot}/usr/lib/modules-load.d
cat >%{buildroot}/usr/lib/modules-load.d/toa.conf <<'TOA_CONF_END'
$modules_load
TOA_CONF_END

%files
/usr/src/$name
/usr/lib/modules-load.d/toa.conf

%post
set -e
$(scriptlet | sed 's/%/%%/g')
toa_pkg_configure

%preun
# An upgrade to another release of the same toa version: the new package is
# installed already (rpm runs the old one's %%preun last), and the DKMS tree
# is its own now.
if [ "\$1" -ge 1 ] && [ "\$(rpm -q --qf '%%{VERSION}\n' toa-dkms | grep -cx '$version')" -gt 1 ]; then
	exit 0
fi
set -e
$(scriptlet | sed 's/%/%%/g')
toa_pkg_remove

%changelog
* $(date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y') $maintainer - $version-$rpm_release
- toa $version, made by make dist.
EOF
mkdir -p "$tmp/rpm/SOURCES"
cp "$out/$name.tar.gz" "$tmp/rpm/SOURCES/"
rpmbuild -ba --quiet --define "_topdir $tmp/rpm" --define "use_source_date_epoch_as_buildtime 1" \
	--define "clamp_mtime_to_source_date_epoch 1" \
	--define "_buildhost toa-dist" "$spec" >"$tmp/rpmbuild.log" 2>&1 ||
	{ cat "$tmp/rpmbuild.log" >&2; toa_die "rpmbuild failed (output above)"; }
cp "$tmp"/rpm/SRPMS/*.src.rpm "$tmp"/rpm/RPMS/noarch/*.noarch.rpm "$out/"
for f in "$out"/toa-dkms-*.rpm; do
	sha256 "$f"
done
sha256 "$spec"

toa_say "toa $version in $out:"
for f in "$out"/*; do
	[ "${f%.sha256}" != "$f" ] || echo "    ${f##*/}"
done
