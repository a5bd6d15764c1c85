"""Matching on the port story's ledger: the armour-plate chain dock steel →
machine shop → foundry with its bottleneck, a welding window already partly
pledged, over-commitment of a window and of stock, trust, and offers → needs."""

from __future__ import annotations

import pytest
from ledger_helpers import NOW, Actor

from meshaid.node.ledger import records as r
from meshaid.node.ledger.identity import short_id
from meshaid.node.match import MatchError, match
from meshaid.node.store.store import parse_record_id

from .port import build, lines_with


def test_the_armour_plate_need_gets_the_chain_dock_machine_shop_foundry() -> None:
    port, store = build()
    res = match(store, port.id("armour"), now=NOW)
    chain = res["chain"]
    assert chain["recipe"] == "armour plate" and chain["complete"]
    assert [(lk["step"], lk["site"]) for lk in chain["links"]] == [
        ("steel plate", "Dock 4 manifests"), ("cutting", "Machine shop"), ("welding", "Foundry")]
    assert chain["links"][0]["offer"] == port.id("steel")
    assert chain["links"][2]["offer"] == port.id("welding")
    # 6 m2 asked, 2 m2 pledged by the foundry: 4 m2 still needed.
    assert res["remaining"] == 4 and chain["still_needed"] == 4
    steel, cutting, welding = chain["links"]
    assert (steel["needed"], steel["available"]) == (4, 60)  # 30 sheets of 2 m2 (pack)
    assert cutting["needed"] == 2  # 0.5 machine hours per m2
    # Welding: two 12-hour shifts of 6 h; the first is 1 h gone and 2 h booked.
    assert (welding["needed"], welding["available"]) == (4, 10)
    assert chain["bottleneck"] == "welding" and chain["makes"] == 10
    assert "covers all of the 4 m2" in chain["why"] and "bottleneck: welding" in chain["why"]
    assert lines_with(res, "<- bottleneck")[0].lstrip().startswith("3. welding")


def test_each_ranked_offer_explains_every_factor() -> None:
    port, store = build()
    res = match(store, port.id("armour"), now=NOW)
    top = res["offers"][0]
    assert top["id"] == port.id("steel") and top["step"] == "steel plate"
    assert [f["factor"] for f in top["factors"]] == ["category", "text", "quantity",
                                                       "distance", "time"]
    why = {f["factor"]: f["why"] for f in top["factors"]}
    assert "does the 'steel plate' step of armour plate" in why["category"]
    assert "shares plate, steel" in why["text"] or "shares plate" in why["text"]
    assert "60 m2 available" in why["quantity"]
    assert "km apart" in why["distance"]
    assert "needed by" in why["time"]
    weights = sum(f["weight"] for f in top["factors"])
    assert top["score"] == pytest.approx(sum(f["value"] * f["weight"] for f in top["factors"]),
                                         abs=1e-3)
    assert weights == pytest.approx(1.0)
    scores = [o["score"] for o in res["offers"]]
    assert scores == sorted(scores, reverse=True)


def test_a_partly_pledged_window_shows_what_is_left() -> None:
    port, store = build()
    res = match(store, port.id("welding"), now=NOW)
    first, second = res["windows"]
    assert (first["capacity"], first["pledged"], first["remaining"]) == (6, 2, 4)
    assert (second["capacity"], second["pledged"], second["remaining"]) == (6, 0, 6)
    assert res["over_committed"] == 0
    assert res["needs"][0]["id"] == port.id("armour")
    assert res["needs"][0]["step"] == "welding"
    assert lines_with(res, "window 1")[0].endswith("6 h, 2 booked, 4 left")


