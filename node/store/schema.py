"""Schema and migrations. Each migration runs once, in a transaction.

Tables
------
records   every verified record, verbatim (`raw`) plus decoded columns; a fork
          is two rows with the same (author, seq)
objects   derived: one row per need, offer and pledge with its current state,
          trust and (for needs) pledged and delivered totals; FTS on text/site/note
          (new rows are indexed per batch by derive.Batch, m005)
keys      derived: known keys and what their latest hello says
members   derived: membership from the charter, vouches and revokes
held      records that could not be verified yet (author or charter unknown)
meta      node settings: network id, expected network code, clock, budget window
outbox    records authored here that have not gone on air yet (m003)
heard     per record: the node it was first heard from, SNR, RSSI, hops (m003)
collected tombstones of records garbage-collected on this node (m007, node/store/gc.py):
          8-byte id, author (numbered in collected_keys), slot, seq, unsigned bytes,
          and the 64-byte signature (m008) that restores the record when it counts again,
          with where it came from (m009: authored here or not, when it was stored, and
          the radio details of its first hearing)

records.local (m003) marks records authored on this node; records.critical
(m003) marks critical needs, so the sync engine starts without parsing records.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ..ledger import codec
from ..ledger import records as r
from .sqlconst import CHARTER, MEMBERSHIP, NEED, PLEDGE, UPDATE

migrations = Migrations("meshaid")


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            hash BLOB NOT NULL UNIQUE,
            raw BLOB NOT NULL,
            kind INTEGER NOT NULL,
            author BLOB NOT NULL,
            short BLOB NOT NULL,
            seq INTEGER NOT NULL,
            hlc INTEGER NOT NULL,
            received_at REAL NOT NULL,
            ref_short BLOB,
            ref_seq INTEGER,
            subject BLOB
        );
        CREATE INDEX records_author_seq ON records(author, seq);
        CREATE INDEX records_ref ON records(author, ref_seq, seq) WHERE kind = {UPDATE};
        CREATE INDEX records_kind_hlc ON records(kind, hlc);

        CREATE TABLE objects (
            author BLOB NOT NULL,
            seq INTEGER NOT NULL,
            short BLOB NOT NULL,
            kind INTEGER NOT NULL,
            record_id INTEGER NOT NULL,
            created_hlc INTEGER NOT NULL,
            updated_hlc INTEGER NOT NULL,
            state_seq INTEGER NOT NULL,
            category INTEGER,
            urgency INTEGER,
            offer_type INTEGER,
            rate INTEGER,
            unit INTEGER,
            site TEXT,
            lat REAL,
            lon REAL,
            text TEXT,
            note TEXT,
            qty INTEGER NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0,
            status INTEGER NOT NULL,
            valid_until INTEGER,
            by_until INTEGER,
            ref_short BLOB,
            ref_seq INTEGER,
            trust TEXT NOT NULL,
            forked INTEGER NOT NULL DEFAULT 0,
            pledged INTEGER NOT NULL DEFAULT 0,
            pledged_delivered INTEGER NOT NULL DEFAULT 0,
            pledge_count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (author, seq)
        );
        CREATE INDEX objects_board ON objects(kind, trust, status, urgency DESC, created_hlc DESC);
        CREATE INDEX objects_short ON objects(short, seq);
        CREATE INDEX objects_ref ON objects(ref_short, ref_seq) WHERE kind = {PLEDGE};

        CREATE TABLE keys (
            key BLOB PRIMARY KEY,
            short BLOB NOT NULL,
            name TEXT NOT NULL,
            site TEXT NOT NULL,
            role INTEGER NOT NULL,
            lat REAL,
            lon REAL,
            hello_seq INTEGER NOT NULL
        );
        CREATE INDEX keys_short ON keys(short);

        CREATE TABLE members (
            key BLOB PRIMARY KEY,
            role TEXT NOT NULL,
            revoked_through INTEGER,
            vouchers INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE forks (
            author BLOB NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (author, seq)
        );

        CREATE TABLE held (
            hash BLOB PRIMARY KEY,
            raw BLOB NOT NULL,
            short BLOB NOT NULL,
            reason TEXT NOT NULL,
            received_at REAL NOT NULL
        );

        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value
        );
        """
    )
    db.table("objects").enable_fts(["text", "site", "note"], create_triggers=True)


@migrations()
def m002_fts_only_on_text_changes(db: Database) -> None:
    """Re-index an object's text only when its text, site or note changed (totals
    and states change far more often)."""
    db.executescript(
        """
        DROP TRIGGER IF EXISTS objects_au;
        CREATE TRIGGER objects_au AFTER UPDATE OF text, site, note ON objects
        WHEN old.text IS NOT new.text OR old.site IS NOT new.site OR old.note IS NOT new.note
        BEGIN
          INSERT INTO objects_fts (objects_fts, rowid, text, site, note)
            VALUES ('delete', old.rowid, old.text, old.site, old.note);
          INSERT INTO objects_fts (rowid, text, site, note)
            VALUES (new.rowid, new.text, new.site, new.note);
        END;
        """
    )


