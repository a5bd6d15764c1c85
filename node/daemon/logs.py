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

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    """`<priority>message`, as journald reads stderr lines."""

    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        return f"<{prio}>{super().format(record)}"


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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    log = logging.getLogger("meshaid")
    log.handlers.clear()
    log.propagate = True
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    return log
