"""Read-side queries over derived state, returning plain dicts (JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ledger import codec, extensions, hlc
from ..ledger.identity import short_id
from ..ledger.records import Kind, Status
from ..ledger.vocab import CATEGORIES, OFFER_TYPES, RATE_PERIODS, STATUSES, UNITS, URGENCIES
from .authoring import seq_run_top
from .store import Store, StoreError, parse_record_id, record_id

KIND_NAMES = {Kind.NEED: "need", Kind.OFFER: "offer", Kind.PLEDGE: "pledge"}
KIND_CODES = {name: int(kind) for kind, name in KIND_NAMES.items()}
NEED, PLEDGE, OPEN, WITHDRAWN = int(Kind.NEED), int(Kind.PLEDGE), int(Status.OPEN), int(
    Status.WITHDRAWN)
LIMIT_MAX = (1 << 63) - 1  # SQLite's LIMIT is a signed 64-bit integer
# Display states of open needs, as SQL over objects `o` (board_status in SQL).
_PLEDGE_STATES = {
    "over-committed": f"o.kind = {NEED} AND o.qty > 0 AND o.pledged > o.qty",
    "covered": f"o.kind = {NEED} AND o.qty > 0 AND o.pledged = o.qty",
    "partial": f"o.kind = {NEED} AND o.qty > 0 AND o.pledged > 0 AND o.pledged < o.qty",
    "uncovered": f"o.kind = {NEED} AND o.pledge_count = 0",  # needs nobody pledged to
}


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
    """The display status: withdrawn, fulfilled, delivered, future (the record
    or the update that gives its open state dated more than hlc.AHEAD_S past
    `now`), expired, or for open needs uncovered / partial / covered /
    over-committed."""
    status = STATUSES[row["status"]]
    if status != "open":
        return status
    if hlc.is_future(row["created_hlc"], now) or hlc.is_future(row["updated_hlc"], now):
        return "future"  # dated more than hlc.AHEAD_S past the present: not believed
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
    now = store.mesh_now() if now is None else now
    where: list[str] = ["1=1"]
    args: list[Any] = []
    if f.kind:
        where.append("o.kind = ?")
        args.append(KIND_CODES[f.kind])
    if f.category is not None:
        where.append("o.category = ?")
        args.append(f.category)
    if f.min_urgency is not None:
        where.append("o.urgency >= ?")
        args.append(f.min_urgency)
    if f.trusted_only:
        where.append("o.trust = 'trusted'")
    if f.status in ("open", *_PLEDGE_STATES):
        where.append(f"o.status = {OPEN} AND (o.valid_until IS NULL OR o.valid_until > ?)")
        args.append(now)
        if f.status in _PLEDGE_STATES:
            where.append(_PLEDGE_STATES[f.status])
    elif f.status == "expired":
        where.append(f"o.status = {OPEN} AND o.valid_until IS NOT NULL AND o.valid_until <= ?")
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
    # Trusted first, then what still needs doing (open and unexpired) before what
    # is done, then by urgency and age; the limit applies after every filter.
    tail = (" AND ".join(where) + " ORDER BY o.trust = 'trusted' DESC,"
            f" (o.status = {OPEN} AND (o.valid_until IS NULL OR o.valid_until > ?)) DESC,"
            " COALESCE(o.urgency, 1) DESC, o.created_hlc DESC, o.author, o.seq")
    args.append(now)
    if f.limit:
        tail += " LIMIT ?"
        args.append(min(int(f.limit), LIMIT_MAX))
    return _objects(store, tail, args, now)


def open_needs(store: Store, now: float, limit: int = 100) -> list[dict[str, Any]]:
    """The board's first screen: trusted, open, unexpired needs by urgency."""
    return _objects(
        store,
        f"o.kind = {NEED} AND o.trust = 'trusted' AND o.status = {OPEN}"
        " AND (o.valid_until IS NULL OR o.valid_until > ?)"
        " ORDER BY o.urgency DESC, o.created_hlc DESC, o.author, o.seq LIMIT ?",
        [now, limit],
        now,
    )


