"""Per-author token buckets: an author posting faster than `rate_per_hour`
(after a burst of `burst`) has further records left to reconciliation, not
relayed (inbox.py `_plan_relay`); and, in buckets of their own per author and
class, urgent records past their allowance go as normal ones (inbox.py).
PROTOCOL.md §9, "A stolen member key that posts"."""

from __future__ import annotations

from dataclasses import dataclass


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
