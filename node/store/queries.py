"""Read-side queries over derived state, returning plain dicts (JSON-ready)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..ledger import hlc
from ..ledger.records import Kind
from ..ledger.vocab import CATEGORIES, OFFER_TYPES, RATE_PERIODS, STATUSES, UNITS, URGENCIES
from .store import Store, StoreError, parse_record_id, record_id

KIND_NAMES = {Kind.NEED: "need", Kind.OFFER: "offer", Kind.PLEDGE: "pledge"}


@dataclass
class Filters:
    kind: str | None = None  # need | offer | pledge
    category: int | None = None
    min_urgency: int | None = None
    status: str | None = None  # open | covered | fulfilled | withdrawn | expired | delivered
    text: str | None = None
    trusted_only: bool = False
    limit: int | None = None


def board_status(row: dict[str, Any], now: float) -> str:
    """The display status: withdrawn, fulfilled, delivered, expired, or for open
    needs uncovered / partial / covered / over-committed."""
    status = STATUSES[row["status"]]
    if status != "open":
        return status
    if row["valid_until"] is not None and row["valid_until"] <= now:
        return "expired"
    if row["kind"] == Kind.NEED and row["qty"]:
        if row["pledged"] > row["qty"]:
            return "over-committed"
        if row["pledged"] == row["qty"]:
            return "covered"
        if row["pledged"] > 0:
            return "partial"
    return "open"


def _fts_query(text: str) -> str:
    words = [w.replace('"', "") for w in text.split() if w.replace('"', "")]
    return " ".join(f'"{w}"*' for w in words)


def list_objects(store: Store, f: Filters, now: float | None = None) -> list[dict[str, Any]]:
    """Needs, offers and pledges, most urgent first, then newest."""
    now = time.time() if now is None else now
    where: list[str] = ["1=1"]
    args: list[Any] = []
    kind_codes = {"need": 2, "offer": 3, "pledge": 4}
    if f.kind:
        where.append("o.kind = ?")
        args.append(kind_codes[f.kind])
    if f.category is not None:
        where.append("o.category = ?")
        args.append(f.category)
    if f.min_urgency is not None:
        where.append("o.urgency >= ?")
        args.append(f.min_urgency)
    if f.trusted_only:
        where.append("o.trust = 'trusted'")
    if f.status in ("open", "uncovered", "partial", "covered", "over-committed"):
        where.append("o.status = 0 AND (o.valid_until IS NULL OR o.valid_until > ?)")
        args.append(now)
    elif f.status == "expired":
        where.append("o.status = 0 AND o.valid_until IS NOT NULL AND o.valid_until <= ?")
        args.append(now)
    elif f.status is not None:
        codes = {v: k for k, v in STATUSES.items()}
        if f.status not in codes:
            raise StoreError(f"unknown status {f.status!r}")
        where.append("o.status = ?")
        args.append(codes[f.status])
    match = _fts_query(f.text) if f.text else ""
    if match:  # blank or quotes only: no text filter (an empty MATCH is an FTS error)
        where.append("o.rowid IN (SELECT rowid FROM objects_fts WHERE objects_fts MATCH ?)")
        args.append(match)
    tail = (" AND ".join(where) + " ORDER BY o.trust = 'trusted' DESC,"
            " COALESCE(o.urgency, 1) DESC, o.created_hlc DESC, o.author, o.seq")
    if f.limit:
        tail += f" LIMIT {int(f.limit)}"
    rows = _objects(store, tail, args, now)
    if f.status in ("uncovered", "partial", "covered", "over-committed"):
        wanted = "open" if f.status == "uncovered" else f.status
        rows = [row for row in rows if row["status"] == wanted]
    return rows


def open_needs(store: Store, now: float, limit: int = 100) -> list[dict[str, Any]]:
    """The board's first screen: trusted, open, unexpired needs by urgency."""
    return _objects(
        store,
        "o.kind = 2 AND o.trust = 'trusted' AND o.status = 0"
        " AND (o.valid_until IS NULL OR o.valid_until > ?)"
        " ORDER BY o.urgency DESC, o.created_hlc DESC, o.author, o.seq LIMIT ?",
        [now, limit],
        now,
    )


