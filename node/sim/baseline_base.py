"""The shared machinery of the baselines, and B0 and B1 (see baselines.py).

Theory of operation: in baselines.py, which describes every baseline.
"""

from __future__ import annotations

import random
from collections import deque

from ..ledger.wire import DecodeError
from ..sync import messages as m
from ..sync.budget import URGENT, Budget
from ..sync.engine import Stats, record_id
from ..sync.ports import Ledger, Outgoing, RxMeta, SyncConfig

__all__ = ["FILTER", "ID_LIST", "FullStateFlood", "PushOnly", "decode_id_list",
           "encode_id_list"]

ID_LIST = 0x0E
FILTER = 0x0D  # B3's filter digest (baseline_gossip.py)
FLOOD_HOPS = 3
PRIORITY = 1
MAX_HELD = 4096


def encode_id_list(ids: tuple[bytes, ...], tag: bytes) -> bytes:
    """Wire bytes of a B2 id list (8-byte ids) in the network with tag `tag`."""
    return bytes([m.VERSION << 4 | ID_LIST]) + tag + b"".join(ids)


def decode_id_list(payload: bytes) -> tuple[bytes, ...]:
    """The ids of a B2 id list (header already checked); DecodeError if malformed."""
    body = payload[m.HEADER:]
    if not body or len(body) % m.ID_LEN:
        raise DecodeError("out-of-range", "id list not a positive multiple of 8 bytes")
    return tuple(body[i : i + m.ID_LEN] for i in range(0, len(body), m.ID_LEN))


def _pack(raws: list[bytes], cap: int) -> list[tuple[bytes, ...]]:
    """Records packed greedily, in order, into packets of at most `cap` bytes."""
    packets: list[list[bytes]] = []
    room = 0
    for raw in raws:
        if len(raw) + 1 > cap - m.RECORDS_ROOM:
            continue  # cannot travel in any packet
        if not packets or len(raw) + 1 > room:
            packets.append([])
            room = cap - m.RECORDS_ROOM
        packets[-1].append(raw)
        room -= len(raw) + 1
    return [tuple(p) for p in packets]


