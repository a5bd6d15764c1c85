"""The radio port: what the daemon needs from a radio, whatever the radio is.

Theory of operation
-------------------
Three adapters implement `Radio`: the real Meshtastic device through the
official library (serial or TCP; the fake device is reached the same way),
and the simulator's air in process. The daemon sees only this module.

* `start(sink)` begins connecting, and keeps reconnecting with back-off for
  as long as the adapter is open. Every event (a packet heard, the result of
  a send, the link going up or down, fresh device metrics) is handed to
  `sink`. Adapters may call `sink` from any thread; the daemon's sink is
  thread-safe (it posts to its own event loop) and never blocks.
* `send(...)` never blocks and never raises for a radio problem: it queues
  the payload and its result arrives later as a `SendResult` with the same
  `token`. A payload over the real cap is refused at once (`PayloadTooLarge`),
  before any library sees it.
* Times in events are the daemon's monotonic clock (`time.monotonic()`), or
  the simulator's virtual time for the simulated adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..sync.budget import BULK, CATCH_UP, RESEND, URGENT
from ..sync.ports import RxMeta

# Usable payload on a private port (see ../shared radio facts and firmware-notes/):
BROADCAST_MAX = 231  # broadcast or channel-encrypted
DIRECT_MAX = 219  # PKI-encrypted direct message (forced for DMs on firmware 2.7.x)

# Meshtastic MeshPacket priorities (mesh.proto).
PRIO_BACKGROUND, PRIO_DEFAULT, PRIO_RELIABLE, PRIO_HIGH = 10, 64, 70, 100


class PayloadTooLarge(ValueError):
    """A payload over the radio's real cap: refused before the library sees it."""


@dataclass(frozen=True)
class DeviceInfo:
    """What the radio says about itself once connected (fields it did not say are empty)."""

    node_num: int
    node_id: str = ""  # "!1a2b3c4d"
    long_name: str = ""
    short_name: str = ""
    hw_model: str = ""
    firmware: str = ""
    region: str = ""
    preset: str = ""
    role: str = ""
    hop_limit: int = 3
    duty_cycle_pct: float | None = None  # the region's legal cap; None: none


@dataclass(frozen=True)
class Received:
    """A packet heard on our port."""

    payload: bytes
    meta: RxMeta
    at: float  # monotonic
    dest: int | None = None  # None: broadcast


@dataclass(frozen=True)
class SendResult:
    """The fate of one `send`: on air (ok) or not, with the firmware's or our reason
    ("TOO_LARGE", "DUTY_CYCLE_LIMIT", "NO_CHANNEL", "MAX_RETRANSMIT", "timeout",
    "disconnected", ...)."""

    token: int
    ok: bool
    reason: str = ""
    at: float = 0.0


@dataclass(frozen=True)
class LinkState:
    """The link to the radio went up (with what the device said) or down (with why)."""

    up: bool
    detail: str = ""
    device: DeviceInfo | None = None
    at: float = 0.0


@dataclass(frozen=True)
class Metrics:
    """Device metrics, refreshed by the radio about once a minute."""

    channel_util_pct: float
    air_util_tx_pct: float  # share of the last hour this radio transmitted
    at: float = 0.0
    routers_near: int = 0  # firmware routers (ROUTER, ROUTER_LATE, REPEATER) heard directly


@dataclass(frozen=True)
class Dropped:
    """Something arrived from the radio that we refused (counted, never raised)."""

    reason: str
    at: float = 0.0


RadioEvent = Received | SendResult | LinkState | Metrics | Dropped
Sink = Callable[[RadioEvent], None]


class Radio(Protocol):
    """The port every radio adapter implements."""

    def start(self, sink: Sink) -> None:
        """Begin connecting (and reconnecting, forever) and deliver events to `sink`."""

    def send(self, payload: bytes, *, hop_limit: int, priority: int, token: int,
             dest: int | None = None) -> None:
        """Queue one packet; its `SendResult` carries `token`. Raises PayloadTooLarge only."""

    def close(self) -> None:
        """Stop, closing the device; no events after this returns."""


def check_payload(payload: bytes, dest: int | None) -> None:
    """Refuse a payload the firmware would refuse, whatever the library allows."""
    cap = BROADCAST_MAX if dest is None else DIRECT_MAX
    if len(payload) > cap:
        raise PayloadTooLarge(f"{len(payload)} bytes; the radio carries at most {cap}"
                              f" in a {'broadcast' if dest is None else 'direct message'}")


def mesh_priority(engine_priority: int, tag: str) -> int:
    """Map the engine's budget class and message type to a Meshtastic priority:
    digests, sketches and bulk go BACKGROUND (below other nodes' relays), ordinary
    records DEFAULT, critical needs and revocations HIGH."""
    if engine_priority in (URGENT, RESEND):
        return PRIO_HIGH
    if engine_priority in (BULK, CATCH_UP) or tag in ("digest", "sketch", "more", "request", "pull"):
        return PRIO_BACKGROUND
    return PRIO_DEFAULT
