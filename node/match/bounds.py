"""An SQL upper bound of the quantity factor of every offer for one need, so
that the database can order candidates close to their final score and the
branch and bound in `engine` stops early.

For each offer the quantity factor compares what it holds by the deadline
with what the need (or the recipe step the offer would do) still takes, in
that step's unit. From columns alone, without the offer's extensions or the
pledges drawing on it: stock holds at most its qty; a capacity at most its
qty x (3 + the time to the deadline, or to its own expiry if sooner, in rate
periods), three windows at most each holding a whole period or their overlap
in periods. Where the units do
not convert directly (a pack might), the bound is 1. Where nothing is
compared (the need has no quantity, or its unit does not convert to the
recipe's), the factor is exactly 0.5, as in `score.quantity`; so it is for an
offer whose unit does not convert and that has no pack (SQL looks for the pack
tag among the last bytes before the signature, where extensions are).
"""

from __future__ import annotations

from ..ledger import records as r
from ..ledger.vocab import UNITS
from .score import needed
from .view import Item
from .vocab import Recipe, Step, convert

# An offer's extensions take at most: pack 5, inputs 2 + 3, windows 2 + 3 x 5 bytes.
EXT_MAX = 5 + 2 + r.INPUTS_MAX + 2 + r.WINDOWS_MAX * (r.MINUTES_BYTES + r.WINDOW_LEN_BYTES)
_PERIODS = {1: 3600.0, 2: 86400.0, 3: 604800.0}
_PERIOD_S = "(CASE o.rate WHEN 1 THEN 3600.0 WHEN 2 THEN 86400.0 ELSE 604800.0 END)"


def _compared(need: Item, step: Step | None, recipe: Recipe | None, mult: str) -> str:
    """SQL for the bound when comparing in the unit `needed` gives (numbers are
    written into the SQL: they are computed here, never typed by anyone)."""
    want = needed(need, step, recipe)
    if want is None:
        return "0.5"
    amount, unit = want
    if amount <= 0:
        return "1.0"
    cases = ["WHEN o.qty = 0 THEN 0.5"]
    for code, name in sorted(UNITS.items()):
        factor = convert(1.0, name, unit)
        if factor is not None:
            cases.append(f"WHEN o.unit = {int(code)} THEN MIN(1.0, o.qty * {float(factor)!r}"
                         f" * {mult} / {float(amount)!r})")
    # Units that do not convert compare only through a pack: extension tag 4, in
    # the last EXT_MAX bytes before the signature when present (a byte 4 there
    # may be something else: the bound is then 1, looser, never wrong).
    tail = f"substr(rec.raw, {-r.SIG_LEN - EXT_MAX}, {EXT_MAX})"
    pack = f"CASE WHEN instr({tail}, x'04') > 0 THEN 1.0 ELSE 0.5 END"
    return f"CASE {' '.join(cases)} ELSE {pack} END"


def quantity_bound(need: Item, step: Step | None, recipe: Recipe | None, now: float,
                   due: float) -> str:
    """SQL over objects `o` and records `rec`: at least the quantity factor of
    any offer doing `step` of `recipe` (None: compared with the need directly)
    for `need`, by the deadline `due` (unix seconds; an offer works until its
    own valid-until at most)."""
    until = f"MIN({float(due)!r}, COALESCE(o.valid_until, {float(due)!r}))"
    hours = f"MAX(0.0, {until} - {float(now)!r})"
    mult = (f"(CASE WHEN o.offer_type = 1 AND o.rate IN (1, 2, 3) THEN 3 + "
            f"{hours} / {_PERIOD_S} ELSE 1 END)")
    return _compared(need, step, recipe, mult)


def distance_bound(target: tuple[float, float] | None) -> str:
    """SQL over objects `o` and hello `k`: at least the distance factor from
    `target`. A great circle is at least 111.19 km per degree of latitude
    between its ends, so 1 / (1 + 11.1 x |dlat|) bounds 1 / (1 + km / 10)."""
    if target is None:
        return "0.5"
    lat = "COALESCE(o.lat, k.lat)"
    return (f"CASE WHEN {lat} IS NULL THEN 0.5 ELSE 1.0 / (1.0 + 11.1 * "
            f"ABS({lat} - {float(target[0])!r})) END")
