"""systemd readiness and watchdog notifications, without a dependency.

Theory of operation
-------------------
Under systemd with Type=notify, NOTIFY_SOCKET names an AF_UNIX datagram socket
(a path, or an abstract name starting with "@"). We send newline-separated
KEY=VALUE datagrams: READY=1 once the daemon runs, STATUS=... on changes
worth a glance in `systemctl status`, WATCHDOG=1 every half of WATCHDOG_USEC
(only while the event loop turns, so a stuck loop gets restarted) and
STOPPING=1 on the way out. Without NOTIFY_SOCKET every call does nothing.
A failed send is ignored: notification must never stop the daemon.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    """Sends sd_notify datagrams to $NOTIFY_SOCKET, or nothing when it is unset."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        path = env.get("NOTIFY_SOCKET", "")
        self.address: str | bytes | None = None
        if path.startswith("@"):
            self.address = b"\0" + path[1:].encode()
        elif path.startswith("/"):
            self.address = path
        self.watchdog_s: float | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.watchdog_s = int(usec) / 1e6 / 2.0
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: str | int) -> bool:
        """Send KEY=VALUE lines (e.g. READY=1, STATUS="..."); True if it went out."""
        if self.address is None:
            return False
        text = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.setblocking(False)
            self._sock.sendto(text.encode(), self.address)
        except OSError:
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send(READY=1, STATUS=status)

    def status(self, status: str) -> bool:
        return self.send(STATUS=status)

    def watchdog(self) -> bool:
        return self.send(WATCHDOG=1)

    def stopping(self) -> bool:
        return self.send(STOPPING=1)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
