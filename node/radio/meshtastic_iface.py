"""The official library's interfaces, with the hooks a long-running daemon needs.

Theory of operation
-------------------
`SerialInterface` and `TCPInterface` (meshtastic 2.7.11) are used as they are,
through subclasses that change only what a daemon cannot live with:

* `_waitConnected` waits ``connect_timeout`` instead of a fixed 30 s, and
  `TCPInterface.myConnect` dials with that timeout instead of none.
* `TCPInterface._reconnect` no longer re-dials silently (publishing neither
  "lost" nor "established"): it declares the link dead, the reader thread
  ends, and the adapter rebuilds the interface with its own back-off.
* `_disconnected` (serial unplug, reader death) reports the death directly
  to the adapter, not only through the weakly held pubsub listeners.
* `_handleFromRadio` stamps the time of every frame from the radio (the
  liveness watchdog's clock), `_handleQueueStatusFromRadio` hands every
  QueueStatus to the adapter (the library publishes none), `_handleLogLine`
  counts bytes that were not frames (noise on the serial line).
* `_writeBytes` is serialised by a lock, so the watchdog's heartbeat probe
  never interleaves with a packet the send worker is writing.

Every hook runs on the library's reader thread and only records or calls the
adapter's thread-safe callbacks.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from meshtastic.serial_interface import SerialInterface
from meshtastic.tcp_interface import TCPInterface


class Hooks:
    """What the adapter wants to hear from one interface (all callbacks thread-safe)."""

    def __init__(self, on_dead: Callable[[str], None], on_queue_status: Callable[[Any], None],
                 on_noise: Callable[[str], None], connect_timeout: float) -> None:
        """Callbacks for a dead link, a QueueStatus and a non-frame log line."""
        self.on_dead = on_dead
        self.on_queue_status = on_queue_status
        self.on_noise = on_noise
        self.connect_timeout = connect_timeout
        self.last_rx = time.monotonic()
        self.write_lock = threading.Lock()


class _HookMixin:
    """Overrides shared by both transports (mixed in before the library class)."""

    mx: Hooks

    def _waitConnected(self, timeout: float = 30.0) -> None:
        super()._waitConnected(self.mx.connect_timeout)  # type: ignore[misc]

    def _handleFromRadio(self, fromRadioBytes: bytes) -> None:
        self.mx.last_rx = time.monotonic()
        super()._handleFromRadio(fromRadioBytes)  # type: ignore[misc]

    def _handleQueueStatusFromRadio(self, queueStatus: Any) -> None:
        super()._handleQueueStatusFromRadio(queueStatus)  # type: ignore[misc]
        self.mx.on_queue_status(queueStatus)

    def _handleLogLine(self, line: str) -> None:
        if line.strip():
            self.mx.on_noise(line)

    def _writeBytes(self, b: bytes) -> None:
        with self.mx.write_lock:
            super()._writeBytes(b)  # type: ignore[misc]

    def _disconnected(self) -> None:
        super()._disconnected()  # type: ignore[misc]
        self.mx.on_dead("connection lost")


class HookedSerial(_HookMixin, SerialInterface):
    """`SerialInterface` on an explicit path, with the daemon's hooks."""

    def __init__(self, path: str, hooks: Hooks) -> None:
        """Open ``path`` and run the handshake (raises on failure, within the timeout)."""
        self.mx = hooks
        super().__init__(devPath=path, timeout=max(1, int(hooks.connect_timeout)))


class HookedTCP(_HookMixin, TCPInterface):
    """`TCPInterface` that dials with a timeout and never re-dials by itself."""

    def __init__(self, host: str, port: int, hooks: Hooks) -> None:
        """Connect to ``host:port`` and run the handshake (raises on failure)."""
        self.mx = hooks
        super().__init__(host, portNumber=port, timeout=max(1, int(hooks.connect_timeout)))

    def myConnect(self) -> None:
        sock = socket.create_connection((self.hostname, self.portNumber),
                                        timeout=self.mx.connect_timeout)
        sock.settimeout(None)  # the reader thread blocks on recv
        self.socket = sock

    def _reconnect(self) -> None:
        self._wantExit = True  # the reader loop ends; _disconnected reports the death
        self.mx.on_dead("TCP connection closed")


def open_interface(settings: Any, hooks: Hooks) -> Any:
    """Connect to the radio `settings` (a MeshtasticSettings) names and run the handshake:
    TCP, or the serial device found by `find_serial`; FileNotFoundError when there is none."""
    from .meshtastic_config import find_serial

    if settings.transport == "tcp":
        return HookedTCP(settings.host, settings.port, hooks)
    path = find_serial(settings.path)
    if path is None:
        raise FileNotFoundError("no serial radio found (/dev/meshtastic, ttyUSB*, ttyACM*)")
    return HookedSerial(path, hooks)
