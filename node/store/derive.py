"""Derived state, recomputed from records so that it never depends on arrival order.

Every function here reads the records table and rewrites one piece of derived
state from scratch: the current state of one object, one need's totals and
the trust of every object (the members table: members.py). `Store.ingest` calls them in
the same transaction as the insert, through a `Batch` that does each piece of
work once per transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Set as AbstractSet

from sqlite_utils import Database

from ..ledger import codec, hlc
from ..ledger import records as r
from .sqlconst import NEED, OBJECTS, OPEN, PLEDGE, UPDATE, WITHDRAWN, padded

OBJECT_KINDS = r.OBJECT_KINDS
PAIRS_PER_QUERY = 400  # (author, seq) pairs per look-up statement
_FTS_ROWS = "INSERT INTO objects_fts (rowid, text, site, note) SELECT rowid, text, site, note" \
    " FROM objects WHERE rowid IN ({})"


def _parse(raw: bytes) -> codec.Parsed:
    return codec.parse(raw)


# prefetch's first look-up for a single pair
_HOLDS_ONE = ("SELECT EXISTS (SELECT 1 FROM records WHERE author = ?1 AND seq = ?2)"
              " OR EXISTS (SELECT 1 FROM collected_keys k CROSS JOIN collected c"
              " ON c.author = k.id AND c.seq = ?2 WHERE k.key = ?1)")  # gc.py


@functools.cache
def _pairs_sql(n: int, sql: str) -> str:
    """`sql` over a table v(a, s) of `n` pairs (one statement text per padded size)."""
    return "WITH v(a, s) AS (VALUES " + ", ".join("(?, ?)" for _ in range(n)) + ") " + sql


class Batch:
    """Per-transaction shortcuts for ingest.

    * Who is a member and who forked are read once (and re-read after a change).
    * What the records table holds at the batch's (author, seq) pairs, and which
      of them an update targets, is looked up for the whole batch at once
      (`prefetch`) and kept up to date as records are stored, so that storing a
      record needs no look-up of its own.
    * Objects touched by an update, and need totals, are recomputed once each at
      the end (`flush`, before the transaction commits).
    * New objects rows enter the full-text index in one statement at the end
      (one FTS5 insert per row costs ten times more). Rows waiting for it are
      indexed before any statement that could change their text or delete
      them, since the index's update and delete triggers expect indexed rows;
      `Store.write()` hands its block a batch with nothing waiting.
    """

    def __init__(self, db: Database, board: bool = True) -> None:
        self.db = db
        self.board = board  # False: no objects rows at all (a slim store, Store.slim)
        self.members: dict[bytes, int | None] | None = None
        self.forked: set[bytes] | None = None
        self.needs: set[tuple[bytes, int]] = set()
        self.dirty: set[tuple[bytes, int]] = set()  # objects to recompute at flush
        self.unindexed: list[int] = []  # objects rowids not yet in objects_fts
        self.parsed: dict[bytes, codec.Parsed] = {}  # the batch's records, parsed (by raw)
        self.looked: set[tuple[bytes, int]] = set()  # pairs known to hold a record or not
        self.taken: set[tuple[bytes, int]] = set()  # of those, pairs holding a record
        self.upd_looked: set[tuple[bytes, int]] = set()  # pairs known to be updated or not
        self.updated: set[tuple[bytes, int]] = set()  # of those, pairs an update targets

    def facts(self, author: bytes) -> tuple[bool, int | None, bool]:
        """(is a member, revoked through seq, has forked) for `author`."""
        if self.members is None:
            self.members = {bytes(k): t for k, t in self.db.execute(
                "SELECT key, revoked_through FROM members")}
        if self.forked is None:
            self.forked = {bytes(a) for (a,) in self.db.execute("SELECT DISTINCT author FROM forks")}
        return author in self.members, self.members.get(author), author in self.forked

    def invalidate(self) -> None:
        """Membership or forks changed: read them again."""
        self.members = self.forked = None

    def forget(self) -> None:
        """Part of the transaction was rolled back: drop what was learnt about pairs."""
        self.end()
        self.invalidate()

    def end(self) -> None:
        """The transaction is over: what was learnt about pairs holds only while this
        connection has the write lock (other processes write in between)."""
        for known in (self.looked, self.taken, self.upd_looked, self.updated):
            known.clear()

    def prefetch(self, pairs: AbstractSet[tuple[bytes, int]],
                 objects: AbstractSet[tuple[bytes, int]] = frozenset()) -> None:
        """Look up, for every (author key, seq) pair not known yet, whether the
        records table holds a record there, and for the `objects` pairs (records
        that start an object) whether an update targets them."""
        # CROSS JOIN keeps the list outside: given a few hundred pairs, SQLite would
        # otherwise build an automatic index over every update record, each batch.
        taken_sql = ("SELECT r.author, r.seq FROM v CROSS JOIN records r"
                     " ON r.author = v.a AND r.seq = v.s"
                     " UNION SELECT k.key, c.seq FROM v CROSS JOIN collected_keys k ON k.key = v.a"
                     " CROSS JOIN collected c ON c.author = k.id AND c.seq = v.s")  # gc.py
        updated_sql = ("SELECT r.author, r.ref_seq FROM v CROSS JOIN records r"
                       f" ON r.author = v.a AND r.ref_seq = v.s AND r.kind = {UPDATE}")
        for wanted, known, sql in ((pairs, self.looked, taken_sql),
                                   (objects, self.upd_looked, updated_sql)):
            found = self.taken if known is self.looked else self.updated
            new = sorted(wanted - known)
            for i in range(0, len(new), PAIRS_PER_QUERY):
                part = padded(new[i : i + PAIRS_PER_QUERY])
                found.update((bytes(a), s) for a, s in self.db.execute(
                    _pairs_sql(len(part), sql), [x for pair in part for x in pair]))
                known.update(part)

    def holds(self, author: bytes, seq: int) -> bool:
        """Does the records table hold a record at (author, seq)?"""
        pair = (author, seq)
        if pair not in self.looked:  # (one pair, the radio's record: no VALUES table)
            if self.db.execute(_HOLDS_ONE, pair).fetchone()[0]:
                self.taken.add(pair)
            self.looked.add(pair)
        return pair in self.taken

    def stored(self, author: bytes, seq: int, update_target: int | None) -> None:
        """A record at (author, seq) was just inserted (an update of `update_target`)."""
        self.taken.add((author, seq))
        self.looked.add((author, seq))
        if update_target is not None:
            self.updated.add((author, update_target))  # known or not: it is updated now

    def maybe_updated(self, author: bytes, seq: int) -> bool:
        """False only when no update targets (author, seq) for sure."""
        pair = (author, seq)
        return pair not in self.upd_looked or pair in self.updated

    def touch(self, author: bytes, seq: int) -> None:
        """Recompute objects(author, seq) at flush."""
        self.dirty.add((author, seq))

    def flush_fts(self) -> None:
        """Index the objects rows inserted since the last call."""
        rows, self.unindexed = sorted(set(self.unindexed)), []
        for i in range(0, len(rows), PAIRS_PER_QUERY):
            part = padded(rows[i : i + PAIRS_PER_QUERY])
            self.db.conn.execute(_FTS_ROWS.format(",".join("?" * len(part))), part)

    def flush(self) -> None:
        """Recompute every touched object, index new rows, then recompute the
        totals of every need touched since the last flush."""
        while self.dirty:
            dirty, self.dirty = self.dirty, set()
            for author, seq in sorted(dirty):
                recompute_object(self.db, author, seq, batch=self)
        self.flush_fts()
        needs, self.needs = self.needs, set()
        if needs:
            self.db.conn.executemany(_TOTALS_SQL, sorted(needs))


_INSERTS: dict[tuple[str, ...], str] = {}
_UPSERTS: dict[tuple[str, ...], str] = {}


def _insert_sql(cols: tuple[str, ...]) -> str:
    sql = _INSERTS.get(cols)
    if sql is None:
        sql = _INSERTS[cols] = (
            f"INSERT INTO objects ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            " ON CONFLICT(author, seq) DO NOTHING")
    return sql


def _upsert_sql(cols: tuple[str, ...]) -> str:
    sql = _UPSERTS.get(cols)
    if sql is None:
        sql = _UPSERTS[cols] = (
            f"INSERT INTO objects ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            " ON CONFLICT(author, seq) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("author", "seq")))
    return sql


def _write_row(db: Database, row: dict, batch: Batch | None) -> None:
    """Insert or rewrite one objects row and keep the full-text index in step."""
    cols = tuple(row)
    values = [row[c] for c in cols]
    cursor = db.conn.execute(_insert_sql(cols), values)
    if cursor.rowcount == 1:  # a new row: index it (at the end of the batch)
        if batch is not None:
            batch.unindexed.append(int(cursor.lastrowid or 0))
        else:
            db.conn.execute(_FTS_ROWS.format("?"), [cursor.lastrowid])
        return
    if batch is not None:
        batch.flush_fts()  # the update trigger below expects every row indexed
    db.conn.execute(_upsert_sql(cols), values)


def recompute_object(
    db: Database,
    author: bytes,
    seq: int,
    parsed: codec.Parsed | None = None,
    fresh_id: int | None = None,
    batch: Batch | None = None,
) -> None:
    """Rewrite objects(author, seq) from the original record and its latest update.
    `parsed`, if given, is the just-stored record (saves parsing it again);
    `fresh_id` says it was just inserted as records.id with no twin; with
    `batch`, need totals and new rows' full-text entries wait for `batch.flush()`;
    a slim store's batch (`board` False) keeps no objects rows."""
    if batch is not None and not batch.board:
        return
    if fresh_id is not None and parsed is not None:
        # Fast path: the record was just inserted and has no twin.
        versions = [(fresh_id, parsed.raw, b"")]
    else:
        versions = db.execute(
            "SELECT id, raw, hash FROM records WHERE author = ? AND seq = ?"
            f" AND kind IN ({OBJECTS}) ORDER BY hash LIMIT 2",
            [author, seq],
        ).fetchall()
    if not versions:
        return
    rec_id, raw, _ = versions[0]
    known = {} if batch is None else batch.parsed  # parsed for this batch already
    p = parsed if parsed is not None and parsed.raw == raw else known.get(raw) or _parse(raw)
    body = p.body
    if batch is not None:
        is_member, through, author_forked = batch.facts(author)
    else:
        is_member, through, author_forked = db.execute(
            "SELECT EXISTS(SELECT 1 FROM members WHERE key = ?1),"
            " (SELECT revoked_through FROM members WHERE key = ?1),"
            " EXISTS(SELECT 1 FROM forks WHERE author = ?1)",
            [author],
        ).fetchone()
    forked = len(versions) > 1 or bool(author_forked)
    # Once a key is revoked through N, its records past N and its forked seqs at
    # or below N are untrusted: a thief reusing an old seq can erase, never add.
    seq_forked = through is not None and bool(author_forked) and db.execute(
        "SELECT 1 FROM forks WHERE author = ? AND seq = ?", [author, seq]).fetchone() is not None
    trusted = bool(is_member) and (through is None or (seq <= through and not seq_forked))
    trust = "trusted" if trusted else "quarantine"
    upd = None
    if batch is None or batch.maybe_updated(author, seq):
        upd = db.execute(
            f"SELECT raw FROM records WHERE author = ? AND kind = {UPDATE} AND ref_seq = ?"
            + ("" if through is None else
               " AND seq <= ? AND seq NOT IN (SELECT seq FROM forks WHERE author = records.author)")
            + " ORDER BY seq DESC, hash ASC LIMIT 1",
            [author, seq] if through is None else [author, seq, through],
        ).fetchone()
    created_s = hlc.unix_of(p.hlc)
    row: dict = {
        "author": author,
        "seq": seq,
        "short": p.author_short,
        "kind": int(p.kind),
        "record_id": rec_id,
        "created_hlc": p.hlc,
        "updated_hlc": p.hlc,
        "state_seq": seq,
        "status": OPEN,
        "delivered": 0,
        "note": "",
        "trust": trust,
        "forked": int(forked),
        "by_until": None,
        "ref_short": None,
        "ref_seq": None,
    }
    if isinstance(body, (r.Need, r.Offer)):
        row.update(
            category=body.category,
            unit=body.unit,
            site=body.site,
            text=body.text,
            lat=body.position.lat if body.position else None,
            lon=body.position.lon if body.position else None,
            qty=body.qty,
            valid_until=created_s + body.valid_for_min * 60 if body.valid_for_min else None,
            urgency=body.urgency if isinstance(body, r.Need) else None,
            offer_type=body.offer_type if isinstance(body, r.Offer) else None,
            rate=body.rate if isinstance(body, r.Offer) else None,
        )
    elif isinstance(body, r.Pledge):
        row.update(
            text=body.text,
            qty=body.qty,
            valid_until=None,
            by_until=created_s + body.by_min * 60 if body.by_min else None,
            ref_short=body.need_author,
            ref_seq=body.need_seq,
        )
    if through is not None:
        upd = _collected_state(db, author, seq, through, upd)
    if upd is not None:
        u = known.get(upd[0]) or _parse(upd[0])
        assert isinstance(u.body, r.Update)
        row.update(
            updated_hlc=u.hlc,
            state_seq=u.seq,
            status=u.body.status,
            qty=u.body.qty,
            delivered=u.body.delivered,
            note=u.body.note,
        )
        if u.body.valid_for_min and p.kind is not r.Kind.PLEDGE:
            row["valid_until"] = hlc.unix_of(u.hlc) + u.body.valid_for_min * 60
    _write_row(db, row, batch)
    need: tuple[bytes, int] | None = None
    if p.kind is r.Kind.PLEDGE:
        assert isinstance(body, r.Pledge)
        need = (body.need_author, body.need_seq)
    elif p.kind is r.Kind.NEED:
        need = (p.author_short, seq)
    if need is not None and batch is not None:
        batch.needs.add(need)
    elif need is not None:
        recompute_need_totals(db, *need)


