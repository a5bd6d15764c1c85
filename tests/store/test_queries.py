"""Read side: list filters, full-text search, show, record ids."""

from __future__ import annotations

import pytest
from ledger_helpers import NOW, World

from meshaid.node.ledger import records as r
from meshaid.node.store import Store, StoreError
from meshaid.node.store import queries as q
from meshaid.node.store.store import parse_record_id, record_id


@pytest.fixture
def board() -> tuple[World, Store, dict[str, r.Record]]:
    w = World.build()
    recs = {
        "water": w.net.need(w.anna, qty=200, text="drinking water", urgency=3, site="Pier 3 clinic"),
        "splints": w.net.need(w.bo, qty=30, text="aluminium splints", category=3, unit=0,
                              urgency=2),
        "bread": w.net.need(w.anna, qty=50, text="bread", category=2, unit=0, urgency=0),
        "brackets": w.net.offer(w.bo, qty=40, text="M6 brackets, laser and brake", offer_type=1,
                                rate=2),
    }
    recs["pledge"] = w.net.pledge(w.bo, recs["water"], 50, text="water truck")
    recs["cy"] = w.net.need(w.cy, text="cy wants water", urgency=3)
    return w, w.store(*recs.values()), recs


def ids(rows: list[dict]) -> list[str]:
    return [row["id"] for row in rows]


def rid(rec: r.Record) -> str:
    return record_id(rec.short_author, rec.seq)


def listing(store: Store, **kw: object) -> list[str]:
    return ids(q.list_objects(store, q.Filters(**kw), now=NOW))


def test_list_orders_trusted_first_then_urgency_then_newest(board) -> None:
    _, store, recs = board
    assert listing(store) == [rid(recs[k]) for k in
                              ("water", "splints", "pledge", "brackets", "bread", "cy")]


def test_list_json_has_the_documented_fields(board) -> None:
    w, store, recs = board
    row = q.list_objects(store, q.Filters(kind="need"), now=NOW)[0]
    for key in ("id", "kind", "author", "text", "qty", "unit", "category", "urgency", "site",
                "status", "remaining", "trust"):
        assert key in row
    assert row == row | {
        "id": rid(recs["water"]), "kind": "need", "author": w.anna.pub.hex(),
        "author_name": "anna", "text": "drinking water", "qty": 200, "unit": "L",
        "category": "water", "urgency": "critical", "site": "Pier 3 clinic", "status": "partial",
        "remaining": 150, "pledged": 50, "trust": "trusted", "forked": False,
    }


def test_list_filters(board) -> None:
    _, store, recs = board
    assert listing(store, kind="offer") == [rid(recs["brackets"])]
    assert listing(store, kind="pledge") == [rid(recs["pledge"])]
    assert listing(store, category=3) == [rid(recs["splints"])]
    assert listing(store, kind="need", min_urgency=2) == [rid(recs[k])
                                                          for k in ("water", "splints", "cy")]
    assert listing(store, status="uncovered", kind="need") == [rid(recs[k])
                                                               for k in ("splints", "bread", "cy")]
    assert listing(store, status="partial") == [rid(recs["water"])]
    assert listing(store, status="fulfilled") == []
    assert listing(store, limit=2) == [rid(recs["water"]), rid(recs["splints"])]
    with pytest.raises(StoreError):
        listing(store, status="nonsense")


def test_full_text_search(board) -> None:
    w, store, recs = board
    assert listing(store, text="water") == [rid(recs[k]) for k in ("water", "pledge", "cy")]
    assert listing(store, text="wat") == listing(store, text="water")  # prefixes match
    assert listing(store, text="BRACKETS") == [rid(recs["brackets"])]
    assert listing(store, text="laser brake") == [rid(recs["brackets"])]
    assert listing(store, text="clinic") == [rid(recs["water"])]  # the site is searched too
    assert listing(store, text="nothing-like-this") == []
    for blank in ('"', " ", "\u3000", '" "'):  # no words: no filter, and no FTS syntax error
        assert listing(store, text=blank) == listing(store)
    for odd in ("-", "*", "(", "NEAR(", "col:x", "'", "x\"y"):  # FTS syntax is taken literally
        assert listing(store, text=odd) == []
    assert listing(store, text="AND") == [rid(recs["brackets"])]  # the word "and"
    store.ingest(w.net.update(w.anna, recs["bread"], note="baked at the field kitchen").raw,
                 now=NOW)
    assert listing(store, text="kitchen") == [rid(recs["bread"])]  # so are update notes
    store.ingest(w.net.update(w.anna, recs["bread"], note="").raw, now=NOW)
    assert listing(store, text="kitchen") == []  # and the index follows the current state


def test_show_a_need_with_its_pledges(board) -> None:
    _, store, recs = board
    shown = q.get_object(store, rid(recs["water"]), now=NOW)
    assert [p["id"] for p in shown["pledge_list"]] == [rid(recs["pledge"])]
    assert shown["pledge_list"][0]["need"] == rid(recs["water"])
    assert "pledge_list" not in q.get_object(store, rid(recs["brackets"]), now=NOW)


@pytest.mark.parametrize("bad", ["", "abc", "1a2b3c4d", "1a2b3c4d-0", "1a2b3c-4", "zzzzzzzz-1",
                                 "1a2b3c4d-x", "1a2b3c4d-1-2"])
def test_malformed_record_ids(bad: str) -> None:
    with pytest.raises(StoreError, match="record id"):
        parse_record_id(bad)


def test_record_id_round_trip_and_unknown_id(board) -> None:
    _, store, _ = board
    assert parse_record_id(" 1a2b3c4d-17 ") == (bytes.fromhex("1a2b3c4d"), 17)
    assert record_id(bytes.fromhex("1a2b3c4d"), 17) == "1a2b3c4d-17"
    with pytest.raises(StoreError, match="no need"):
        q.get_object(store, "00000000-1", now=NOW)


def test_uncovered_means_needs_nobody_pledged_to(board) -> None:
    """'uncovered' lists needs only (not offers or pledges), and an unquantified
    need stops being uncovered once pledged to; it has nothing 'remaining' and
    is never over-committed, whatever its pledges say."""
    w, _store, recs = board
    tarp = w.net.need(w.cy, qty=0, text="tarpaulins, any")
    helped = w.net.pledge(w.anna, tarp, 3, text="three from the dock")
    store = w.store(*recs.values(), tarp, helped)
    assert listing(store, status="uncovered") == [rid(recs[k]) for k in ("splints", "bread",
                                                                          "cy")]
    shown = q.list_objects(store, q.Filters(kind="need", text="tarpaulins"), now=NOW)[0]
    assert (shown["qty"], shown["pledges"], shown["remaining"], shown["over_committed"]) == (
        0, 1, 0, 0)
