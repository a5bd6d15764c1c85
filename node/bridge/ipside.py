"""The IP side of a bridge node: its engine on an `IpLink`, for any host.

Theory of operation
-------------------
The host (the daemon's asyncio loop, the simulator, the real-broker test)
hands every link event to `on_event` on its own thread and calls `pump(now)`
when the timer it returned comes due. Nothing is polled while the link is
down: the engine keeps its queue. Every time the link comes up the engine
says its digest within seconds (`force_digest`), whatever it heard: a broker
silently drops the newest messages of a full session queue, so only a
digest after each reconnect finds what was lost; so does a digest on
hearing a bridge new to us. Bridges are heard by name;
one silent for `FORGET_S` is forgotten (the engine drops it from its
neighbours after 4 x its Trickle maximum, the broker ends its session when
its expiry passes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ledger.wire import DecodeError
from ..sync import messages
from ..sync.budget import URGENT
from ..sync.engine import record_id
from ..sync.ports import RxMeta
from .engines import BridgeEngine
from .glue import Glue
from .link import IpEvent, IpLink, IpLinkState, IpReceived, node_of

FORGET_S = 6 * 3600.0  # a bridge unheard this long leaves the status row


@dataclass
class IpStats:
    published: int = 0
    published_bytes: int = 0
    received: int = 0
    received_bytes: int = 0
    connects: int = 0


@dataclass
class IpSide:
    """One bridge's IP engine and link (see the module doc)."""

    engine: BridgeEngine
    link: IpLink
    glue: Glue
    up: bool = False
    detail: str = "connecting"
    last_exchange: float | None = None  # host clock of the last message either way
    peers: dict[str, float] = field(default_factory=dict)  # bridge name -> last heard
    stats: IpStats = field(default_factory=IpStats)

    def on_event(self, event: IpEvent, now: float) -> None:
        """One event from the link, on the host's thread."""
        if isinstance(event, IpLinkState):
            self.up, self.detail = event.up, event.detail
            if event.up:
                self.stats.connects += 1
                self.engine.force_digest(now)
            return
        if isinstance(event, IpReceived):
            self.stats.received += 1
            self.stats.received_bytes += len(event.payload)
            if event.sender not in self.peers:
                # A bridge new to us (just started, or back after long): it may not
                # have heard us either; our digest tells it at once what we hold.
                self.engine.force_digest(now)
            self.peers[event.sender] = now
            self.glue.bridges.add(event.sender)
            self.last_exchange = now
            self._count_records(event)
            self.glue.sender = event.sender
            try:
                self.engine.receive(event.payload, RxMeta(sender=node_of(event.sender)), now)
            finally:
                self.glue.sender = ""

    def _count_records(self, event: IpReceived) -> None:
        """How many of the records in this message we had: tells the glue whether
        its sender shares our mesh."""
        try:
            msg = messages.decode(event.payload)
        except DecodeError:
            return  # the engine counts it as dropped
        if isinstance(msg, messages.Records):
            known = sum(1 for raw in msg.records if self.engine.knows(record_id(raw)))
            self.glue.heard_records(event.sender, len(msg.records) - known, known)

    def pump(self, now: float) -> float | None:
        """Send what the engine has due; when to pump next (None: nothing planned,
        or the link is down)."""
        if not self.up:
            return None
        for out in self.engine.poll(now):
            self.link.publish(out.payload, out.tag, urgent=out.priority == URGENT)
            self.stats.published += 1
            self.stats.published_bytes += len(out.payload)
            self.last_exchange = now
        due = self.engine.next_timer()
        return max(due, now + 0.01) if due is not None else None

    def snapshot(self, now: float, to_wall: float) -> dict[str, Any]:
        """The bridge part of the daemon's status row; `to_wall` converts the host
        clock to wall time (wall - now)."""
        for name, last in list(self.peers.items()):
            if now - last > FORGET_S:
                del self.peers[name]
                self.glue.bridges.discard(name)
        counts = self.glue.counts
        return {
            "name": self.link.name,
            "link": "up" if self.up else "down",
            "detail": self.detail,
            "last_exchange": (None if self.last_exchange is None
                              else round(self.last_exchange + to_wall, 1)),
            "to_ip": counts.to_ip,
            "to_radio": counts.to_radio,
            "backlog": len(self.glue.backlog),
            "bridges": sorted(self.peers),
            "ip_bytes_out": self.stats.published_bytes,
            "ip_bytes_in": self.stats.received_bytes,
        }
