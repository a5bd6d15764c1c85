"""Records in flight: telling a passing digest difference from a real gap.

Theory of operation
-------------------
A digest (count, XOR of ids) differs from ours whenever a record is still
spreading: in a crowd, where a record is posted every half minute and takes
seconds to reach everyone, about half of all digests differ from about half
of their listeners. Each such difference used to plan a sketch and, once
decoded, requests for records that were arriving anyway.

Two rules keep reconciliation for real gaps:

* A digest that lacks only records that reached *us* lately (within
  `window` seconds) is explained: its count is ours minus j and its
  fingerprint ours XOR the ids of j of those records (j at most
  `MAX_MISSING`). The copies still in flight will reach it; if they do not,
  its next digest after the window is a real difference.
* A sketch planned because of a digest is sent only if, when it is due, some
  neighbour whose digest differed still differs unexplained (its last digest
  heard against our state then): a record we lacked that arrived meanwhile
  cancels it.

State: the last `size` arrivals (a deque of ids and times), nothing per peer.
"""

from __future__ import annotations

from collections import OrderedDict, deque

FRESH_S = 600.0  # a copy of a record that reached us longer ago is history, not a relay
FRESH_KEPT = 1024  # arrival times remembered for that (the oldest dropped first)
MAX_MISSING = 3  # records a digest may lack and still be explained
RESENDS = 2  # unpaid resends of a record of ours that a neighbour's digest still lacks
RECENT_KEPT = 24  # arrivals remembered


class Arrivals:
    """The ids that reached this node lately, newest last, and when we last sent each."""

    def __init__(self, window: float, size: int = RECENT_KEPT) -> None:
        self.window = window
        self.recent: deque[tuple[float, int]] = deque(maxlen=size)
        self.sent_at: dict[int, float] = {}  # of ids in `recent` only
        self.resends: dict[int, int] = {}  # likewise
        self.counts: dict[int, int] = {}  # how often each id is in `recent`
        self.fresh: OrderedDict[int, float] = OrderedDict()  # id -> arrival, for `is_fresh`

    def add(self, x: int, now: float) -> None:
        """Record id `x` (as an integer) reached us at `now`."""
        counts = self.counts
        if len(self.recent) == self.recent.maxlen:
            old = self.recent[0][1]
            self.sent_at.pop(old, None)
            self.resends.pop(old, None)
            if counts[old] == 1:
                del counts[old]
            else:
                counts[old] -= 1
        self.recent.append((now, x))
        counts[x] = counts.get(x, 0) + 1
        self.fresh[x] = now
        self.fresh.move_to_end(x)
        while len(self.fresh) > FRESH_KEPT or now - next(iter(self.fresh.values())) > FRESH_S:
            self.fresh.popitem(last=False)

    def is_fresh(self, x: int, now: float) -> bool:
        """Whether record `x` reached us within `FRESH_S`: a copy of it heard now
        may be a relay; one of an older record is history replayed."""
        t = self.fresh.get(x)
        return t is not None and now - t <= FRESH_S

    def sent(self, x: int, now: float) -> None:
        """We transmitted record `x` at `now` (remembered while it is recent)."""
        if x in self.counts:
            self.sent_at[x] = now

    def explains(self, their_count: int, their_fp: int, my_count: int, my_fp: int,
                 now: float) -> bool:
        """Whether a digest (their_count, their_fp) is ours less some records that
        reached us within `window` seconds (at most MAX_MISSING of them)."""
        if their_count == my_count:
            return their_fp == my_fp
        lacks = self.lacking(their_count, their_fp, my_count, my_fp)
        return lacks is not None and all(now - t <= self.window for t, _x in lacks)

    def lacking(self, their_count: int, their_fp: int, my_count: int,
                my_fp: int) -> list[tuple[float, int]] | None:
        """The recent arrivals (time, id) a digest lacks, if it is ours less some of
        them (at most MAX_MISSING, whatever their age); None if it is not."""
        missing = my_count - their_count
        if not 0 < missing <= MAX_MISSING:
            return None
        when = {x: t for t, x in self.recent}
        ids = list(when)
        target = my_fp ^ their_fp
        if missing == 1:
            return [(when[target], target)] if target in when else None
        for i, a in enumerate(ids):
            if missing == 2:
                b = target ^ a
                if b in when and b != a:
                    return [(when[a], a), (when[b], b)]
                continue
            for b in ids[i + 1:]:
                c = target ^ a ^ b
                if c in when and c != a and c != b:
                    return [(when[a], a), (when[b], b), (when[c], c)]
        return None

    def lost_sends(self, lacks: list[tuple[float, int]], now: float,
                   grace: float) -> list[int]:
        """Of the records a neighbour's digest lacks, those it should hold by now:
        arrived here before `window`, or sent by us more than `grace` seconds ago
        (our copy missed it: a collision, a jammer at its end)."""
        return [x for t, x in lacks
                if now - t > self.window or now - self.sent_at.get(x, now) > grace]

    def resend(self, x: int) -> bool:
        """Whether record `x`, which we sent, may go once more unpaid (at most
        RESENDS times while it is recent); counts it if so."""
        if x not in self.sent_at or self.resends.get(x, 0) >= RESENDS:
            return False
        self.resends[x] = self.resends.get(x, 0) + 1
        return True
