"""Optional fields after the text of a need, offer or pledge (node/PROTOCOL.md,
"Extensions").

Theory of operation: the body of a need, offer or pledge ends with its text.
Whatever bytes remain before the signature are a list of extension items,
`u8 tag` then a value whose layout the tag fixes. Tags appear at most once, in
increasing order, and only with a value other than the field's default, so each
record still has exactly one encoding. A record without extensions is byte for
byte what it was before extensions existed, so older records decode unchanged.
A tag this kind does not define (0 included) is `trailing-bytes`, the reason
such bytes always had.

When any extension is present, a need's or offer's site, text, substitutes and
deliver-to together take at most `EXT_TEXTS_MAX` bytes, which keeps the largest
record inside `codec.MAX_RECORD` (measured in tests/ledger/test_extensions.py).
"""

from __future__ import annotations

from typing import Any

from . import records as r
from .vocab import CATEGORIES, UNITS
from .wire import DecodeError, Reader, Writer

SUBSTITUTES, DELIVER_TO, NEEDED_BY, PACK, INPUTS, WINDOWS, OFFER_SEQ = 1, 2, 3, 4, 5, 6, 7
TAGS: dict[r.Kind, tuple[int, ...]] = {
    r.Kind.NEED: (SUBSTITUTES, DELIVER_TO, NEEDED_BY, PACK),
    r.Kind.OFFER: (PACK, INPUTS, WINDOWS),
    r.Kind.PLEDGE: (OFFER_SEQ,),
}


def _items(body: r.Need | r.Offer | r.Pledge) -> list[tuple[int, Any]]:
    """(tag, value) of every extension that differs from its default, by tag."""
    values: dict[int, Any] = {}
    if isinstance(body, r.Need):
        values = {SUBSTITUTES: body.substitutes, DELIVER_TO: body.deliver_to,
                  NEEDED_BY: body.needed_by_min, PACK: body.pack}
    elif isinstance(body, r.Offer):
        values = {PACK: body.pack, INPUTS: body.inputs, WINDOWS: body.windows}
    else:
        values = {OFFER_SEQ: body.offer_seq}
    return [(tag, v) for tag, v in sorted(values.items()) if v not in ("", 0, None, ())]


def _texts_len(site: str, text: str, *more: str) -> int:
    return sum(len(s.encode("utf-8")) for s in (site, text, *more))


def put(w: Writer, body: r.Need | r.Offer | r.Pledge) -> None:
    """Append the extensions of `body` (nothing when all are defaults); raise
    ValueError for a value out of range."""
    items = _items(body)
    if items and isinstance(body, (r.Need, r.Offer)):
        extra = (body.substitutes, body.deliver_to) if isinstance(body, r.Need) else ()
        if _texts_len(body.site, body.text, *extra) > r.EXT_TEXTS_MAX:
            raise ValueError(f"with extensions, site, text, substitutes and deliver-to take "
                             f"at most {r.EXT_TEXTS_MAX} bytes together")
    for tag, value in items:
        w.u8(tag)
        if tag == SUBSTITUTES:
            w.text(value, r.SUBSTITUTES_MAX)
        elif tag == DELIVER_TO:
            w.text(value, r.DELIVER_TO_MAX)
        elif tag == NEEDED_BY:
            w.varint(value, r.MINUTES_BYTES)
        elif tag == PACK:
            if value.count < 1 or value.unit not in UNITS:
                raise ValueError("a pack holds at least 1 of a known unit")
            w.varint(value.count, r.PACK_BYTES).u8(value.unit)
        elif tag == INPUTS:
            if len(value) > r.INPUTS_MAX or list(value) != sorted(set(value)) or any(
                    c not in CATEGORIES for c in value):
                raise ValueError(f"inputs: at most {r.INPUTS_MAX} distinct known categories, "
                                 "ascending")
            w.u8(len(value)).raw(bytes(value))
        elif tag == WINDOWS:
            if problem := windows_problem(value):
                raise ValueError(problem)
            w.u8(len(value))
            for win in value:
                w.varint(win.start_min, r.MINUTES_BYTES).varint(win.length_min, r.WINDOW_LEN_BYTES)
        else:
            w.varint(value, r.SEQ_BYTES)


def windows_problem(windows: tuple[r.Window, ...]) -> str:
    """Why `windows` are not valid, or "": 1 to WINDOWS_MAX, each at least a
    minute long, in time order without overlap."""
    if not 1 <= len(windows) <= r.WINDOWS_MAX:
        return f"an offer has 1 to {r.WINDOWS_MAX} availability windows"
    end = 0
    for win in windows:
        if win.length_min < 1 or win.start_min < end:
            return "windows are at least a minute long, in time order, not overlapping"
        end = win.start_min + win.length_min
    return ""


