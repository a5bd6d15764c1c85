"""Set reconciliation: sketches, requests for more symbols, and requests for records.

Theory of operation
-------------------
A node that hears a digest unlike its own schedules a SKETCH of its record ids
(rateless IBLT, riblt.py) after a random back-off, from `settle` s after its
last news if later: records still spreading make passing differences (and the
nodes behind a router, which get each record at one instant, must not all
sketch at one instant). A sketch heard from anyone first cancels ours, since one
broadcast serves the whole neighbourhood: every listener subtracts its own
symbols and peels its own difference with the sketcher. The first sketch is
small (most gaps are a record or two); a listener that cannot decode asks for
MORE from the next index, and the sketcher sends more, in growing bursts.
What a listener lacks, it REQUESTs from the sketcher (after a back-off,
dropped when someone else asked or the record arrived, given up after
`WANT_TRIES` unanswered asks); what the sketcher lacks, the engine sends as
repairs.

In a crowd, a planned sketch remembers the neighbours whose digests prompted
it and is dropped, when due, if none of them still differs beyond records in
flight (inflight.py). There (over twice `relay_fanout` neighbours heard
directly), where every neighbour heard the same digest or sketch, only about
`relay_fanout` of them plan a sketch, and sketches and requests wait a
back-off spread over about two frames per ready neighbour, so the first is
heard before the rest go (a request heard for an id we want drops ours).

Every table here is keyed by what unauthenticated packets claim, so each is
bounded and expires: at most `MAX_STREAMS` sketchers' symbols and MORE plans
(the least recently heard go first, and any after `STREAM_TTL`), at most
`MAX_WANTED` wanted ids. Our MOREs and REQUESTs are padded to the size of
the answer they ask for: the answerer spends no more air than we did
(credit.py).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable

from . import messages as m
from . import riblt
from .budget import BULK
from .filters import LACKING, SPREAD_FROM
from .ports import SyncConfig
from .sketching import STREAM_TTL, Emit, SketchPlan
from .wants import Wants

MAX_STREAMS = 8  # sketchers whose symbols we keep
RECORD_GUESS = 150  # bytes a record is assumed to take before any was heard
MORE_WAIT = 60.0  # seconds to wait for the symbols a MORE asked for before asking again
MORE_TRIES = 2  # MOREs in a row left unanswered before a stream is no longer driven


class Reconciler(SketchPlan):
    """Our sketches (sketching.py), the streams of others' we decode, our MOREs
    and REQUESTs."""

    def __init__(self, cfg: SyncConfig, rng: random.Random, node: int,
                 sketch: riblt.Sketch) -> None:
        super().__init__(cfg, rng, node, sketch)
        # sketcher -> its symbols from index 0 (None: a gap, a packet we missed)
        self.remote: dict[int, list[riblt.Symbol | None]] = {}
        self.remote_count: dict[int, int] = {}  # sketcher -> its count when it sent index 0
        # sketcher -> (when to ask, next index, MOREs for it so far unanswered)
        self.more_due: dict[int, tuple[float, int, int]] = {}
        self.driving: int | None = None  # the sketcher whose stream we are decoding
        self.heard: OrderedDict[int, float] = OrderedDict()  # sketcher -> last heard
        self.wants = Wants(cfg)
        self.requests = self.wants.ids  # record id -> (when to ask, asks so far, holder)
        # Our rank among a sketcher's neighbours for asking it MORE (None: do not ask).
        self.more_rank: Callable[[int], int | None] = lambda sender: 0
        self.record_size = float(RECORD_GUESS)  # running mean of record sizes heard
        # Called when we ask a sketcher MORE, and when it answers (pacing.py).
        self.more_sent: Callable[[int, float], None] = lambda sketcher, now: None
        self.more_answered: Callable[[int], None] = lambda sketcher: None
        self.ticket: Callable[[int], bytes | None] = lambda node: None  # members.py `ask`
        # Whether a filter walk toward a sketcher takes over from its stream, once
        # the symbols held show a large difference (filters.py `start`).
        self.large: Callable[[int, float], bool] = lambda sketcher, now: False

    def on_sketch(self, msg: m.Sketch, sender: int, now: float,
                  my_count: int, serves: bool = True) -> riblt.Decoded | None:
        """Take symbols from `sender`; the decoded difference once complete.
        `serves`: the sketch may stand for ours (it cancels our planned one)."""
        if serves and msg.start == 0 and self.sketch_due is not None \
                and self.sketch_due[1] == 0 and self.sketch_asker is None and (
                not self.sketch_firm or self.sketch_answering != sender):
            # Someone else's sketch serves the neighbourhood (not one a MORE asked
            # us for: the asker paid for ours).
            self.sketch_due = None
            cancelled = [key for _p, key in self.prompts if key is not None]
            self.prompts = []
        else:
            cancelled = []
        if not self.sketch.ready:
            return None  # still coding our own ids in (start-up): the sketcher may repeat
        symbols: list[riblt.Symbol | None] = list(riblt.parse_symbols(msg.symbols))
        self._track(sender, now)
        if msg.start == 0:
            self.remote_count[sender] = msg.count
        elif sender not in self.remote_count:
            return None  # symbols of a stream we never began: not ours to ask about
        elif self.remote_count[sender] != msg.count:
            # The sketcher's set changed since index 0: these symbols do not continue
            # the ones we hold. Drop the stream and ask for a new one from index 0
            # (once: a second change drops it for good, so that no MORE loop forms).
            self.remote.pop(sender, None)
            if self.remote_count.pop(sender) >= 0:
                self.remote_count[sender] = -1
                self._plan_more(sender, 0, now)
            return None
        held = self.remote.get(sender, [])
        if msg.start > 0 and not held:
            return None
        end = msg.start + len(symbols)
        if all(h is None or h == x for h, x in zip(held[msg.start:end], symbols)):
            # Symbols are a function of the sketcher's set: a repeat of ones we
            # hold (a new round from index 0, an answer to an earlier MORE)
            # continues our stream instead of starting it over. Past a gap (a
            # lost packet, symbols asked for from further on) they are kept, the
            # gap left open: the code is rateless, later symbols stand in for it.
            gap: list[riblt.Symbol | None] = [None] * (msg.start - len(held))
            have = held[:msg.start] + gap + symbols + held[end:]
        elif msg.start == 0:
            have = symbols  # its set changed: a new stream
        else:
            self.remote.pop(sender, None)
            return None
        if len(have) > self.sketch.size:
            self.remote.pop(sender, None)
            return None
        self.remote[sender] = have
        if msg.start > 0 and (sender == self.driving or sender in self.more_due):
            self.more_answered(sender)
        pending = self.more_due.get(sender)
        if pending is not None and pending[1] <= len(have):
            del self.more_due[sender]
        first = have[0]  # (never a gap: every stream begins from index 0)
        if first is not None and msg.count == my_count and first.ids == self.sketch.ids[0] \
                and first.check == self.sketch.checks[0]:
            self.served = (now, my_count, first.ids, sender)  # our own set was sketched
            if cancelled:
                # It was the very sketch ours would have been: the neighbourhood
                # reacted to those digests, and their senders are paced here too
                # (pacing.py), or every listener would react to each in turn.
                self.sketched_for(cancelled, now)
            self._done(sender)
            return riblt.Decoded(True, set(), set())  # the same set
        result = riblt.decode(have, 0, self.sketch)
        if result.complete:
            self._done(sender)
            return result
        if len(have) >= SPREAD_FROM and self._lacking(have, msg.count - my_count) >= LACKING \
                and self.more_rank(sender) is not None and self.large(sender, now):
            self._done(sender)  # it holds many records we lack: filters are cheaper
        elif len(have) < self.sketch.size:
            self._plan_more(sender, len(have), now)
        return None

    def _lacking(self, have: list[riblt.Symbol | None], delta: int) -> float:
        """About how many records a sketcher holds that we lack: half the
        difference its symbols suggest (riblt.py `spread`), plus half of `delta`,
        its count less ours."""
        return (riblt.spread(have, self.sketch, delta) + delta) / 2

    def _done(self, sender: int) -> None:
        """`sender`'s stream decoded: forget its symbols and our MOREs for it."""
        del self.remote[sender]
        self.more_due.pop(sender, None)
        if self.driving == sender:
            self.driving = None

    def _plan_more(self, sender: int, start: int, now: float) -> None:
        """Ask `sender` for symbols from `start`. A stream we already drive (we
        asked it before and it answered) is asked on at once; a new one is asked
        by one listener per neighbourhood (by its rank among the sketcher's
        announced neighbours; others wait and hear the answer), and only while
        we drive no other stream: one stream decoded at a time, so that its
        records shrink the differences the other streams would have to carry.
        Nobody asks a sketcher whose neighbours are unknown (a made-up node
        number sketches for nobody)."""
        rank = self.more_rank(sender)
        if rank is None:
            if sender == self.driving:
                self.driving = None  # a stream we may not ask on blocks no other work
            return
        if sender == self.driving:
            lo = self.cfg.repair_window[0]
            self.more_due[sender] = (now + self.rng.uniform(0.2, lo + 0.5), start, 0)
            return
        if self._driving_live(now):
            return  # another stream is being decoded: these symbols wait
        self.more_due[sender] = (now + self._backoff() + rank * self.cfg.repair_window[1],
                                 start, 0)

    def holds_set(self, sender: int, count: int, fingerprint: int) -> bool:
        """Whether the symbols we hold from `sender` code a set of this count and
        fingerprint (symbol 0 codes every id of the set)."""
        held = self.remote.get(sender, [])
        first = held[0] if held else None
        return first is not None and self.remote_count.get(sender) == count \
            and first.ids == fingerprint and first.count == count % 256

    def resume(self, sender: int, now: float) -> None:
        """Ask `sender` on from the symbols we hold (a stream we did not ask on,
        its sketch newer than the digest of it we had heard, now vouched for)."""
        held = self.remote.get(sender, [])
        if 0 < len(held) < self.sketch.size:
            self._plan_more(sender, len(held), now)

    def _driving_live(self, now: float) -> bool:
        """Whether we drive a stream that is still answered."""
        d = self.driving
        if d is None:
            return False
        if d in self.remote and now - self.heard.get(d, -1e9) < MORE_WAIT * (MORE_TRIES + 1):
            return True
        self.driving = None
        return False

    def _track(self, sender: int, now: float) -> None:
        """Note a sketcher heard now."""
        self.heard.pop(sender, None)
        self.heard[sender] = now
        self._prune(now)

    def _prune(self, now: float) -> None:
        """Forget the least recently heard sketchers beyond MAX_STREAMS, and any
        unheard for STREAM_TTL."""
        heard = self.heard
        while heard:
            old, at = next(iter(heard.items()))
            if len(heard) <= MAX_STREAMS and at + STREAM_TTL > now:
                break
            del heard[old]
            self.remote.pop(old, None)
            self.remote_count.pop(old, None)
            self.more_due.pop(old, None)

    def on_more(self, msg: m.More, sender: int, now: float) -> None:
        """A MORE: plan the symbols asked of us (sketching.py `asked`), or drop our
        own MORE for the same symbols (the answer serves us too)."""
        if msg.target == self.node:
            self.asked(msg, sender, now)
            return
        due, start, tries = self.more_due.get(msg.target, (0.0, -1, 0))
        if 0 <= start <= msg.start:  # the answer will serve us too: wait for it
            self.more_due[msg.target] = (max(due, now + MORE_WAIT), start, tries)

    def want(self, rid: bytes, holder: int | None, now: float) -> None:
        """Ask `holder` for `rid` soon (unless we already want MAX_WANTED ids)."""
        self.wants.want(rid, holder, now, lambda: self._backoff(int(self.record_size)))

    def got(self, rid: bytes) -> None:
        """`rid` arrived or someone asked for it: do not ask."""
        self.wants.got(rid)

    def times(self) -> list[float]:
        out = [d for d, _s, _t in self.more_due.values()] if self.more_due else []
        if self.sketch_due:
            out.append(self.sketch_due[0])
        first = self.wants.first()
        if first is not None:
            out.append(first)
        return out

    def poll(self, emit: Emit, now: float, my_count: int,
             pay: Callable[[Emit, int, m.Message, str], str | None]) -> None:
        """Send what is due; symbols asked for by a MORE only as `pay` sends them
        (paid by the asker's credit, or a member's allowance: answers.py
        `send_paid`)."""
        self._prune(now)  # forget streams gone quiet
        self._poll_sketch(emit, now, my_count, pay)
        lead = self.driving if self._driving_live(now) else max(
            (x for x, (due, _s, _t) in self.more_due.items() if due <= now),
            key=lambda x: (len(self.remote.get(x, ())), -x), default=None)
        for sender, (due, start, tries) in list(self.more_due.items()):
            if due > now:
                continue
            if sender != lead:
                # One stream at a time: the others wait for the lead's to decode.
                self.more_due[sender] = (now + MORE_WAIT, start, tries)
                continue
            if tries >= MORE_TRIES:
                del self.more_due[sender]  # unanswered: the stream waits for a new round
                if self.driving == sender:
                    self.driving = None
                continue
            # Padded to a full packet (the sketcher answers with one packet of
            # symbols), or a member's ticket (answered from its allowance).
            ticket = self.ticket(sender)
            more = m.More(sender, start, ticket=ticket) if ticket is not None else \
                m.pad_to(m.More(sender, start), self.cfg.payload_cap, self.tag)
            if emit(more, "more", BULK):
                self.more_sent(sender, now)
                self.driving = sender
                # Asked again if its symbols do not come (a lost MORE or answer).
                self.more_due[sender] = (now + MORE_WAIT, start, tries + 1)
        self.wants.poll(emit, now, self.record_size)
