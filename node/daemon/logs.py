"""Logging for the daemon: stderr, journald-friendly.

Under systemd (JOURNAL_STREAM or INVOCATION_ID set) each line starts with a
syslog priority prefix such as "<4>", which journald turns into the entry's
priority, and carries no timestamp of its own (the journal adds one).
Elsewhere lines carry an ISO timestamp and the level name.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    """`<priority>message`, as journald reads stderr lines."""

    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        return f"<{prio}>{super().format(record)}"


class LibraryQuota(logging.Filter):
    """At most `burst` lines a `window_s` from loggers other than meshaid's: a
    radio sending well-framed junk made the meshtastic library log two
    tracebacks a frame (116 KB in 50 s). The first line after a window with
    lines held back says how many."""

    def __init__(self, burst: int = 5, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.window_s, self.clock = burst, window_s, clock
        self.start, self.count, self.held = -1e18, 0, 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "meshaid" or record.name.startswith("meshaid."):
            return True
        now = self.clock()
        if now - self.start >= self.window_s:
            self.start, self.count = now, 0
            if self.held and isinstance(record.msg, str):
                record.msg = (f"({self.held} more lines from libraries were held back"
                              f" in {self.window_s:.0f} s) " + record.msg)
            self.held = 0
        self.count += 1
        if self.count > self.burst:
            self.held += 1
            return False
        return True


def under_systemd(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    return bool(env.get("JOURNAL_STREAM") or env.get("INVOCATION_ID"))


def setup(verbose: bool = False, env: dict[str, str] | None = None) -> logging.Logger:
    """Send every log line to stderr in this form: meshaid's own from INFO (DEBUG
    with `verbose`), the libraries' (meshtastic, asyncio) from WARNING. Returns
    the `meshaid` logger."""
    handler = logging.StreamHandler(sys.stderr)
    if under_systemd(env):
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s",
                                               "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LibraryQuota())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    log = logging.getLogger("meshaid")
    log.handlers.clear()
    log.propagate = True
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    return log
