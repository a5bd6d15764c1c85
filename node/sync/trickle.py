"""The Trickle algorithm (RFC 6206), for digests to neighbours.

An interval I starts at `imin` and doubles up to `imax` while every digest
heard agrees with ours. In each interval a node picks t uniformly in [I/2, I)
and sends its digest at t unless it already heard `k` consistent digests in
this interval. Hearing an inconsistent digest, or learning something new,
resets I to `imin`. In steady state a neighbourhood spends about one digest
per `imax`, whatever its size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Trickle:
    imin: float
    imax: float
    k: int
    rng: random.Random
    interval: float = 0.0
    start: float = 0.0
    fire_at: float = 0.0
    heard: int = 0
    fired: bool = False
    boost: int = 0  # extra k for the current interval (after urgent news)

    def begin(self, now: float) -> None:
        self.interval = self.imin
        self._new_interval(now)

    def _new_interval(self, now: float) -> None:
        self.start = now
        self.heard = 0
        self.fired = False
        self.fire_at = now + self.rng.uniform(self.interval / 2, self.interval)

    def consistent(self) -> None:
        self.heard += 1

    def reset(self, now: float, interval: float | None = None, boost: int = 0) -> None:
        """Inconsistency or news: back to the shortest interval (RFC 6206 §4.2, rule 6),
        or to `interval` if given (news is checked a little later, once it spread).
        `boost` raises k for the new interval: more nodes speak after urgent news."""
        target = self.imin if interval is None else min(self.imax, max(self.imin, interval))
        if self.interval > target or now >= self.fire_at:
            self.interval = target
            self._new_interval(now)
        self.boost = max(self.boost, boost)

    def soon(self, now: float, within: float) -> None:
        """One digest within `within` seconds (a neighbour far behind asks to hear
        one, so that it can pull), the interval kept: a reset would also restart
        the doubling, several digests more for one ask."""
        at = now + self.rng.uniform(within / 2, within)
        if self.fired or at < self.fire_at:
            self.fire_at = at
            self.fired = False

    def next_time(self) -> float:
        return self.fire_at if not self.fired else self.start + self.interval

    def poll(self, now: float) -> str | None:
        """Advance to `now`. Returns "send" when the digest should go now,
        "suppressed" when its time came but k consistent digests were heard,
        None otherwise."""
        result = None
        if not self.fired and now >= self.fire_at:
            self.fired = True
            result = "send" if self.heard < self.k + self.boost else "suppressed"
        if now >= self.start + self.interval:
            self.interval = min(self.interval * 2, self.imax)
            self.boost = 0
            self._new_interval(now)
        return result
