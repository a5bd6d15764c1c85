"""Ranking factors for one need and one offer, each with its reason.

score = sum of weight x value over the factors, every value in [0, 1]:

  category  0.30  same category, or the offer's category does a step of the
                  need's recipe (a material step wants the material's word in
                  the offer's text), or a related sector (vocab.RELATED)
  text      0.15  the store's full-text rank (bm25) of the offer for the
                  need's words, relative to the best candidate
  quantity  0.25  what the offer still holds by the deadline over what the
                  need (or its step) still takes, at most 1; unknown 0.5
  distance  0.10  1 / (1 + km / 10) between sites with known positions;
                  unknown 0.5
  time      0.20  offer side: the offer can deliver before the need's
                  deadline; need side: half that, half the need's urgency

Only members' open, unexpired records are candidates (trust). Scores are
rounded to 4 decimals and ties broken by record id, so every node holding the
same ledger ranks the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..ledger.vocab import CATEGORIES, URGENCIES
from .capacity import Availability, offer_qty_in
from .view import Item
from .vocab import RELATED, Recipe, Step, convert, terms, unit_name, words

WEIGHTS = {"category": 0.30, "text": 0.15, "quantity": 0.25, "distance": 0.10, "time": 0.20}
URGENCY_VALUE = {0: 0.25, 1: 0.5, 2: 0.75, 3: 1.0}


@dataclass(frozen=True)
class Factor:
    name: str
    value: float
    why: str

    def as_json(self) -> dict[str, object]:
        return {"factor": self.name, "value": round(self.value, 3),
                "weight": WEIGHTS[self.name], "why": self.why}


def total(factors: list[Factor]) -> float:
    """The weighted sum, rounded so that every node agrees on ties."""
    return round(sum(WEIGHTS[f.name] * f.value for f in factors), 4)


def step_for(recipe: Recipe | None, offer: Item) -> Step | None:
    """The first step of `recipe` the offer's category can do."""
    if recipe is None:
        return None
    for step in recipe.steps:
        if offer.category in step.categories and step.material == (offer.offer_type == 0):
            return step
    return None


def category(need: Item, offer: Item, step: Step | None, recipe: Recipe | None) -> Factor:
    name = CATEGORIES.get(offer.category, "?")
    if step is not None and recipe is not None:
        if step.words and not set(words(offer.text)).intersection(step.words):
            return Factor("category", 0.6, f"{name} could be the {step.name} of "
                          f"{recipe.name}, but the text does not say {'/'.join(step.words)}")
        return Factor("category", 1.0, f"{name} does the '{step.name}' step of {recipe.name}")
    if offer.category == need.category:
        return Factor("category", 1.0, f"same category: {name}")
    if offer.category in RELATED.get(need.category, frozenset()):
        return Factor("category", 0.6, f"{name} serves {CATEGORIES.get(need.category, '?')}")
    return Factor("category", 0.0, f"{name} is not {CATEGORIES.get(need.category, '?')}")


def text(rank: float | None, best: float | None, need: Item, offer: Item,
         recipe: Recipe | None) -> Factor:
    shared = sorted(set(terms(need.text)) & set(terms(offer.text)))
    said = (f"shares {', '.join(shared[:4])}" if shared else
            f"names {recipe.name}" if recipe is not None else "shares words")
    if rank is None or not best:
        return Factor("text", 0.0, "no words in common" if not shared else
                      f"{said} (outside the index's best)")
    value = max(0.0, min(1.0, rank / best))
    return Factor("text", value, f"{said} (full-text rank {value:.2f} of the best)")


def needed(need: Item, step: Step | None, recipe: Recipe | None) -> tuple[float, str] | None:
    """What the need still takes, in the unit the offer is compared in: the
    need's remaining quantity, or for a recipe step that times the step's amount."""
    if not need.qty:
        return None
    remaining = max(0, need.qty - need.pledged)
    unit = unit_name(need.unit)
    if step is not None and recipe is not None:
        per = convert(float(remaining), unit, recipe.per)
        return None if per is None else (per * step.amount, step.unit)
    return float(remaining), unit


def quantity(need: Item, offer: Item, avail: Availability,
             want: tuple[float, str] | None) -> tuple[Factor, float | None]:
    """(factor, what the offer covers in the compared unit)."""
    own = unit_name(offer.unit)
    held = "" if avail.amount is None else f"{_fmt(avail.amount)} {own}".strip()
    if avail.over_committed:
        held += f" (over-committed by {_fmt(avail.over_committed)} {own})".rstrip()
    if want is None:
        return Factor("quantity", 0.5, "the need states no quantity"), None
    amount, unit = want
    have = None if avail.amount is None else offer_qty_in(offer, avail.amount, unit)
    if amount <= 0:
        return Factor("quantity", 1.0, "the need is fully pledged already"), have
    if avail.amount is None:
        return Factor("quantity", 0.5, "the offer states no quantity"), None
    if have is None:
        return Factor("quantity", 0.5, f"{held} does not convert to {unit}"), None
    value = min(1.0, have / amount)
    return Factor("quantity", value, f"{_fmt(have)} {unit} available by the deadline "
                  f"for {_fmt(amount)} {unit} still needed" + (
                      f" ({held})" if avail.over_committed else "")), have


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def distance(a: tuple[float, float] | None, b: tuple[float, float] | None) -> Factor:
    if a is None or b is None:
        return Factor("distance", 0.5, "position unknown")
    km = distance_km(a, b)
    return Factor("distance", 1 / (1 + km / 10), f"{km:.1f} km apart")


def time(need: Item, avail: Availability, deadline_why: str, need_side: bool) -> Factor:
    ok = 1.0 if avail.before_deadline else 0.0
    why = (f"available before the deadline ({deadline_why})" if ok else
           f"nothing available before the deadline ({deadline_why})")
    if not need_side:
        return Factor("time", ok, why)
    urgency = URGENCY_VALUE.get(need.urgency, 0.5)
    return Factor("time", 0.5 * ok + 0.5 * urgency,
                  f"{URGENCIES.get(need.urgency, '?')} need; {why}")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"
