"""B3, bitchat-style gossip: push, plus Bloom-filter digests of what a node holds.

Theory of operation
-------------------
What it copies: bitchat's gossip sync (a mesh chat over Bluetooth LE) floods
each message with a TTL and, periodically, sends its neighbours a compact
filter of the message ids it has seen; a neighbour answers with the messages
the filter says are missing. Here, on LoRa:

* Push: as B1, a new local record is flooded once at the hop limit.
* Every `b3_period` seconds (default 900, random first offset) a node
  broadcasts (hop 0) a FILTER packet: a Bloom filter of its record ids with
  a since-cursor, the HLC range [since, until] the filter covers. A filter
  holds at most what fits one packet at `b3_bits_per_id` bits per id
  (default 10, about 1 % false positives, 7 hash positions by double hashing
  of the 8-byte id: the bits of meshaid's own FILTER, node/sync/filters.py),
  so a large set is covered window by window: every other
  round the newest window (until = infinity, so anything newer counts as
  missing), the rounds between walk back through older windows in turn.
* A neighbour that holds records in [since, until] that the filter does not
  contain answers with them (Records, hop 0, oldest first, at most
  `b3_answer_max` per filter, default 24) after a random back-off in
  `repair_window`, cancelling per record when it hears someone else send it.
* Filters and answers go at hop 0, or at hop limit `b3_hops` (default 0):
  where masts relay our port, a house that hears only a mast neither hears
  a filter at hop 0 nor is heard, and its gaps stay open. With `b3_adaptive`
  (default off) a node sends its filter at hop 0 while it hears a ledger node
  directly (a B3 packet at hop 0 within two periods), else at `b3_hops`, and
  answers a filter as far as it came: less air, but on town-40 it delivered
  0.96-0.98 at every period and size tried (a house that hears one ledger
  node holds only what that node's answers and the floods bring).
* A node that got `b3_more` (default 8) or more records in answer to its
  filter is behind (a late joiner, a healed partition): it sends its next
  filter after `pull_gap` instead of a whole period.

Records that arrive as answers are not flooded again; they travel on through
the next neighbourhood's filters. False positives (about 1 %) hide a missing
record from one filter; the next round's filter has other bits: each filter's
hash positions are salted with its round number (an id's positions are those
of the first 8 bytes of BLAKE2b(id, salt)), so an id one filter wrongly holds
is a fresh draw in the next. Unsalted, an old window's filter is the same bits
every time it comes round, and a record it wrongly holds never reaches that
node (steady-50 at seed 1: one record, all 49 other nodes held it for 9
hours).

Wire: FILTER = 0x0D: the 3-byte header, u64 since, u64 until (big-endian
HLC), u8 hash count, u8 salt, then the filter bits (its length in bytes is the
rest).
"""

from __future__ import annotations

import hashlib
import math

from ..ledger import codec
from ..ledger.wire import DecodeError
from ..sync import messages as m
from ..sync.engine import record_id
from ..sync.filters import holds, make_bits
from ..sync.ports import Ledger, RxMeta, SyncConfig
from .baseline_base import FILTER, PushOnly

NEWEST = (1 << 64) - 1
FILTER_HEAD = m.HEADER + 8 + 8 + 1 + 1


def salted(rid: bytes, salt: int) -> bytes:
    """The key an id is filtered under in a filter salted with `salt`."""
    return hashlib.blake2b(rid, digest_size=8, salt=bytes([salt])).digest()


def encode_filter(ids: list[bytes], since: int, until: int, bits_per_id: float, max_bytes: int,
                  tag: bytes, salt: int = 0) -> bytes:
    """A FILTER packet covering `ids` (all assumed to lie in [since, until])."""
    size = max(1, min(max_bytes, math.ceil(len(ids) * bits_per_id / 8)))
    k = max(1, round(bits_per_id * math.log(2)))
    keys = [salted(rid, salt) for rid in ids]
    return (bytes([m.VERSION << 4 | FILTER]) + tag + since.to_bytes(8, "big")
            + until.to_bytes(8, "big") + bytes([k, salt]) + make_bits(keys, size, k))


def decode_filter(payload: bytes) -> tuple[int, int, int, int, bytes]:
    """(since, until, k, salt, bits) of a FILTER packet; DecodeError if malformed."""
    if len(payload) <= FILTER_HEAD:
        raise DecodeError("truncated", "filter shorter than its header")
    since = int.from_bytes(payload[3:11], "big")
    until = int.from_bytes(payload[11:19], "big")
    k, salt = payload[19], payload[20]
    if not 1 <= k <= 16 or since > until:
        raise DecodeError("out-of-range", "bad filter parameters")
    return since, until, k, salt, payload[FILTER_HEAD:]


