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
    # The object's author key(s) through objects(short, seq), then its updates
    # through records(author, ref_seq, seq): both indexes (records has none by short).
    rows = store.db.execute(
        "SELECT u.raw, u.seq, u.hash, 0 FROM objects o CROSS JOIN records u"
        f" ON u.author = o.author AND u.ref_seq = o.seq AND u.kind = {UPDATE}"
        " WHERE o.short = ?1 AND o.seq = ?2"
        " UNION ALL SELECT c.body, c.seq, c.id, 1 FROM objects o"
        " CROSS JOIN collected_keys k ON k.key = o.author"
        " CROSS JOIN collected c ON c.author = k.id AND c.slot = o.seq"
        " WHERE o.short = ?1 AND o.seq = ?2 ORDER BY 2, 3",
        [short, seq],
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
    row = store.db.execute(  # the author key(s) by objects(short, seq), then records(author, seq)
        "SELECT r.hash, r.received_at FROM objects o CROSS JOIN records r"
        f" ON r.author = o.author AND r.seq = o.seq AND r.kind IN ({OBJECTS})"
        " WHERE o.short = ? AND o.seq = ? ORDER BY r.hash LIMIT 1",
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