def test_booking_a_window_beyond_its_capacity_is_over_commitment() -> None:
    port, store = build()
    welding_seq = parse_record_id(port.id("welding"))[1]
    tank = port.add(store, "kitchen", r.Need(1, "water tank, 500 L", 2, 0, 2, 2880), "tank")
    # Two tanks take 3 welding hours each (the recipe): 6 h more in the first
    # shift, which holds 6 h and has 2 booked already.
    port.add(store, "foundry", r.Pledge(tank.short_author, tank.seq, 2, 300, "two tanks",
                                        welding_seq))
    res = match(store, port.id("welding"), now=NOW)
    first = res["windows"][0]
    assert (first["pledged"], first["remaining"], first["over_committed"]) == (8, 0, 2)
    assert res["over_committed"] == 2
    assert lines_with(res, "OVER-COMMITTED by 2")
    # The chain sees only the second shift left for welding now.
    chain = match(store, port.id("armour"), now=NOW)["chain"]
    assert chain["links"][2]["available"] == 6
    assert chain["makes"] == 6 and chain["bottleneck"] == "welding"


def test_drawing_on_stock_lowers_what_is_left_and_can_over_commit_it() -> None:
    port, store = build()
    steel_seq = parse_record_id(port.id("steel"))[1]
    need = parse_record_id(port.id("armour"))
    port.add(store, "dock", r.Pledge(need[0], need[1], 4, 120, "4 m2 of plate", steel_seq))
    res = match(store, port.id("steel"), now=NOW)
    assert res["remaining"] == 28 and res["drawn"] == 2  # 4 m2 is 2 sheets of 2 m2
    splints = parse_record_id(port.id("splints"))
    port.add(store, "dock", r.Pledge(splints[0], splints[1], 60, 0, "all of it", steel_seq))
    res = match(store, port.id("steel"), now=NOW)
    assert res["remaining"] == 0 and res["over_committed"] > 0
    assert lines_with(res, "OVER-COMMITTED")


def test_non_members_offers_are_left_out_and_counted() -> None:
    port, store = build()
    stranger = Actor("stranger", 99)
    port.actors["stranger"] = stranger
    port.add(store, "stranger", r.Hello("Zed", "Quay 9"))
    port.add(store, "stranger", r.Offer(33, "MIG welding, steel, 4 bays", 40, 9, 1, 2, 10080))
    res = match(store, port.id("armour"), now=NOW)
    authors = {o["author_name"] for o in res["offers"]}
    assert "Zed" not in authors
    assert res["left_out"]["not members"] == 1
    assert short_id(stranger.pub).hex() not in str(res["chain"])


def test_the_cutting_capacity_finds_the_armour_need() -> None:
    port, store = build()
    cutting = next(o["id"] for o in match(store, port.id("armour"), now=NOW)["offers"]
                   if o["step"] == "cutting")
    res = match(store, cutting, now=NOW)
    assert res["needs"][0]["id"] == port.id("armour")
    assert "does the 'cutting' step of armour plate" in res["needs"][0]["factors"][0]["why"]


def test_a_missing_link_is_the_bottleneck_of_an_incomplete_chain() -> None:
    port, store = build(upto=60)  # before the foundry offers welding
    chain = match(store, port.id("armour"), now=NOW)["chain"]
    assert not chain["complete"] and chain["bottleneck"] == "welding"
    assert chain["links"][2]["offer"] is None
    assert "incomplete, nothing does welding" in chain["why"]


def test_a_plain_need_ranks_same_category_stock_first() -> None:
    port, store = build(upto=60)
    res = match(store, port.id("water"), now=NOW)
    assert "chain" not in res
    top = res["offers"][0]
    assert top["text"].startswith("TGHU 120443: bottled water")
    assert top["factors"][0]["why"] == "same category: water"


def test_unknown_closed_and_wrong_kind_ids_are_refused() -> None:
    port, store = build()
    with pytest.raises(MatchError, match="no need or offer"):
        match(store, "0badf00d-3", now=NOW)
    with pytest.raises(MatchError, match="not open"):
        match(store, port.id("water"), now=NOW)  # fulfilled at the end of the story
    with pytest.raises(MatchError, match=f"is a pledge: match its need, meshaid match "
                                         f"{port.id('water')}"):
        match(store, port.id("water-pledge"), now=NOW)
