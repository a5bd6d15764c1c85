"""Which records a compacted copy of the ledger may leave out: superseded
versions (node/PROTOCOL.md, "Retention").

Theory of operation: most of a long-lived ledger is history. An object's state
is its highest trusted update (or its own record), and a key's name and site
its highest hello; the versions below them no longer decide anything, as long
as the one above them keeps counting. `collectible` names those versions, as a
pure function of a set of records and of which authors are cut, so every
node computes the same answer for the same set, in any order:

- an **update** is collectible when its author signed a later update (higher
  seq) of the same target;
- a **hello** is collectible when its author signed a later hello;
- unless the author is cut (revoked): a cut decides which of its versions
  count, so all of them are kept; and unless either seq is forked (two
  records with one (author, seq)): every version of a fork is evidence.

Never collectible: the charter, vouches and revokes (membership is derived from
all of them), and every need, offer and pledge (the objects themselves; every
pledge, open or not, with its latest state). The derived state of
`records - collectible(records)` is therefore that of `records`.

Where it applies: `meshaid export --compact` leaves these records out of a
bundle; every node leaves them out of its sync set (what digests and sketches
count), so a version below one a node holds never travels to it; and a live
node may delete them, keeping a tombstone each (node/store/gc.py), since a
cut or fork arriving later can make a version count again. node/store/gc.py
computes the same function in SQL over the records and tombstones a node
holds; tests/store/test_gc.py checks that the two agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from hashlib import sha256

from . import records as r


def collectible(records: Iterable[r.Record], cut: Iterable[bytes] = ()) -> set[bytes]:
    """SHA-256 hashes of the superseded updates and hellos among `records` that
    a compacted copy may leave out; `cut` are the keys revoked (cut) in this
    ledger, whose records are all kept."""
    recs = list(records)
    keep_all = set(cut)
    versions: dict[tuple[bytes, int], set[bytes]] = defaultdict(set)
    for rec in recs:
        versions[(rec.author, rec.seq)].add(sha256(rec.raw).digest())
    forked = {pair for pair, hashes in versions.items() if len(hashes) > 1}
    newest: dict[tuple[bytes, object], int] = {}
    for rec in recs:
        slot = _slot(rec)
        if slot is not None and (rec.author, rec.seq) not in forked:
            newest[slot] = max(newest.get(slot, 0), rec.seq)
    out = set()
    for rec in recs:
        slot = _slot(rec)
        if slot is None or rec.author in keep_all or (rec.author, rec.seq) in forked:
            continue
        if newest.get(slot, 0) > rec.seq:  # superseded by a version that is not forked
            out.add(sha256(rec.raw).digest())
    return out


def _slot(rec: r.Record) -> tuple[bytes, object] | None:
    """What a record is a version of: (author, target seq) for an update,
    (author, 'hello') for a hello; None for records that are never superseded."""
    if isinstance(rec.body, r.Update):
        return (rec.author, rec.body.target_seq)
    if isinstance(rec.body, r.Hello):
        return (rec.author, "hello")
    return None
