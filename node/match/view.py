"""What matching reads from a node's store: open needs and offers with their
extensions, what pledges already draw on each offer, positions and text ranks.

Read-only. Derived state (objects, keys, members) is the same on every node
holding the same records, and every list here comes in a fixed order, so a
ranking built on it is the same everywhere. Extensions are not columns of the
store: they are parsed from the records of the few candidates a match looks at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..ledger import codec, extensions, hlc
from ..ledger import records as r
from ..ledger.textcode import CODED, PackedReader
from ..ledger.vocab import UNITS
from ..ledger.wire import encode_varint
from ..store import Store
from ..store.store import record_id

NEED, OFFER, PLEDGE = int(r.Kind.NEED), int(r.Kind.OFFER), int(r.Kind.PLEDGE)
OPEN, WITHDRAWN = int(r.Status.OPEN), int(r.Status.WITHDRAWN)
_COLS = ("o.rowid, o.author, o.short, o.seq, o.kind, o.category, o.urgency, o.offer_type,"
         " o.rate, o.unit, o.site, o.lat, o.lon, o.text, o.qty, o.status, o.valid_until,"
         " o.created_hlc, o.pledged, o.trust, rec.raw, k.name, k.site, k.lat, k.lon")
_FROM = (" FROM objects o JOIN records rec ON rec.id = o.record_id"
         " LEFT JOIN keys k ON k.key = o.author")
_PAGE = 32
_LIVE = (f" o.status = {OPEN} AND o.trust = 'trusted'"
         " AND (o.valid_until IS NULL OR o.valid_until > ?)")


@dataclass(frozen=True)
class Draw:
    """A pledge drawing on an offer: when made, how much (in its need's unit), by
    when, and the need's unit and text (to convert into the offer's unit)."""

    created: int
    qty: int
    by: int | None
    need_unit: str
    need_text: str


@dataclass
class Item:
    """An open need or offer as matching sees it."""

    rowid: int
    id: str
    author: bytes
    short: bytes
    seq: int
    kind: int
    category: int
    urgency: int
    offer_type: int
    rate: int
    unit: int
    site: str
    position: tuple[float, float] | None
    text: str
    qty: int
    created: int  # unix seconds of the record's HLC
    valid_until: int | None
    pledged: int  # needs: what pledges cover
    author_name: str
    raw: bytes = field(repr=False)
    drawn: list[Draw] = field(default_factory=list)  # offers: the author's pledges on it
    _ext: Ext | None = field(default=None, repr=False)

    @property
    def ext(self) -> Ext:
        """The record's extensions, read when first asked for."""
        if self._ext is None:
            self._ext = extensions_of(self.raw, self.kind)
        return self._ext

    def body_inputs(self) -> tuple[int, ...]:
        """The categories an offer consumes (none for a need)."""
        return self.ext.inputs


@dataclass(frozen=True)
class Ext:
    """The extension fields of a need or offer (node/PROTOCOL.md), defaults when absent."""

    substitutes: str = ""
    deliver_to: str = ""
    needed_by_min: int = 0
    pack: r.Pack | None = None
    inputs: tuple[int, ...] = ()
    windows: tuple[r.Window, ...] = ()


_NO_EXT = Ext()


def _skip_varint(raw: bytes, pos: int) -> int:
    while raw[pos] & 0x80:
        pos += 1
    return pos + 1


def extensions_of(raw: bytes, kind: int) -> Ext:
    """The extensions of a stored (so already verified) need or offer record: the
    fields before them are skipped by their lengths, not decoded, which is what
    makes matching many candidates cheap."""
    pos = 1 + r.SHORT_ID_LEN
    pos = _skip_varint(raw, pos) + 6  # seq, hlc
    flags = raw[pos]
    pos = _skip_varint(raw, pos + 2) + 1  # flags, category, qty; unit
    pos = _skip_text(raw, _skip_varint(raw, pos))  # valid-for, site
    if flags & 4:
        pos += 8
    pos = _skip_text(raw, pos)
    end = len(raw) - r.SIG_LEN
    if pos >= end:
        return _NO_EXT
    return Ext(**extensions.get(PackedReader(raw[pos:end]), r.Kind(kind)))


def _skip_text(raw: bytes, pos: int) -> int:
    """Past a text field: UTF-8 below length 0x80, coded bytes from it (textcode)."""
    n = raw[pos]
    return pos + 1 + (n - CODED if n >= CODED else n)


