"""Our own sketch: when a digest unlike ours (or a sketcher lacking records, or a
MORE naming us) makes us send one, and sending it (reconcile.py: the theory).

A planned sketch remembers the neighbours whose digests prompted it (and their
names for pacing.py); in a crowd it is dropped, when due, if none of them still
differs beyond records in flight. A sketch heard from someone else first
cancels ours (reconcile.py `on_sketch`), and a set sketched from index 0
lately, by us or by a neighbour the differing node hears, is not sketched from
0 again within `SERVED_S`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from . import messages as m
from . import riblt
from .budget import BULK
from .credit import HELD
from .ports import SyncConfig
from .relays import Peer, short

Emit = Callable[[m.Message, str, int], bool]
SYMBOLS_PER_PACKET = 16
STREAM_TTL = 600.0  # seconds a sketcher's symbols and MORE plan are kept unheard
MAX_PROMPTS = 8  # neighbours whose differing digest a planned sketch answers
SKETCH_FRAME = 120  # bytes of a typical first sketch
SERVED_S = 120.0  # a set sketched from index 0 is not sketched again from 0 this soon


class SketchPlan:
    """Our sketch; reconcile.py `Reconciler` adds the streams we decode."""

    _driving_live: Callable[[float], bool]  # decoding a stream still answered (reconcile.py)

    def __init__(self, cfg: SyncConfig, rng: random.Random, node: int,
                 sketch: riblt.Sketch) -> None:
        self.cfg = cfg
        self.rng = rng
        self.node = node
        self.sketch = sketch
        self.tag = cfg.network_tag
        self.sketch_due: tuple[float, int] | None = None  # (time, first index)
        self.sketch_asker: int | None = None  # who asked (MORE) for the planned symbols
        self.sketch_firm = False  # planned because a sketcher lacks records
        self.sketch_answering: int | None = None  # that sketcher (its next sketch keeps ours)
        self.last_sketch = -1e9
        self.unsent_mores = 0  # MOREs for symbols of a sketch we did not send
        self.sketch_first = SYMBOLS_PER_PACKET
        self.sketch_burst = 1
        # When our set (count, symbol 0 ids) was last sketched from index 0, and by
        # whom (None: by us).
        self.served: tuple[float, int, int, int | None] = (-1e9, -1, 0, None)
        self.frozen = (-1e9, 0)  # when our last stream from index 0 began, and its count
        # Whether a neighbour's last digest still differs from our set (inflight.py);
        # the neighbours whose digests prompted the sketch we plan, each with its
        # name for pacing.py (None: not paced).
        self.differs: Callable[[Peer], bool] = lambda peer: True
        self.degree: Callable[[], int] = lambda: 0  # neighbours heard directly lately
        self.prompts: list[tuple[Peer, int | None]] = []
        # Called with those names when our sketch from index 0 goes out for them.
        self.sketched_for: Callable[[list[int], float], None] = lambda keys, now: None
        # Whether a peer (or node number) is reached only through radio-only relays;
        # whether the sketch being sent serves one (then it travels that far).
        self.far_peer: Callable[[Peer], bool] = lambda peer: True
        self.far_node: Callable[[int], bool] = lambda node: True
        self.sketch_far = True
        # The same for a far voice that has shown no proof yet (farpeers.py `reach`):
        # a sketch for one goes at hop 1.
        self.reach_peer: Callable[[Peer], bool] = lambda peer: False
        self.reach_node: Callable[[int], bool] = lambda node: False
        self.sketch_reach = False

    def _backoff(self, frame: int = 0) -> float:
        """A random back-off in the repair window; in a crowd, for a reaction of
        `frame` bytes that every neighbour may have, spread over about two such
        frames per ready neighbour, so the first is heard before the rest go."""
        lo, hi = self.cfg.repair_window
        if frame and self.degree() > 2 * self.cfg.relay_fanout:
            hi = max(hi, lo + 2.0 * self.cfg.airtime(frame) * self.cfg.relay_fanout)
        return self.rng.uniform(lo, hi)

    def _ready(self) -> bool:
        """Whether to react to what the whole neighbourhood heard: always, except in
        a crowd, where about `relay_fanout` of it do (gossip)."""
        degree = self.degree()
        fanout = self.cfg.relay_fanout
        return degree <= 2 * fanout or self.rng.random() * degree <= fanout

    def mismatch(self, their_count: int, my_count: int, quiet: float, now: float,
                 peer: Peer | None = None, key: int | None = None) -> None:
        """A neighbour's digest differs from ours: plan a sketch, due from `quiet`
        (inbox.py `quiet_since`) at the earliest (sent only if, when due, some
        neighbour that prompted it still differs; not while we decode someone's
        stream, whose outcome changes the difference, nor again for a set
        sketched from index 0 lately)."""
        if peer is not None and all(p != peer for p, _key in self.prompts):
            self.prompts = (self.prompts + [(peer, key)])[-MAX_PROMPTS:]
        if self.sketch_due is not None or self._driving_live(now) or not self._ready():
            return
        at, count, ids, by = self.served
        if now - at < SERVED_S and (count, ids) == (my_count, self.sketch.ids[0]) and (
                by is None or (peer is not None and peer.neighbours is not None
                               and short(by) in peer.neighbours)):
            # This very set was sketched lately, by us or by a neighbour the differing
            # node hears: its listeners ask for MORE. (A neighbour out of its range
            # sketched it for others.)
            return
        at = max(now, quiet) + self._backoff(SKETCH_FRAME)
        self.sketch_due = (at, 0)
        self.sketch_asker = None
        self.sketch_firm = False
        self.sketch_burst = 1
        gap = abs(their_count - my_count)
        self.sketch_first = max(self.cfg.sketch_min, min(SYMBOLS_PER_PACKET, 2 * gap + 4))

    def offer(self, lacking: int, sketcher: int, now: float) -> None:
        """A sketcher lacks `lacking` records we hold and its credit did not pay for
        repairs: sketch ourselves (not twice within `settle`; another node's sketch
        cancels ours, the lacking sketcher's does not), so that it can decode
        our sketch and request them, paying for the answer."""
        if self.sketch_due is not None or now - self.last_sketch < self.cfg.settle:
            return
        self.sketch_due = (now + self._backoff(), 0)
        self.sketch_asker = None
        self.sketch_firm = True
        self.sketch_answering = sketcher
        self.sketch_burst = 1
        self.sketch_first = max(self.cfg.sketch_min, min(SYMBOLS_PER_PACKET, 2 * lacking + 4))

    def asked(self, msg: m.More, sender: int, now: float) -> None:
        """A MORE naming us: plan the symbols asked (paid for by `sender`; none past
        a sketch we did not send in STREAM_TTL, which listeners forget by then)."""
        if msg.start > 0 and now - self.last_sketch > STREAM_TTL:
            self.unsent_mores += 1  # no stream of ours to go on: one in our name
            return
        if self.sketch_due is None or self.sketch_due[1] != msg.start:
            lo = self.cfg.repair_window[0]
            self.sketch_due = (now + self.rng.uniform(0.2, lo + 0.5), msg.start)
            self.sketch_asker = sender
            self.sketch_burst = max(1, min(4, msg.start // (2 * SYMBOLS_PER_PACKET)))

    def _symbols(self, start: int, per: int, my_count: int, now: float) -> m.Sketch:
        """Our symbols from `start`: a stream from index 0 freezes our set, and the
        symbols asked for after it code that set (riblt.py `freeze`), so they
        still continue it when records arrived meanwhile. Found on saturation,
        seed 4: two groups joined by weak links each held records the other
        lacked; every repair one side got changed its set in the middle of the
        other's stream, no stream decoded, and 59 records never crossed."""
        if start == 0:
            self.sketch.freeze()
            self.frozen = (now, my_count)
        elif now - self.frozen[0] < STREAM_TTL:
            symbols = self.sketch.encode_frozen(start, per)
            if symbols is not None:
                return m.Sketch(self.frozen[1], start, symbols)
        return m.Sketch(my_count, start, self.sketch.encode(start, per))

    def _poll_sketch(self, emit: Emit, now: float, my_count: int,
                     pay: Callable[[Emit, int, m.Message, str], str | None]) -> None:
        if self.sketch_due is None or self.sketch_due[0] > now:
            return
        if not self.sketch.ready:
            self.sketch_due = (now + 1.0, self.sketch_due[1])  # coding our ids in first
            return
        start = self.sketch_due[1]
        asker = self.sketch_asker
        crowd = self.degree() > 2 * self.cfg.relay_fanout
        if crowd and start == 0 and asker is None and not self.sketch_firm and self.prompts \
                and not any(self.differs(p) for p, _key in self.prompts):
            # Whatever differed has arrived meanwhile (records in flight): no gap left.
            # (Only in a crowd: elsewhere a sketch also serves neighbours whose digests
            # Trickle kept quiet, and lossy meshes repaired critical records later.)
            self.sketch_due = None
            self.prompts = []
            return
        answering = self.sketch_answering if self.sketch_firm else None
        self.sketch_far = any(self.far_peer(p) for p, _key in self.prompts) or any(
            n is not None and self.far_node(n) for n in (asker, answering))
        self.sketch_reach = any(self.reach_peer(p) for p, _key in self.prompts) or any(
            n is not None and self.reach_node(n) for n in (asker, answering))
        keys = [key for _p, key in self.prompts if key is not None]
        self.prompts = []
        full = (self.cfg.payload_cap - m.HEADER - 7) // riblt.SYMBOL_BYTES
        for _ in range(self.sketch_burst):
            if start >= self.sketch.size:
                break
            per = min(full, self.sketch_first) if start == 0 else full
            msg = self._symbols(start, per, my_count, now)
            if asker is None:
                sent = emit(msg, "sketch", BULK)  # our own sketch, on our own air
            else:
                paid = pay(emit, asker, msg, "sketch")
                if paid is None:
                    break  # the MORE paid for no more than this: it may ask again
                sent = paid != HELD
            if not sent:
                self.sketch_due = (now, start)
                return
            if start == 0:
                self.served = (now, my_count, self.sketch.ids[0], None)
                if asker is None and keys:
                    self.sketched_for(keys, now)
            start += per
            self.last_sketch = now
        self.sketch_due = None
        self.sketch_asker = None
        self.sketch_firm = False
