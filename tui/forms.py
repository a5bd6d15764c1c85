"""The compose forms as data: which fields each record kind has, and the check
that turns what was typed into a record body or a message per field.

No Textual here: the compose screen calls `check` on every keystroke and shows
the messages next to the fields; the same check runs before posting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from meshaid.node.actions import inputs
from meshaid.node.ledger import records as r
from meshaid.node.ledger.vocab import CATEGORIES, OFFER_TYPES, RATE_PERIODS, UNITS, URGENCIES
from meshaid.node.store.store import StoreError, parse_record_id


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    choices: tuple[str, ...] = ()  # a menu when not empty
    default: str = ""
    placeholder: str = ""
    limit: int = 0  # byte budget of a text field (0: not a text field)


def _names(table: dict[int, str]) -> tuple[str, ...]:
    return tuple(v for v in table.values() if v)


_DURATION_HINT = "90m, 12h, 3d, 2w or never"
FORMS: dict[str, tuple[Field, ...]] = {
    "need": (
        Field("text", "what", placeholder="drinking water", limit=r.TEXT_MAX),
        Field("qty", "quantity", default="0", placeholder="0: unquantified"),
        Field("unit", "unit", _names(UNITS), "pcs"),
        Field("category", "category", _names(CATEGORIES), "water"),
        Field("urgency", "urgency", tuple(reversed(_names(URGENCIES))), "normal"),
        Field("site", "site", placeholder="(your site)", limit=r.SITE_MAX),
        Field("position", "position", placeholder="lat, lon: 43.2965, 5.3698 (optional)"),
        Field("valid_for", "valid for", default="7d", placeholder=_DURATION_HINT),
        Field("substitutes", "substitutes", placeholder="what else would do",
              limit=r.SUBSTITUTES_MAX),
        Field("deliver_to", "deliver to", placeholder="(the site)", limit=r.DELIVER_TO_MAX),
        Field("needed_by", "needed by", placeholder="12h, 3d (optional)"),
        Field("pack", "pack", placeholder="one unit holds: 24 pcs (optional)"),
    ),
    "offer": (
        Field("text", "what", placeholder="M6 brackets, laser + brake", limit=r.TEXT_MAX),
        Field("qty", "quantity", default="0", placeholder="0: unquantified"),
        Field("unit", "unit", _names(UNITS), "pcs"),
        Field("category", "category", _names(CATEGORIES), "sheet-metal"),
        Field("offer_type", "type", _names(OFFER_TYPES), "stock"),
        Field("per", "per", ("-",) + _names(RATE_PERIODS), "-"),
        Field("site", "site", placeholder="(your site)", limit=r.SITE_MAX),
        Field("position", "position", placeholder="lat, lon: 43.2965, 5.3698 (optional)"),
        Field("valid_for", "valid for", default="7d", placeholder=_DURATION_HINT),
        Field("pack", "pack", placeholder="one unit holds: 6 L (optional)"),
        Field("inputs", "inputs", placeholder="categories it consumes: metal fuel"),
        Field("windows", "windows", placeholder="START+LENGTH: 0h+10h 1d+10h"),
    ),
    "pledge": (
        Field("need", "for need", placeholder="1a2b3c4d-7"),
        Field("qty", "quantity", placeholder="how much you will cover"),
        Field("by", "by", placeholder="90m, 12h, 3d (optional)"),
        Field("text", "note", placeholder="water truck", limit=r.TEXT_MAX),
        Field("from_offer", "from offer", placeholder="one of your own offers (optional)"),
    ),
    "update": (
        Field("target", "record", placeholder="one of your own: 1a2b3c4d-7"),
        Field("status", "state", ("open", "fulfilled", "withdrawn", "delivered"), "open"),
        Field("qty", "quantity", placeholder="(unchanged)"),
        Field("delivered", "delivered", placeholder="(unchanged)"),
        Field("renew", "renew for", placeholder="e.g. 2d (reopens)"),
        Field("note", "note", limit=r.NOTE_MAX),
    ),
}

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw]?)\s*$")
_UNIT_MIN = {"": 60, "m": 1, "h": 60, "d": 1440, "w": 10080}


def minutes(text: str) -> int:
    """'90m', '12h', '3d', '2w' (a bare number is hours) -> minutes; 0 for none.
    Raises ValueError with a message."""
    if text.strip().lower() in ("", "0", "never"):
        return 0
    match = _DURATION.match(text.lower())
    if not match:
        raise ValueError(f"not a duration: {_DURATION_HINT}")
    value = int(match.group(1)) * _UNIT_MIN[match.group(2)]
    if value > r.MINUTES_MAX:
        raise ValueError("too long: at most about four years")
    return value


def _qty(text: str, *, required: bool = False) -> int:
    text = text.strip()
    if not text:
        if required:
            raise ValueError("required")
        return 0
    if not text.isdigit():
        raise ValueError("a whole number, 0 or more")
    value = int(text)
    if value > r.QTY_MAX:
        raise ValueError(f"at most {r.QTY_MAX}")
    return value


def _text(value: str, limit: int, *, required: bool = False) -> str:
    used = len(value.encode("utf-8"))
    if required and not value.strip():
        raise ValueError("required")
    if used > limit:
        raise ValueError(f"{used} bytes, at most {limit}")
    return value.strip()


def _code(table: dict[int, str], name: str) -> int:
    for code, label in table.items():
        if label == name:
            return code
    raise ValueError("pick one from the menu")


@dataclass
class Context:
    """What the checks need to know about the ledger: open needs by id, and this
    node's own needs, offers and pledges by id (with their current state)."""

    needs: dict[str, dict[str, Any]] = field(default_factory=dict)
    own: dict[str, dict[str, Any]] = field(default_factory=dict)