def get(rd: Reader, kind: r.Kind) -> dict[str, Any]:
    """Read the extensions left in `rd` for a record of `kind`, as keyword
    arguments of its body; DecodeError with a reason for anything else."""
    out: dict[str, Any] = {}
    last = 0
    allowed = TAGS[kind]
    while rd.remaining():
        tag = rd.u8("extension tag")
        if tag not in allowed:
            raise DecodeError("trailing-bytes", f"{rd.remaining() + 1} bytes after the body")
        if tag <= last:
            raise DecodeError("non-canonical", "extensions out of order or repeated")
        last = tag
        if tag == SUBSTITUTES:
            out["substitutes"] = _nonempty(rd.text(r.SUBSTITUTES_MAX, "substitutes"))
        elif tag == DELIVER_TO:
            out["deliver_to"] = _nonempty(rd.text(r.DELIVER_TO_MAX, "deliver-to"))
        elif tag == NEEDED_BY:
            out["needed_by_min"] = _nonzero(rd.varint("needed-by", r.MINUTES_BYTES))
        elif tag == PACK:
            count = _nonzero(rd.varint("pack count", r.PACK_BYTES))
            unit = rd.u8("pack unit")
            if unit not in UNITS:
                raise DecodeError("out-of-range", f"unknown unit code {unit}")
            out["pack"] = r.Pack(count, unit)
        elif tag == INPUTS:
            n = rd.u8("input count")
            if not 1 <= n <= r.INPUTS_MAX:
                raise DecodeError("out-of-range", f"{n} inputs, 1 to {r.INPUTS_MAX}")
            codes = tuple(rd.raw(n, "inputs"))
            if any(c not in CATEGORIES for c in codes):
                raise DecodeError("out-of-range", "unknown input category")
            if list(codes) != sorted(set(codes)):
                raise DecodeError("non-canonical", "inputs not ascending and distinct")
            out["inputs"] = codes
        elif tag == WINDOWS:
            n = rd.u8("window count")
            if not 1 <= n <= r.WINDOWS_MAX:
                raise DecodeError("out-of-range", f"{n} windows, 1 to {r.WINDOWS_MAX}")
            wins = tuple(r.Window(rd.varint("window start", r.MINUTES_BYTES),
                                  rd.varint("window length", r.WINDOW_LEN_BYTES))
                         for _ in range(n))
            if problem := windows_problem(wins):
                raise DecodeError("out-of-range", problem)
            out["windows"] = wins
        else:
            out["offer_seq"] = _nonzero(rd.varint("offer seq", r.SEQ_BYTES))
    return out


def check_texts(kind: r.Kind, ext: dict[str, Any], site: str, text: str) -> None:
    """Raise DecodeError when a need or offer with extensions exceeds the shared
    text budget."""
    if ext and kind in (r.Kind.NEED, r.Kind.OFFER):
        used = _texts_len(site, text, ext.get("substitutes", ""), ext.get("deliver_to", ""))
        if used > r.EXT_TEXTS_MAX:
            raise DecodeError("out-of-range", f"texts take {used} bytes with extensions, "
                              f"at most {r.EXT_TEXTS_MAX}")


def _nonempty(value: str) -> str:
    if not value:
        raise DecodeError("non-canonical", "an empty extension is absent")
    return value


def _nonzero(value: int) -> int:
    if not value:
        raise DecodeError("non-canonical", "a zero extension is absent")
    return value


def as_json(body: r.Body, created_unix: int) -> dict[str, Any]:
    """The extensions of `body` as JSON-ready fields (names as the CLI's --json
    prints them; times as unix seconds), only those present; for a need also
    its responder `priority` (Urgent / Routine / Low, from urgency)."""
    from .vocab import PRIORITIES

    out: dict[str, Any] = {}
    if isinstance(body, r.Need):
        out["priority"] = PRIORITIES[body.urgency]
        if body.substitutes:
            out["substitutes"] = body.substitutes
        if body.deliver_to:
            out["deliver_to"] = body.deliver_to
        if body.needed_by_min:
            out["needed_by"] = created_unix + body.needed_by_min * 60
    if isinstance(body, (r.Need, r.Offer)) and body.pack is not None:
        out["pack"] = {"count": body.pack.count, "unit": UNITS[body.pack.unit]}
    if isinstance(body, r.Offer):
        if body.inputs:
            out["inputs"] = [CATEGORIES[c] for c in body.inputs]
        if body.windows:
            out["windows"] = [[created_unix + w.start_min * 60,
                               created_unix + (w.start_min + w.length_min) * 60]
                              for w in body.windows]
    if isinstance(body, r.Pledge) and body.offer_seq:
        out["offer_seq"] = body.offer_seq
    return out
