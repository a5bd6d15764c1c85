"""One CSV cell at a time: the values of a stock list or manifest turned into
what a record field can carry, or InvalidInput saying why not. Used by
`csvin`; nothing is ever cut or guessed silently."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from ..actions import InvalidInput, inputs
from ..ledger import records as r
from ..ledger.extensions import windows_problem

URGENCY_ALIASES = {"urgent": "high", "immediate": "critical", "routine": "normal",
                   "medium": "normal"}
UNIT_ALIASES = {"piece": "pcs", "pieces": "pcs", "pc": "pcs", "ea": "pcs", "each": "pcs",
                "litre": "L", "liter": "L", "litres": "L", "liters": "L", "kgs": "kg",
                "meals": "meal", "persons": "person", "people": "person", "boxes": "box",
                "pallets": "pallet", "beds": "bed", "trips": "trip", "doses": "dose"}


def alias(table: dict[str, str], value: str) -> str:
    """`value` trimmed, or the vocabulary name it is another spelling of."""
    return table.get(value.strip().lower(), value.strip())


def vocab(table: dict[int, str], value: str, what: str) -> int:
    """The code of vocabulary name `value`; an empty cell says how to fill it."""
    if not value:
        raise InvalidInput(f"the {what} cell is empty (give a column or --set {what}=...)"
                           if what == "category" else f"the {what} cell is empty")
    return inputs.vocab(table, value, what)


_THOUSANDS = re.compile(r"^\d{1,3}([, _]\d{3})+$")


def quantity(value: str) -> int:
    """A whole quantity the wire carries ('1,200' is 1200; '' is 0)."""
    text = value.strip()
    if not text:
        return 0
    if _THOUSANDS.match(text):
        text = re.sub(r"[, _]", "", text)
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"quantity {value!r} is not a number") from None
    shown = text if len(text) <= 24 else f"{text[:20]}..."  # the cell, not float's rounding
    if number > r.QTY_MAX or text.isdigit() and len(text) > 9:
        raise InvalidInput(f"quantity must be at most {r.QTY_MAX}, not {shown}")
    if number < 0:
        raise InvalidInput(f"quantity must be at least 0, not {shown}")
    if not math.isfinite(number) or number != int(number):
        raise InvalidInput(f"quantity {value!r} is not a whole number")
    return inputs.quantity(int(number))


def position(lat: str, lon: str) -> r.Position | None:
    """A position from two cells in degrees, both or neither."""
    if not lat and not lon:
        return None
    try:
        values = (float(lat) if lat else None, float(lon) if lon else None)
    except ValueError:
        raise InvalidInput(f"position {lat!r}, {lon!r} is not two numbers") from None
    return inputs.position(*values)


def parse_date(value: str) -> float:
    """Unix seconds of an ISO 8601 date or date-time; a time without a zone is UTC."""
    text = value.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"date {value!r} is not ISO 8601, like 2026-12-05 or "
                           "2026-12-05T18:00:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def needed_by(value: str, now: float) -> int:
    """Minutes from `now` to a needed-by date (rounded up); an overdue date is
    kept as due at once (1 minute); 0 for none."""
    if not value:
        return 0
    minutes = max(1, math.ceil((parse_date(value) - now) / 60))
    if minutes > r.MINUTES_MAX:
        raise InvalidInput(f"needed by {value} is more than {inputs.MAX_DAYS} days away")
    return minutes


def windows(value: str, now: float) -> tuple[r.Window, ...] | None:
    """Availability windows 'START/END; START/END' (ISO 8601) as minutes from `now`;
    windows that ended are dropped, one under way starts now. None for no windows,
    () when every window has ended."""
    if not value.strip():
        return None
    out = []
    for part in value.split(";"):
        start_text, slash, end_text = part.strip().partition("/")
        if not slash:
            raise InvalidInput(f"window {part.strip()!r} is not START/END, like "
                               "2026-12-02T08:00Z/2026-12-02T16:00Z")
        start, end = parse_date(start_text), parse_date(end_text)
        if end <= start:
            raise InvalidInput(f"window {part.strip()!r} ends before it starts")
        if end <= now:
            continue
        begin = max(0, math.floor((start - now) / 60))
        out.append(r.Window(begin, max(1, math.ceil((end - now) / 60) - begin)))
    if out and (problem := windows_problem(tuple(out))):
        raise InvalidInput(problem)
    return tuple(out)


def minutes(value: str, now: float, default: int) -> int:
    """Minutes from `now` until the date `value` (rounded up), `default` for none,
    -1 when the date has passed."""
    if not value:
        return default
    left = parse_date(value) - now
    if left <= 0:
        return -1
    minutes = math.ceil(left / 60)
    if minutes > r.MINUTES_MAX:
        raise InvalidInput(f"valid until {value} is more than {inputs.MAX_DAYS} days away")
    return minutes
