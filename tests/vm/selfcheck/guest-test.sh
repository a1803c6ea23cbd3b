#!/bin/sh
# VM harness self-check, runs inside the guest (see tests/vm/README.md).
# Proves: BPF LSM is active, a static libbpf loader built on the host loads an
# lsm/bprm_check_security program, the program denies exec by inode with
# EPERM, other binaries still run, and dynamic binaries from libs.txt work.
cd /sysguard || exit 1
PIN=/sys/fs/bpf/selfcheck
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
bad() { fails=$((fails + 1)); echo "not ok - $*"; }

case ",$(cat /sys/kernel/security/lsm)," in
*,bpf,*) ok "bpf is in the active LSM list" ;;
*) bad "bpf is not in the active LSM list" ;;
esac

cp /bin/busybox /sysguard/denied
cp /bin/busybox /sysguard/allowed
ln /sysguard/denied /sysguard/denied-hardlink
chmod 755 /sysguard/denied /sysguard/allowed
ls -li /sysguard/denied /sysguard/allowed

# The copies are busybox: `loader exec FILE true` runs them as the applet `true`.
if ./loader exec /sysguard/denied true; then ok "denied copy runs before attach"; else bad "denied copy does not run before attach"; fi

if ./loader attach "$PIN" /sysguard/denied; then
	ok "loader attached the LSM program"
else
	bad "loader failed to attach"
fi

out="$(./loader exec /sysguard/denied true 2>&1)"
rc=$?
echo "$out"
if [ "$rc" -eq 126 ] && echo "$out" | grep -q 'exec-errno=1 '; then
	ok "exec of denied inode fails with EPERM"
else
	bad "exec of denied inode did not fail with EPERM (rc=$rc)"
fi

# From the shell (busybox would answer 127 "applet not found" had it run).
out="$(/sysguard/denied 2>&1)"
rc=$?
echo "shell: rc=$rc $out"
if [ "$rc" -eq 126 ] && echo "$out" | grep -q 'Operation not permitted'; then
	ok "shell exec of denied inode fails (126, Operation not permitted)"
else
	bad "shell exec of denied inode was not refused"
fi

if ./loader exec /sysguard/denied-hardlink true >/dev/null 2>&1; then
	bad "hard link to denied inode ran"
else
	ok "hard link to denied inode is denied too"
fi

if ./loader exec /sysguard/allowed true; then ok "non-denied copy runs"; else bad "non-denied copy does not run"; fi

if [ -x /usr/bin/true ] && /usr/bin/true; then
	ok "dynamic binary from libs.txt runs (/usr/bin/true)"
else
	bad "dynamic binary /usr/bin/true from libs.txt does not run"
fi

./loader stats "$PIN"
if ./loader stats "$PIN" | grep -q 'denied [1-9]'; then
	ok "deny counter counted hits"
else
	bad "deny counter is zero"
fi

if ./loader detach "$PIN" && ./loader exec /sysguard/denied true; then
	ok "after detach the denied copy runs again"
else
	bad "detach did not restore exec"
fi

echo "selfcheck: $passes passed, $fails failed"
if [ "$fails" -eq 0 ]; then
	echo "SYSGUARD-VM-RESULT: PASS"
else
	echo "SYSGUARD-VM-RESULT: FAIL"
fi
