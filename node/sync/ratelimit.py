"""Per-author token buckets: an author posting faster than `rate_per_hour`
(after a burst of `burst`) has further records left to reconciliation, not
relayed (inbox.py `_plan_relay`); and, in buckets of their own per author and
class, urgent records past their allowance go as normal ones (inbox.py).
PROTOCOL.md §9, "A stolen member key that posts"."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .ports import RecordInfo


@dataclass
class _Bucket:
    tokens: float
    at: float


class AuthorRates:
    def __init__(self, rate_per_hour: float, burst: float) -> None:
        self.per_s = rate_per_hour / 3600.0
        self.burst = burst
        self.buckets: dict[bytes, _Bucket] = {}

    def allow(self, author: bytes, now: float) -> bool:
        """Take one token from `author`'s bucket; False when it is empty."""
        bucket = self.buckets.get(author)
        if bucket is None:
            bucket = self.buckets[author] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_s)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False


class AuthorLoad:
    """How many records of each admitted author reached our set lately, a count
    decaying with `half_life_s` (outbox.py `flooding`), and the neighbour that
    brought most of them (`source`: a streaming majority vote); the `most`
    authors heard from last are remembered."""

    def __init__(self, half_life_s: float = 3600.0, most: int = 1024) -> None:
        self.half_life_s = half_life_s
        self.most = most
        self.loads: dict[bytes, tuple[float, float]] = {}  # author -> (count, at)
        self.votes: dict[bytes, tuple[int, int]] = {}  # author -> (candidate, its lead)
        # No author's count was above `_bound` at `_bound_at` (it decays as theirs
        # do): `any_over` and `over` read every author only when it is over the
        # burst, not for every record heard (steady-200: 200 authors a record).
        self._bound = 0.0
        self._bound_at = 0.0

    def add(self, author: bytes, now: float, sender: int | None = None) -> None:
        count = self.weight(author, now) + 1.0
        self.loads.pop(author, None)
        self.loads[author] = (count, now)
        self._bound, self._bound_at = max(self._peak(now), count), now
        if sender is not None:
            who, lead = self.votes.get(author, (sender, 0))
            self.votes[author] = (who, lead + 1) if who == sender else \
                (who, lead - 1) if lead > 0 else (sender, 1)
        while len(self.loads) > self.most:
            old = next(iter(self.loads))
            del self.loads[old]
            self.votes.pop(old, None)

    def source(self, author: bytes) -> int | None:
        """The neighbour that brought us most of `author`'s records lately, if one
        did (the majority vote's candidate)."""
        vote = self.votes.get(author)
        return vote[0] if vote is not None else None

    def weight(self, author: bytes, now: float) -> float:
        count, at = self.loads.get(author, (0.0, now))
        return count * 0.5 ** (max(0.0, now - at) / self.half_life_s)

    def _peak(self, now: float) -> float:
        """A bound on every author's count at `now`."""
        return self._bound * 0.5 ** (max(0.0, now - self._bound_at) / self.half_life_s)

    def _none_over(self, burst: float, now: float) -> bool:
        """Whether the bound shows no author's count over `burst` (with a margin
        for rounding: otherwise every author is read)."""
        return self._peak(now) < burst * (1.0 - 1e-9)

    def any_over(self, burst: float, now: float) -> bool:
        """Whether some author's count is over `burst`: someone floods the ledger."""
        if self._none_over(burst, now):
            return False
        peak = max((self.weight(a, now) for a in self.loads), default=0.0)
        self._bound, self._bound_at = peak, now
        return peak > burst

    def over(self, burst: float, now: float, most: int) -> list[bytes]:
        """The authors whose count is over `burst`, heaviest first, at most `most`."""
        if self._none_over(burst, now):
            return []
        heavy = [(w, a) for a in self.loads if (w := self.weight(a, now)) > burst]
        return [a for _w, a in sorted(heavy, reverse=True)[:most]]


def flood_last(infos: Mapping[bytes, RecordInfo], rids: Iterable[bytes],
               flooding: Callable[[bytes], bool]) -> list[RecordInfo]:
    """The records of `rids` held in `infos`, in the order given, but those of
    authors `flooding` the ledger (outbox.py) after everyone else's: what an
    asker's credit or our budget pays for goes to others' news first
    (answers.py, filters.py)."""
    held = [i for i in map(infos.get, rids) if i is not None]
    flood = {a for a in {i.author for i in held} if flooding(a)}
    return sorted(held, key=lambda i: i.author in flood)  # (stable)


def any_flooding(infos: Mapping[bytes, RecordInfo], rids: Iterable[bytes],
                 flooding: Callable[[bytes], bool]) -> bool:
    """Whether any of the records `rids` held in `infos` is by an author
    `flooding` the ledger: a member's allowance pays for none of them
    (answers.py)."""
    return any(i is not None and flooding(i.author) for i in map(infos.get, rids))
