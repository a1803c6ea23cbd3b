#!/usr/bin/env bash
# Boot a Debian 6.1 kernel in qemu with an initramfs that holds GUEST_DIR and
# run GUEST_DIR/guest-test.sh inside it. See tests/vm/README.md.
#
# Usage: tests/vm/run-vm.sh GUEST_DIR
#
#   GUEST_DIR/guest-test.sh   required; run by /init as `sh /sysguard/guest-test.sh`
#                             with cwd /sysguard. It must print the line
#                             `SYSGUARD-VM-RESULT: PASS` when everything passed.
#   GUEST_DIR/*               everything is copied to /sysguard/ in the guest.
#   GUEST_DIR/libs.txt        optional: host files (one absolute path a line,
#                             `#` comments) copied into the guest at the same
#                             absolute path (symlinks are followed). A dynamic
#                             ELF listed there also brings its shared libraries
#                             and loader (as `ldd` reports them).
#
# Exit status: 0 if the last `SYSGUARD-VM-RESULT:` line the guest printed is
# PASS; 1 on FAIL, a missing marker, a timeout or a qemu error; 2 on bad usage.
#
# Environment:
#   SYSGUARD_VM_CACHE     kernel cache (default /var/cache/sysguard-vm)
#   SYSGUARD_VM_TIMEOUT   hard timeout for qemu in seconds (default 240)
#   SYSGUARD_VM_LOG       serial console log path (default: a new temp file)
#   SYSGUARD_VM_APPEND    extra kernel command line arguments
#   SYSGUARD_VM_MEM       guest memory in MiB (default 1024)
#   SYSGUARD_VM_VERBOSE   1: also stream the console to stderr while it runs
#   SYSGUARD_VM_KEEP      1: keep the work dir (initramfs tree, initrd.gz)
#   SYSGUARD_VM_NO_KVM    1: never use KVM, skip the KVM probe (TCG)
#   SYSGUARD_VM_KVM_PROBE_TIMEOUT  seconds the KVM probe boot may take to reach
#                         user space before TCG is used instead (default 12)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TIMEOUT="${SYSGUARD_VM_TIMEOUT:-240}"
MEM="${SYSGUARD_VM_MEM:-1024}"
VERBOSE="${SYSGUARD_VM_VERBOSE:-0}"
MARKER='SYSGUARD-VM-RESULT:'

