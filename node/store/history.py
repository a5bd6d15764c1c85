"""Read-side queries for one record's story: the updates its author signed, and
when, from whom and over how many hops this node first heard it.

Like `queries`, these return plain JSON-ready dicts and only read.
"""

from __future__ import annotations

from typing import Any

from ..ledger import codec, hlc
from ..ledger import records as r
from ..ledger.vocab import STATUSES
from . import feed
from .sqlconst import OBJECTS, UPDATE
from .store import Store, parse_record_id


def updates_of(store: Store, text_id: str) -> list[dict[str, Any]]:
    """Every update the record's author signed for it, oldest first (the last
    one in seq order is the current state). Empty for an unknown id."""
    short, seq = parse_record_id(text_id)
    # Collected versions (node/store/gc.py) keep their unsigned bytes: shown too.
    rows = store.db.execute(
        "SELECT u.raw, u.seq, u.hash, 0 FROM records u JOIN records o ON o.author = u.author"
        f" WHERE o.short = ? AND o.seq = ? AND o.kind IN ({OBJECTS})"
        f" AND u.kind = {UPDATE} AND u.ref_seq = ?"
        " UNION ALL SELECT c.body, c.seq, c.id, 1 FROM collected c"
        " JOIN collected_keys k ON k.id = c.author JOIN records o ON o.author = k.key"
        f" WHERE o.short = ? AND o.seq = ? AND o.kind IN ({OBJECTS})"
        " AND c.slot = ? ORDER BY 2, 3",
        [short, seq, seq, short, seq, seq],
    ).fetchall()
    out = []
    for raw, useq, _hash, unsigned in rows:
        p = codec.parse(bytes(raw) + bytes(64 if unsigned else 0))
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


def first_heard(store: Store, text_id: str) -> dict[str, Any] | None:
    """When this node stored the record and, if it came over the radio, from
    which node, with what SNR and RSSI, over at least how many hops (the hop
    count in a packet header is a lower bound). None for an unknown id."""
    short, seq = parse_record_id(text_id)
    row = store.db.execute(
        "SELECT hash, received_at FROM records WHERE short = ? AND seq = ?"
        f" AND kind IN ({OBJECTS})"
        " ORDER BY hash LIMIT 1",
        [short, seq],
    ).fetchone()
    if row is None:
        return None
    digest, received_at = row
    out: dict[str, Any] = {"received_at": received_at, "node": None, "snr": None,
                           "rssi": None, "hops_at_least": None}
    radio = feed.heard(store.db, bytes(digest))
    if radio is not None:
        out.update(node=radio.node, snr=radio.snr, rssi=radio.rssi, hops_at_least=radio.hops,
                   heard_at=radio.at)
    return out

