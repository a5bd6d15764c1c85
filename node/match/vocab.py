"""The shipped matching vocabulary: which categories serve which, the products
that take a production chain (inputs plus processes), and unit conversions.

Every node ships the same tables, so every node derives the same matches from
the same ledger. A **recipe** names a product by words of a need's text and
lists its steps in production order: first the material (stock), then each
process (capacity), each with the categories that can do it and how much of
it one unit of the product takes. "armour plate" per m2: 1 m2 of steel plate
from stock, 0.5 machine hours of cutting, 1 hour of welding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..ledger.vocab import CATEGORIES, UNITS, code_for


def cat(*names: str) -> frozenset[int]:
    """Category codes by name."""
    return frozenset(code_for(CATEGORIES, n, "category") for n in names)


@dataclass(frozen=True)
class Step:
    """One link of a production chain."""

    name: str  # "steel", "cutting"
    categories: frozenset[int]  # offer categories that can do it
    amount: float  # how much one unit of the product takes, in `unit`
    unit: str  # a UNITS name
    material: bool = False  # stock to draw on, else a process (capacity)
    words: tuple[str, ...] = ()  # a material offer's text should say one of these


@dataclass(frozen=True)
class Recipe:
    """A product that a chain of offers makes; amounts are per one `per`."""

    name: str
    keywords: tuple[tuple[str, ...], ...]  # every group must have a word in the text
    per: str  # a UNITS name
    steps: tuple[Step, ...]


CUTTING = cat("cutting", "machining", "sheet-metal")
RECIPES: tuple[Recipe, ...] = (
    Recipe("armour plate", (("armour", "armor", "ballistic"), ("plate", "plates", "panel")),
           "m2", (Step("steel plate", cat("metal"), 1.0, "m2", True, ("steel",)),
                  Step("cutting", CUTTING, 0.5, "h"),
                  Step("welding", cat("welding"), 1.0, "h"))),
    Recipe("splint", (("splint", "splints"),), "pcs",
           (Step("aluminium bar", cat("metal"), 0.3, "kg", True, ("aluminium", "aluminum")),
            Step("shaping", cat("machining", "casting", "sheet-metal"), 0.1, "h"))),
    Recipe("bracket", (("bracket", "brackets"),), "pcs",
           (Step("steel sheet", cat("metal"), 0.2, "kg", True, ("steel",)),
            Step("forming", cat("sheet-metal", "cutting", "machining"), 0.05, "h"))),
    Recipe("water tank", (("tank", "tanks", "cistern"),), "pcs",
           (Step("steel sheet", cat("metal"), 40.0, "kg", True, ("steel",)),
            Step("cutting", CUTTING, 1.0, "h"),
            Step("welding", cat("welding"), 3.0, "h"))),
    Recipe("radio relay", (("relay", "relays", "repeater"),), "pcs",
           (Step("LoRa module", cat("parts", "electronics"), 1.0, "pcs", True,
                 ("lora", "sx1262", "module", "modules")),
            Step("assembly", cat("electronics"), 0.5, "h"),
            Step("enclosure", cat("3d-printing", "sheet-metal"), 0.2, "h"))),
)

# Sectors that other categories serve directly (besides the same category).
RELATED: dict[int, frozenset[int]] = {
    code_for(CATEGORIES, need, "category"): cat(*offers) for need, offers in {
        "repair": ("electronics", "machining", "welding", "sheet-metal"),
        "shelter": ("timber", "fabric", "woodwork", "sewing"),
        "energy": ("fuel",),
        "cooking": ("food",),
        "food": ("cooking",),
        "health": ("3d-printing",),
        "communications": ("electronics", "parts"),
        "electronics": ("parts",),
        "transport": ("fuel", "repair"),
        "logistics": ("transport",),
    }.items()
}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-case words of `text` (letters and digits)."""
    return _WORD.findall(text.casefold())


STOP = frozenset({"for", "and", "the", "with", "from", "to", "of", "or", "up", "a", "an"})


@lru_cache(maxsize=8192)
def terms(text: str) -> tuple[str, ...]:
    """The words of `text` worth matching on: three letters or more, not a
    number, not a stop word."""
    return tuple(w for w in words(text) if len(w) > 2 and not w.isdigit() and w not in STOP)


@lru_cache(maxsize=8192)
def recipe_for(text: str) -> Recipe | None:
    """The first recipe whose every keyword group has a word in `text`."""
    found = set(words(text))
    for recipe in RECIPES:
        if all(found.intersection(group) for group in recipe.keywords):
            return recipe
    return None


# Unit conversions: (dimension, factor to the dimension's base unit).
_DIMENSION: dict[str, tuple[str, float]] = {
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "t": ("mass", 1000.0),
    "L": ("volume", 1.0), "mL": ("volume", 0.001), "m3": ("volume", 1000.0),
}


def convert(qty: float, unit: str, to: str) -> float | None:
    """`qty` of `unit` in `to`, or None when the two do not convert."""
    if unit == to:
        return qty
    a, b = _DIMENSION.get(unit), _DIMENSION.get(to)
    if a is None or b is None or a[0] != b[0]:
        return None
    return qty * a[1] / b[1]


def unit_name(code: int | None) -> str:
    """The UNITS name of `code` ('' for None)."""
    return UNITS.get(code, "") if code is not None else ""