@migrations()
def m003_feed_outbox_heard(db: Database) -> None:
    """Change feed and outbox for the daemon, radio metadata for the TUI, and the
    one column the sync engine needs that is not a plain record field."""
    db.executescript(
        """
        ALTER TABLE records ADD COLUMN local INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE records ADD COLUMN critical INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            rid BLOB NOT NULL UNIQUE,
            record INTEGER NOT NULL,
            queued_at REAL NOT NULL
        );
        CREATE TABLE heard (
            record INTEGER PRIMARY KEY,
            node INTEGER NOT NULL,
            snr REAL,
            rssi REAL,
            hops INTEGER,
            heard_at REAL NOT NULL
        );
        """
    )
    needs = db.execute(f"SELECT id, raw FROM records WHERE kind = {NEED}").fetchall()
    critical = []
    for row_id, raw in needs:
        body = codec.parse(raw).body
        if isinstance(body, r.Need) and body.urgency == r.CRITICAL:
            critical.append((row_id,))
    db.conn.executemany("UPDATE records SET critical = 1 WHERE id = ?", critical)


@migrations()
def m004_board_index_covers_expiry(db: Database) -> None:
    """The board's index carries valid_until, so that skipping expired needs on
    the way to the open ones reads the index only (few open needs among many)."""
    db.executescript(
        """
        DROP INDEX IF EXISTS objects_board;
        CREATE INDEX objects_open
            ON objects(kind, trust, status, urgency DESC, created_hlc DESC, valid_until);
        """
    )


@migrations()
def m005_fts_rows_indexed_per_batch(db: Database) -> None:
    """New objects rows enter the full-text index in one statement per ingest
    batch (derive.Batch.flush_fts), not one trigger-driven insert per row; the
    update and delete triggers stay."""
    db.execute("DROP TRIGGER IF EXISTS objects_ai")



@migrations()
def m006_records_indexes_ingest_needs(db: Database) -> None:
    """records(kind, hlc) was written on every ingest but served only the charter
    and membership look-ups (no query orders by hlc within a kind through it):
    two partial indexes over those few rows replace it, so an ingest updates one
    index fewer. tests/store/test_query_plans.py checks every hot query still
    searches an index."""
    db.executescript(
        f"""
        DROP INDEX IF EXISTS records_kind_hlc;
        CREATE INDEX IF NOT EXISTS records_charter ON records(kind) WHERE kind = {CHARTER};
        CREATE INDEX IF NOT EXISTS records_membership ON records(kind)
            WHERE kind IN ({MEMBERSHIP});
        """
    )


@migrations()
def m007_collected_tombstones(db: Database) -> None:
    """Tombstones of superseded records collected on a live node (node/store/gc.py):
    the 8-byte sync id keeps an arriving copy a duplicate, the unsigned bytes
    keep the state a later revocation may fall back to; slot is the update's
    target seq (-1 for a hello); authors are numbered in collected_keys."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS collected_keys (
            id INTEGER PRIMARY KEY,
            key BLOB NOT NULL UNIQUE
        );
        CREATE TABLE IF NOT EXISTS collected (
            id BLOB PRIMARY KEY,
            author INTEGER NOT NULL,
            slot INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            body BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS collected_seq ON collected(author, seq);
        CREATE INDEX IF NOT EXISTS collected_slot ON collected(author, slot);
        """
    )


@migrations()
def m008_tombstones_keep_the_signature(db: Database) -> None:
    """A tombstone keeps its record's 64-byte signature, so the record can be
    restored, and served to nodes that never had it, when a revocation or a fork
    makes its version count again (node/store/gc.py). Tombstones made before
    this migration have none (NULL): those wait for a neighbour as before."""
    db.execute("ALTER TABLE collected ADD COLUMN sig BLOB")


@migrations()
def m009_tombstones_keep_the_origin(db: Database) -> None:
    """A tombstone keeps where its record came from: authored on this node
    (`local`), when it was stored (`received_at`) and the radio details of its
    first hearing (`heard_*`, the heard row), so a restored record is what it
    was, not a record received from elsewhere just now. NULL in tombstones made
    before (restored as received when restored, as before)."""
    for column, kind in (("local", "INTEGER"), ("received_at", "REAL"),
                         ("heard_node", "INTEGER"), ("heard_snr", "REAL"),
                         ("heard_rssi", "REAL"), ("heard_hops", "INTEGER"),
                         ("heard_at", "REAL")):
        db.execute(f"ALTER TABLE collected ADD COLUMN {column} {kind}")


def drop_board(db: Database) -> None:
    """Make a slim store's database (`Store.slim`, which never writes objects rows)
    smaller: drop the full-text index with its triggers and the board's indexes,
    then compact. Outside any transaction. Search, the board and `check` need
    what this drops; the sync engine reads none of it."""
    db.executescript(
        """
        DROP TRIGGER IF EXISTS objects_au;
        DROP TRIGGER IF EXISTS objects_ad;
        DROP TABLE IF EXISTS objects_fts;
        DROP INDEX IF EXISTS objects_open;
        DROP INDEX IF EXISTS objects_short;
        DROP INDEX IF EXISTS objects_ref;
        """
    )
    db.execute("VACUUM")


def needs_migration(db: Database) -> bool:
    """True when `db` is not at the current schema (a read-only store refuses it)."""
    return bool(migrations.pending(db))


def migrate(db: Database) -> None:
    """Bring `db` to the current schema (call it inside a write transaction)."""
    migrations.apply(db)


def get_meta(db: Database, key: str) -> str | None:
    """A node setting from the meta table, or None."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def put_meta(db: Database, key: str, value: str) -> None:
    """Set a node setting (inside a write transaction)."""
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
               " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
