# SPDX-License-Identifier: Apache-2.0
"""What the benchmark's Python parts share: the fatal error and the log line."""
import sys
import time


class Fatal(Exception):
    """Stops the suite; carries the exit status."""

    def __init__(self, msg, status=3):
        super().__init__(msg)
        self.status = status


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
