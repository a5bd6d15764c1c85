"""Garbage collection on a live node (node/PROTOCOL.md §5, "Retention"; the
policy is node/ledger/retention.py).

Theory of operation
-------------------
The policy names the *superseded* records of a set: updates and hellos below
a later, unforked version by the same author, except a cut author's and any
forked seq's. Every node applies it twice, with one function over what it
knows (its records plus its tombstones):

* **Sync set.** The records a node reconciles (§7) are those it holds minus
  the superseded ones (`excluded`). Two nodes that hold the same latest
  versions therefore have the same set whether or not either of them still
  holds, or ever held, the versions below: nothing collected is fetched again.
  The sync port (sync_port.py) tells the engine which ids leave the set as
  superseding records arrive, and which come back when a fork or a cut makes
  older versions count again.
* **Collection.** `collect` moves the superseded records out of the records
  table into `collected` tombstones: the 8-byte sync id (an arriving copy
  with the same bytes is a counted duplicate, `tombstoned`), the author (a
  small number, `collected_keys`), slot, seq, the record's unsigned bytes
  (its bytes without the signature), from which the derived state can fall
  back to it when a later revocation cuts the version above
  (derive.recompute_object), its 64-byte signature (m008) and its origin
  (m009: authored here or not, when it was stored, the heard row of its
  first hearing). What goes: the row with its four index entries. Objects
  (needs, offers, pledges) and membership records are never superseded, so
  no derived row or full-text entry changes.

A tombstone whose version stops being superseded (a fork at its seq, its
author cut) holds the whole record: ingest stores it again at once
(`restorable`; Ingester.restore), so it is back in this node's sync set and
served to nodes that never had it, even when every node had collected it; it
gets back its origin (`put_back`), so it is not taken for a record received
from elsewhere just now.
Tombstones made before m008 have no signature: those leave the set, and a
neighbour that still holds the record sends it when reconciling (the arrival
deletes the tombstone, `tombstoned`). Collection runs in small write
transactions; each re-checks
its candidates inside the transaction, so records stored by other processes
in between are taken into account. The newest records row is never collected
(the change feed's cursor is the largest row id); a superseded record of ours
still waiting in the outbox leaves it (the version above it goes instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlite_utils import Database

from .sqlconst import HELLO, UPDATE

if TYPE_CHECKING:
    from .store import Store

SIG_LEN = 64
HELLO_SLOT = -1  # the slot of a hello (an update's slot is its target seq)
BATCH = 200  # records collected per write transaction

Slot = tuple[bytes, int]  # (author key, target seq or HELLO_SLOT)

# Held records by full SHA-256, tombstones by their 8-byte id. {rw} selects the
# records (each form searches an index but the whole one), {cw} the tombstones.
_VERSIONS = f"""
    SELECT author, CASE kind WHEN {HELLO} THEN {HELLO_SLOT} ELSE ref_seq END AS slot, seq, hash,
           1 AS held
    FROM records WHERE {{rw}}
    UNION ALL
    SELECT k.key, c.slot, c.seq, c.id, 0 FROM collected c JOIN collected_keys k ON k.id = c.author
    {{cw}}
"""
_EXCLUDED = f"""
    WITH v AS ({_VERSIONS}),
    nf AS (SELECT * FROM v WHERE NOT EXISTS
               (SELECT 1 FROM forks f WHERE f.author = v.author AND f.seq = v.seq)),
    top AS (SELECT author, slot, MAX(seq) AS s FROM nf GROUP BY author, slot)
    SELECT nf.author, nf.slot, nf.hash, nf.held FROM nf JOIN top
        ON top.author = nf.author AND top.slot = nf.slot
    WHERE nf.seq < top.s AND NOT EXISTS
        (SELECT 1 FROM members m WHERE m.key = nf.author AND m.revoked_through IS NOT NULL)
