"""Glue between the engines of a bridge node (node/PROTOCOL.md, "Bridges").

Theory of operation
-------------------
A bridge node runs one engine per interface (radio, IP) over one store.
Only *records* cross between them, never digests, sketches or requests: each
engine reconciles its own interface with its own messages.

* Every engine's ledger port is wrapped in a `Tap`. The store accepts a record
  exactly once, whichever path brought it (an engine, or the change feed for
  records posted or imported by other processes); that moment is reported to
  the `Glue` with the interface it came from, and the glue hands the record to
  every *other* engine. A record is therefore never echoed back where it came
  from, and no loop can form: the second engine's ingest is a duplicate.
* Radio → IP: `inject` with a short back-off (IP window). Two bridges of one
  mesh both hear a record on air; the one whose back-off ends first publishes
  it and the other, hearing the copy over IP, cancels. The back-off is a hash
  of (record id, bridge name), so the load spreads between bridges and no
  coordination is needed.
* IP → radio: two bridges of one mesh must not both put the same record on
  air. Every bridge ranks the bridges it hears over IP (and itself) by a hash
  of (record id, name): the same ranking everywhere, different for each
  record, except that the bridge that published it ranks first if it seems
  to share our mesh (most of what it publishes we already had: `same_mesh`),
  since then the record is on our air already. The bridge of rank k waits k x
  gap (`radio_gap`, plus `GAP_PER_WAITING` per record waiting; at most
  `MAX_RANK` gaps), enough for the copy of a bridge
  ranked before it to reach it through the mesh, and cancels on hearing it.
  No bridge needs to know which mesh another is in. At most `radio_queue` injections wait in the
  radio engine at once; the rest wait in a backlog (urgent first, then needs
  and offers, then pledges and updates; newest first in each) and enter as
  the queue drains, so a catch-up after a long split comes in paced by the
  air-time budget instead of as one burst. A backlog of more than
  `radio_queue` records is a catch-up: its pledges and updates go at bulk
  priority (the bulk share of the budget), so local news keeps its room. Beyond
  `backlog_cap` the oldest records are handed over without being sent (the
  engine counts them in its digest; the mesh reconciles them from us).
* Local posts and imports (the change feed): a record authored here is
  pushed on every interface; an imported one is counted by every engine and
  reaches the others by reconciliation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..ledger.records import Kind
from ..sync.engine import record_id
from ..sync.ports import Ingested, Ledger, RecordInfo, RxMeta
from .engines import BridgeEngine

RADIO, IP, FEED = "radio", "ip", "feed"
_MEMBERSHIP = {Kind.CHARTER, Kind.HELLO, Kind.VOUCH, Kind.REVOKE}
URGENT_FIRST, BOARD, COMMITMENTS = 0, 1, 2  # backlog order
RADIO_WINDOW = (2.0, 8.0)  # seconds: the first-ranked bridge's radio back-off
RADIO_GAP = 60.0  # seconds between ranks: a copy crosses a few hops of the mesh meanwhile
MAX_RANK = 4
GAP_PER_WAITING = 10.0  # seconds added to the gap per record waiting in the backlog
IP_WINDOW = (0.2, 3.0)  # seconds: the IP publication back-off


@dataclass
class Counts:
    """Records that crossed, per direction (for the status row)."""

    to_ip: int = 0  # learned on air (or posted here), handed to the IP engine
    to_radio: int = 0  # learned over IP, handed to the radio engine
    queued_air: int = 0  # of those, queued for the air by us (cancelled if heard first)
    handed_over: int = 0  # over the backlog cap: counted, left to reconciliation


class Tap:
    """A `Ledger` port that reports every record the store newly accepts."""

    def __init__(self, inner: Ledger, on_new: Callable[[bytes, float], None]) -> None:
        self.inner = inner
        self.on_new = on_new

    def sync_ingest(self, raw: bytes, now: float, meta: RxMeta | None = None) -> Ingested:
        result = self.inner.sync_ingest(raw, now, meta)
        if result.status == "accepted":
            self.on_new(raw, now)
        for freed in result.released:
            freed_raw = self.inner.sync_raw(freed.id)
            if freed_raw is not None:
                self.on_new(freed_raw, now)
        return result

    def sync_infos(self) -> Iterable[RecordInfo]:
        return self.inner.sync_infos()

    def sync_raw(self, rid: bytes) -> bytes | None:
        return self.inner.sync_raw(rid)


@dataclass
class Glue:
    """Routes records between a node's engines (see the module doc)."""

    name: str  # this bridge's name: seeds the back-offs
    radio_queue: int = 16
    backlog_cap: int = 2000
    radio_window: tuple[float, float] = RADIO_WINDOW
    radio_gap: float = RADIO_GAP
    bridges: set[str] = field(default_factory=set)  # other bridges heard over IP
    ip_window: tuple[float, float] = IP_WINDOW
    engines: dict[str, BridgeEngine] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)
    backlog: dict[bytes, bytes] = field(default_factory=dict)  # id -> raw, for the radio
    sender: str = ""  # the bridge whose IP message is being handled (set by the IP side)
    _from: dict[bytes, str] = field(default_factory=dict)  # backlog id -> its publisher
    seen: dict[str, list[int]] = field(default_factory=dict)  # bridge -> [new to us, known]
    _order: dict[bytes, tuple[int, int]] = field(default_factory=dict)  # id -> sort key
    _crossing: list[tuple[bytes, str, bool]] = field(default_factory=list)
    _busy: bool = False
    wake: Callable[[str], None] | None = None  # an engine got work: pump it

    def tap(self, side: str, inner: Ledger) -> Tap:
        """The ledger port for the engine on interface `side`."""
        return Tap(inner, lambda raw, now: self.entered(raw, side, now))

    def attach(self, side: str, engine: BridgeEngine) -> None:
        """Engine `side` exists now (the radio engine is built when the radio
        first connects): it starts from the store, so it knows every record."""
        self.engines[side] = engine

    def entered(self, raw: bytes, side: str, now: float, local: bool = False) -> None:
        """The store accepted `raw`, brought by `side` (RADIO, IP or FEED; `local`:
        authored on this node). Hands it to the other engines."""
        self._crossing.append((raw, side, local))
        if self._busy:
            return  # an engine's ingest called us back: the outer call delivers it
        self._busy = True
        try:
            while self._crossing:
                item, origin, own = self._crossing.pop(0)
                self._deliver(item, origin, own, now)
        finally:
            self._busy = False

    @staticmethod
    def _hash(rid: bytes, name: str) -> float:
        h = hashlib.sha256(rid + name.encode()).digest()
        return int.from_bytes(h[:8], "big") / 2.0**64

    def _delay(self, rid: bytes, window: tuple[float, float]) -> float:
        return window[0] + (window[1] - window[0]) * self._hash(rid, self.name)

    def heard_records(self, sender: str, new: int, known: int) -> None:
        """Bridge `sender` published `new` records we lacked and `known` we had."""
        counts = self.seen.setdefault(sender, [0, 0])
        counts[0] += new
        counts[1] += known
        if counts[0] + counts[1] > 400:  # a moving picture: halve the history
            counts[0] //= 2
            counts[1] //= 2

    def same_mesh(self, sender: str) -> bool:
        """Does `sender` seem to be in our mesh? (Most of what it published over
        IP we had already; a bridge of another mesh mostly brings news.)"""
        new, known = self.seen.get(sender, (0, 0))
        return new + known >= 4 and known > new

    def radio_delay(self, rid: bytes, sender: str = "") -> float:
        """When this bridge puts record `rid` (published over IP by `sender`) on
        air: after the bridges ranked before it for this record (module doc)."""
        others = self.bridges - {sender}
        ranked = sorted(others | {self.name}, key=lambda name: self._hash(rid, name))
        first = 1 if sender and self.same_mesh(sender) else 0
        rank = min(ranked.index(self.name) + first, MAX_RANK)
        # A catch-up goes out at the budget's pace: the bridges ranked first need
        # longer to get through it, so the gap grows with what waits.
        gap = self.radio_gap + GAP_PER_WAITING * len(self.backlog)
        return self._delay(rid, self.radio_window) + rank * gap

    def _deliver(self, raw: bytes, origin: str, local: bool, now: float) -> None:
        rid = record_id(raw)
        ip = self.engines.get(IP)
        radio = self.engines.get(RADIO)
        if ip is not None and origin != IP:
            if local:
                ip.local_record(raw, now)
                self.counts.to_ip += 1
            elif origin == FEED:
                ip.add_stored(raw, now)
            elif ip.inject(raw, now, self._delay(rid, self.ip_window)):
                self.counts.to_ip += 1
            self._wake(IP)
        if radio is not None and origin == IP and not radio.knows(rid):
            self.counts.to_radio += 1
            self.backlog[rid] = raw
            self._order[rid] = self._key(raw)
            self._from[rid] = self.sender
            self._wake(RADIO)  # the host calls feed_radio before it polls the radio engine
        elif radio is not None and origin == FEED and not local:
            radio.add_stored(raw, now)  # the daemon does this for its feed; harmless twice

    def _key(self, raw: bytes) -> tuple[int, int]:
        """Backlog order: urgent (membership, critical needs) first, then the board
        (needs, offers), then commitments (pledges, updates); newest first in each."""
        from ..ledger import codec
        from ..ledger.wire import DecodeError

        try:
            rec = codec.parse(raw)
        except DecodeError:
            return (COMMITMENTS, 0)
        if rec.kind in _MEMBERSHIP or getattr(rec.body, "urgency", 0) == 3:
            return (URGENT_FIRST, -rec.hlc)
        return (BOARD if rec.kind in (Kind.NEED, Kind.OFFER) else COMMITMENTS, -rec.hlc)

    def feed_radio(self, now: float) -> int:
        """Move backlog records into the radio engine while its injection queue
        has room; returns how many. The host calls it before every poll of the
        radio engine (never from inside an engine call)."""
        radio = self.engines.get(RADIO)
        if radio is None or not self.backlog:
            return 0
        catch_up = len(self.backlog) > self.radio_queue
        room = self.radio_queue - radio.pending_injections()
        ordered = sorted(self.backlog, key=lambda r: self._order.get(r, (COMMITMENTS, 0)))
        if len(ordered) > self.backlog_cap:
            for rid in ordered[self.backlog_cap:]:
                raw = self.backlog.pop(rid)
                self._order.pop(rid, None)
                self._from.pop(rid, None)
                radio.add_stored(raw, now)
                self.counts.handed_over += 1
            ordered = ordered[: self.backlog_cap]
        moved = 0
        for rid in ordered:
            if room <= 0:
                break
            raw = self.backlog.pop(rid)
            group = self._order.pop(rid, (COMMITMENTS, 0))[0]
            delay = self.radio_delay(rid, self._from.pop(rid, ""))
            if radio.inject(raw, now, delay, bulk=catch_up and group == COMMITMENTS):
                room -= 1
                moved += 1
                self.counts.queued_air += 1
        if moved:
            self._wake(RADIO)
        return moved

    def _wake(self, side: str) -> None:
        if self.wake is not None:
            self.wake(side)
