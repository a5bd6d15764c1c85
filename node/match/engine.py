"""Matching: for a need, the ranked offers that could cover it (and the chain of
offers that makes it, when it takes one); for an offer, the needs it could serve.

Theory of operation. Candidates come from two indexes of the store: the
objects whose category can serve (same category, a related sector, a step of
the need's recipe) and the objects the full-text index ranks for the words of
the text. Only members' open, unexpired needs and offers take part. Each pair
is scored by the factors of `score` against the need's deadline (its
needed-by, else its valid-until, else the next seven days), and the
offers' stock or capacity left after the pledges that already draw on them
(`capacity`). The result is plain JSON-ready data, the same on every node
that holds the same records: it depends on the ledger and `now` only.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..ledger.vocab import CATEGORIES, OFFER_TYPES, RATE_PERIODS, URGENCIES
from ..store import Store, StoreError
from ..store.sqlconst import PLEDGE
from ..store.store import parse_record_id, record_id
from . import bounds, chains, score, view
from .capacity import availability, is_capacity
from .view import NEED, OFFER, Item
from .vocab import RECIPES, RELATED, Recipe, Step, convert, recipe_for, terms, unit_name

HORIZON_S = 7 * 86400
LIMIT = 10
BATCH = 48  # candidates scored fully at a time (one query for their pledges)


class MatchError(StoreError):
    """A record that cannot be matched (unknown, not a need or offer)."""


def deadline(need: Item, now: float) -> tuple[float, str]:
    """(unix seconds, why) of when the need should be covered."""
    if need.ext.needed_by_min:
        return need.created + need.ext.needed_by_min * 60, "needed by"
    if need.valid_until is not None:
        return float(need.valid_until), "valid until"
    return now + HORIZON_S, "no deadline: the next 7 days"


def place(need: Item, sites: dict[str, tuple[float, float]]) -> tuple[float, float] | None:
    """Where the need is to be delivered: its deliver-to site if a hello places
    it, else the need's own position (or its author's)."""
    target = need.ext.deliver_to
    if target and target.casefold() in sites:
        return sites[target.casefold()]
    return need.position


def _rank_best(ranks: dict[int, float]) -> float | None:
    return min(ranks.values()) if ranks else None


def match(store: Store, text_id: str, now: float | None = None,
          limit: int = LIMIT) -> dict[str, Any]:
    """Match the need or offer `text_id`: JSON-ready, see match_need / match_offer.
    MatchError for an unknown id, a pledge, or a record that is not open."""
    now = store.mesh_now() if now is None else now
    short, seq = parse_record_id(text_id)
    it = view.item(store, short, seq)
    if it is None:
        other = store.db.execute("SELECT kind, ref_short, ref_seq FROM objects WHERE short = ?"
                                 f" AND seq = ? AND kind = {PLEDGE} LIMIT 1",
                                 [short, seq]).fetchone()
        if other is not None:  # a pledge: say so, and which need it is for
            raise MatchError(f"{text_id.strip()} is a pledge: match its need, "
                             f"meshaid match {record_id(bytes(other[1]), other[2])}")
        raise MatchError(f"no need or offer with id {text_id.strip()} is known here")
    status, trust = view.state_of(store, it)
    if status != view.OPEN:
        raise MatchError(f"{it.id} is not open: nothing to match")
    out = match_need(store, it, now, limit) if it.kind == NEED else match_offer(
        store, it, now, limit)
    if trust != "trusted":
        out["note"] = "this record is not from a member (quarantine): shown for reference"
    return out


@dataclass
class _Candidate:
    """A candidate, the upper bound of its score (its score before the draws on
    the offer are known) and the recipe step it would do."""

    ub: float
    item: Item
    step: Step | None
    recipe: Recipe | None
    pair: _Pair | None = None  # the exact score, when the bound is it


Scored = tuple[float, _Candidate, dict[str, Any], float | None]


def _key(it: Item) -> tuple[bytes, int, bytes]:
    """The order of equal scores, the same as the SQL's: short id, seq, author."""
    return (it.short, it.seq, it.author)


Stream = tuple[Iterator[tuple[float, Item]], list[str]]