"""


@dataclass(frozen=True)
class Version:
    """A superseded version: its slot, its SHA-256 if its record is held (else
    its tombstone's 8-byte id), and whether it is held."""

    slot: Slot
    hash: bytes
    held: bool

    @property
    def id(self) -> bytes:
        """The 8-byte sync id."""
        return self.hash[:8]


def excluded(db: Database, author: bytes | None = None, slot: int | None = None) -> list[Version]:
    """Every superseded version this node knows (records and tombstones), or
    those of one author, or of one (author, slot)."""
    args: list[bytes | int] = []
    if author is None:  # every record: a whole read by design
        sql = _EXCLUDED.format(rw=f"kind IN ({HELLO}, {UPDATE})", cw="")
    elif slot is None:
        sql = _EXCLUDED.format(rw=f"author = ?1 AND kind IN ({HELLO}, {UPDATE})",
                               cw="WHERE k.key = ?1")
        args = [author]
    elif slot == HELLO_SLOT:
        sql = _EXCLUDED.format(rw=f"author = ?1 AND kind = {HELLO} AND ?2 = {HELLO_SLOT}",
                               cw="WHERE k.key = ?1 AND c.slot = ?2")
        args = [author, slot]
    else:  # records(author, ref_seq, seq) WHERE kind = update
        sql = _EXCLUDED.format(rw=f"author = ?1 AND ref_seq = ?2 AND kind = {UPDATE}",
                               cw="WHERE k.key = ?1 AND c.slot = ?2")
        args = [author, slot]
    return [Version((bytes(a), s), bytes(h), bool(held))
            for a, s, h, held in db.execute(sql, args).fetchall()]


def tombstoned(db: Database, digest: bytes, raw: bytes) -> bool | None:
    """For an arriving record: True when it was collected here and is still
    superseded (a duplicate), None when it was never collected. A tombstone
    that is no longer superseded is deleted (False): the record is stored
    again."""
    row = db.execute("SELECT k.key, c.slot, c.body, c.sig FROM collected c JOIN collected_keys k"
                     " ON k.id = c.author WHERE c.id = ?", [digest[:8]]).fetchone()
    if row is None or bytes(row[2]) != raw[:-SIG_LEN] or (
            row[3] is not None and bytes(row[3]) != raw[-SIG_LEN:]):
        return None  # not collected (or another record with the same 8-byte id)
    if any(not v.held and v.hash == digest[:8] for v in excluded(db, bytes(row[0]), int(row[1]))):
        return True
    db.execute("DELETE FROM collected WHERE id = ?", [digest[:8]])
    return False


@dataclass
class Collected:
    """What a collection did (or would do, dry run)."""

    records: int = 0  # records moved to tombstones
    bytes_before: int = 0  # raw bytes of those records
    skipped: int = 0  # candidates left (the newest row, or changed meanwhile)


def candidates(store: Store) -> list[bytes]:
    """Hashes of the held records the policy collects, as of now."""
    store.refresh()
    return [v.hash for v in excluded(store.db) if v.held]


def collect(store: Store, *, dry_run: bool = False, batch: int = BATCH,
            limit: int | None = None) -> Collected:
    """Move the superseded records to tombstones, `batch` per write transaction
    (at most `limit` in all); with `dry_run`, only count them."""
    todo = candidates(store)
    if limit is not None:
        todo = todo[:limit]
    out = Collected()
    db = store.db
    if dry_run:
        for i in range(0, len(todo), 500):
            part = todo[i : i + 500]
            n, size = db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(length(raw)), 0) FROM records"
                f" WHERE hash IN ({','.join('?' * len(part))})", part).fetchone()
            out.records += int(n)
            out.bytes_before += int(size)
        return out
    for i in range(0, len(todo), batch):
        with store.write():
            moved, size = _collect_some(db, todo[i : i + batch])
        out.records += moved
        out.bytes_before += size
    out.skipped = len(todo) - out.records
    return out


def _collect_some(db: Database, hashes: list[bytes]) -> tuple[int, int]:
    """Inside a write transaction: tombstone those of `hashes` still superseded."""
    top = db.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0]
    slots: dict[Slot, set[bytes]] = {}
    moved = size = 0
    for digest in hashes:
        row = db.execute(
            "SELECT id, raw, author, kind, seq, ref_seq, local, received_at FROM records"
            " WHERE hash = ?",
            [digest]).fetchone()
        if row is None or row[0] == top:
            continue
        rid, raw, author, kind, seq, ref_seq, local, received_at = row
        author = bytes(author)
        slot = (author, HELLO_SLOT if kind == HELLO else int(ref_seq))
        if slot not in slots:
            slots[slot] = {v.hash for v in excluded(db, *slot)}
        if digest not in slots[slot]:
            continue
        raw = bytes(raw)
        db.execute("INSERT OR IGNORE INTO collected_keys (key) VALUES (?)", [author])
        heard = db.execute("SELECT node, snr, rssi, hops, heard_at FROM heard WHERE record = ?",
                           [rid]).fetchone() or (None,) * 5
        db.execute("INSERT OR IGNORE INTO collected (id, author, slot, seq, body, sig, local,"
                   " received_at, heard_node, heard_snr, heard_rssi, heard_hops, heard_at)"
                   " VALUES (?, (SELECT id FROM collected_keys WHERE key = ?), ?, ?, ?, ?, ?, ?,"
                   " ?, ?, ?, ?, ?)",
                   [digest[:8], author, slot[1], seq, raw[:-SIG_LEN], raw[-SIG_LEN:], local,
                    received_at, *heard])
        db.execute("DELETE FROM heard WHERE record = ?", [rid])
        db.execute("DELETE FROM outbox WHERE record = ?", [rid])  # superseded: never needed
        db.execute("DELETE FROM records WHERE id = ?", [rid])
        moved += 1
        size += len(raw)
    return moved, size


