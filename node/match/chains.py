"""Production chains: the offers that together make what a need asks for.

For a need whose text names a recipe (vocab.RECIPES), each step (material,
then processes) takes its best-ranked candidate offer; the chain is those
links in production order. Each link can supply `available / amount` units of
the product by the deadline; the chain makes the least of these, and the link
that sets it is the **bottleneck** (a missing link is the bottleneck of an
incomplete chain). A process whose offer consumes inputs (offer extension)
that no earlier link supplies is pointed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ledger.vocab import CATEGORIES
from .view import Item
from .vocab import Recipe, Step

ALTERNATIVES = 2


@dataclass(frozen=True)
class Link:
    """A candidate offer for one step: score, and what it holds in the step's unit."""

    step: Step
    offer: Item
    score: float
    have: float | None  # in step.unit by the deadline; None: unknown


def _fmt(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 2)


def build(recipe: Recipe, still: float | None, links: list[Link]) -> dict[str, Any]:
    """The chain for `recipe` from scored candidate links; `still` is how much of
    the product (in recipe.per) the need still takes, None if unquantified."""
    by_step: dict[str, list[Link]] = {s.name: [] for s in recipe.steps}
    for link in links:
        by_step[link.step.name].append(link)
    out_links: list[dict[str, Any]] = []
    makes: list[tuple[float, int, str]] = []  # (units of product, step index, step)
    supplied: set[int] = set()
    missing: list[str] = []
    for index, step in enumerate(recipe.steps):
        ranked = sorted(by_step[step.name],
                        key=lambda lk: (-lk.score, lk.offer.short, lk.offer.seq, lk.offer.author))
        if not ranked:
            missing.append(step.name)
            out_links.append({"step": step.name, "offer": None, "unit": step.unit,
                              "needed": None if still is None else _fmt(still * step.amount),
                              "why": f"no open offer does {step.name} "
                                     f"({', '.join(CATEGORIES[c] for c in sorted(step.categories))})"})
            continue
        best = ranked[0]
        can = None if best.have is None else best.have / step.amount
        if can is not None:
            makes.append((can, index, step.name))
        lacking = [CATEGORIES.get(c, "?") for c in best.offer.body_inputs()
                   if c not in supplied]
        supplied.add(best.offer.category)
        need_amount = None if still is None else still * step.amount
        row: dict[str, Any] = {
            "step": step.name, "offer": best.offer.id, "text": best.offer.text,
            "site": best.offer.site, "author_name": best.offer.author_name,
            "score": best.score, "unit": step.unit,
            "needed": None if need_amount is None else _fmt(need_amount),
            "available": None if best.have is None else _fmt(best.have),
            "makes": None if can is None else _fmt(can),
            "alternatives": [lk.offer.id for lk in ranked[1:1 + ALTERNATIVES]],
        }
        if lacking:
            row["inputs_missing"] = lacking
        out_links.append(row)
    complete = not missing
    if missing:
        bottleneck, limit = missing[0], 0.0
    elif makes:
        limit, _i, bottleneck = min(makes)
    else:
        bottleneck, limit = "", 0.0
    chain = {"recipe": recipe.name, "per": recipe.per, "complete": complete,
             "links": out_links, "bottleneck": bottleneck or None,
             "makes": _fmt(limit) if makes and complete else None,
             "still_needed": None if still is None else _fmt(still)}
    chain["why"] = _why(recipe, chain, still)
    return chain


def _why(recipe: Recipe, chain: dict[str, Any], still: float | None) -> str:
    path = " → ".join(f"{lk['step']} ({lk.get('site') or lk.get('author_name') or lk['offer']})"
                      if lk["offer"] else f"[{lk['step']}: none]" for lk in chain["links"])
    if not chain["complete"]:
        return f"{recipe.name}: {path}; incomplete, nothing does {chain['bottleneck']}"
    if chain["makes"] is None or still is None:
        return f"{recipe.name}: {path}; bottleneck unknown (quantities do not compare)"
    share = "all of" if chain["makes"] >= still else f"{chain['makes']} {recipe.per} of"
    return (f"{recipe.name}: {path}; covers {share} the {_fmt(still)} {recipe.per} still "
            f"needed by the deadline; bottleneck: {chain['bottleneck']}")
