"""Set reconciliation: sketches, requests for more symbols, and requests for records.

Theory of operation
-------------------
A node that hears a digest unlike its own schedules a SKETCH of its record ids
(rateless IBLT, riblt.py) after a random back-off, but not before `settle`
seconds after its last news: records still spreading make passing
differences. A sketch heard from anyone first cancels ours, since one
broadcast serves the whole neighbourhood: every listener subtracts its own
symbols and peels its own difference with the sketcher. The first sketch is
small (most gaps are a record or two); a listener that cannot decode asks for
MORE from the next index, and the sketcher sends more, in growing bursts.
What a listener lacks, it REQUESTs (batched, after a back-off, dropped when
someone else asked or the record arrived); what the sketcher lacks, the
engine sends as repairs.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from . import messages as m
from . import riblt
from .budget import BULK, NORMAL
from .ports import SyncConfig

Emit = Callable[[m.Message, str, int], bool]
SYMBOLS_PER_PACKET = 16


class Reconciler:
    def __init__(self, cfg: SyncConfig, rng: random.Random, node: int,
                 sketch: riblt.Sketch) -> None:
        self.cfg = cfg
        self.rng = rng
        self.node = node
        self.sketch = sketch
        self.sketch_due: tuple[float, int] | None = None  # (time, first index)
        self.sketch_first = SYMBOLS_PER_PACKET
        self.sketch_burst = 1
        self.remote: dict[int, list[riblt.Symbol]] = {}  # sketcher -> symbols from index 0
        self.remote_count: dict[int, int] = {}  # sketcher -> its count when it sent index 0
        self.more_due: dict[int, tuple[float, int]] = {}  # sketcher -> (time, next index)
        self.requests: dict[bytes, float] = {}  # record id -> when to ask

    def _backoff(self) -> float:
        lo, hi = self.cfg.repair_window
        return self.rng.uniform(lo, hi)

    def mismatch(self, their_count: int, my_count: int, last_news: float, now: float) -> None:
        """A neighbour's digest differs from ours: plan a sketch."""
        if self.sketch_due is not None:
            return
        at = max(now + self._backoff(), last_news + self.cfg.settle)
        self.sketch_due = (at, 0)
        self.sketch_burst = 1
        gap = abs(their_count - my_count)
        self.sketch_first = max(self.cfg.sketch_min, min(SYMBOLS_PER_PACKET, 2 * gap + 4))

    def on_sketch(self, msg: m.Sketch, sender: int, now: float,
                  my_count: int) -> riblt.Decoded | None:
        """Take symbols from `sender`; the decoded difference once complete."""
        if msg.start == 0 and self.sketch_due is not None and self.sketch_due[1] == 0:
            self.sketch_due = None  # someone else's sketch serves the neighbourhood
        symbols = riblt.parse_symbols(msg.symbols)
        if msg.start == 0:
            self.remote_count[sender] = msg.count
        elif self.remote_count.get(sender) != msg.count:
            # The sketcher's set changed since index 0: these symbols do not continue
            # the ones we hold. Drop the stream and ask for a new one from index 0.
            self.remote.pop(sender, None)
            self.more_due[sender] = (now + self._backoff(), 0)
            return None
        have = [] if msg.start == 0 else self.remote.get(sender, [])
        if msg.start != len(have):
            return None  # a gap (a lost packet): the next round starts over
        have = have + symbols
        if len(have) > self.sketch.size:
            self.remote.pop(sender, None)
            return None
        self.remote[sender] = have
        pending = self.more_due.get(sender)
        if pending is not None and pending[1] <= len(have):
            del self.more_due[sender]
        if msg.count == my_count and have[0].ids == self.sketch.ids[0] \
                and have[0].check == self.sketch.checks[0]:
            del self.remote[sender]
            return riblt.Decoded(True, set(), set())  # the same set
        result = riblt.decode(have, 0, self.sketch)
        if result.complete:
            del self.remote[sender]
            return result
        if len(have) < self.sketch.size:
            self.more_due[sender] = (now + self._backoff(), len(have))
        return None

    def on_more(self, msg: m.More, now: float) -> None:
        if msg.target == self.node:
            if self.sketch_due is None or self.sketch_due[1] != msg.start:
                lo = self.cfg.repair_window[0]
                self.sketch_due = (now + self.rng.uniform(0.2, lo + 0.5), msg.start)
                self.sketch_burst = max(1, min(4, msg.start // (2 * SYMBOLS_PER_PACKET)))
            return
        pending = self.more_due.get(msg.target)
        if pending is not None and pending[1] <= msg.start:
            del self.more_due[msg.target]  # the answer will serve us too

    def want(self, rid: bytes, now: float) -> None:
        self.requests.setdefault(rid, now + self._backoff())

    def got(self, rid: bytes) -> None:
        self.requests.pop(rid, None)

    def times(self) -> list[float]:
        out = [d for d, _ in self.more_due.values()]
        if self.sketch_due is not None:
            out.append(self.sketch_due[0])
        if self.requests:
            out.append(min(self.requests.values()))
        return out

    def poll(self, emit: Emit, now: float, my_count: int) -> None:
        self._poll_sketch(emit, now, my_count)
        for sender, (due, start) in list(self.more_due.items()):
            if due <= now and emit(m.More(sender, start), "more", BULK):
                del self.more_due[sender]
        due_ids = [rid for rid, t in self.requests.items() if t <= now]
        per = (self.cfg.payload_cap - m.HEADER) // m.ID_LEN
        for i in range(0, len(due_ids), per):
            chunk = tuple(due_ids[i : i + per])
            if not emit(m.Request(chunk), "request", NORMAL):
                return
            for rid in chunk:
                self.requests[rid] = now + self.cfg.pull_timeout  # ask again if unanswered

    def _poll_sketch(self, emit: Emit, now: float, my_count: int) -> None:
        if self.sketch_due is None or self.sketch_due[0] > now:
            return
        start = self.sketch_due[1]
        full = (self.cfg.payload_cap - m.HEADER - 7) // riblt.SYMBOL_BYTES
        for _ in range(self.sketch_burst):
            if start >= self.sketch.size:
                break
            per = min(full, self.sketch_first) if start == 0 else full
            msg = m.Sketch(my_count, start, self.sketch.encode(start, per))
            if not emit(msg, "sketch", BULK):
                self.sketch_due = (now, start)
                return
            start += per
        self.sketch_due = None