def _best_first(streams: list[Stream], limit: int, steps: list[str],
                candidate: Callable[[Item], _Candidate | None],
                prepare: Callable[[list[Item]], None],
                full: Callable[[_Candidate], tuple[dict[str, Any], float | None, float]],
                ) -> tuple[list[Scored], int]:
    """Branch and bound over `streams` of rows (each best SQL bound first, with
    the recipe steps its rows can do). A candidate is scored fully unless `limit`
    scored ones, and for its recipe step 1 + ALTERNATIVES of that step, rank
    before it whatever its score (above its bound, or equal with a lower key); a
    stream stops once that holds at a row's SQL bound and key for the list and
    its steps, since every later row of it has a lower bound, or the same and a
    higher key. Exact: the same list and chain as scoring everything. Returns
    (scored, candidates looked at)."""
    overall: list[tuple[float, bytes, int, bytes]] = []  # (-score, key), sorted
    per_step: dict[str, list[tuple[float, bytes, int, bytes]]] = {name: [] for name in steps}
    done: list[Scored] = []
    chunk: list[_Candidate] = []
    seen = 0
    enough_step = 1 + chains.ALTERNATIVES

    def before(ranked: list[tuple[float, bytes, int, bytes]], bound: float,
               key: tuple[bytes, int, bytes]) -> int:
        return bisect.bisect_left(ranked, (-bound, *key))

    def flush() -> None:
        prepare([c.item for c in chunk])
        for c in chunk:
            entry, have, total = full(c)
            done.append((total, c, entry, have))
            bisect.insort(overall, (-total, *_key(c.item)))
            if c.step is not None:
                bisect.insort(per_step[c.step.name], (-total, *_key(c.item)))
        chunk.clear()

    for rows, stream_steps in streams:
        for bound, it in rows:
            key = _key(it)
            if before(overall, bound, key) >= limit and all(
                    before(per_step[name], bound, key) >= enough_step for name in stream_steps):
                break
            seen += 1
            c = candidate(it)
            if c is None:
                continue
            if before(overall, c.ub, key) >= limit and (c.step is None or before(
                    per_step[c.step.name], c.ub, key) >= enough_step):
                continue
            chunk.append(c)
            if len(chunk) >= BATCH:
                flush()
        flush()
    done.sort(key=lambda d: (-d[0], *_key(d[1].item)))
    return done, seen


def _step_filters(recipe: Recipe | None) -> list[tuple[str, list[str]]]:
    """SQL over `o` splitting offers by the recipe step they would do (as
    score.step_for decides: the first step of their category and kind, stock
    for a material), and the rest: one stream each."""
    if recipe is None:
        return [("1", [])]
    out: list[tuple[str, list[str]]] = []
    taken: list[str] = []
    for step in recipe.steps:
        cats = ",".join(str(int(c)) for c in sorted(step.categories))
        cond = f"o.category IN ({cats}) AND o.offer_type {'=' if step.material else '!='} 0"
        out.append((" AND ".join([cond, *(f"NOT ({t})" for t in taken)]), [step.name]))
        taken.append(cond)
    out.append((" AND ".join(f"NOT ({t})" for t in taken), []))
    return out


def match_need(store: Store, need: Item, now: float, limit: int = LIMIT) -> dict[str, Any]:
    """Offers ranked for `need`, each factor explained, and its production chain."""
    recipe = recipe_for(need.text)
    cat_values = dict.fromkeys(RELATED.get(need.category, ()), 0.6)
    cat_values[need.category] = 1.0
    if recipe is not None:
        for each in recipe.steps:
            cat_values.update(dict.fromkeys(each.categories, 1.0))
    ranks = view.text_ranks(store, OFFER, list(terms(need.text)), now)
    best = _rank_best(ranks)
    due, due_why = deadline(need, now)
    target = place(need, view.positions_by_site(store))

    def candidate(offer: Item) -> _Candidate:
        # Scored before its draws are known: an upper bound of its score.
        step = score.step_for(recipe, offer)
        pair = _score(need, offer, step, recipe, ranks.get(offer.rowid), best, now, due,
                      due_why, target, need_side=False)
        return _Candidate(pair.total, offer, step, recipe)

    def full(c: _Candidate) -> tuple[dict[str, Any], float | None, float]:
        pair = _score(need, c.item, c.step, recipe, ranks.get(c.item.rowid), best, now, due,
                      due_why, target, need_side=False)
        return _entry(need, c.item, c.step, pair, now, need_side=False), pair.have, pair.total

    steps = {s.name: s for s in recipe.steps} if recipe else {}
    filters = _step_filters(recipe)
    specs = [(where, "0.25 * ({})".format(bounds.quantity_bound(
        need, steps[names[0]] if names else None, recipe, now, due)))
        for where, names in filters]
    sql_terms = [f"0.10 * ({bounds.distance_bound(target)})", "0.20"]
    rows = view.ranked(store, OFFER, cat_values, _text_values(ranks, best), 0.0, sql_terms,
                       now, specs)
    streams: list[Stream] = [(it, names) for it, (_w, names) in zip(rows, filters, strict=True)]
    done, seen = _best_first(streams, limit, [s.name for s in recipe.steps] if recipe else [],
                             candidate, lambda items: view.attach_draws(store, items), full)
    out = _header(need, now)
    out.update(deadline=int(due), deadline_from=due_why,
               offers=[entry for _t, _c, entry, _h in done[:limit]], candidates=seen,
               scored=len(done), left_out=view.left_out(store, OFFER, set(cat_values)))
    if recipe is not None:
        still = None
        if need.qty:
            still = convert(float(max(0, need.qty - need.pledged)), unit_name(need.unit),
                            recipe.per)
        links = [chains.Link(c.step, c.item, total, have) for total, c, _e, have in done
                 if c.step is not None]
        out["chain"] = chains.build(recipe, still, links)
    return out


def _text_values(ranks: dict[int, float], best: float | None) -> dict[int, float]:
    return {rowid: max(0.0, min(1.0, rank / best)) if best else 0.0
            for rowid, rank in ranks.items()}