def _collected_state(db: Database, author: bytes, seq: int, through: int,
                     upd: tuple | None) -> tuple | None:
    """A cut author's latest trusted update of (author, seq) among its stored
    records (`upd`) and its collected tombstones (node/store/gc.py): the cut may
    fall back to a version collected while a later one superseded it."""
    row = db.execute(
        "SELECT c.seq, c.body FROM collected c JOIN collected_keys k ON k.id = c.author"
        " WHERE k.key = ?1 AND c.slot = ?2 AND c.seq <= ?3"
        " AND c.seq NOT IN (SELECT seq FROM forks WHERE author = ?1)"
        " ORDER BY c.seq DESC, c.id ASC LIMIT 1",
        [author, seq, through]).fetchone()
    # Forked seqs are left out on both sides, so the two never tie on seq.
    if row is None or (upd is not None and _parse(upd[0]).seq > row[0]):
        return upd
    return (bytes(row[1]) + bytes(64),)


_TOTALS_SQL = f"""
    UPDATE objects SET (pledged, pledged_delivered, pledge_count) = (
        SELECT COALESCE(SUM(CASE WHEN objects.qty > 0 THEN MIN(t.q, objects.qty) ELSE t.q END), 0),
               COALESCE(SUM(CASE WHEN objects.qty > 0 THEN MIN(t.d, objects.qty) ELSE t.d END), 0),
               COALESCE(SUM(t.n), 0)
        FROM (SELECT SUM(p.qty) AS q, SUM(MIN(p.delivered, p.qty)) AS d, COUNT(*) AS n
              FROM objects p
              WHERE p.kind = {PLEDGE} AND p.ref_short = ?1 AND p.ref_seq = ?2
                AND p.trust = 'trusted' AND p.status != {WITHDRAWN}
              GROUP BY p.author) AS t)
    WHERE kind = {NEED} AND short = ?1 AND seq = ?2
"""
"""Totals are bounded so that one member cannot mark needs covered beyond what
it promised: a pledge's delivered counts at most its qty, and each pledger's
pledges (and deliveries) on one need count at most that need's current qty."""


def recompute_need_totals(db: Database, short: bytes, seq: int) -> None:
    """Pledged and delivered totals of need (short, seq) from trusted, live
    pledges, each pledger counting at most the need's qty (see _TOTALS_SQL)."""
    db.execute(_TOTALS_SQL, [short, seq])


def refresh_authors(db: Database, authors: set[bytes], batch: Batch | None = None) -> None:
    """Recompute every object of `authors` (after their membership changed), then
    the totals of every need their pledges point at (with `batch`: at its flush)."""
    for author in authors:
        for (seq,) in db.execute(
            f"SELECT DISTINCT seq FROM records WHERE author = ? AND kind IN ({OBJECTS})", [author]
        ).fetchall():
            recompute_object(db, author, seq, batch=batch)
