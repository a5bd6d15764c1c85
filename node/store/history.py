"""Read-side queries for one record's story: the updates its author signed, and
when, from whom and over how many hops this node first heard it.

Like `queries`, these return plain JSON-ready dicts and only read.
"""

from __future__ import annotations

from typing import Any

from ..ledger import codec, hlc
from ..ledger import records as r
from ..ledger.vocab import STATUSES
from .store import Store, parse_record_id


def updates_of(store: Store, text_id: str) -> list[dict[str, Any]]:
    """Every update the record's author signed for it, oldest first (the last
    one in seq order is the current state). Empty for an unknown id."""
    short, seq = parse_record_id(text_id)
    rows = store.db.execute(
        "SELECT u.raw, u.seq FROM records u JOIN records o ON o.author = u.author"
        " WHERE o.short = ? AND o.seq = ? AND o.kind IN (2, 3, 4)"
        " AND u.kind = 5 AND u.ref_seq = ? ORDER BY u.seq, u.hash",
        [short, seq, seq],
    ).fetchall()
    out = []
    for raw, useq in rows:
        p = codec.parse(bytes(raw))
        body = p.body
        assert isinstance(body, r.Update)
        out.append({
            "seq": useq,
            "at": hlc.unix_of(p.hlc),
            "status": STATUSES.get(body.status, str(body.status)),
            "qty": body.qty,
            "delivered": body.delivered,
            "renewed_min": body.valid_for_min,
            "note": body.note,
        })
    return out


def _has_table(store: Store, name: str) -> bool:
    return store.db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
    ).fetchone() is not None


def first_heard(store: Store, text_id: str) -> dict[str, Any] | None:
    """When this node stored the record and, if it came over the radio and the
    store recorded it, from which node, with what SNR and over at least how many
    hops. None for an unknown id."""
    short, seq = parse_record_id(text_id)
    row = store.db.execute(
        "SELECT hash, received_at FROM records WHERE short = ? AND seq = ? AND kind IN (2, 3, 4)"
        " ORDER BY hash LIMIT 1",
        [short, seq],
    ).fetchone()
    if row is None:
        return None
    digest, received_at = row
    out: dict[str, Any] = {"received_at": received_at, "node": None, "snr": None,
                           "rssi": None, "hops_at_least": None}
    if _has_table(store, "heard"):
        cursor = store.db.execute("SELECT * FROM heard WHERE hash = ? LIMIT 1", [digest])
        found = cursor.fetchone()
        if found is not None:
            cols = [c[0] for c in cursor.description]
            heard = dict(zip(cols, found))
            out["node"] = heard.get("node", heard.get("sender"))
            out["snr"] = heard.get("snr")
            out["rssi"] = heard.get("rssi")
            out["hops_at_least"] = heard.get("hops", heard.get("hops_at_least"))
    return out


def last_seq(store: Store, author: bytes) -> int:
    """The highest seq stored from `author` (0 if none): what a revocation keeps
    trusting by default."""
    row = store.db.execute("SELECT MAX(seq) FROM records WHERE author = ?", [author]).fetchone()
    return int(row[0] or 0)