def check(kind: str, values: dict[str, str], ctx: Context) -> tuple[r.Body | None, dict[str, str]]:
    """The body the form describes, or None and a message for each bad field."""
    errors: dict[str, str] = {}

    def get(name: str, parse: Any) -> Any:
        try:
            return parse(values.get(name, ""))
        except (ValueError, StoreError) as exc:
            errors[name] = str(exc)
            return None

    body: r.Body | None = None
    if kind in ("need", "offer"):
        text = get("text", lambda v: _text(v, r.TEXT_MAX, required=True))
        qty = get("qty", _qty)
        unit = get("unit", lambda v: _code(UNITS, v))
        category = get("category", lambda v: _code(CATEGORIES, v))
        site = get("site", lambda v: _text(v, r.SITE_MAX))
        valid = get("valid_for", minutes)
        where = get("position", inputs.position_text)
        if kind == "need":
            urgency = get("urgency", lambda v: _code(URGENCIES, v))
            subs = get("substitutes",
                       lambda v: inputs.text(v, r.SUBSTITUTES_MAX, "substitutes"))
            deliver = get("deliver_to", lambda v: inputs.text(v, r.DELIVER_TO_MAX, "deliver-to"))
            needed = get("needed_by", lambda v: inputs.duration(v, "needed-by"))
            pack = get("pack", inputs.pack)
            if not errors:
                body = r.Need(category, text, qty, unit, urgency, valid, site, where, subs,
                              deliver, needed, pack)
                if subs or deliver or needed or pack:
                    get("text", lambda _: inputs.ext_texts(site, text, subs, deliver))
        else:
            offer_type = get("offer_type", lambda v: _code(OFFER_TYPES, v))
            rate = get("per", lambda v: 0 if v in ("", "-") else _code(RATE_PERIODS, v))
            pack = get("pack", inputs.pack)
            needs = get("inputs", lambda v: inputs.categories(split_list(v), "input"))
            windows = get("windows", lambda v: inputs.windows(split_list(v)))
            if not errors:
                body = r.Offer(category, text, qty, unit, offer_type, rate, valid, site, where,
                               pack, needs, windows)
                if pack or needs or windows:
                    get("text", lambda _: inputs.ext_texts(site, text))
    elif kind == "pledge":
        need = get("need", lambda v: _known(v, ctx.needs, "no open need with this id"))
        qty = get("qty", lambda v: _positive(_qty(v, required=True)))
        by = get("by", minutes)
        text = get("text", lambda v: _text(v, r.TEXT_MAX))
        offer = get("from_offer", lambda v: _own_offer(v, ctx.own))
        if not errors:
            short, seq = parse_record_id(need)
            body = r.Pledge(short, seq, qty, by, text, offer)
    elif kind == "update":
        target = get("target", lambda v: _known(v, ctx.own, "not one of your own records"))
        status = get("status", lambda v: _code({0: "open", 1: "fulfilled", 2: "withdrawn",
                                                  3: "delivered"}, v))
        qty = get("qty", _qty)
        delivered = get("delivered", _qty)
        renew = get("renew", minutes)
        note = get("note", lambda v: _text(v, r.NOTE_MAX))
        if not errors:
            current = ctx.own[target.strip()]
            if status == 3 and current["kind"] != "pledge":
                errors["status"] = "only a pledge is delivered; a need is fulfilled"
            else:
                new_qty = qty if values.get("qty", "").strip() else current["qty"]
                old_delivered = current.get("delivered") or 0
                new_delivered = (delivered if values.get("delivered", "").strip()
                                 else new_qty if status == 3 else old_delivered)
                _, seq = parse_record_id(target)
                body = r.Update(seq, status, new_qty, new_delivered, renew, note)
    else:
        raise ValueError(f"no form for {kind!r}")
    return (None if errors else body), errors


def _known(text: str, table: dict[str, dict[str, Any]], message: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("required")
    parse_record_id(text)
    if text not in table:
        raise ValueError(message)
    return text


def split_list(text: str) -> list[str]:
    """The items of a list typed in one field, separated by commas or spaces."""
    return text.replace(",", " ").split()


def _own_offer(text: str, own: dict[str, dict[str, Any]]) -> int:
    """The seq of one of this node's own open offers; 0 when the field is empty.
    (The action checks again against the ledger when it signs.)"""
    if not text.strip():
        return 0
    rid = _known(text, own, "not one of your own offers")
    obj = own[rid]
    if obj["kind"] != "offer":
        raise ValueError(f"a {obj['kind']}, not an offer")
    if obj.get("status") in ("withdrawn", "fulfilled", "delivered"):
        raise ValueError(f"that offer is {obj['status']}")
    return inputs.record_id(rid)[1]


def _positive(value: int) -> int:
    if value < 1:
        raise ValueError("at least 1")
    return value
