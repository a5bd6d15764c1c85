"""The IP link port: what a bridge needs from a message broker, whatever it is.

Theory of operation
-------------------
Two adapters implement `IpLink`: MQTT through a real broker (mqtt.py) and a
simulated broker in virtual time (fakebroker.py). Each bridge publishes under
its own name and hears every other bridge of its network; it never hears
itself. Delivery is at least once and in no guaranteed order, and anything
may be lost: the engines' reconciliation repairs it, so correctness never
depends on the broker. A broker is trusted with nothing but delivery:
records carry their own signatures.

* `start(sink)` connects, and reconnects with back-off for as long as the
  link is open; events (`IpReceived`, `IpLinkState`) go to `sink`, from any
  thread.
* `publish(payload, tag, urgent)` never blocks; `tag` is the engine's
  message type, which sets how long a broker may keep the message for a
  bridge that is away (records long, digests and sketches briefly).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# How long a broker keeps a message for a bridge that is away (MQTT 5 message expiry).
EXPIRY_S = {"push": 6 * 3600, "forward": 6 * 3600, "repair": 6 * 3600, "bridge": 6 * 3600,
            "pull-records": 600}
CONTROL_EXPIRY_S = 60  # digests, sketches, requests, pulls: stale within a minute


def expiry_of(tag: str) -> int:
    """Seconds a broker may hold a message of engine type `tag` for an absent bridge."""
    return EXPIRY_S.get(tag, CONTROL_EXPIRY_S)


def node_of(name: str) -> int:
    """The 32-bit node number an IP engine uses for the bridge called `name`."""
    n = int.from_bytes(hashlib.sha256(b"meshaid-bridge:" + name.encode()).digest()[:4], "big")
    return n if n not in (0, 0xFFFFFFFF) else 1


@dataclass(frozen=True)
class IpReceived:
    """A message another bridge published."""

    payload: bytes
    sender: str  # the publishing bridge's name (from its topic, which the broker's ACL binds)
    at: float


@dataclass(frozen=True)
class IpLinkState:
    """The link to the broker went up or down (with why)."""

    up: bool
    detail: str = ""
    at: float = 0.0


IpEvent = IpReceived | IpLinkState
IpSink = Callable[[IpEvent], None]


class IpLink(Protocol):
    """The port every broker adapter implements."""

    name: str

    def start(self, sink: IpSink) -> None:
        """Begin connecting (and reconnecting) and deliver events to `sink`."""

    def publish(self, payload: bytes, tag: str, urgent: bool = False) -> None:
        """Queue one message for every other bridge of the network."""

    def close(self) -> None:
        """Disconnect; no events after this returns."""