def _objects(store: Store, where: str, args: list[Any], now: float) -> list[dict[str, Any]]:
    """Objects joined with their author's hello, `where` (and order) given, as JSON."""
    cursor = store.db.execute(
        "SELECT o.*, k.name AS author_name, k.site AS author_site, n.unit AS need_unit"
        " FROM objects o LEFT JOIN keys k ON k.key = o.author"
        f" LEFT JOIN objects n ON o.kind = {PLEDGE} AND n.short = o.ref_short"
        f" AND n.seq = o.ref_seq AND n.kind = {NEED} WHERE " + where,
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
        "unit": _unit(row.get("need_unit") if kind is Kind.PLEDGE else row["unit"]),
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
        # (an unquantified need has nothing left to count: pledges say who helps)
        out["remaining"] = max(0, row["qty"] - row["pledged"]) if row["qty"] else 0
        out["over_committed"] = max(0, row["pledged"] - row["qty"]) if row["qty"] else 0
    elif kind is Kind.OFFER:
        out["offer_type"] = OFFER_TYPES[row["offer_type"]]
        out["per"] = RATE_PERIODS[row["rate"]]
    else:
        out["need"] = record_id(row["ref_short"], row["ref_seq"])
        out["delivered"] = row["delivered"]
        out["by"] = row["by_until"]
    return out


def _unit(code: int | None) -> str:
    return UNITS.get(code, "") if code is not None else ""


def get_object(store: Store, text_id: str, now: float | None = None) -> dict[str, Any]:
    """One need/offer/pledge by id, with its pledges (for needs); StoreError if unknown."""
    now = store.mesh_now() if now is None else now
    short, seq = parse_record_id(text_id)
    rows = _objects(store, "o.short = ? AND o.seq = ?", [short, seq], now)
    if not rows:
        raise StoreError(f"no need, offer or pledge with id {text_id}")
    obj = rows[0]
    obj.update(extension_fields(store, short, seq))
    if obj["kind"] == "need":
        obj["pledge_list"] = list_pledges(store, short, seq, now)
    return obj


def extension_fields(store: Store, short: bytes, seq: int) -> dict[str, Any]:
    """The extension fields of object (short, seq) (ledger.extensions.as_json:
    substitutes, deliver-to, needed-by, pack, inputs, windows, a pledge's offer,
    a need's priority), read from its record; {} if unknown."""
    row = store.db.execute(
        "SELECT r.raw FROM objects o JOIN records r ON r.id = o.record_id"
        " WHERE o.short = ? AND o.seq = ? ORDER BY o.trust = 'trusted' DESC LIMIT 1",
        [short, seq]).fetchone()
    if row is None:
        return {}
    parsed = codec.parse(bytes(row[0]))
    out = extensions.as_json(parsed.body, hlc.unix_of(parsed.hlc))
    if "offer_seq" in out:
        out["offer"] = record_id(parsed.author_short, out.pop("offer_seq"))
    return out


def list_pledges(store: Store, short: bytes, seq: int, now: float) -> list[dict[str, Any]]:
    return _objects(store, f"o.kind = {PLEDGE} AND o.ref_short = ? AND o.ref_seq = ?"
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


# ------------------------------------------------------------ for the domain actions


@dataclass(frozen=True)
class ObjectState:
    """The current derived state of one need, offer or pledge."""

    author: bytes
    short: bytes
    seq: int
    kind: Kind
    status: Status
    qty: int
    delivered: int
    note: str
    valid_until: int | None
    unit: int | None


def object_state(store: Store, short: bytes, seq: int) -> ObjectState | None:
    """The object with id (short, seq), or None. With two authors sharing a short
    id, the trusted one first."""
    row = store.db.execute(
        "SELECT author, short, seq, kind, status, qty, delivered, note, valid_until, unit"
        " FROM objects WHERE short = ? AND seq = ? ORDER BY trust = 'trusted' DESC LIMIT 1",
        [short, seq],
    ).fetchone()
    if row is None:
        return None
    author, short, seq, kind, status, qty, delivered, note, valid_until, unit = row
    return ObjectState(bytes(author), bytes(short), seq, Kind(kind), Status(status), qty,
                       delivered, note or "", valid_until, unit)


@dataclass(frozen=True)
class KnownKey:
    """A key this node has heard of, with what its hello says and its membership."""

    key: bytes
    short: bytes
    name: str
    role: str | None  # steward | member | None (not admitted)
    revoked_through: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_through is not None


_KNOWN = (
    "SELECT k.key, k.short, k.name, m.role, m.revoked_through FROM keys k"
    " LEFT JOIN members m ON m.key = k.key"
)


def _known(rows: list[Any]) -> list[KnownKey]:
    return [KnownKey(bytes(key), bytes(short), name, role, through)
            for key, short, name, role, through in rows]


def keys_by_short(store: Store, short: bytes) -> list[KnownKey]:
    """Known keys whose short id is `short`: those with a hello, and keys a vouch
    admitted whose hello has not arrived (`members` lists them by that id too)."""
    found = _known(store.db.execute(_KNOWN + " WHERE k.short = ?", [short]).fetchall())
    for key, role, through in store.db.execute(
            "SELECT key, role, revoked_through FROM members"
            " WHERE key NOT IN (SELECT key FROM keys)").fetchall():
        if short_id(bytes(key)) == short:
            found.append(KnownKey(bytes(key), short, "", role, through))
    return found


def keys_by_name(store: Store, name: str) -> list[KnownKey]:
    """Known keys whose display name is `name`, without regard to case."""
    wanted = name.strip().casefold()
    return [k for k in _known(store.db.execute(_KNOWN).fetchall())
            if k.name.strip().casefold() == wanted]


def known_key(store: Store, key: bytes) -> KnownKey | None:
    """What this node knows of `key`: its hello, its membership, or None of either."""
    rows = _known(store.db.execute(_KNOWN + " WHERE k.key = ?", [key]).fetchall())
    if rows:
        return rows[0]
    row = store.db.execute("SELECT role, revoked_through FROM members WHERE key = ?",
                           [key]).fetchone()
    if row is None:
        return None
    return KnownKey(key, short_id(key), "", row[0], row[1])


def stewards(store: Store) -> list[bytes]:
    """Keys that are stewards now (not revoked)."""
    return [bytes(k) for (k,) in store.db.execute(
        "SELECT key FROM members WHERE role = 'steward' AND revoked_through IS NULL")]


def vouches_by(store: Store, voucher: bytes, subject: bytes) -> dict[int, int]:
    """The vouches `voucher` signed for `subject` stored here: grant -> the
    lowest seq that grants it (0 member, 1 steward)."""
    out: dict[int, int] = {}
    for seq, raw in store.db.execute(
            "SELECT seq, raw FROM records WHERE author = ? AND subject = ? AND kind = ?"
            " ORDER BY seq", [voucher, subject, int(Kind.VOUCH)]).fetchall():
        grant = getattr(codec.parse(bytes(raw)).body, "grant", None)
        if isinstance(grant, int):
            out.setdefault(grant, int(seq))
    return out


def seq_run(store: Store, author: bytes) -> int:
    """The top of the unbroken run of `author`'s seqs stored here from 1 (0 for
    none): a record far above it (a thief's) does not count."""
    return seq_run_top(store.db, author, 0)


def hello_of(store: Store, key: bytes) -> tuple[str, str, int] | None:
    """(name, site, role) of `key`'s latest hello, or None."""
    row = store.db.execute("SELECT name, site, role FROM keys WHERE key = ?", [key]).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def held_hashes(store: Store) -> set[bytes]:
    """Hashes of the records held aside (author or charter not known yet)."""
    return {bytes(h) for (h,) in store.db.execute("SELECT hash FROM held")}


def stored_hashes(store: Store, hashes: list[bytes]) -> set[bytes]:
    """Which of `hashes` are stored records."""
    found: set[bytes] = set()
    for i in range(0, len(hashes), 500):
        chunk = hashes[i:i + 500]
        found.update(bytes(h) for (h,) in store.db.execute(
            f"SELECT hash FROM records WHERE hash IN ({','.join('?' * len(chunk))})", chunk))
    return found
