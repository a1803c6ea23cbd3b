#!/bin/sh
# Runs inside the Debian 6.1 guest (BPF LSM active): the real, statically
# linked sysguardd must pick the bpf_lsm backend and deny with it alone.
set -u
SG=/sysguard
RUN=/run/sg
mkdir -p "$RUN"
DPID=

fail() {
	echo "FAIL: $*"
	[ -f "$RUN/err.txt" ] && tail -n 20 "$RUN/err.txt"
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	echo "SYSGUARD-VM-RESULT: FAIL"
	exit 1
}

start_daemon() {
	rm -f "$RUN/ready" "$RUN/audit.log"
	"$SG/sysguardd" --policy "$SG/policy.yaml" --log "$RUN/audit.log" --state-dir "$RUN" "$@" \
		2>"$RUN/err.txt" &
	DPID=$!
	i=0
	while [ ! -f "$RUN/ready" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -f "$RUN/ready" ] || fail "daemon not ready: $(cat "$RUN/err.txt")"
	echo "ready: $(cat "$RUN/ready")"
}

# wait_log PATTERN: the audit log has a line matching PATTERN within 10 s. Records
# are written by a queue's thread; under software emulation that can take a while.
wait_log() {
	i=0
	while ! grep -q "$1" "$RUN/audit.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q "$1" "$RUN/audit.log"
}

stop_daemon() {
	kill "$DPID"
	wait "$DPID"
	DPID=
}

# must_not_run NAME CMD...: CMD must fail and its marker /tmp/NAME must not appear.
must_not_run() {
	name=$1
	shift
	"$@" "/tmp/$name" 2>/dev/null && fail "$name: exec succeeded"
	[ -e "/tmp/$name" ] && fail "$name: the denied binary ran (marker exists)"
	echo "ok: $name denied"
}

"$SG/sysguardctl" probe --json > "$RUN/probe.json" || fail "probe failed"
grep -q '"bpf_lsm":{"usable":true' "$RUN/probe.json" || fail "probe: bpf_lsm not usable: $(cat "$RUN/probe.json")"
echo "ok: probe reports bpf_lsm usable"

echo guarded > /tmp/guarded	# the policy's files: rule (FILE-1)
mkdir -p /tmp/closed; rm -f /tmp/absent-preload	# deny: [create] directory, absent path

# 1. BPF LSM alone: no fanotify, no in-kernel kill, no hold, no user-space kill.
start_daemon --disable-backend fanotify --disable-backend bpf_kill --disable-backend hold \
	--disable-backend pidfd_kill --disable-backend egress
grep -q '"backends":\["bpf_lsm"\]' "$RUN/ready" || fail "bpf_lsm is not the only active backend"
"$SG/allowed-touch" /tmp/allowed || fail "allowed binary did not run"
[ -e /tmp/allowed ] || fail "allowed binary left no marker"
echo "ok: allowed binary runs"
must_not_run by-path "$SG/denied-touch"
ln -s "$SG/denied-touch" /tmp/symlink-touch
must_not_run by-symlink /tmp/symlink-touch
ln "$SG/denied-touch" /tmp/hardlink-touch
must_not_run by-hardlink /tmp/hardlink-touch
# The dynamic loader maps the program instead of exec'ing it: lsm/mmap_file.
must_not_run by-loader /lib64/ld-linux-x86-64.so.2 "$SG/denied-touch"
# Another mount namespace and a bind mount change no identity.
must_not_run by-namespace unshare -m sh -c 'mount --bind /sysguard /mnt && exec /mnt/denied-touch "$0"'
must_not_run by-namespace-loader unshare -m sh -c \
	'mount --bind /sysguard /mnt && exec /lib64/ld-linux-x86-64.so.2 /mnt/denied-touch "$0"'
# A denied shared object is not mapped as code (lsm/mmap_file): its constructor never runs.
SG_LIB_MARKER=/tmp/lib-ran LD_PRELOAD="$SG/denied-lib.so" "$SG/allowed-touch" /tmp/preloaded 2>/dev/null
[ -e /tmp/lib-ran ] && fail "the denied library's constructor ran"
[ -e /tmp/preloaded ] || fail "the program did not run without its denied library"
wait_log '"action":"library".*"enforced_by":"bpf_lsm"' || fail "no library denial recorded"
echo "ok: denied library refused by bpf_lsm, the program ran without it"
sleep 1
stop_daemon
grep -q '"enforced_by":"bpf_lsm"' "$RUN/audit.log" || fail "no exec record enforced_by bpf_lsm"
grep -q '"action":"mmap_exec".*"enforced_by":"bpf_lsm"' "$RUN/audit.log" || fail "no mmap_exec denial recorded"
grep -q '"type":"mitigation".*"backend":"bpf_lsm"' "$RUN/audit.log" || fail "no mitigation record"
echo "ok: audit log has bpf_lsm exec, mmap_exec and mitigation records"

