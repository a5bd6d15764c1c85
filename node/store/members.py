"""The members table, derived from the charter, vouches and revokes (node/ledger/
membership.py holds the rules), and the trust a membership gives a record.

Like derive.py, everything here is recomputed from the records table, so it
never depends on arrival order.
"""

from __future__ import annotations

from sqlite_utils import Database

from ..ledger import codec, membership
from ..ledger import records as r
from .sqlconst import MEMBERSHIP


def trust_of(db: Database, author: bytes, seq: int) -> str:
    """Trusted when the author is a member and the record is within its cut: at
    or below `revoked_through` and, once revoked, not at a forked seq."""
    row = db.execute(
        "SELECT revoked_through, EXISTS(SELECT 1 FROM forks WHERE author = ?1 AND seq = ?2)"
        " FROM members WHERE key = ?1", [author, seq]
    ).fetchone()
    if row is None:
        return "quarantine"
    through, forked = row
    return "trusted" if through is None or (seq <= through and not forked) else "quarantine"


def recompute_membership(db: Database, charter_raw: bytes | None, network: bytes) -> set[bytes]:
    """Rewrite the members table; return the keys whose trust may have changed."""
    charter = codec.decode(charter_raw, network, lambda s: ()) if charter_raw else None
    events: list[r.Record] = []
    for author, raw in db.execute(
        f"SELECT author, raw FROM records WHERE kind IN ({MEMBERSHIP})"
    ).fetchall():
        p = codec.parse(raw)
        events.append(r.Record(p.kind, author, p.seq, p.hlc, p.body, raw))
    forked = [(bytes(a), s) for a, s in db.execute("SELECT author, seq FROM forks").fetchall()]
    new = membership.derive(charter, events, forked)
    old = {
        row[0]: (row[1], row[2], row[3])
        for row in db.execute("SELECT key, role, revoked_through, vouchers FROM members").fetchall()
    }
    rewrite = {k for k in set(old) | set(new) if old.get(k) != _sig(new.get(k))}
    # Only role and revocation change trust; a new voucher count is just rewritten.
    changed = {k for k in rewrite if _trust(old.get(k)) != _trust(_sig(new.get(k)))}
    if rewrite:
        db.execute("DELETE FROM members")
        db.conn.executemany(
            "INSERT INTO members (key, role, revoked_through, vouchers) VALUES (?, ?, ?, ?)",
            [(k, m.role, m.revoked_through, len(m.vouchers)) for k, m in new.items()],
        )
    return changed


def _sig(m: membership.Member | None) -> tuple[str, int | None, int] | None:
    return None if m is None else (m.role, m.revoked_through, len(m.vouchers))


def _trust(sig: tuple[str, int | None, int] | None) -> tuple[str, int | None] | None:
    return None if sig is None else sig[:2]