def _objects(store: Store, where: str, args: list[Any], now: float) -> list[dict[str, Any]]:
    """Objects joined with their author's hello, `where` (and order) given, as JSON."""
    cursor = store.db.execute(
        "SELECT o.*, k.name AS author_name, k.site AS author_site FROM objects o"
        " LEFT JOIN keys k ON k.key = o.author WHERE " + where,
        args,
    )
    cols = [c[0] for c in cursor.description]
    return [as_json(dict(zip(cols, row)), now) for row in cursor.fetchall()]


def as_json(row: dict[str, Any], now: float) -> dict[str, Any]:
    kind = Kind(row["kind"])
    out: dict[str, Any] = {
        "id": record_id(row["short"], row["seq"]),
        "kind": KIND_NAMES[kind],
        "author": row["author"].hex(),
        "author_name": row.get("author_name") or "",
        "text": row["text"] or "",
        "qty": row["qty"],
        "unit": UNITS.get(row["unit"], "") if row["unit"] is not None else "",
        "category": CATEGORIES.get(row["category"], "") if row["category"] is not None else "",
        "urgency": URGENCIES.get(row["urgency"]) if row["urgency"] is not None else None,
        "site": row["site"] or row.get("author_site") or "",
        "status": board_status(row, now),
        "trust": row["trust"],
        "forked": bool(row["forked"]),
        "created": hlc.unix_of(row["created_hlc"]),
        "updated": hlc.unix_of(row["updated_hlc"]),
        "valid_until": row["valid_until"],
        "note": row["note"] or "",
    }
    if row["lat"] is not None:
        out["position"] = [row["lat"], row["lon"]]
    if kind is Kind.NEED:
        out["pledged"] = row["pledged"]
        out["delivered"] = row["pledged_delivered"]
        out["pledges"] = row["pledge_count"]
        out["remaining"] = max(0, row["qty"] - row["pledged"])
        out["over_committed"] = max(0, row["pledged"] - row["qty"])
    elif kind is Kind.OFFER:
        out["offer_type"] = OFFER_TYPES[row["offer_type"]]
        out["per"] = RATE_PERIODS[row["rate"]]
    else:
        out["need"] = record_id(row["ref_short"], row["ref_seq"])
        out["delivered"] = row["delivered"]
        out["by"] = row["by_until"]
    return out


def get_object(store: Store, text_id: str, now: float | None = None) -> dict[str, Any]:
    """One need/offer/pledge by id, with its pledges (for needs); StoreError if unknown."""
    now = time.time() if now is None else now
    short, seq = parse_record_id(text_id)
    rows = _objects(store, "o.short = ? AND o.seq = ?", [short, seq], now)
    if not rows:
        raise StoreError(f"no need, offer or pledge with id {text_id}")
    obj = rows[0]
    if obj["kind"] == "need":
        obj["pledge_list"] = list_pledges(store, short, seq, now)
    return obj


def list_pledges(store: Store, short: bytes, seq: int, now: float) -> list[dict[str, Any]]:
    return _objects(store, "o.kind = 4 AND o.ref_short = ? AND o.ref_seq = ?"
                    " ORDER BY o.created_hlc, o.author, o.seq", [short, seq], now)


def members(store: Store) -> list[dict[str, Any]]:
    """Every known key: members with their role, others as 'not admitted'."""
    cursor = store.db.execute(
        "SELECT k.key, k.short, k.name, k.site, m.role, m.revoked_through, m.vouchers,"
        " EXISTS(SELECT 1 FROM forks f WHERE f.author = k.key) AS forked"
        " FROM keys k LEFT JOIN members m ON m.key = k.key"
        " UNION SELECT m.key, NULL, '', '', m.role, m.revoked_through, m.vouchers,"
        " EXISTS(SELECT 1 FROM forks f WHERE f.author = m.key)"
        " FROM members m WHERE m.key NOT IN (SELECT key FROM keys)"
    )
    out = []
    for key, short, name, site, role, through, vouchers, forked in cursor.fetchall():
        if role is None:
            state = "not admitted"
        elif through is not None:
            state = f"revoked after seq {through}" if through else "revoked"
        else:
            state = role
        out.append({
            "key": key.hex(),
            "short": (short or key[:0]).hex() or None,
            "name": name,
            "site": site,
            "role": role,
            "status": state,
            "vouchers": vouchers or 0,
            "forked": bool(forked),
        })
    out.sort(key=lambda m: (m["role"] is None, m["role"] != "steward", m["name"], m["key"]))
    return out
