# SPDX-License-Identifier: Apache-2.0
"""What the benchmark's Python parts share: the fatal error, the log line, a clean stop."""
import signal
import subprocess
import sys
import time


class Fatal(Exception):
    """Stops the suite; carries the exit status."""

    def __init__(self, msg, status=3):
        super().__init__(msg)
        self.status = status


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stop_clean(proc, what, timeout, stderr_path):
    """SIGTERM, then wait: a daemon that ignores it or fails to stop cleanly stops the suite.
    Returns the seconds the stop took."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Fatal(f"{what} ignored SIGTERM for {timeout}s; killed")
    if proc.returncode != 0:
        raise Fatal(f"{what} exited with status {proc.returncode} on SIGTERM; see {stderr_path}")
    return time.monotonic() - t0
