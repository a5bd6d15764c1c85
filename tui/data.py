"""What the screens show, read off the node's ledger. No Textual in here.

The TUI never writes through these connections. `Ledger` holds two read-only
SQLite connections to the node's ledger.db: one the UI thread polls for
`PRAGMA data_version` (cheap; it changes when any other connection, the
daemon's, the CLI's or this app's writer, committed), and one that worker
threads read rows through, one at a time. Reads return plain dicts and lists
so that widgets only ever see values.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from meshaid.node.daemon.status import read_status
from meshaid.node.ledger.vocab import CATEGORIES, URGENCIES, code_for
from meshaid.node.match import match as run_match
from meshaid.node.store import attention, history
from meshaid.node.store import queries as q

BOARD_KINDS = ("need", "offer")
# What the status filter offers; "active" (the default) is everything still
# open and unexpired: uncovered, partial, covered and over-committed needs and
# open offers. Fulfilled, withdrawn, delivered and expired records leave the
# board unless asked for.
STATUSES = ("active", "uncovered", "partial", "covered", "over-committed", "fulfilled",
            "withdrawn", "expired")


@dataclass(frozen=True)
class BoardFilter:
    """The board's filters; None means any."""

    kind: str | None = None  # need | offer
    category: str | None = None
    urgency: str | None = None  # at least this urgent
    status: str = "active"
    site: str | None = None
    text: str = ""
    quarantined: bool = False  # also show records of keys not (or no longer) admitted

    def with_(self, **changes: Any) -> BoardFilter:
        return replace(self, **changes)


class _Connection:
    """Just enough of a Store for the read-side queries: `.db.execute`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]


def _open_ro(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None,
                           timeout=5)
    return conn


class Ledger:
    """Read-only access to one node's ledger.db for the UI."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no ledger at {self.path}")
        self._poll = _open_ro(self.path)
        self._read = _Connection(_open_ro(self.path))
        self._lock = threading.Lock()

    def close(self) -> None:
        self._poll.close()
        with self._lock:
            self._read.db.close()

    def data_version(self) -> int:
        """Changes whenever another connection committed to the ledger."""
        return int(self._poll.execute("PRAGMA data_version").fetchone()[0])

    # ------------------------------------------------------------ reads (worker threads)

    def board(self, f: BoardFilter, now: float) -> tuple[list[dict[str, Any]], list[str]]:
        """Needs and offers passing `f`, most urgent first and then oldest first,
        and the sites seen on the board before the site filter (for its menu)."""
        filters = q.Filters(
            kind=f.kind,
            category=code_for(CATEGORIES, f.category, "category") if f.category else None,
            min_urgency=code_for(URGENCIES, f.urgency, "urgency") if f.urgency else None,
            status="open" if f.status == "active" else f.status,
            text=f.text or None,
            trusted_only=not f.quarantined,
        )
        with self._lock:
            rows = q.list_objects(self._read, filters, now)
        rows = [row for row in rows if row["kind"] in BOARD_KINDS]
        sites = sorted({row["site"] for row in rows if row["site"]}, key=str.lower)
        if f.site:
            rows = [row for row in rows if row["site"] == f.site]
        rows.sort(key=board_order)
        return rows, sites

    def detail(self, record_id: str, now: float) -> dict[str, Any]:
        """One record with its pledges, update history and how it was first heard."""
        with self._lock:
            obj = q.get_object(self._read, record_id, now)
            obj["history"] = history.updates_of(self._read, record_id)
            obj["heard"] = history.first_heard(self._read, record_id)
            obj["author_state"] = member_state(
                q.members(self._read), obj["author"])
        return obj

    def match(self, record_id: str, now: float) -> dict[str, Any]:
        """The offers for a need (with its chain) or the needs for an offer,
        ranked and explained (node/match); StoreError if it cannot be matched."""
        with self._lock:
            return run_match(self._read, record_id, now)

    def attention(self, me_hex: str, now: float) -> dict[str, Any]:
        """Uncovered urgent needs, this node's renewals due, open pledges on
        expired needs and quiet sites (node/store/attention.py)."""
        me = bytes.fromhex(me_hex) if me_hex else None
        with self._lock:
            return attention.summary(self._read, now, me)

    def members(self) -> list[dict[str, Any]]:
        with self._lock:
            return q.members(self._read)

    def open_needs(self, now: float) -> list[dict[str, Any]]:
        """Trusted, open needs (for the pledge form's choices)."""
        with self._lock:
            return q.open_needs(self._read, now)

    def own_objects(self, author_hex: str, now: float) -> list[dict[str, Any]]:
        """This node's own needs, offers and pledges in any state (for updates)."""
        with self._lock:
            rows = q.list_objects(self._read, q.Filters(), now)
        return [row for row in rows if row["author"] == author_hex]

    def status(self, now: float) -> dict[str, Any] | None:
        """The daemon's status row with its `state` (running, stopped, stale) as
        node/daemon/status.py reads it, or None if no daemon ever ran here."""
        with self._lock:
            return read_status(self._read, wall=now)  # type: ignore[arg-type]

    def record_count(self) -> int:
        with self._lock:
            return int(self._read.db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def network(self) -> dict[str, str]:
        with self._lock:
            return {key: self._read.meta(key) or "" for key in
                    ("network_name", "my_name", "my_site")}


def board_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Most urgent first (offers count as normal), then oldest first, then id."""
    urgency = code_for(URGENCIES, row["urgency"], "urgency") if row["urgency"] else 1
    return (-urgency, row["created"], row["id"])


def member_state(members: list[dict[str, Any]], key_hex: str) -> str:
    """'steward', 'member', 'revoked ...', 'not admitted' (+ ', forked')."""
    for m in members:
        if m["key"] == key_hex:
            return m["status"] + (", forked" if m["forked"] else "")
    return "not admitted"
