#!/usr/bin/env bash
# Build the VM harness self-check into a guest directory for run-vm.sh.
#
# Usage: tests/vm/selfcheck/build.sh [OUTDIR]     (default: a new temp dir)
# Prints OUTDIR on the last line of stdout.
#
# SELFCHECK_BTF=host   vmlinux.h from the host's /sys/kernel/btf/vmlinux
#                      (default when it exists; CO-RE relocates for the guest)
# SELFCHECK_BTF=guest  vmlinux.h from the guest kernel's own BTF, extracted
#                      from the cached vmlinuz (needs fetch-kernel.sh, xz)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-}"
if [[ -z "$OUT" ]]; then
	OUT="$(mktemp -d "${TMPDIR:-/tmp}/sysguard-vm-selfcheck.XXXXXX")"
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CLANG="${CLANG:-clang}"
CC="${CC:-cc}"
BPFTOOL="${BPFTOOL:-bpftool}"

log() { printf 'selfcheck-build: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

BTF="${SELFCHECK_BTF:-}"
if [[ -z "$BTF" ]]; then
	if [[ -r /sys/kernel/btf/vmlinux ]]; then BTF=host; else BTF=guest; fi
fi

B="$(mktemp -d "${TMPDIR:-/tmp}/sysguard-vm-selfcheck-build.XXXXXX")"
trap 'rm -rf "$B"' EXIT

case "$BTF" in
host)
	"$BPFTOOL" btf dump file /sys/kernel/btf/vmlinux format c >"$B/vmlinux.h"
	;;
guest)
	# The guest's BTF lives in the .BTF section of its vmlinux, which the
	# Debian bzImage carries xz-compressed: find the xz stream and unpack it.
	cache="$("$HERE/../fetch-kernel.sh" | tail -n1)"
	off="$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$cache/vmlinuz" | head -n1 | cut -d: -f1)"
	[[ -n "$off" ]] || die "no xz stream in $cache/vmlinuz"
	tail -c +"$((off + 1))" "$cache/vmlinuz" | xz -dc >"$B/vmlinux" 2>/dev/null || true
	[[ -s "$B/vmlinux" ]] || die "could not unpack vmlinux from $cache/vmlinuz"
	"$BPFTOOL" btf dump file "$B/vmlinux" format c >"$B/vmlinux.h"
	;;
*) die "SELFCHECK_BTF must be host or guest" ;;
esac
log "vmlinux.h from $BTF BTF ($(wc -l <"$B/vmlinux.h") lines)"

"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I"$B" \
	-c "$HERE/selfcheck.bpf.c" -o "$B/selfcheck.bpf.o"
"$BPFTOOL" gen skeleton "$B/selfcheck.bpf.o" name selfcheck_bpf >"$B/selfcheck.skel.h"

# Fully static: libbpf.a, libelf.a and libz.a (Debian 12's libelf.a needs no
# zstd). The link order matters: libbpf before libelf before libz.
"$CC" -O2 -g -Wall -Wextra -Werror -static -I"$B" "$HERE/loader.c" \
	-o "$OUT/loader" -lbpf -lelf -lz
if readelf -l "$OUT/loader" | grep -q 'Requesting program interpreter'; then
	die "loader is not statically linked"
fi

cp "$HERE/guest-test.sh" "$HERE/libs.txt" "$OUT/"
chmod 755 "$OUT/guest-test.sh" "$OUT/loader"
log "built $OUT ($(du -k "$OUT/loader" | cut -f1) KiB loader)"
printf '%s\n' "$OUT"
