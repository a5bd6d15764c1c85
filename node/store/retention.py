"""Retention: per-author quotas of live records, and garbage collection of
superseded versions (node/PROTOCOL.md, "Retention").

Quota. An author may have at most LIVE_QUOTA live needs and offers (open and
not expired) at once. This node refuses to sign past it (posting, renewing,
import-csv); records from other authors are never refused for it, since
what arrives first would then decide, but the board shows only an author's
first LIVE_QUOTA live records by seq (`over_quota`), which every node derives
alike from the same ledger.
"""

from __future__ import annotations

from ..ledger import identity
from .store import Store, StoreError

LIVE_QUOTA = 1000


def live_count(store: Store, author: bytes, now: float | None = None) -> int:
    """How many open, unexpired needs and offers `author` has, by this node's present."""
    present = store.mesh_now() if now is None else now
    row = store.db.execute(
        "SELECT COUNT(*) FROM objects WHERE author = ? AND kind IN (2, 3) AND status = 0"
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