@dataclass(frozen=True)
class Origin:
    """Where a collected record came from (m009; None in older tombstones):
    authored here, when it was stored, and its first hearing on the radio
    (`heard`: node, snr, rssi, hops, heard_at; None if it came otherwise)."""

    local: bool
    received_at: float
    heard: tuple[int, float | None, float | None, int | None, float] | None


def restorable(db: Database, author: bytes) -> list[tuple[bytes, Origin | None]]:
    """The whole records (unsigned bytes and signature) of `author`'s tombstones
    whose versions are no longer superseded (a cut or a fork made them count
    again), each with where it came from, oldest seq first; tombstones without a
    signature (made before m008) are left out."""
    rows = db.execute(
        "SELECT c.id, c.body, c.sig, c.local, c.received_at, c.heard_node, c.heard_snr,"
        " c.heard_rssi, c.heard_hops, c.heard_at FROM collected c"
        " JOIN collected_keys k ON k.id = c.author"
        " WHERE k.key = ? AND c.sig IS NOT NULL ORDER BY c.seq, c.id", [author]).fetchall()
    if not rows:
        return []
    superseded = {v.hash for v in excluded(db, author) if not v.held}
    out = []
    for rid, body, sig, local, received_at, node, snr, rssi, hops, heard_at in rows:
        if bytes(rid) in superseded:
            continue
        origin = None if received_at is None else Origin(
            bool(local), float(received_at),
            None if node is None else (int(node), snr, rssi, hops, float(heard_at)))
        out.append((bytes(body) + bytes(sig), origin))
    return out


def put_back(db: Database, digest: bytes, origin: Origin, slim: bool) -> None:
    """Give a record just stored again from its tombstone the origin the
    tombstone kept (not the outbox: a superseded record of ours left it for
    good, and the engine hears of the restored one through the change feed)."""
    row = db.execute("SELECT id FROM records WHERE hash = ?", [digest]).fetchone()
    if row is None:
        return
    db.execute("UPDATE records SET local = ?, received_at = ? WHERE id = ?",
               [int(origin.local), origin.received_at, row[0]])
    if origin.heard is not None and not slim:
        db.execute("INSERT OR REPLACE INTO heard (record, node, snr, rssi, hops, heard_at)"
                   " VALUES (?, ?, ?, ?, ?, ?)", [row[0], *origin.heard])


def collected_superseded(db: Database, rid: bytes) -> bool:
    """Is there a tombstone with this 8-byte id whose version is still superseded?"""
    row = db.execute("SELECT k.key, c.slot FROM collected c JOIN collected_keys k"
                     " ON k.id = c.author WHERE c.id = ?", [rid]).fetchone()
    return row is not None and any(
        not v.held and v.hash == rid for v in excluded(db, bytes(row[0]), int(row[1])))


class Collector:
    """Collection in slices for a long-running process (the daemon): each `step`
    does at most one small write transaction, so the caller's loop stays
    responsive. A round starts `every_s` after the last one began (the first
    `first_s` after start-up): one step lists the candidates, the next ones
    collect `batch` at a time."""

    def __init__(self, every_s: float = 3600.0, first_s: float = 300.0,
                 batch: int = BATCH) -> None:
        self.every_s = every_s
        self.batch = batch
        self.next_at: float | None = None
        self.first_s = first_s
        self.todo: list[bytes] = []
        self.collected = 0  # records collected since start

    def step(self, store: Store, now: float) -> int:
        """Do the next slice of work due at `now`; returns records collected."""
        if self.next_at is None:
            self.next_at = now + self.first_s
        if not self.todo:
            if now < self.next_at:
                return 0
            self.next_at = now + self.every_s
            self.todo = candidates(store)
            return 0
        part, self.todo = self.todo[: self.batch], self.todo[self.batch :]
        with store.write():
            moved, _size = _collect_some(store.db, part)
        self.collected += moved
        return moved


def count(db: Database) -> int:
    """Tombstones held."""
    return int(db.execute("SELECT COUNT(*) FROM collected").fetchone()[0])


def unsigned(db: Database) -> int:
    """Tombstones made before m008, without the record's signature: the state
    falls back to their versions when a cut makes one count again, but this
    node cannot serve the record (a neighbour still holding it sends it)."""
    return int(db.execute("SELECT COUNT(*) FROM collected WHERE sig IS NULL").fetchone()[0])
