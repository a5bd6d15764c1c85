"""The two engines of a bridge node: the radio engine and the IP engine.

Theory of operation
-------------------
A bridge node runs the ordinary sync engine twice over one store: once on
its radio, with the air-time budget, and once on the IP link, with a byte
budget. Both are `BridgeEngine`s: the plain engine plus `inject`, which
takes a record another interface stored and sends it on this one as a
*relay*: after a back-off, at most once, and cancelled as soon as a copy is
heard on this interface (another bridge of the same mesh injected it first).
`ip_config` is the engine's configuration for the IP link: big packets, fast
timers, a digest a few seconds after every reconnect, bytes instead of air.
"""

from __future__ import annotations

from collections.abc import Callable

from ..sync.budget import BULK, NORMAL, URGENT
from ..sync.engine import Engine, _Send, record_id
from ..sync.ports import Outgoing, SyncConfig

IP_PAYLOAD = 4000  # bytes per IP message: about 25 records, or 300 sketch symbols
IP_OVERHEAD = 60  # bytes an MQTT publish costs beyond its payload (fixed header, topic, props)
BYTES_PER_S = 1000.0  # the IP budget counts bytes as "seconds" at this rate
DEFAULT_IP_MB_PER_HOUR = 20.0


def ip_config(network_tag: bytes, mb_per_hour: float = DEFAULT_IP_MB_PER_HOUR) -> SyncConfig:
    """The sync configuration of an IP engine: `mb_per_hour` megabytes per rolling
    hour at most (a satellite link is metered), timers in seconds, not minutes."""
    cfg = SyncConfig(network_tag=network_tag,
                     airtime=lambda n: (n + IP_OVERHEAD) / BYTES_PER_S,
                     budget_s_per_hour=mb_per_hour * 1e6 / BYTES_PER_S,
                     budget_margin=0.0, payload_cap=IP_PAYLOAD, push_delay=0.5,
                     forward_window=(0.5, 3.0), repair_window=(0.05, 0.5),
                     retry_delay=2.0, urgent_window=(0.1, 1.0), urgent_recheck=30.0,
                     trickle_imin=2.0, trickle_imax=300.0, announce_every=1800.0,
                     news_interval=10.0, urgent_news_interval=10.0, mismatch_interval=5.0,
                     settle=2.0, boot_gap=48, pull_batch=4, pull_timeout=15.0, pull_gap=0.5,
                     sketch_size=2048, sketch_min=32, author_rate_per_hour=1e6,
                     author_burst=1e6, max_scope=0)
    return cfg


class BridgeEngine(Engine):
    """The sync engine plus `inject` (records another interface brought)."""

    injected_sent = 0  # injected records this engine put on its interface
    before_poll: Callable[[float], object] | None = None  # the glue's feed_radio

    def poll(self, now: float) -> list[Outgoing]:
        """As `Engine.poll`, after `before_poll` moved waiting records in."""
        if self.before_poll is not None:
            self.before_poll(now)
        return super().poll(now)

    def _sent(self, rid: bytes, now: float) -> None:
        pending = self.sends.get(rid)
        if pending is not None and pending.tag == "bridge":
            self.injected_sent += 1
        super()._sent(rid, now)

    def inject(self, raw: bytes, now: float, delay: float, bulk: bool = False) -> bool:
        """Count a record another interface stored and send it here after `delay`
        seconds unless a copy is heard first; urgent records go at once at urgent
        priority, `bulk` ones within the bulk share of the budget only. False if
        this engine knew it already (nothing is sent) or the ledger refused it."""
        self.start(now)
        rid = record_id(raw)
        if rid in self.infos or rid in self.outside:
            return False
        result = self.ledger.sync_ingest(raw, now)
        self._retrust(result.changed)
        self._set_change(result)  # superseded versions leave this engine's set too
        if result.info is None:
            self.stats.dropped[result.reason or result.status] += 1
            return False
        self._dirty = True
        info = result.info
        self._add(info)
        self._remember(rid, raw)
        self.recon.got(rid)
        if info.urgent:
            prio, delay = URGENT, min(delay, self.cfg.urgent_window[1])
        elif bulk or not info.trusted:
            prio = BULK
        else:
            prio = NORMAL
        self._schedule(rid, _Send(now + delay, prio, 1, 0, "bridge", None))
        self._news(now, info.urgent)
        return True

    def knows(self, rid: bytes) -> bool:
        """True if this engine counts the record `rid` (8-byte id)."""
        return rid in self.infos

    def pending_injections(self) -> int:
        """Injected records still waiting to be sent."""
        return sum(1 for s in self.sends.values() if s.tag == "bridge")

    def force_digest(self, now: float) -> None:
        """Say our digest soon (`trickle_imin`), whatever was heard: after a
        reconnect, what the link or the broker dropped is found this way."""
        self.start(now)
        self._dirty = True
        self.trickle.reset(now)
        self.trickle.heard = -1 - self.trickle.k  # not suppressed by consistent digests