log() { printf 'run-vm: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit "${2:-1}"; }

now_ms() { date +%s%3N; }

[[ $# -eq 1 ]] || die "usage: $0 GUEST_DIR" 2
GUEST_DIR="$(cd "$1" 2>/dev/null && pwd)" || die "no such directory: $1" 2
[[ -f "$GUEST_DIR/guest-test.sh" ]] || die "$GUEST_DIR/guest-test.sh is missing" 2

for tool in qemu-system-x86_64 busybox cpio gzip timeout readelf; do
	command -v "$tool" >/dev/null || die "$tool not found (install tests/vm/deps.txt)"
done
BUSYBOX="$(command -v busybox)"
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi

t_start="$(now_ms)"
CACHE="$("$HERE/fetch-kernel.sh" | tail -n1)"
KERNEL="$CACHE/vmlinuz"
t_kernel="$(now_ms)"
[[ -s "$KERNEL" ]] || die "no kernel at $KERNEL"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sysguard-vm.XXXXXX")"

if [[ "${SYSGUARD_VM_KEEP:-0}" == 1 ]]; then log "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

LOG="${SYSGUARD_VM_LOG:-}"
if [[ -z "$LOG" ]]; then
	LOG="$(mktemp "${TMPDIR:-/tmp}/sysguard-vm-console.XXXXXX")"
	mv "$LOG" "$LOG.log"
	LOG="$LOG.log"
fi
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

# ---------------------------------------------------------------- initramfs
ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,root,mnt,var/tmp,sysguard}
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
# Applet links are made by /init (`busybox --install -s`): one process in the
# guest instead of hundreds of forks here. Files from libs.txt take precedence
# (--install does not replace existing files).

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
printf 'sysguard-vm\n' >"$ROOT/etc/hostname"
ln -s /proc/mounts "$ROOT/etc/mtab"
printf '127.0.0.1 localhost sysguard-vm\n::1 localhost\n' >"$ROOT/etc/hosts"

# Copies host file $1 into the initramfs at the same absolute path.
declare -A COPIED=()
copy_host_file() {
	local src="$1" dst
	[[ "$src" == /* ]] || die "libs.txt: not an absolute path: $src"
	[[ -e "$src" ]] || die "libs.txt: no such host file: $src"
	[[ -z "${COPIED[$src]:-}" ]] || return 0
	COPIED[$src]=1
	dst="$ROOT$src"
	mkdir -p "$(dirname "$dst")"
	cp -rL "$src" "$dst"
	if [[ -f "$src" ]] && command -v ldd >/dev/null &&
		readelf -l "$src" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		local dep
		while IFS= read -r dep; do
			copy_host_file "$dep"
		done < <(ldd "$src" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }')
	fi
}

if [[ -f "$GUEST_DIR/libs.txt" ]]; then
	while IFS= read -r line || [[ -n "$line" ]]; do
		line="${line%%#*}"
		line="$(printf '%s' "$line" | tr -d '[:space:]')"
		[[ -n "$line" ]] || continue
		copy_host_file "$line"
	done <"$GUEST_DIR/libs.txt"
fi

cp -RL --preserve=mode "$GUEST_DIR/." "$ROOT/sysguard/" # symlinks are followed
chmod +x "$ROOT/sysguard/guest-test.sh"

cat >"$ROOT/init" <<'EOF'
#!/bin/busybox sh
# SysGuard VM /init (generated by tests/vm/run-vm.sh)
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root TERM=dumb SYSGUARD_VM=1
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
echo "SYSGUARD-VM: uptime $(cut -d' ' -f1 /proc/uptime)s at init"
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t securityfs securityfs /sys/kernel/security
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup
hostname sysguard-vm
ip link set lo up 2>/dev/null
echo "SYSGUARD-VM: kernel $(uname -r)"
echo "SYSGUARD-VM: lsm=$(cat /sys/kernel/security/lsm)"
echo "SYSGUARD-VM: running /sysguard/guest-test.sh"
cd /sysguard
sh /sysguard/guest-test.sh
rc=$?
echo "SYSGUARD-VM: guest-test.sh exited $rc, uptime $(cut -d' ' -f1 /proc/uptime)s"
if [ "$rc" -ne 0 ]; then
	echo "SYSGUARD-VM-RESULT: FAIL (guest-test.sh exit status $rc)"
fi
sync
sleep 1 # let the UART drain before the power goes
poweroff -f
EOF
chmod 755 "$ROOT/init"

# /dev/console for the kernel's initial console (needs root; /init copes
# without it by reopening the console from devtmpfs).
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

INITRD="$WORK/initrd.gz"
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --owner=0:0 --quiet) | gzip -1 >"$INITRD"
t_initrd="$(now_ms)"
log "kernel ready in $((t_kernel - t_start)) ms; initramfs $(du -k "$INITRD" | cut -f1) KiB built in $((t_initrd - t_kernel)) ms; kernel $(cat "$CACHE/package" 2>/dev/null || echo "$KERNEL")"

# ---------------------------------------------------------------- accelerator
# A writable /dev/kvm does not mean KVM can run this guest: on some CI hosts
# (nested virtualisation) qemu spins at "Booting from ROM..." until the
# timeout, on others `-cpu host` aborts at once ("failed to set MSR"). So
# KVM is used only after a short boot of the same kernel, with the same
# flags, reached user space; otherwise the test runs under TCG, slower but
# sure.
KVM_ACCEL=(-enable-kvm -cpu host)
PROBE_MARKER='SYSGUARD-KVM-PROBE: user space reached'

# 0 if a KVM guest with KVM_ACCEL prints PROBE_MARKER within KVM_PROBE_TIMEOUT
# seconds; sets ACCEL_WHY either way.
kvm_probe() {
	local dir="$WORK/kvm-probe" plog="$WORK/kvm-probe.log" prc=0 t0 t1

	mkdir -p "$dir/bin" "$dir/dev"
	cp "$BUSYBOX" "$dir/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox mount -t devtmpfs devtmpfs /dev\n/bin/busybox echo "%s" >/dev/ttyS0\n/bin/busybox poweroff -f\n' \
		"$PROBE_MARKER" >"$dir/init"
	chmod 755 "$dir/init"
	(cd "$dir" && find . | LC_ALL=C sort | cpio --create --format=newc --owner=0:0 --quiet) |
		gzip -1 >"$WORK/kvm-probe.gz"
	t0="$(now_ms)"
	# The subshell's stderr takes bash's "Aborted" notice when qemu aborts.
	(timeout -k 2 "$KVM_PROBE_TIMEOUT" qemu-system-x86_64 -nographic -no-reboot -m 256 -smp 1 \
		-net none "${KVM_ACCEL[@]}" -kernel "$KERNEL" -initrd "$WORK/kvm-probe.gz" \
		-append "console=ttyS0 panic=-1 quiet" </dev/null >"$plog" 2>&1; exit $?) 2>/dev/null || prc=$?
	t1="$(now_ms)"
	if tr -d '\r' <"$plog" | grep -qF "$PROBE_MARKER"; then
		ACCEL_WHY="a KVM probe boot reached user space in $((t1 - t0)) ms"
		return 0
	fi
	if [[ "$prc" -eq 124 || "$prc" -eq 137 ]]; then
		ACCEL_WHY="a KVM probe boot did not reach user space within ${KVM_PROBE_TIMEOUT}s"
	else
		ACCEL_WHY="a KVM probe boot failed (qemu exit $prc)"
	fi
	# The last thing qemu or the guest said, usually the reason ("failed to set MSR", "Booting from ROM...").
	ACCEL_WHY+=": $(tr -d '\r' <"$plog" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' | grep -v -e '^[[:space:]]*$' -e 'terminating on signal' | tail -n1 | cut -c1-160)"
	return 1
}

KVM_PROBE_TIMEOUT="${SYSGUARD_VM_KVM_PROBE_TIMEOUT:-12}"
ACCEL=()
if [[ "${SYSGUARD_VM_NO_KVM:-0}" == 1 ]]; then
	ACCEL_NAME=tcg ACCEL_WHY="SYSGUARD_VM_NO_KVM=1"
elif [[ ! -e /dev/kvm ]]; then
	ACCEL_NAME=tcg ACCEL_WHY="no /dev/kvm"
elif [[ ! -w /dev/kvm ]]; then
	ACCEL_NAME=tcg ACCEL_WHY="/dev/kvm is not writable by $(id -un)"
elif kvm_probe; then
	ACCEL_NAME=kvm ACCEL=("${KVM_ACCEL[@]}")
else
	ACCEL_NAME=tcg
fi
t_accel="$(now_ms)"
log "accelerator: $ACCEL_NAME ($ACCEL_WHY)"

# ---------------------------------------------------------------- boot
APPEND="console=ttyS0 lsm=lockdown,capability,landlock,bpf panic=-1 quiet ${SYSGUARD_VM_APPEND:-}"
QEMU=(qemu-system-x86_64 -nographic -no-reboot -m "$MEM" -smp 1 -net none
	"${ACCEL[@]}"
	-kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND")

log "booting (timeout ${TIMEOUT}s, console log $LOG)"
qrc=0
if [[ "$VERBOSE" == 1 ]]; then
	{
		rc=0
		timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 || rc=$?
		echo "$rc" >"$WORK/qemu.rc"
	} | tee "$LOG" >&2
	qrc="$(cat "$WORK/qemu.rc")"
else
	timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$LOG" 2>&1 || qrc=$?
fi
t_end="$(now_ms)"

boot_s="$(tr -d '\r' <"$LOG" | sed -n 's/.*SYSGUARD-VM: uptime \([0-9.]*\)s at init.*/\1/p' | head -n1)"
log "qemu ($ACCEL_NAME) exited $qrc after $((t_end - t_accel)) ms (guest uptime at /init: ${boot_s:-?} s); total $((t_end - t_start)) ms"

result="$(tr -d '\r' <"$LOG" | grep -oE "${MARKER} [A-Z]+.*" | tail -n1 || true)"
if [[ "$qrc" -eq 124 || "$qrc" -eq 137 ]]; then
	log "TIMEOUT after ${TIMEOUT}s"
fi
if [[ "$result" == "${MARKER} PASS"* ]]; then
	log "$result"
	exit 0
fi
log "${result:-no ${MARKER} line in the console log}"
log "---- last 60 lines of $LOG ----"
tr -d '\r' <"$LOG" | tail -n 60 >&2
exit 1