def _item(row: tuple[Any, ...]) -> Item:
    (rowid, author, short, seq, kind, category, urgency, offer_type, rate, unit, site, lat,
     lon, text, qty, _status, valid_until, created_hlc, pledged, _trust, raw, name, hsite,
     hlat, hlon) = row
    position = (lat, lon) if lat is not None else (hlat, hlon) if hlat is not None else None
    return Item(rowid, record_id(bytes(short), seq), bytes(author), bytes(short), seq, kind,
                category, urgency if urgency is not None else 1, offer_type or 0, rate or 0,
                unit, site or hsite or "", position, text or "", qty,
                hlc.unix_of(created_hlc), valid_until, pledged, name or "", bytes(raw))


def item(store: Store, short: bytes, seq: int) -> Item | None:
    """The need or offer (short, seq) whatever its state (trusted first), or None."""
    row = store.db.execute(
        f"SELECT {_COLS}{_FROM} WHERE o.short = ? AND o.seq = ? AND o.kind IN ({NEED}, {OFFER})"
        " ORDER BY o.trust = 'trusted' DESC, o.author LIMIT 1", [short, seq]).fetchone()
    return None if row is None else _item(row)


def state_of(store: Store, it: Item) -> tuple[int, str]:
    """(status code, trust) of an item now."""
    row = store.db.execute("SELECT status, trust FROM objects WHERE author = ? AND seq = ?",
                           [it.author, it.seq]).fetchone()
    return int(row[0]), str(row[1])


def ranked(store: Store, kind: int, cat_values: dict[int, float], text_values: dict[int, float],
           text_cat: float, terms: list[str], now: float,
           streams: list[tuple[str, str]] | None = None,
           ) -> list[Iterator[tuple[float, Item]]]:
    """Live `kind` objects in `cat_values`' categories or with a text value, split
    into `streams` (SQL condition over `o`, its own extra bound term; the
    conditions exclude each other, the last is what the others leave; default:
    one stream), each as
    (upper bound, item), best bound first, ties by (short id, seq, author). The
    bound is 0.30 x category value (the larger of `cat_values` for its category
    and `text_cat` when it has a text value) + 0.15 x text value + the SQL
    `terms` and the stream's term (expressions over objects `o`, records `rec`
    and hellos `k`, numbers written in): every node computes the same. One
    query sorts; items are read in pages as the caller goes."""
    # Every number below is computed by matching, never typed by anyone: written
    # into the SQL, so that the text rows can drive their own join.
    streams = streams or [("1", "0")]
    cats = sorted(cat_values.items())
    case = ("CASE o.category " + " ".join(f"WHEN {int(c)} THEN {float(v)!r}" for c, v in cats)
            + " ELSE 0 END") if cats else "0"
    conds = [cond for cond, _term in streams[:-1]]
    sid = ("CASE " + " ".join(f"WHEN {c} THEN {i}" for i, c in enumerate(conds))
           + f" ELSE {len(conds)} END") if conds else "0"
    per_stream = ("CASE " + " ".join(f"WHEN {c} THEN ({t})" for c, t in streams[:-1])
                  + f" ELSE ({streams[-1][1]}) END") if conds else f"({streams[-1][1]})"
    extra = "".join(f" + ({term})" for term in [*terms, per_stream])
    live = f"o.kind = {int(kind)} AND " + _LIVE.replace("?", repr(float(now)))

    def bound(value: str, cat: str) -> str:
        # Rounded like score.total, after a nudge far above float noise, so that
        # it is never below the rounded score of the row it bounds.
        return f"ROUND(0.30 * {cat} + 0.15 * {value}{extra} + 1e-9, 4) AS ub, {sid} AS sid"

    texts = sorted(text_values.items())
    by_text = ""
    if texts:
        values = ",".join(f"({int(rid)}, {float(v)!r})" for rid, v in texts)
        by_text = (f"SELECT o.rowid, o.short, o.seq, o.author, "
                   f"{bound('t.value', f'MAX({case}, {float(text_cat)!r})')}"
                   f" FROM (SELECT column1 AS rid, column2 AS value FROM (VALUES {values})) t"
                   " JOIN objects o ON o.rowid = t.rid JOIN records rec ON rec.id = o.record_id"
                   " LEFT JOIN keys k ON k.key = o.author"
                   f" WHERE {live}")
    by_cat = ""
    if cats:
        listed = ",".join(str(int(c)) for c, _v in cats)
        skip = (" AND o.rowid NOT IN (" + ",".join(str(int(r)) for r, _v in texts) + ")"
                if texts else "")
        by_cat = (f"SELECT o.rowid, o.short, o.seq, o.author, {bound('0', case)}"
                  " FROM objects o JOIN records rec ON rec.id = o.record_id"
                  " LEFT JOIN keys k ON k.key = o.author"
                  f" WHERE {live} AND o.category IN ({listed}){skip}")
    parts = [p for p in (by_text, by_cat) if p]
    split: list[list[tuple[int, float]]] = [[] for _ in streams]
    if parts:
        for rowid, ub, stream in store.db.execute(
                "SELECT rowid, ub, sid FROM (" + " UNION ALL ".join(parts) + ")"
                " ORDER BY sid, ub DESC, short, seq, author"):
            split[stream].append((rowid, ub))
    return [_paged(store, keys) for keys in split]


