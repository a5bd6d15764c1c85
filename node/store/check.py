"""Is a node's database sound? File checks before opening, and `meshaid check`.

* `probe(path)` looks at the file before SQLite does: an empty, truncated or
  foreign file, or a database that holds no node, is reported instead of being
  opened (SQLite would happily turn an empty file into a fresh, empty node).
* `verify(store)` runs SQLite's integrity check and re-verifies the signature
  of every stored record against the columns it is indexed by.
* `rebuild(store)` recomputes every derived table (objects, keys, members,
  forks, and the full-text index) from the raw records in one write transaction and says how many rows
  differed: derived state is a pure function of the records, so this repairs
  anything a bug or a crash left behind.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ledger import codec, identity
from ..ledger import records as r
from ..ledger.wire import DecodeError
from . import derive
from .sqlconst import HELLO, OBJECTS
from .store import Store

MAGIC = b"SQLite format 3\x00"
DERIVED = {
    "objects": "SELECT * FROM objects ORDER BY author, seq",
    "keys": "SELECT * FROM keys ORDER BY key",
    "members": "SELECT * FROM members ORDER BY key",
    "forks": "SELECT * FROM forks ORDER BY author, seq",
}


def probe(path: Path) -> str | None:
    """What is wrong with the database file at `path` (an existing file), or None."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if size == 0:
        return "is empty (0 bytes)"
    if len(header) < 100 or not header.startswith(MAGIC):
        return "is not a meshaid database (damaged or overwritten)"
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(header[28:32], "big")
    if page < 512 or size % page:
        return f"is truncated ({size} bytes, not a whole number of pages)"
    if header[24:28] == header[92:96] and pages * page > size:
        return f"is truncated ({size} of {pages * page} bytes)"
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return None  # e.g. a read-only directory without the WAL index: let Store try
    try:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables or "records" not in tables:
            return "holds no meshaid node (its tables are missing)"
        found = conn.execute("SELECT COUNT(*) FROM meta WHERE key IN "
                             "('network_id', 'expect_code')").fetchone()[0]
        if not found:
            return "holds no network (an interrupted 'meshaid init'?)"
    except sqlite3.OperationalError as exc:
        if "unable to open" in str(exc) or "readonly" in str(exc):
            return None
        if disk_trouble(str(exc)):
            return f"cannot be read or written ({exc})"
        return f"is damaged ({exc})"
    except sqlite3.DatabaseError as exc:
        return f"is damaged ({exc})"
    finally:
        conn.close()
    return None


def disk_trouble(message: str) -> bool:
    """Whether SQLite's error says the disk is full or failing, not the file damaged."""
    return "disk is full" in message or "disk I/O error" in message


@dataclass
class Report:
    integrity: list[str] = field(default_factory=list)  # empty: ok
    records: int = 0
    bad_records: list[tuple[int, str]] = field(default_factory=list)  # (records.id, reason)
    rebuilt: dict[str, int] = field(default_factory=dict)  # table: rows that differed

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.bad_records


def verify(store: Store) -> Report:
    """SQLite's integrity check, then every stored record parsed and its signature
    checked against its stored author, kind and seq."""
    report = Report()
    rows = store.db.execute("PRAGMA integrity_check(20)").fetchall()
    report.integrity = [str(row[0]) for row in rows if row[0] != "ok"]
    network = store.network
    for rid, raw, kind, author, seq in store.db.execute(
            "SELECT id, raw, kind, author, seq FROM records ORDER BY id"):
        report.records += 1
        problem = _check_record(bytes(raw), kind, bytes(author), seq, network)
        if problem:
            report.bad_records.append((rid, problem))
    return report


def _check_record(raw: bytes, kind: int, author: bytes, seq: int,
                  network: bytes | None) -> str | None:
    try:
        parsed = codec.parse(raw)
    except DecodeError as exc:
        return f"does not parse ({exc.reason})"
    if (int(parsed.kind), parsed.seq) != (kind, seq):
        return "its columns do not match its bytes"
    if len(parsed.author_ref) == r.KEY_LEN and parsed.author_ref != author:
        return "its author column does not match its bytes"
    if identity.short_id(author) != parsed.author_short:
        return "its author column does not match its bytes"
    if parsed.kind is not r.Kind.CHARTER and network is None:
        return "stored without a charter"
    message = codec.signing_message(parsed.kind, network or codec.NO_NETWORK, parsed.signed)
    if not identity.verify(author, parsed.signature, message):
        return "bad signature"
    return None


def _snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {table: [tuple(row) for row in store.db.execute(sql).fetchall()]
            for table, sql in DERIVED.items()}


def rebuild(store: Store) -> dict[str, int]:
    """Recompute objects, keys, members and forks from the records table, in one
    write transaction; return, per table, how many rows differ from before."""
    with store.write():
        before = _snapshot(store)
        db = store.db
        for table in DERIVED:
            db.execute(f"DELETE FROM {table}")
        db.execute("INSERT INTO forks (author, seq) SELECT author, seq FROM"
                   " (SELECT author, seq FROM records UNION ALL"  # tombstones: node/store/gc.py
                   " SELECT k.key, c.seq FROM collected c JOIN collected_keys k ON k.id = c.author)"
                   " GROUP BY author, seq HAVING COUNT(*) > 1")
        for author, raw in db.execute(
                f"SELECT author, raw FROM records WHERE kind = {HELLO}").fetchall():
            parsed = codec.parse(bytes(raw))
            store._apply_hello(r.Record(parsed.kind, bytes(author), parsed.seq, parsed.hlc,
                                        parsed.body, bytes(raw)))
        store.refresh_membership()
        store._derive.flush()
        for author, seq in db.execute(
                f"SELECT DISTINCT author, seq FROM records WHERE kind IN ({OBJECTS})").fetchall():
            derive.recompute_object(db, bytes(author), seq)
        db.execute("INSERT INTO objects_fts (objects_fts) VALUES ('rebuild')")
        after = _snapshot(store)
    return {table: max(len(set(before[table]) - set(after[table])),
                       len(set(after[table]) - set(before[table]))) for table in DERIVED}
