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

from collections import deque

MAX_MISSING = 3  # records a digest may lack and still be explained
RECENT_KEPT = 24  # arrivals remembered


class Arrivals:
    """The ids that reached this node lately, newest last."""

    def __init__(self, window: float, size: int = RECENT_KEPT) -> None:
        self.window = window
        self.recent: deque[tuple[float, int]] = deque(maxlen=size)

    def add(self, x: int, now: float) -> None:
        """Record id `x` (as an integer) reached us at `now`."""
        self.recent.append((now, x))

    def explains(self, their_count: int, their_fp: int, my_count: int, my_fp: int,
                 now: float) -> bool:
        """Whether a digest (their_count, their_fp) is ours less some records that
        reached us within `window` seconds (at most MAX_MISSING of them)."""
        missing = my_count - their_count
        if not 0 < missing <= MAX_MISSING:
            return missing == 0 and their_fp == my_fp
        ids = [x for t, x in self.recent if now - t <= self.window]
        target = my_fp ^ their_fp
        if missing == 1:
            return target in ids
        pool = set(ids)
        for i, a in enumerate(ids):
            if missing == 2:
                if (target ^ a) in pool and (target ^ a) != a:
                    return True
                continue
            for b in ids[i + 1:]:
                c = target ^ a ^ b
                if c in pool and c != a and c != b:
                    return True
        return False