def _paged(store: Store, keys: list[tuple[int, float]]) -> Iterator[tuple[float, Item]]:
    for i in range(0, len(keys), _PAGE):
        page = keys[i:i + _PAGE]
        marks = ",".join("?" * len(page))
        rows = {row[0]: row for row in store.db.execute(
            f"SELECT {_COLS}{_FROM} WHERE o.rowid IN ({marks})", [k for k, _ub in page])}
        for rowid, ub in page:
            yield float(ub), _item(rows[rowid])


def text_ranks(store: Store, kind: int, terms: list[str], now: float,
               limit: int = 200) -> dict[int, float]:
    """rowid -> bm25 rank (lower is better) of live `kind` objects whose text or
    site has any of `terms`, through the store's full-text index; at most `limit`."""
    query = " OR ".join(f'"{t}"' for t in sorted(set(terms)) if t)
    if not query:
        return {}
    rows = store.db.execute(
        "SELECT f.rowid, bm25(objects_fts) AS rank FROM objects_fts f"
        " JOIN objects o ON o.rowid = f.rowid"
        f" WHERE objects_fts MATCH ? AND o.kind = ? AND {_LIVE}"
        " ORDER BY rank, o.short, o.seq LIMIT ?", [query, kind, now, limit]).fetchall()
    return {int(rowid): float(rank) for rowid, rank in rows}


def attach_draws(store: Store, offers: list[Item]) -> None:
    """Fill each offer's `drawn`: the trusted, live pledges of its own author that
    name it. Such a pledge ends, before its signature, with extension tag 7 and
    the offer's seq: SQL finds the pledges ending so through the author's index,
    and parsing them keeps those that do name it (coded text can end so too)."""
    for i in range(0, len(offers), 50):
        chunk = offers[i:i + 50]
        conds, args = [], []
        for offer in chunk:
            tail = bytes([extensions.OFFER_SEQ]) + encode_varint(offer.seq, r.SEQ_BYTES)
            conds.append("(o.author = ? AND substr(rec.raw, ?, ?) = ?)")
            args += [offer.author, -r.SIG_LEN - len(tail), len(tail), tail]
        # Unary + keeps the planner on the author index rather than (kind, trust).
        rows = store.db.execute(
            "SELECT o.author, rec.raw, o.qty, o.created_hlc, o.by_until, n.unit, n.text"
            " FROM objects o JOIN records rec ON rec.id = o.record_id"
            f" LEFT JOIN objects n ON n.rowid = (SELECT x.rowid FROM objects x WHERE x.kind = {NEED}"
            " AND x.short = o.ref_short AND x.seq = o.ref_seq"
            " ORDER BY x.trust = 'trusted' DESC, x.author LIMIT 1)"
            f" WHERE +o.kind = {PLEDGE} AND +o.trust = 'trusted' AND +o.status != {WITHDRAWN}"
            f" AND ({' OR '.join(conds)}) ORDER BY o.author, o.seq", args).fetchall()
        by_key = {(offer.author, offer.seq): offer for offer in chunk}
        for author, raw, qty, created_hlc, by_until, need_unit, need_text in rows:
            body = codec.parse(bytes(raw)).body
            target = by_key.get((bytes(author), getattr(body, "offer_seq", 0)))
            if target is not None:
                target.drawn.append(Draw(hlc.unix_of(created_hlc), qty, by_until,
                                         UNITS.get(need_unit, ""), need_text or ""))


def positions_by_site(store: Store) -> dict[str, tuple[float, float]]:
    """Site name (case-folded) -> position, from hellos that carry one; the
    lowest key wins a tie."""
    out: dict[str, tuple[float, float]] = {}
    for site, lat, lon in store.db.execute(
            "SELECT site, lat, lon FROM keys WHERE lat IS NOT NULL ORDER BY key DESC"):
        out[str(site).casefold()] = (lat, lon)
    return out


def left_out(store: Store, kind: int, categories: set[int]) -> dict[str, int]:
    """How many `kind` objects in `categories` matching left out because their
    authors are not members (quarantine)."""
    if not categories:
        return {"not members": 0}
    marks = ",".join("?" * len(categories))
    row = store.db.execute(
        f"SELECT COUNT(*) FROM objects WHERE kind = ? AND trust != 'trusted'"
        f" AND category IN ({marks})", [kind, *sorted(categories)]).fetchone()
    return {"not members": int(row[0] or 0)}
