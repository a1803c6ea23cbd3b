#!/usr/bin/env bash
# Build the Debian package from the tree: $O/sysguard_VERSION_ARCH.deb
# (`make deb`). The tree is installed into a staging root with `make install`,
# the man pages are gzipped, Depends comes from dpkg-shlibdeps (so a library
# the binaries start linking is picked up by itself), and dpkg-deb builds it
# owned by root. The maintainer scripts are deploy/debian/{postinst,prerm,postrm}.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

O=${O:-build}
version=$(tr -d ' \n' < VERSION)
arch=$(dpkg --print-architecture)
work=$O/deb
# dpkg-shlibdeps expects the files where a Debian source tree stages them.
root=$work/debian/sysguard
deb=$O/sysguard_${version}_${arch}.deb

# Beyond the shared libraries: chattr and lsattr for the maintainer scripts,
# which clear the immutable flag the daemon's self-defence sets.
# (libsystemd0 for sd_notify comes with the binaries' NEEDED, from dpkg-shlibdeps.)
extra_depends="e2fsprogs"

rm -rf "$work"
mkdir -p "$root"
make -s install DESTDIR="$PWD/$root" PREFIX=/usr O="$O" >/dev/null

# Debian ships stripped binaries, compressed man pages, and the copyright file in the docs.
strip --strip-unneeded --remove-section=.comment "$root/usr/sbin/sysguardd" "$root/usr/sbin/sysguardctl"
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
install -m 0644 deploy/debian/copyright "$root/usr/share/doc/sysguard/copyright"

# Depends: the packages that hold the libraries the binaries link.
mkdir -p "$root/DEBIAN"
printf 'Source: sysguard\n\nPackage: sysguard\nArchitecture: any\n' > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O debian/sysguard/usr/sbin/sysguardd debian/sysguard/usr/sbin/sysguardctl)
depends=${shlibs#shlibs:Depends=}
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no libraries" >&2; exit 1; }
depends="$depends, $extra_depends"

install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$root/DEBIAN/"
# Every file under /etc is the administrator's once installed.
(cd "$root" && find etc -type f | sort | sed 's|^|/|') > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: sysguard
Version: $version
Architecture: $arch
Maintainer: SysGuard developers <sysguard@localhost>
Section: admin
Priority: optional
Installed-Size: $size
Depends: $depends
Description: runtime enforcement daemon for Linux hosts (eBPF, fanotify)
 SysGuard sees every exec on the host, decides it with an explicit policy,
 stops what the policy forbids before it runs a single instruction of its
 own, and writes every decision as a JSON audit record. It also protects
 files, reports changes to watched paths and refuses outbound connections
 that the policy denies.
 .
 The package installs sysguardd and sysguardctl, a systemd unit, the
 settings file /etc/sysguard/sysguard.yaml and a monitor-mode policy
 /etc/sysguard/policy.yaml.
EOF

dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
