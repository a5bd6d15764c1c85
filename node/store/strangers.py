"""Records of keys nobody admitted: their expiry (node/PROTOCOL.md §9).

Theory of operation
-------------------
A record whose author no vouch admitted (its key is not in `members`) is
stored where it landed, shown as quarantined and kept outside the sync set
(§9); the radio takes at most 4 per key and 2,000 a week of them
(sync_port.py). Without expiry they would stay for ever. So:

* **Age.** A stranger's record is *stamped* with the earlier of its own
  timestamp (HLC) and the time this node received it: a record dated in the
  future lives no longer than one received now, and an old record arriving
  again is stamped old. It expires `TTL_S` (7 days) after its stamp, by the
  store's wall clock.
* **What a later vouch needs stays.** A vouch names the key; the key's later
  records name their author by short id, which only its hello resolves. So
  the newest hello of each key stays whatever its age, for the `HELLOS_MAX`
  keys whose newest record is the most recent; the keys beyond go whole
  (records and their `keys` row).
* **Bounded per key.** Of each key at most `PER_KEY` records stay: its newest
  hello and its highest other seqs (imports and requested records are not
  held to the radio's quota).
* Never expired: records authored here (a newcomer's own posts wait for its
  vouch), the records of keys ever admitted (a cut member's records are its
  revokers' evidence), and the newest records row (the change feed's cursor).

Deleting a record deletes what was derived from it alone: its objects row
(and full-text entry), its radio metadata and outbox row; a pledge's need has
its totals recomputed. Membership never depends on a stranger's records, and
a stranger's updates never apply, so nothing else changes. A copy arriving
later is taken again like any stranger's record (within the quota) and, being
stamped by its own timestamp, expires at the next round.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlite_utils import Database

from ..ledger import hlc
from . import derive
from .sqlconst import HELLO, NEED, OFFER, PLEDGE

if TYPE_CHECKING:
    from .store import Store

TTL_S = 7 * 86400.0
PER_KEY = 4
HELLOS_MAX = 2000
BATCH = 200  # records deleted per write transaction

@dataclass
class Expired:
    """What an expiry round did (or would do)."""

    records: int = 0
    keys: int = 0  # keys forgotten whole (their hello too)
    ids: list[bytes] = field(default_factory=list)  # 8-byte sync ids deleted


def _stamp(hlc_value: int, received_at: float) -> float:
    return min(float(hlc.unix_of(hlc_value)), received_at)


def due(db: Database, now: float) -> tuple[list[int], set[bytes]]:
    """Row ids of the strangers' records to delete at wall time `now`, and the
    keys forgotten whole (their `keys` row goes with their last record)."""
    top = db.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0]
    by_key: dict[bytes, list[tuple[int, int, int, float]]] = defaultdict(list)
    for rid, _h, author, kind, seq, hv, received in db.execute(
            "SELECT r.id, r.hash, r.author, r.kind, r.seq, r.hlc, r.received_at"
            " FROM records r LEFT JOIN members m ON m.key = r.author"
            " WHERE m.key IS NULL AND r.local = 0 AND r.author NOT IN"
            " (SELECT author FROM records WHERE local = 1)"):
        by_key[bytes(author)].append((int(rid), int(kind), int(seq),
                                      _stamp(int(hv), float(received))))
    gone: list[int] = []
    kept_hello: dict[bytes, float] = {}  # key -> stamp of its newest record
    for key, rows in by_key.items():
        hellos = sorted((r for r in rows if r[1] == HELLO), key=lambda r: r[2])
        newest_hello = hellos[-1][0] if hellos else None
        others = sorted((r for r in rows if r[1] != HELLO), key=lambda r: -r[2])
        room = PER_KEY - (1 if newest_hello is not None else 0)
        for i, (rid, _kind, _seq, stamp) in enumerate(others):
            if i >= room or now - stamp > TTL_S:
                gone.append(rid)
        for rid, _kind, _seq, stamp in hellos[:-1]:
            gone.append(rid)  # superseded hellos (gc keeps tombstones of members' only)
        if newest_hello is not None:
            kept_hello[key] = max(r[3] for r in rows)
    forgotten: set[bytes] = set()
    if len(kept_hello) > HELLOS_MAX:
        order = sorted(kept_hello, key=lambda k: (kept_hello[k], k))
        forgotten = set(order[: len(kept_hello) - HELLOS_MAX])
        gone += [r[0] for k in forgotten for r in by_key[k]]
    return sorted(set(gone) - {int(top)}), forgotten


def expire(store: Store, *, dry_run: bool = False, batch: int = BATCH) -> Expired:
    """Delete the strangers' records that expired by the store's wall clock,
    `batch` per write transaction; with `dry_run`, only count them."""
    store.refresh()
    rows, forgotten = due(store.db, store.wall())
    out = Expired(keys=len(forgotten))
    if dry_run:
        out.records = len(rows)
        return out
    for i in range(0, len(rows), batch):
        with store.write():
            out.ids += _delete(store.db, rows[i : i + batch])
        out.records = len(out.ids)
    return out


def _delete(db: Database, rows: list[int]) -> list[bytes]:
    """Inside a write transaction: delete these records (if still strangers')
    and what was derived from each alone; their 8-byte sync ids."""
    ids: list[bytes] = []
    for row_id in rows:
        row = db.execute(
            "SELECT r.hash, r.author, r.kind, r.seq, r.ref_short, r.ref_seq FROM records r"
            " LEFT JOIN members m ON m.key = r.author WHERE r.id = ? AND m.key IS NULL"
            " AND r.local = 0", [row_id]).fetchone()
        if row is None:
            continue  # admitted meanwhile, or gone
        digest, author, kind, seq, ref_short, ref_seq = row
        if kind in (NEED, OFFER, PLEDGE):
            db.execute("DELETE FROM objects WHERE author = ? AND seq = ?", [author, seq])
        db.execute("DELETE FROM heard WHERE record = ?", [row_id])
        db.execute("DELETE FROM outbox WHERE record = ?", [row_id])
        db.execute("DELETE FROM records WHERE id = ?", [row_id])
        if kind == PLEDGE and ref_short is not None and ref_seq is not None:
            derive.recompute_need_totals(db, bytes(ref_short), int(ref_seq))
        if db.execute("SELECT 1 FROM records WHERE author = ? LIMIT 1", [author]).fetchone() \
                is None:
            db.execute("DELETE FROM keys WHERE key = ?", [author])  # the key is forgotten
        ids.append(bytes(digest)[:8])
    return ids


class Expiry:
    """Expiry in rounds for a long-running process (the daemon): a round every
    `every_s`, one write transaction per `step`."""

    def __init__(self, every_s: float = 3600.0, first_s: float = 600.0) -> None:
        self.every_s = every_s
        self.first_s = first_s
        self.next_at: float | None = None
        self.todo: list[int] = []
        self.expired = 0  # records deleted since start

    def step(self, store: Store, now: float) -> list[bytes]:
        """Do the next slice due at `now` (monotonic); the 8-byte ids deleted."""
        if self.next_at is None:
            self.next_at = now + self.first_s
        if not self.todo:
            if now < self.next_at:
                return []
            self.next_at = now + self.every_s
            store.refresh()
            self.todo, _forgotten = due(store.db, store.wall())
            return []
        part, self.todo = self.todo[:BATCH], self.todo[BATCH:]
        with store.write():
            ids = _delete(store.db, part)
        self.expired += len(ids)
        return ids
