#!/usr/bin/env bash
# Fetch a Debian 6.1 kernel for the BPF LSM test VM.
#
# Downloads the newest available linux-image-6.1.0-N-amd64 package (unsigned
# variant preferred, signed as fallback; N is whatever the package lists
# name, nothing here pins it) with `apt-get download`, unpacks it
# with `dpkg -x` and leaves in the cache directory:
#
#   $CACHE/vmlinuz          the kernel image (bzImage, boots with qemu -kernel)
#   $CACHE/config           the kernel's .config
#   $CACHE/System.map
#   $CACHE/lib/modules/REL  the modules tree (not needed by run-vm.sh)
#   $CACHE/release          kernel release string, e.g. 6.1.0-57-amd64
#   $CACHE/package          package name and version that was fetched
#
# CACHE = ${SYSGUARD_VM_CACHE:-/var/cache/sysguard-vm}, outside the repository
# so that every clone on this machine shares it. Idempotent: if the cache is
# complete, nothing is downloaded. Override the package with
# SYSGUARD_VM_KERNEL_PKG=linux-image-6.1.0-N-amd64[-unsigned].
#
# Prints the cache directory on stdout (last line); diagnostics on stderr.
set -euo pipefail

CACHE="${SYSGUARD_VM_CACHE:-/var/cache/sysguard-vm}"