class FilterGossip(PushOnly):
    """B3: B1's push plus periodic Bloom-filter digests answered by neighbours."""

    push_tag = "b3-push"
    kinds = frozenset({m.RECORDS, FILTER})

    def __init__(self, ledger: Ledger, config: SyncConfig, node: int, seed: int = 0) -> None:
        super().__init__(ledger, config, node, seed)
        ex = config.extra
        self.period = ex.get("b3_period", 900.0)
        self.bits_per_id = ex.get("b3_bits_per_id", 10.0)
        self.answer_max = int(ex.get("b3_answer_max", 24))
        self.more = int(ex.get("b3_more", 8))
        self.filter_hops = int(ex.get("b3_hops", 0))
        self.adaptive = bool(ex.get("b3_adaptive", False))
        self.direct_at = -1e18  # last B3 packet heard at hop 0 (a ledger node in range)
        self.reach: dict[bytes, int] = {}  # id -> hop limit its answer goes at
        self.max_bytes = config.payload_cap - FILTER_HEAD
        self.capacity = max(1, int(self.max_bytes * 8 // self.bits_per_id))
        self.hlc: dict[bytes, int] = {i.id: i.hlc for i in ledger.sync_infos()}
        self.next_filter: float | None = None
        self.rounds = 0
        self.answered = 0  # records received since our last filter
        self.answers: dict[bytes, float] = {}  # id -> when to send it

    def _on_start(self, now: float) -> None:
        self.next_filter = now + self.rng.random() * self.period

    def _learned(self, rid: bytes, now: float) -> None:
        if rid not in self.hlc:
            raw = self.ledger.sync_raw(rid)
            try:
                self.hlc[rid] = codec.parse(raw).hlc if raw is not None else 0
            except DecodeError:
                self.hlc[rid] = 0

    def _on_record(self, raw: bytes, now: float) -> bool:
        rid = record_id(raw)
        self.reach.pop(rid, None)
        if self.answers.pop(rid, None) is not None:
            self.stats.suppressed += 1  # someone else answered first
        new = super()._on_record(raw, now)
        if new:
            self.answered += 1
            if self.answered == self.more and self.next_filter is not None:
                self.next_filter = min(self.next_filter, now + self.cfg.pull_gap)
        return new

    def _window(self) -> tuple[list[bytes], int, int]:
        """The ids, since and until of this round's filter."""
        order = sorted(self.ids, key=lambda r: (self.hlc.get(r, 0), r), reverse=True)
        windows = max(1, math.ceil(len(order) / self.capacity))
        r = self.rounds
        w = 0 if windows == 1 or r % 2 == 0 else 1 + (r // 2) % (windows - 1)
        chunk = order[w * self.capacity : (w + 1) * self.capacity]
        until = NEWEST if w == 0 else self.hlc.get(chunk[0], 0)
        since = 0 if w == windows - 1 or not chunk else self.hlc.get(chunk[-1], 0)
        return chunk, since, until

    def receive(self, payload: bytes, meta: RxMeta, now: float) -> None:
        if meta.hops == 0:
            self.direct_at = now
        super().receive(payload, meta, now)

    def _filter_hops(self, now: float) -> int:
        if self.adaptive and now - self.direct_at < 2 * self.period:
            return 0
        return self.filter_hops

    def _on_filter(self, payload: bytes, meta: RxMeta, now: float) -> None:
        try:
            since, until, k, salt, bits = decode_filter(payload)
        except DecodeError as exc:
            self.stats.dropped[exc.reason] += 1
            return
        lacking = sorted((r for r in self.ids if since <= self.hlc.get(r, 0) <= until
                          and r not in self.answers and not holds(bits, k, salted(r, salt))),
                         key=lambda r: (self.hlc.get(r, 0), r))[: self.answer_max]
        if lacking:
            hops = min(meta.hops, self.filter_hops) if self.adaptive else self.filter_hops
            lo, hi = self.cfg.repair_window
            due = now + self.rng.uniform(lo, hi)
            for rid in lacking:
                self.answers[rid] = due
                self.reach[rid] = hops

    def _timers(self) -> list[float]:
        times = super()._timers()
        if self.next_filter is not None:
            times.append(self.next_filter)
        return times

    def _pending_due(self) -> float | None:
        return min(self.answers.values()) if self.answers else None

    def _pending_packet(self, now: float) -> tuple[bytes, int, str] | None:
        """Answers stay cancellable until the virtual TX queue takes them."""
        room = self.cfg.payload_cap - m.RECORDS_ROOM
        packet: list[bytes] = []
        hops = 0
        for rid in sorted((r for r, due in self.answers.items() if due <= now),
                          key=lambda r: (self.answers[r], self.hlc.get(r, 0))):
            raw = self.ledger.sync_raw(rid)
            if raw is None or len(raw) + 1 > self.cfg.payload_cap - m.RECORDS_ROOM:
                del self.answers[rid]
                self.reach.pop(rid, None)
            elif len(raw) + 1 <= room:
                del self.answers[rid]
                hops = max(hops, self.reach.pop(rid, 0))
                packet.append(raw)
                room -= len(raw) + 1
        if not packet:
            return None
        return m.encode(m.Records(tuple(packet)), self.cfg.network_tag), hops, "b3-answer"

    def _run_timers(self, now: float) -> None:
        super()._run_timers(now)
        if self.next_filter is None or self.next_filter > now:
            return
        self.next_filter = now + self.period * self.rng.uniform(0.9, 1.1)
        self._refresh_held(now)
        ids, since, until = self._window()
        self.rounds += 1
        self.answered = 0
        self.outbox.append((encode_filter(ids, since, until, self.bits_per_id, self.max_bytes,
                                          self.cfg.network_tag, self.rounds % 256),
                            self._filter_hops(now), "b3-filter"))
