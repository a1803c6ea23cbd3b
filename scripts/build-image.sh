#!/usr/bin/env bash
# Build the DaemonSet image without a registry: localhost/sysguard:VERSION in
# podman's local storage (the chart's default image, sysguard:VERSION, finds it
# there). deploy/Dockerfile does the same from debian:12-slim for those who
# can pull base images; here nothing is pulled:
#   1. `make deb` builds the package (scripts/build-deb.sh);
#   2. its files are unpacked into an empty root (dpkg -x);
#   3. the shared libraries its binaries and /bin/sh (dash, for the pod's
#      readiness probe) link are copied from this Debian host, where they
#      come from Debian packages (ldd names them; dpkg -S their packages);
#   4. a minimal /etc (passwd, group, the CA bundle for HTTPS alerts and TLS
#      syslog) and the directories the pod mounts over;
#   5. `podman import` with the entrypoint and command of deploy/Dockerfile.
# Usage: scripts/build-image.sh [IMAGE]   (default localhost/sysguard:VERSION)
# Environment: O (build directory, default build), PODMAN (default podman),
# CONTAINERS_CONF as podman wants it.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

O=${O:-build}
PODMAN=${PODMAN:-podman}
version=$(tr -d ' \n' < VERSION)
arch=$(dpkg --print-architecture)
image=${1:-localhost/sysguard:$version}
deb=$O/sysguard_${version}_${arch}.deb
root=$O/image/rootfs
tar=$O/image/sysguard-rootfs.tar

make -s deb O="$O" >/dev/null
[ -f "$deb" ] || { echo "build-image: $deb not built" >&2; exit 1; }

rm -rf "$O/image"
mkdir -p "$root"
# Debian 12's merged /usr: /bin, /sbin and /lib are links into /usr.
mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64"
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
dpkg -x "$deb" "$root"

install -m 0755 /bin/dash "$root/usr/bin/dash"
ln -s dash "$root/usr/bin/sh"

# Every library (and the loader) at the path ldd gives, which the merged-/usr
# links above make the same file under /lib and /usr/lib.
copy_lib() {
	local lib=$1 dest
	dest=$root/usr/${lib#/usr/}
	case $lib in
	/usr/*) dest=$root$lib ;;
	/*) dest=$root/usr$lib ;;
	esac
	[ -e "$dest" ] && return 0
	mkdir -p "$(dirname "$dest")"
	cp -L "$lib" "$dest"
}
bins=("$root/usr/sbin/sysguardd" "$root/usr/sbin/sysguardctl" "$root/usr/bin/dash")
libs=$(ldd "${bins[@]}" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ -n "$libs" ] || { echo "build-image: ldd found no libraries" >&2; exit 1; }
for lib in $libs; do
	dpkg -S "$(readlink -f "$lib")" >/dev/null 2>&1 || dpkg -S "$lib" >/dev/null 2>&1 ||
		{ echo "build-image: $lib is not from a Debian package" >&2; exit 1; }
	copy_lib "$lib"
done
# ldd of a lib in the merged tree sees /lib: the same files.
ldd "$root/usr/sbin/sysguardd" >/dev/null

mkdir -p "$root/etc/ssl/certs" "$root/proc" "$root/sys" "$root/dev" "$root/run/sysguard" \
	"$root/tmp" "$root/var/log/sysguard" "$root/var/lib/sysguard"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
	> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
fi
# The pod's ConfigMap mounts over /etc/sysguard; the package's settings file
# would otherwise be read (it asks for self-defence, which a pod cannot use).
rm -f "$root/etc/sysguard/sysguard.yaml"
printf '%s\n' "$version" > "$root/etc/sysguard-image-version"

(cd "$root" && tar --numeric-owner --owner=0 --group=0 -cf "$PWD/../sysguard-rootfs.tar" .)
"$PODMAN" import \
	--change 'USER 0:0' \
	--change 'ENTRYPOINT ["/usr/sbin/sysguardd"]' \
	--change 'CMD ["--policy", "/etc/sysguard/policy.yaml", "--log", "/var/log/sysguard/audit.log", "--state-dir", "/run/sysguard", "--stdout"]' \
	--message "sysguard $version from $(basename "$deb")" \
	"$tar" "$image" >/dev/null
echo "$image"