log() { printf 'fetch-kernel: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Checks the boot-critical options of a kernel config. Fails on a missing
# hard requirement, and reports which optional drivers are modules.
check_config() {
	local cfg="$1" verbose="${2:-1}" opt val missing=0
	for opt in CONFIG_BPF_LSM CONFIG_DEBUG_INFO_BTF CONFIG_BPF_SYSCALL \
		CONFIG_BPF_JIT CONFIG_SECURITY CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP \
		CONFIG_DEVTMPFS CONFIG_SERIAL_8250 CONFIG_SERIAL_8250_CONSOLE \
		CONFIG_SECURITYFS CONFIG_CGROUPS CONFIG_BINFMT_ELF; do
		val="$(sed -n "s/^${opt}=//p" "$cfg")"
		if [[ "$val" != y ]]; then
			log "kernel config: ${opt}=${val:-unset} (need y)"
			missing=1
		fi
	done
	if ((missing != 0)); then
		log "kernel config $cfg lacks required built-in options (see above)"
		return 1
	fi
	((verbose)) || return 0
	# Informational: which drivers that a VM might want are modules.
	for opt in CONFIG_VIRTIO_PCI CONFIG_VIRTIO_CONSOLE CONFIG_VIRTIO_BLK \
		CONFIG_VIRTIO_NET CONFIG_NET_9P CONFIG_NET_9P_VIRTIO CONFIG_9P_FS \
		CONFIG_E1000 CONFIG_KVM_GUEST; do
		val="$(sed -n "s/^${opt}=//p" "$cfg")"
		log "kernel config: ${opt}=${val:-unset}"
	done
}

cache_complete() {
	[[ -s "$CACHE/vmlinuz" && -s "$CACHE/config" && -s "$CACHE/release" && -e "$CACHE/.complete" ]]
}

# Candidate packages, best first: highest ABI number, unsigned then signed.
candidates() {
	if [[ -n "${SYSGUARD_VM_KERNEL_PKG:-}" ]]; then
		printf '%s\n' "$SYSGUARD_VM_KERNEL_PKG"
		return
	fi
	apt-cache pkgnames linux-image-6.1.0- |
		grep -E '^linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?$' |
		sed -E 's/^linux-image-6\.1\.0-([0-9]+)-amd64(-unsigned)?$/\1 \2 &/' |
		awk '{ if (NF == 3) print $1, 0, $3; else print $1, 1, $2 }' |
		sort -k1,1nr -k2,2n | awk '{print $3}'
}

# Downloads the first candidate that apt can get into $1; prints its name.
download_first() {
	local dir="$1" cand ver
	for cand in $(candidates); do
		ver="$(apt-cache policy "$cand" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
		[[ -n "$ver" && "$ver" != "(none)" ]] || continue
		log "downloading $cand ($ver)"
		if (cd "$dir" && apt-get download -q "$cand" >&2); then
			printf '%s\n' "$cand"
			return 0
		fi
		log "download of $cand failed, trying the next candidate"
	done
	return 1
}

fetch() {
	local tmp pkg deb rel updated=0
	tmp="$(mktemp -d /tmp/sysguard-vm-fetch.XXXXXX)"
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	# apt-get download drops privileges to _apt: let it write the temp dir.
	chmod 0777 "$tmp"

	# A fresh machine may have no package lists yet: update once if needed.
	if [[ -z "$(candidates)" ]]; then
		log "no linux-image-6.1.0-*-amd64 in the package lists: running apt-get update"
		apt-get update -q >&2 || log "apt-get update failed"
		updated=1
	fi
	# Lists older than the archive name an ABI (6.1.0-N) the mirror no
	# longer has once Debian moves on: every download fails. Refresh the
	# lists once and pick again from what they name now.
	if ! pkg="$(download_first "$tmp")" && ((updated == 0)); then
		log "no candidate could be downloaded: running apt-get update and trying again"
		apt-get update -q >&2 || log "apt-get update failed"
		pkg="$(download_first "$tmp")" || pkg=""
	fi
	if [[ -z "$pkg" ]]; then
		die "no linux-image-6.1.0-*-amd64 package could be downloaded (did you run 'apt-get update'?)"
	fi

	deb="$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)"
	log "unpacking $(basename "$deb")"
	mkdir -p "$tmp/x"
	dpkg -x "$deb" "$tmp/x"

	local vmlinuz cfg
	vmlinuz="$(find "$tmp/x/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit 2>/dev/null || true)"
	[[ -n "$vmlinuz" ]] || die "package $pkg has no /boot/vmlinuz-*"
	rel="${vmlinuz##*/vmlinuz-}"
	cfg="$tmp/x/boot/config-$rel"
	[[ -s "$cfg" ]] || die "package $pkg has no /boot/config-$rel"
	check_config "$cfg" || die "package $pkg is not usable for the BPF LSM VM"

	# Install into the cache: stage next to it, then move into place.
	local stage="$CACHE/.stage"
	rm -rf "$stage"
	mkdir -p "$stage/lib/modules"
	cp "$vmlinuz" "$stage/vmlinuz"
	cp "$cfg" "$stage/config"
	if [[ -e "$tmp/x/boot/System.map-$rel" ]]; then
		cp "$tmp/x/boot/System.map-$rel" "$stage/System.map"
	fi
	if [[ -d "$tmp/x/lib/modules/$rel" ]]; then
		mv "$tmp/x/lib/modules/$rel" "$stage/lib/modules/$rel"
	fi
	printf '%s\n' "$rel" >"$stage/release"
	printf '%s %s\n' "$pkg" "$(dpkg-deb -f "$deb" Version)" >"$stage/package"

	rm -rf "${CACHE:?}/vmlinuz" "${CACHE:?}/config" "${CACHE:?}/System.map" \
		"${CACHE:?}/lib" "${CACHE:?}/release" "${CACHE:?}/package" "${CACHE:?}/.complete"
	mv "$stage"/* "$CACHE"/
	rmdir "$stage"
	touch "$CACHE/.complete"
	log "kernel $rel from $pkg cached in $CACHE"
}

main() {
	mkdir -p "$CACHE"
	# Serialise concurrent callers (several test runs on one machine).
	exec 9>"$CACHE/.lock"
	flock 9
	if cache_complete; then
		log "cached: $(cat "$CACHE/package") in $CACHE"
		check_config "$CACHE/config" 0 || die "cached kernel config is unsuitable; remove $CACHE"
	else
		command -v apt-get >/dev/null || die "apt-get not found"
		fetch
	fi
	printf '%s\n' "$CACHE"
}

main "$@"
