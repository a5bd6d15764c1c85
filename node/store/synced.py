"""Which stored records are in the sync set: every record held minus the
superseded ones (node/PROTOCOL.md §5 and §7; gc.py says why).

Theory of operation
-------------------
The engine keeps its set as ids it was given; this module says, after each
record it hands the store, which ids leave the set and which come back. It
keeps no state of its own (one port may serve two engines, a bridge's), so
each answer covers the whole scope the record can change:

* an update or a hello: its slot (the author's versions of that target, or
  its hellos): the superseded versions held leave;
* a record at a forked (author, seq): every slot of that author, since a fork
  keeps both twins and may make an older version count again;
* a charter, vouch or revoke: every slot, since a cut keeps all of an
  author's versions. Versions that count again come back (`returned`).

Needs, offers and pledges change nothing. Both lists are idempotent for the
engine (it drops what it does not hold and adds what it has).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from . import gc
from .sqlconst import CHARTER, HELLO, REVOKE, UPDATE, VOUCH

_MEMBERSHIP = {CHARTER, VOUCH, REVOKE}


@dataclass
class Change:
    """What one stored record changed in the sync set."""

    dropped: set[bytes] = field(default_factory=set)  # SHA-256 of held records that left
    returned: set[bytes] = field(default_factory=set)  # SHA-256 of held records back in it
    superseded: bool = False  # the record itself is not in the set


def excluded_ids(db: Database) -> set[bytes]:
    """8-byte sync ids of every held record outside the sync set."""
    return {v.hash[:8] for v in gc.excluded(db) if v.held}


def change(db: Database, digest: bytes,
           stored: tuple[bytes, int, int, int | None] | None = None,
           may_fork: bool = True) -> Change:
    """The sync-set change made by the stored record with this SHA-256 (accepted
    now, or a duplicate another process stored). `stored` is its (author, seq,
    kind, target seq of an update) when the caller just stored it; `may_fork`
    False says the caller knows its author has no fork stored (one lookup
    fewer, for nearly every record heard)."""
    out = Change()
    row: Any = stored or db.execute(
        "SELECT author, seq, kind, ref_seq FROM records WHERE hash = ?", [digest]).fetchone()
    if row is None:
        return out
    author, seq, kind, ref_seq = bytes(row[0]), int(row[1]), int(row[2]), row[3]
    forked = may_fork and db.execute("SELECT 1 FROM forks WHERE author = ? AND seq = ?",
                                     [author, seq]).fetchone() is not None
    if kind in _MEMBERSHIP:
        scope: tuple[bytes | None, int | None] = (None, None)
    elif forked:
        scope = (author, None)
    elif kind == HELLO:
        scope = (author, gc.HELLO_SLOT)
    elif kind == UPDATE:
        scope = (author, int(ref_seq))
    else:
        return out
    versions = gc.excluded(db, *scope)
    out.dropped = {v.hash for v in versions if v.held}
    out.superseded = digest in out.dropped
    out.dropped.discard(digest)
    if forked:
        out.returned = _counting_again(db, author, out.dropped | {digest})
    elif kind in _MEMBERSHIP:
        for (key,) in db.execute("SELECT key FROM members WHERE revoked_through IS NOT NULL"):
            out.returned |= _counting_again(db, bytes(key), out.dropped | {digest})
    return out


def _counting_again(db: Database, author: bytes, excluded: set[bytes]) -> set[bytes]:
    """SHA-256 of `author`'s held updates and hellos that are not `excluded` and
    share their slot with another version: those a fork or a cut can bring back
    into the set."""
    return {bytes(h) for (h,) in db.execute(
        f"""SELECT hash FROM records r WHERE author = ?1 AND kind IN ({HELLO}, {UPDATE})
        AND (EXISTS (SELECT 1 FROM records o WHERE o.author = ?1 AND o.kind = r.kind
                     AND o.seq != r.seq AND (r.kind = {HELLO} OR o.ref_seq = r.ref_seq))
             OR EXISTS (SELECT 1 FROM collected c JOIN collected_keys k ON k.id = c.author
                        WHERE k.key = ?1 AND c.slot =
                        (CASE r.kind WHEN {HELLO} THEN {gc.HELLO_SLOT} ELSE r.ref_seq END)))
        """, [author])} - excluded
