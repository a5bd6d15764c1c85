"""Mesh time for a store: which clock values heard from others the node follows.

The hybrid clock (node/ledger/hlc.py) moves for others' records only through
`hlc.mesh_time` over the newest clock value of each trusted author other than
this node. Keeping every author's newest value would cost a scan on every
reload, so the store keeps the top `TOP` authors in the meta table (key
`mesh_newest`), updates them as trusted records arrive, and rebuilds them from
the records table when trust changed (membership, a fork of a revoked key).
Values only grow while trust does not change, so the top three are exact.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from ..ledger import hlc
from .schema import get_meta, put_meta

TOP = 3
META = "mesh_newest"


def load(db: Database) -> dict[bytes, int]:
    """The stored top authors by newest trusted clock value."""
    text = get_meta(db, META)
    if not text:
        return {}
    return {bytes.fromhex(k): int(v) for k, v in json.loads(text).items()}


def _top(newest: dict[bytes, int]) -> dict[bytes, int]:
    return dict(sorted(newest.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP])


def save(db: Database, newest: dict[bytes, int]) -> None:
    """Store the top authors (inside a write transaction)."""
    # (json.dumps(..., sort_keys=True) writes the same text: hex keys, integer
    # values; spelt out, as this runs for nearly every record heard)
    pairs = sorted((k.hex(), int(v)) for k, v in newest.items())
    put_meta(db, META, "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}")


def _keep(db: Database, newest: dict[bytes, int]) -> dict[bytes, int]:
    top = _top(newest)
    save(db, top)
    return top


def consider(newest: dict[bytes, int], author: bytes, value: int,
             trusted: bool) -> dict[bytes, int]:
    """`newest` with a just-stored trusted record from another node taken into
    account, without storing it (the same object when nothing changed)."""
    if not trusted or value <= newest.get(author, -1):
        return newest
    if author in newest or len(newest) < TOP:
        return {**newest, author: value}  # the same top authors, or room for one more
    low = min(newest.values())
    if value <= low:
        return newest
    # (what `_top` of the four would drop: the lowest value, the highest key of a tie)
    out = dict(newest)
    del out[max(k for k, v in newest.items() if v == low)]
    out[author] = value
    return out


def rebuild(db: Database) -> dict[bytes, int]:
    """Recompute the top authors from every trusted record not authored here."""
    rows = db.execute(
        "SELECT r.author, MAX(r.hlc) FROM records r JOIN members m ON m.key = r.author"
        " WHERE r.local = 0 AND (m.revoked_through IS NULL OR (r.seq <= m.revoked_through"
        " AND NOT EXISTS (SELECT 1 FROM forks f WHERE f.author = r.author AND f.seq = r.seq)))"
        " GROUP BY r.author"
    ).fetchall()
    return _keep(db, {bytes(a): int(v) for a, v in rows})


def mesh_hlc(newest: dict[bytes, int]) -> int:
    return hlc.mesh_time(list(newest.values()))
