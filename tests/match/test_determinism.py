"""The same ledger gives the same matches on every node: two stores fed the same
records in different orders (and so with different row ids and full-text
index layouts) answer every match identically, ties broken by record id."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import NOW, Actor

from meshaid.node.ledger import records as r
from meshaid.node.match import match
from meshaid.node.store import Store
from meshaid.node.store import queries as q

from .port import build

TEXTS = ["steel plate 8 mm", "MIG welding", "plasma cutting", "armour plate for a truck",
         "drinking water", "aluminium bar", "welding and cutting, steel", "water tank 1000 L"]
CATS = [1, 6, 32, 33, 35, 43, 64, 255]


@st.composite
def extras(draw: st.DrawFn) -> list[tuple[str, r.Body]]:
    """A few more needs, offers and pledges (some drawing on offers) by the sites."""
    sites = ["dock", "machine-shop", "foundry", "print-farm", "clinic"]
    out: list[tuple[str, r.Body]] = []
    for _ in range(draw(st.integers(1, 8))):
        site = draw(st.sampled_from(sites))
        text = draw(st.sampled_from(TEXTS))
        cat = draw(st.sampled_from(CATS))
        qty = draw(st.integers(0, 40))
        unit = draw(st.sampled_from([0, 1, 7, 9]))
        if draw(st.booleans()):
            out.append((site, r.Need(cat, text, qty, unit, draw(st.integers(0, 3)),
                                     draw(st.sampled_from([0, 600, 2880])))))
        else:
            wins = () if not draw(st.booleans()) else (r.Window(0, 600), r.Window(1440, 600))
            out.append((site, r.Offer(cat, text, qty, unit, draw(st.integers(0, 1)),
                                      draw(st.integers(0, 2)), 10080, "", None, None, (),
                                      wins)))
    return out


def _feed(store: Store, raws: list[bytes]) -> Store:
    for raw in raws:
        store.ingest(raw, now=NOW)
    return store


@settings(max_examples=6)
@given(extras(), st.randoms(use_true_random=False))
def test_two_nodes_with_the_same_records_match_the_same(extra: list[tuple[str, r.Body]],
                                                        rnd: object) -> None:
    port, first = build()
    for site, body in extra:
        port.add(first, site, body)
    raws = [rec.raw for rec in port.records]
    shuffled = list(raws)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    second = Store.open(":memory:")
    second.expect_network(port.net.code)
    _feed(second, shuffled)
    ids = [o["id"] for o in q.list_objects(first, q.Filters(status="open", trusted_only=True),
                                           now=NOW) if o["kind"] in ("need", "offer")]
    assert ids
    for rid in ids:
        assert match(first, rid, now=NOW) == match(second, rid, now=NOW), rid


def test_equal_offers_are_ranked_by_id() -> None:
    port, store = build(upto=60)
    at = port.net.next_hlc()
    for seed, name in ((41, "Ana"), (42, "Ben")):
        port.actors[name] = Actor(name, seed)
        port.add(store, name, r.Hello(name, "Dry dock"))  # no position: distances equal
        port.add(store, "clinic", r.Vouch(port.actors[name].pub))
        port.add(store, name, r.Offer(33, "MIG welding, steel", 6, 9, 1, 2, 10080, "", None,
                                      None, (64,), (r.Window(0, 720),)), at=at)
    res = match(store, port.id("armour"), now=NOW)
    welders = [o for o in res["offers"] if o["step"] == "welding"]
    assert len(welders) == 2 and welders[0]["score"] == welders[1]["score"]
    assert [w["id"] for w in welders] == sorted(w["id"] for w in welders)
    assert res["chain"]["links"][2]["offer"] == welders[0]["id"]
    assert res["chain"]["links"][2]["alternatives"] == [welders[1]["id"]]