def match_offer(store: Store, offer: Item, now: float, limit: int = LIMIT) -> dict[str, Any]:
    """Needs ranked for `offer`, each factor explained, with the offer's own
    stock or capacity windows after what pledges already draw on it."""
    inverse = {need for need, offers in RELATED.items() if offer.category in offers}
    cat_values = dict.fromkeys(inverse, 0.6)
    cat_values[offer.category] = 1.0
    wanted = list(terms(offer.text))
    recipes = [rc for rc in RECIPES if any(offer.category in s.categories for s in rc.steps)]
    for rc in recipes:
        wanted += [w for group in rc.keywords for w in group]
    ranks = view.text_ranks(store, NEED, wanted, now)
    best = _rank_best(ranks)
    view.attach_draws(store, [offer])
    sites = view.positions_by_site(store)

    def candidate(need: Item) -> _Candidate | None:
        recipe = recipe_for(need.text)
        step = score.step_for(recipe, offer)
        if recipe is not None and step is None and offer.category != need.category:
            return None  # a recipe need this offer does no step of
        # The offer's draws are attached already: this is the score itself.
        due, due_why = deadline(need, now)
        pair = _score(need, offer, step, recipe, ranks.get(need.rowid), best, now, due,
                      due_why, place(need, sites), need_side=True)
        return _Candidate(pair.total, need, None, recipe, pair)

    def full(c: _Candidate) -> tuple[dict[str, Any], float | None, float]:
        assert c.pair is not None
        entry = _entry(c.item, offer, score.step_for(c.recipe, offer), c.pair, now,
                       need_side=True)
        return entry, c.pair.have, c.pair.total

    # Quantity and distance at most 1 (a need's deliver-to place needs its
    # extensions); time at most half plus half the urgency's value.
    sql_terms = ["0.25", "0.10", "0.10 + 0.10 * (0.25 + 0.25 * COALESCE(o.urgency, 1))"]
    rows = view.ranked(store, NEED, cat_values, _text_values(ranks, best), 1.0, sql_terms, now)
    done, seen = _best_first([(rows[0], [])], limit, [], candidate, lambda items: None, full)
    out = _header(offer, now)
    avail = availability(offer, now, now + HORIZON_S)
    out.update(needs=[entry for _t, _c, entry, _h in done[:limit]], candidates=seen,
               scored=len(done), drawn=round(avail.drawn, 2),
               over_committed=round(avail.over_committed, 2),
               left_out=view.left_out(store, NEED, set(cat_values)))
    if is_capacity(offer):
        out["windows"] = [w.as_json() for w in avail.windows]
    elif offer.qty:
        out["remaining"] = round(max(0.0, offer.qty - avail.drawn), 2)
    return out


@dataclass
class _Pair:
    """One need and one offer scored: the factors, what the offer covers, the
    availability they used, and what was compared."""

    factors: list[score.Factor]
    have: float | None
    avail: Any
    want: tuple[float, str] | None

    @property
    def total(self) -> float:
        return score.total(self.factors)


def _score(need: Item, offer: Item, step: Step | None, recipe: Recipe | None,
           rank: float | None, best: float | None, now: float, due: float, due_why: str,
           target: tuple[float, float] | None, need_side: bool) -> _Pair:
    """Every factor of one pair, with the offer's draws as attached so far (none
    yet: an upper bound, since draws only take away)."""
    avail = availability(offer, now, due)
    want = score.needed(need, step, recipe)
    qty_factor, have = score.quantity(need, offer, avail, want)
    factors = [score.category(need, offer, step, recipe), score.text(rank, best, need, offer, recipe),
               qty_factor, score.distance(target, offer.position),
               score.time(need, avail, due_why, need_side)]
    return _Pair(factors, have, avail, want)


def _entry(need: Item, offer: Item, step: Step | None, pair: _Pair, now: float,
           need_side: bool) -> dict[str, Any]:
    """The JSON entry of the other side of a scored pair."""
    entry = _header(need if need_side else offer, now)
    entry.update(score=pair.total, factors=[f.as_json() for f in pair.factors],
                 step=None if step is None else step.name,
                 covers=None if pair.have is None else round(pair.have, 2),
                 compared_in=None if pair.want is None else pair.want[1])
    if not need_side and is_capacity(offer):
        entry["windows"] = [w.as_json() for w in pair.avail.windows]
    return entry


def _header(it: Item, now: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": it.id, "kind": "need" if it.kind == NEED else "offer", "text": it.text,
        "category": CATEGORIES.get(it.category, ""), "qty": it.qty, "unit": unit_name(it.unit),
        "site": it.site, "author_name": it.author_name, "valid_until": it.valid_until,
    }
    if it.kind == NEED:
        out.update(urgency=URGENCIES.get(it.urgency), pledged=it.pledged,
                   remaining=max(0, it.qty - it.pledged))
    else:
        out.update(offer_type=OFFER_TYPES.get(it.offer_type, ""),
                   per=RATE_PERIODS.get(it.rate, ""))
    return out
