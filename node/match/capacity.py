"""What an offer still holds: stock less what pledges draw on it, or capacity per
availability window less what pledges booked in that window.

A capacity offer (type capacity with a rate) makes `qty` of its unit per hour,
day or week. A window is its working time: one shorter than the rate's period
holds one period's quantity (8 h/day in a 10-hour shift), a longer one its
length in periods; with no windows, the rate runs from the offer's posting
until it expires. Capacity between now and a deadline counts each window's
share that falls inside them. A pledge that draws on it (pledge extension, node/PROTOCOL.md) books
the window that contains its `by` time, else the first window not yet ended
when it was made, else the last. Its quantity is in the need's unit; it is
converted to the offer's (same unit, a standard conversion, the offer's pack,
or the shipped recipe's amount per unit of product). A window booked beyond
what it can make is over-committed, like a need pledged beyond its quantity.
Everything else with a quantity is stock: qty less every draw.
"""

from __future__ import annotations

from dataclasses import dataclass

from .view import Draw, Item
from .vocab import convert, recipe_for, unit_name

PERIOD_MIN = {1: 60, 2: 1440, 3: 10080}
CAPACITY = 1


@dataclass(frozen=True)
class WindowState:
    """One availability window of a capacity offer (unix seconds; end None: open)."""

    start: int
    end: int | None
    capacity: float | None  # None: open-ended
    pledged: float
    remaining: float | None
    over_committed: float

    def as_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "capacity": _num(self.capacity),
                "pledged": _num(self.pledged), "remaining": _num(self.remaining),
                "over_committed": _num(self.over_committed)}


def _num(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else round(x, 2)


def is_capacity(offer: Item) -> bool:
    """A rate-based capacity (it renews per period), not stock."""
    return offer.offer_type == CAPACITY and offer.rate in PERIOD_MIN


def offer_qty_in(offer: Item, qty: float, unit: str) -> float | None:
    """`qty` of the offer's unit expressed in `unit` (through its pack if need be)."""
    own = unit_name(offer.unit)
    direct = convert(qty, own, unit)
    if direct is not None:
        return direct
    pack = offer.ext.pack
    if pack is not None:
        return convert(qty * pack.count, unit_name(pack.unit), unit)
    return None


def to_offer_units(offer: Item, qty: float, need_unit: str, need_text: str) -> float:
    """A pledge's `qty` (in its need's unit) as what it takes from `offer`."""
    recipe = recipe_for(need_text)
    if recipe is not None:
        per = convert(qty, need_unit, recipe.per)
        for step in recipe.steps:
            if offer.category in step.categories and per is not None:
                took = per * step.amount
                back = _from_unit(offer, took, step.unit)
                if back is not None:
                    return back
    back = _from_unit(offer, qty, need_unit)
    return qty if back is None else back


def drawn_qty(offer: Item, d: Draw) -> float:
    """What pledge `d` takes from `offer`, in the offer's unit."""
    return to_offer_units(offer, d.qty, d.need_unit, d.need_text)


def _from_unit(offer: Item, qty: float, unit: str) -> float | None:
    """`qty` of `unit` in the offer's own unit."""
    one = offer_qty_in(offer, 1.0, unit)
    return None if not one else qty / one


def windows(offer: Item) -> list[tuple[int, int | None]]:
    """The offer's availability windows in unix seconds."""
    if offer.ext.windows:
        return [(offer.created + w.start_min * 60, offer.created + (w.start_min + w.length_min) * 60)
                for w in offer.ext.windows]
    return [(offer.created, offer.valid_until)]


def window_capacity(offer: Item, seconds: float) -> float:
    """What a window of `seconds` holds: one period's qty at least, else its
    length in periods."""
    period = PERIOD_MIN[offer.rate] * 60
    return offer.qty * max(1.0, seconds / period)


def window_states(offer: Item) -> list[WindowState]:
    """Each window with its capacity, what pledges booked in it and what is left."""
    spans = windows(offer)
    booked = [0.0] * len(spans)
    for d in offer.drawn:
        booked[_window_index(spans, d.created, d.by)] += drawn_qty(offer, d)
    out = []
    for (start, end), pledged in zip(spans, booked, strict=True):
        cap = None if end is None else window_capacity(offer, end - start)
        remaining = None if cap is None else max(0.0, cap - pledged)
        over = 0.0 if cap is None else max(0.0, pledged - cap)
        out.append(WindowState(start, end, cap, pledged, remaining, over))
    return out


def _window_index(spans: list[tuple[int, int | None]], created: int, by: int | None) -> int:
    if by is not None:
        for i, (start, end) in enumerate(spans):
            if start <= by and (end is None or by < end):
                return i
    for i, (_start, end) in enumerate(spans):
        if end is None or end > created:
            return i
    return len(spans) - 1


@dataclass(frozen=True)
class Availability:
    """What an offer can still give by a deadline, in its own unit."""

    amount: float | None  # None: no quantity stated
    drawn: float  # booked by pledges (all windows, or the stock)
    over_committed: float
    before_deadline: bool  # any of it can be had before the deadline
    windows: list[WindowState]


def availability(offer: Item, now: float, deadline: float) -> Availability:
    """Stock on hand less draws, or capacity in [now, deadline] less what is
    booked in those windows."""
    drawn = sum(drawn_qty(offer, d) for d in offer.drawn)
    if not is_capacity(offer):
        soon = offer.valid_until is None or offer.valid_until > now
        if not offer.qty:
            return Availability(None, drawn, 0.0, soon, [])
        return Availability(max(0.0, offer.qty - drawn), drawn, max(0.0, drawn - offer.qty),
                            soon, [])
    states = window_states(offer)
    total, before = 0.0, False
    for w in states:
        lo = max(now, w.start)
        hi = deadline if w.end is None else min(deadline, w.end)
        if offer.valid_until is not None:
            hi = min(hi, offer.valid_until)
        if hi <= lo:
            continue
        before = True
        if w.end is None:  # open-ended: the rate, continuously
            total += offer.qty * (hi - lo) / (PERIOD_MIN[offer.rate] * 60)
            continue
        share = (hi - lo) / (w.end - w.start)
        assert w.capacity is not None and w.remaining is not None
        total += min(w.capacity * share, w.remaining)
    over = sum(w.over_committed for w in states)
    return Availability(total, drawn, over, before, states)