# 2. Everything the probe allows, stacked: bpf_lsm first; the Shield on lo (BPF-7 below).
start_daemon --config "$SG/shield.yaml"
grep -q '"backends":\["bpf_lsm","fanotify","bpf_kill"' "$RUN/ready" || fail "unexpected backend set"
must_not_run stacked "$SG/denied-touch"
# 3. Egress through lsm/socket_connect (cgroup/connect4 is not attached beside it).
grep -q '"backend":"egress_lsm","active":true' "$RUN/audit.log" || fail "egress_lsm not active"
ip link set lo up 2>/dev/null
out=$(nc -w 1 127.0.0.77 9 </dev/null 2>&1)
case "$out" in *"not permitted"*) echo "ok: connect to a denied address refused" ;;
	*) fail "connect to 127.0.0.77:9 not refused: $out" ;; esac
out=$(nc -w 1 127.0.0.77 10 </dev/null 2>&1)
case "$out" in *"not permitted"*) fail "connect to an allowed port refused: $out" ;; esac
wait_log '"type":"network".*"blocked":true.*"ip":"127.0.0.77","port":9' ||
	fail "no network record for the refused connect"
"$SG/short-connect" || fail "a short socket address was not left to the kernel (NET-1)"
echo "ok: short socket address skipped by lsm/socket_connect"
# IPv4-mapped IPv6 is decided by the IPv4 rule, also with a 24-byte sockaddr_in6.
"$SG/mapped-connect" || fail "connect to ::ffff:127.0.0.77:9 not refused by lsm/socket_connect"
wait_log '"type":"network".*"blocked":true.*"ip":"127.0.0.77","ipv6":"::ffff:127.0.0.77"' ||
	fail "no network record with the mapped address: $(grep '"type":"network"' "$RUN/audit.log")"
echo "ok: IPv4-mapped connect refused by the IPv4 rule through lsm/socket_connect"
echo "ok: egress denial through lsm/socket_connect recorded"
# 3b. The daemon's file stage on BPF LSM: a files: rule, self-defence, BPF-7.
grep -q '"files_backend":"bpf_lsm"' "$RUN/ready" || fail "files backend is not bpf_lsm: $(cat "$RUN/ready")"
(echo x >> /tmp/guarded) 2>/dev/null && fail "root appended to a protected file"
rm -f /tmp/guarded 2>/dev/null; [ -e /tmp/guarded ] || fail "root deleted a protected file"
mv /tmp/guarded /tmp/moved 2>/dev/null && fail "root renamed a protected file"
[ "$(cat /tmp/guarded)" = guarded ] || fail "a protected file could not be read"
(echo x >> "$SG/policy.yaml") 2>/dev/null && fail "root appended to the daemon's policy (self-defence)"
(echo x >> "$SG/sysguardd") 2>/dev/null && fail "root appended to the daemon's binary (self-defence)"
sleep 0.5
grep -q '"type":"file_access".*"action":"open_write".*"blocked":true.*"backend":"bpf_lsm"' "$RUN/audit.log" ||
	fail "no file_access record from the BPF LSM file guard"
grep -q '"type":"file_access".*"action":"unlink"' "$RUN/audit.log" || fail "no unlink record"
grep -q '"type":"bpf_map_guard".*"object":"exec","maps_guarded":[1-9][0-9]*,"maps_failed":0' "$RUN/audit.log" ||
	fail "exec maps not guarded (BPF-7): $(grep bpf_map_guard "$RUN/audit.log")"
echo "ok: daemon file stage on bpf_lsm: protected file, self-defence, maps guarded"
# 3c. deny: [create] directory and absent path, refused by inode_create & co.
grep -q '"rule":"closed-dir".*"bpf_lsm":"refused"' "$RUN/audit.log" || fail "closed-dir not refused on bpf_lsm: $(grep closed-dir "$RUN/audit.log")"
out=$(touch /tmp/closed/new 2>&1) && fail "touch in a deny: [create] directory succeeded"
case "$out" in *"not permitted"*) ;; *) fail "touch in closed dir: not EPERM: $out" ;; esac
mkdir /tmp/closed/d 2>/dev/null && fail "mkdir in a deny: [create] directory succeeded"
mknod /tmp/closed/p p 2>/dev/null && fail "mknod in a deny: [create] directory succeeded"
ln -s /etc/passwd /tmp/closed/s 2>/dev/null && fail "symlink in a deny: [create] directory succeeded"
echo x > /tmp/outside; ln /tmp/outside /tmp/closed/h 2>/dev/null && fail "ln into a deny: [create] directory succeeded"
mv /tmp/outside /tmp/closed/m 2>/dev/null && fail "mv into a deny: [create] directory succeeded"
[ -z "$(ls -A /tmp/closed)" ] || fail "entries got into the closed directory: $(ls -A /tmp/closed)"
out=$(sh -c 'echo evil > /tmp/absent-preload' 2>&1) && fail "an absent protected path was created"
case "$out" in *"not permitted"*) ;; *) fail "absent path: not EPERM: $out" ;; esac
ln /tmp/outside /tmp/absent-preload 2>/dev/null && fail "ln onto an absent protected path succeeded"
mv /tmp/outside /tmp/absent-preload 2>/dev/null && fail "mv onto an absent protected path succeeded"
[ -e /tmp/absent-preload ] && fail "the absent protected path exists"
touch /tmp/absent-other || fail "an unprotected name next to the absent path was refused"
sleep 1
grep -q '"type":"file_access".*"action":"create".*"name":"new".*"name":"closed-dir"' "$RUN/audit.log" ||
	fail "no create record for the closed directory: $(grep '"action":"create"' "$RUN/audit.log")"
