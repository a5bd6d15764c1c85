"""Retention: per-author quotas of live records, and compaction of superseded
versions (node/PROTOCOL.md, "Retention"; the policy is node/ledger/retention.py).

Compaction. `compacted` yields the stored records minus those the policy
collects (superseded updates and hellos of authors that are not cut, outside
forks): a bundle of them gives a new node the same derived state with less
to carry and verify.

Quota. An author may have at most LIVE_QUOTA live needs and offers (open and
not expired) at once. This node refuses to sign past it (posting, import-csv);
records from other authors are never refused for it, since what arrives first
would then decide.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..ledger import codec, identity
from ..ledger import records as r
from ..ledger import retention as policy
from .sqlconst import HELLO, NEED, OFFER, OPEN, UPDATE
from .store import Store, StoreError

LIVE_QUOTA = 1000


def live_count(store: Store, author: bytes, now: float | None = None) -> int:
    """How many open, unexpired needs and offers `author` has, by this node's present."""
    present = store.mesh_now() if now is None else now
    row = store.db.execute(
        f"SELECT COUNT(*) FROM objects WHERE author = ? AND kind IN ({NEED}, {OFFER})"
        f" AND status = {OPEN}"
        " AND (valid_until IS NULL OR valid_until > ?)", [author, present]).fetchone()
    return int(row[0])


def check_quota(store: Store, author: bytes, extra: int = 1, now: float | None = None) -> None:
    """StoreError unless `author` can have `extra` more live needs and offers."""
    live = live_count(store, author, now)
    if live + extra > LIVE_QUOTA:
        raise StoreError(
            f"{identity.short_id(author).hex()} has {live} live needs and offers; with "
            f"{extra} more it would pass the quota of {LIVE_QUOTA}: mark some fulfilled or "
            "withdrawn, or let them expire, first")


def cut_keys(store: Store) -> set[bytes]:
    """Keys this ledger's membership has cut (revoked through some seq)."""
    return {bytes(k) for (k,) in store.db.execute(
        "SELECT key FROM members WHERE revoked_through IS NOT NULL")}


def collectible(store: Store) -> set[bytes]:
    """Hashes of the stored records the retention policy collects."""
    recs = []
    for author, raw in store.db.execute(
            f"SELECT author, raw FROM records WHERE kind IN ({HELLO}, {UPDATE})"):
        p = codec.parse(bytes(raw))
        recs.append(r.Record(p.kind, bytes(author), p.seq, p.hlc, p.body, bytes(raw)))
    return policy.collectible(recs, cut_keys(store))


def compacted(store: Store) -> Iterator[bytes]:
    """The stored records minus the collectible ones, in bundle order (charter,
    hellos, vouches and revokes, then the rest by HLC)."""
    import hashlib

    drop = collectible(store)
    for raw in store.raw_records():
        if hashlib.sha256(raw).digest() not in drop:
            yield raw
