"""What other processes follow: the change feed, the outbox, radio metadata and
the persisted air-time budget window. `Store` exposes these as methods.

* Change feed. `records.id` only grows and writers commit one at a time, so a
  reader holding cursor N has seen every record with id <= N; `changes(since)`
  lists what came after, and `data_version()` says cheaply whether anything may
  have.
* Outbox. A record authored here is queued in the transaction that stores it
  and leaves only when the daemon reports it went on air (`outbox_done`).
* Budget. The engine's air-time window is saved as wall times (the engine's
  clock restarts with the process); on load each entry's age is clamped to
  [0, 3600] s: a wall clock that went back never stretches the window past an
  hour (one that jumped ahead ages it, as a long downtime would).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from .schema import get_meta, put_meta

BUDGET_KEY = "engine.budget"
WINDOW_S = 3600.0


@dataclass(frozen=True)
class Change:
    """One stored record, as the change feed lists it."""

    cursor: int  # records.id: pass the last one seen as `since`
    hash: bytes  # SHA-256 of the record (its 8-byte sync id is hash[:8])
    kind: int
    author: bytes  # 32-byte key
    seq: int
    local: bool  # authored on this node


@dataclass(frozen=True)
class Heard:
    """Where a record was first heard on the radio."""

    node: int  # the Meshtastic node that sent the packet
    snr: float
    rssi: float
    hops: int
    at: float  # wall time


def last_cursor(db: Database) -> int:
    return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0])


def changes(db: Database, since: int, limit: int) -> tuple[int, list[Change]]:
    rows = db.execute(
        "SELECT id, hash, kind, author, seq, local FROM records WHERE id > ?"
        " ORDER BY id LIMIT ?", [since, limit]).fetchall()
    out = [Change(i, bytes(h), k, bytes(a), s, bool(lo)) for i, h, k, a, s, lo in rows]
    return (out[-1].cursor if out else since), out


def outbox(db: Database) -> list[bytes]:
    return [bytes(raw) for (raw,) in db.execute(
        "SELECT r.raw FROM outbox o JOIN records r ON r.id = o.record ORDER BY o.id")]


def outbox_done(db: Database, ids: Iterable[bytes]) -> None:
    db.conn.executemany("DELETE FROM outbox WHERE rid = ?", [(bytes(i),) for i in ids])


def heard(db: Database, digest: bytes) -> Heard | None:
    row = db.execute(
        "SELECT h.node, h.snr, h.rssi, h.hops, h.heard_at FROM heard h"
        " JOIN records r ON r.id = h.record WHERE r.hash = ?", [digest]).fetchone()
    return None if row is None else Heard(*row)


def save_budget(db: Database, entries: Iterable[tuple[float, float]], wall: float) -> None:
    window = [[round(wall - age, 3), cost] for age, cost in entries if age < WINDOW_S]
    put_meta(db, BUDGET_KEY, json.dumps(window))


def load_budget(db: Database, wall: float) -> list[tuple[float, float]]:
    text = get_meta(db, BUDGET_KEY)
    try:
        window = json.loads(text) if text else []
        pairs = [(float(t), float(c)) for t, c in window]
    except (ValueError, TypeError):
        return []  # unreadable: start afresh rather than refuse to start
    out = []
    for t, cost in pairs:
        age = min(WINDOW_S, max(0.0, wall - t))
        if age < WINDOW_S and cost > 0:
            out.append((age, cost))
    return out