grep -q '"type":"file_access".*"action":"create".*"name":"absent-preload".*"name":"absent"' "$RUN/audit.log" ||
	fail "no create record for the absent path"
echo "ok: deny: [create] directory and absent path refused on bpf_lsm (EPERM) and recorded"
# 3c. BPF-7 for the Shield: its pinned maps are the daemon's alone; changes go through it.
SD=/sys/fs/bpf/sysguard/shield
grep -q '"type":"backend".*"backend":"shield","active":true' "$RUN/audit.log" ||
	fail "Shield not attached to lo: $(grep '"backend":"shield"' "$RUN/audit.log")"
grep -q '"type":"bpf_map_guard".*"object":"shield","maps_guarded":7,"maps_failed":0' "$RUN/audit.log" ||
	fail "Shield maps not guarded (BPF-7): $(grep bpf_map_guard "$RUN/audit.log")"
"$SG/shield-map-open" deny "$SD" || fail "a pinned Shield map opened by another process"
if command -v bpftool >/dev/null; then
	out=$(bpftool map update pinned "$SD/v4list" key 0 0 0 0 value 0 0 0 0 0 0 0 0 0 0 0 0 \
		0 0 0 0 0 0 0 0 0 0 0 0 2>&1) && fail "bpftool map update of the Shield's list worked"
	case "$out" in *"not permitted"*) ;; *) fail "bpftool map update: unexpected: $out" ;; esac
	bpftool map dump pinned "$SD/v4idx" >/dev/null 2>&1 && fail "bpftool map dump of the Shield worked"
	echo "ok: bpftool map update/dump of the Shield's maps refused (EPERM)"
fi
out=$("$SG/sysguardctl" --state-dir "$RUN" shield add 192.0.2.7 2>&1) || fail "shield add through the daemon: $out"
out=$("$SG/sysguardctl" --state-dir "$RUN" shield list 2>&1) || fail "shield list through the daemon: $out"
case "$out" in *192.0.2.7/32*198.51.100.0/24*|*198.51.100.0/24*192.0.2.7/32*) ;;
	*) fail "shield list through the daemon: $out" ;; esac
out=$("$SG/sysguardctl" --state-dir "$RUN" shield add 192.0.2.1/24 2>&1) && fail "host bits accepted: $out"
out=$("$SG/sysguardctl" shield --pin-dir "$SD" add 192.0.2.8 2>&1) && fail "direct Shield edit worked: $out"
case "$out" in *guarded*) ;; *) fail "direct Shield edit: unexpected: $out" ;; esac
sleep 0.5
grep -q '"type":"shield_change".*"command":"add","args":"192.0.2.7","result":"done".*"by_uid":0' "$RUN/audit.log" ||
	fail "no shield_change record: $(grep shield_change "$RUN/audit.log")"
grep -q '"type":"shield_change".*"args":"192.0.2.1/24","result":"refused"' "$RUN/audit.log" ||
	fail "no refused shield_change record"
grep -q '"type":"file_access".*"action":"bpf_map"' "$RUN/audit.log" || fail "no bpf_map refusal recorded"
echo "ok: Shield maps refused to others (EPERM), changes through the daemon applied and recorded"
stop_daemon
(echo x >> /tmp/guarded) 2>/dev/null || fail "protection outlived a clean stop"
# The guard dies with the daemon: the helper opens the maps now, and the CLI edits them itself.
"$SG/shield-map-open" allow "$SD" || fail "Shield maps still refused with no daemon"
"$SG/sysguardctl" --state-dir "$RUN" shield unload || fail "shield unload without a daemon"
echo "ok: no daemon, no guard: Shield edited directly"

# 4. The file guard on BPF LSM (FILE-1, FILE-3, BPF-7), driven by its own
# test program (tests/vm/file_guard/guard-test.c), with no daemon running.
"$SG/file-guard-test" || fail "file guard: see the FAIL lines above"
echo "SYSGUARD-VM-RESULT: PASS"