class _Baseline:
    """Shared machinery: the id set, ingest, decoding, and a paced outbox."""

    kinds: frozenset[int] = frozenset({m.RECORDS})

    def __init__(self, ledger: Ledger, config: SyncConfig, node: int, seed: int = 0) -> None:
        self.ledger = ledger
        self.cfg = config
        self.node = node
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.channel_util_pct = 0.0
        self.started = False
        self.ids: dict[bytes, None] = dict.fromkeys(i.id for i in ledger.sync_infos())
        self.held: dict[bytes, None] = {}
        self.outbox: deque[tuple[bytes, int, str]] = deque()
        self.free_at = 0.0  # when the virtual TX queue drains
        self.backlog_s = config.extra.get("baseline_backlog", 8.0) * config.airtime(
            config.payload_cap)
        self.hops = int(config.extra.get("hop_limit", FLOOD_HOPS))
        self.budget = Budget(limit_s=config.budget_s_per_hour, margin=config.budget_margin)
        self.budget_at: float | None = None  # the budget refused a packet until then

    @property
    def count(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------ inputs

    def start(self, now: float) -> None:
        if not self.started:
            self.started = True
            self._on_start(now)

    def _on_start(self, now: float) -> None:
        pass

    def set_channel_utilization(self, pct: float) -> None:
        self.channel_util_pct = pct  # the firmware, not the baseline, reacts to it

    def local_record(self, raw: bytes, now: float) -> None:
        """A record authored on this node (normally already in the ledger)."""
        self.start(now)
        rid = record_id(raw)
        if rid in self.ids:
            return
        if self.ledger.sync_raw(rid) is None:
            result = self.ledger.sync_ingest(raw, now)
            if result.status not in ("accepted", "duplicate"):
                self.stats.dropped[result.reason or result.status] += 1
                return
        self.ids[rid] = None
        self._learned(rid, now)
        self._on_local(rid, now)

    def _on_local(self, rid: bytes, now: float) -> None:
        pass

    def receive(self, payload: bytes, meta: RxMeta, now: float) -> None:
        """A packet heard on our port. Never raises."""
        self.start(now)
        try:
            if len(payload) < m.HEADER:
                raise DecodeError("truncated", "shorter than a sync header")
            if payload[0] >> 4 != m.VERSION:
                raise DecodeError("bad-version", f"sync version {payload[0] >> 4}")
            if payload[1:3] != self.cfg.network_tag:
                self.stats.dropped["other-network"] += 1
                return
            kind = payload[0] & 0x0F
            if kind not in m.TYPE_NAMES and kind not in (ID_LIST, FILTER):
                raise DecodeError("unknown-kind", f"sync message type {kind}")
            if kind not in self.kinds:
                self.stats.dropped["unexpected-kind"] += 1
                return
            if kind == ID_LIST:
                self._on_id_list(decode_id_list(payload), meta, now)
                return
            if kind == FILTER:
                self._on_filter(payload, meta, now)
                return
            msg = m.decode(payload)
        except DecodeError as exc:
            self.stats.dropped[exc.reason] += 1
            return
        if isinstance(msg, m.Records):
            for raw in msg.records:
                self._on_record(raw, now)
        elif isinstance(msg, m.Request):
            self._on_request(msg.ids, now)

    def _on_record(self, raw: bytes, now: float) -> bool:
        """Ingest one received record; True if it is new to us."""
        rid = record_id(raw)
        if rid in self.ids:
            self.stats.duplicates += 1
            return False
        result = self.ledger.sync_ingest(raw, now)
        if result.status == "accepted":
            self.stats.accepted += 1
            self.ids[rid] = None
            self.held.pop(rid, None)
            self._learned(rid, now)
            return True
        if result.status == "duplicate":  # stored meanwhile (e.g. a held record let in)
            self.stats.duplicates += 1
            self.ids[rid] = None
            self.held.pop(rid, None)
            self._learned(rid, now)
            return False
        if result.status == "held":
            self.held[rid] = None
            if len(self.held) > MAX_HELD:
                del self.held[next(iter(self.held))]
        self.stats.dropped[result.reason or result.status] += 1
        return False

    def _on_id_list(self, ids: tuple[bytes, ...], meta: RxMeta, now: float) -> None:
        pass

    def _on_request(self, ids: tuple[bytes, ...], now: float) -> None:
        pass

    def _on_filter(self, payload: bytes, meta: RxMeta, now: float) -> None:
        pass

    def _learned(self, rid: bytes, now: float) -> None:
        """A record joined our set (authored, received, or let in after being held)."""

    def _refresh_held(self, now: float) -> None:
        """Held records that the ledger has since accepted join the set."""
        for rid in [r for r in self.held if self.ledger.sync_raw(r) is not None]:
            del self.held[rid]
            self.ids[rid] = None
            self._learned(rid, now)

    # ------------------------------------------------------------ output

    def _raws(self, rids: list[bytes]) -> list[bytes]:
        out = []
        for rid in rids:
            raw = self.ledger.sync_raw(rid)
            if raw is not None:
                out.append(raw)
        return out

    def _queue_records(self, rids: list[bytes], hop_limit: int, tag: str) -> None:
        for packet in _pack(self._raws(rids), self.cfg.payload_cap):
            self.outbox.append((m.encode(m.Records(packet), self.cfg.network_tag), hop_limit, tag))

    def _timers(self) -> list[float]:
        return []

    def _run_timers(self, now: float) -> None:
        pass

    def _pending_packet(self, now: float) -> tuple[bytes, int, str] | None:
        """One more packet built at release time (so it can still be cancelled)."""
        return None

    def _pending_due(self) -> float | None:
        return None

    def next_timer(self) -> float | None:
        """When poll() next has work, or None when idle forever."""
        times = self._timers()
        gate = self.free_at - self.backlog_s
        if self.budget_at is not None:
            gate = max(gate, self.budget_at)
        if self.outbox:
            times.append(gate)
        pending = self._pending_due()
        if pending is not None:
            times.append(max(pending, gate))
        return min(times) if times else None

    def poll(self, now: float) -> list[Outgoing]:
        """Run due timers; return the packets to transmit now."""
        self.start(now)
        self._run_timers(now)
        out: list[Outgoing] = []
        if self.budget_at is not None and self.budget_at > now:
            return out
        self.budget_at = None
        while self.free_at - self.backlog_s <= now + 1e-9:  # the same sum as next_timer's gate
            item = self.outbox.popleft() if self.outbox else self._pending_packet(now)
            if item is None:
                break
            payload, hop_limit, tag = item
            cost = self.cfg.airtime(len(payload))
            if not self.budget.allowed(cost, URGENT, now):
                self.outbox.appendleft(item)  # waits for the budget, first in line
                self.budget_at = self.budget.next_allowed(cost, URGENT, now)
                break
            self.budget.spend(cost, now)
            self.free_at = max(self.free_at, now) + cost
            self.stats.sent[tag] += 1
            self.stats.airtime[tag] += cost
            out.append(Outgoing(payload, hop_limit, tag, PRIORITY, airtime=cost, at=now))
        return out

    def sent(self, out: Outgoing, now: float) -> None:
        """`out` went on air at `now`: its air time counts from then (the same
        budget rule as the engine's, node/sync/budget.py)."""
        if self.budget.redate(out.airtime, out.at, now):
            self.budget_at = None


class FullStateFlood(_Baseline):
    """B0: flood the whole record set every `b0_period` seconds at the hop limit."""

    def __init__(self, ledger: Ledger, config: SyncConfig, node: int, seed: int = 0) -> None:
        super().__init__(ledger, config, node, seed)
        self.period = config.extra.get("b0_period", 3600.0)
        self.next_flood: float | None = None

    def _on_start(self, now: float) -> None:
        self.next_flood = now + self.rng.random() * self.period

    def _timers(self) -> list[float]:
        return [] if self.next_flood is None else [self.next_flood]

    def _run_timers(self, now: float) -> None:
        if self.next_flood is None or self.next_flood > now:
            return
        self.next_flood += self.period
        if self.next_flood <= now:
            self.next_flood = now + self.period
        self._refresh_held(now)
        # A flood still queued from last period is superseded by this one.
        self.outbox = deque(p for p in self.outbox if p[2] != "b0-state")
        self._queue_records(list(self.ids), self.hops, "b0-state")


class PushOnly(_Baseline):
    """B1: flood each local record once (batched) at the hop limit; no repair."""

    push_tag = "b1-push"

    def __init__(self, ledger: Ledger, config: SyncConfig, node: int, seed: int = 0) -> None:
        super().__init__(ledger, config, node, seed)
        self.fresh: list[bytes] = []
        self.push_due: float | None = None

    def _on_local(self, rid: bytes, now: float) -> None:
        self.fresh.append(rid)
        if self.push_due is None:
            self.push_due = now + self.cfg.push_delay

    def _timers(self) -> list[float]:
        return [] if self.push_due is None else [self.push_due]

    def _run_timers(self, now: float) -> None:
        if self.push_due is not None and self.push_due <= now:
            self._queue_records(self.fresh, self.hops, self.push_tag)
            self.fresh = []
            self.push_due = None
