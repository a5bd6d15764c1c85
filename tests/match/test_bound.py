"""The branch and bound that keeps matching fast is exact: the top of the list
and the chain are what scoring every candidate gives (a limit as large as the
ledger prunes nothing), on the benchmark's random ledger with ties, packs,
windows and pledges drawing on offers. And the fast reading of extensions
agrees with the codec."""

from __future__ import annotations

import pytest
import strategies as sts
from hypothesis import given, settings

from meshaid.node.ledger import codec, hlc, identity
from meshaid.node.ledger import records as r
from meshaid.node.match import bench, match
from meshaid.node.match.view import extensions_of
from meshaid.node.store import Store


@pytest.fixture(scope="module")
def ledger() -> tuple[Store, float, list[str]]:
    setup, recs = bench.build(700, members=40, seed=3)
    now = float(hlc.unix_of(codec.parse(recs[-1]).hlc)) + 60
    store = Store.open(":memory:", wall=lambda: now)
    store.expect_network(identity.network_code(identity.network_id(setup[0])))
    store.ingest_many(setup + recs, now=now)
    ids = [f"{bytes(s).hex()}-{q}" for s, q in store.db.execute(
        "SELECT short, seq FROM objects WHERE kind IN (2, 3) AND status = 0"
        " ORDER BY author, seq")]
    return store, now, ids[::7]


def test_pruned_matching_equals_scoring_everything(ledger: tuple[Store, float, list[str]],
                                                   ) -> None:
    store, now, ids = ledger
    pruned_some = 0
    for rid in ids:
        fast = match(store, rid, now=now, limit=3)
        every = match(store, rid, now=now, limit=100_000)
        side = "offers" if fast["kind"] == "need" else "needs"
        assert fast[side] == every[side][:3], rid
        assert fast.get("chain") == every.get("chain"), rid
        assert fast["scored"] <= every["scored"] <= every["candidates"]
        pruned_some += fast["scored"] < every["scored"]
    assert pruned_some > len(ids) // 2  # the bound does prune


@settings(max_examples=150)
@given(sts.needs | sts.offers | sts.needs_ext() | sts.offers_ext())
def test_reading_extensions_by_skipping_agrees_with_the_codec(body: r.Need | r.Offer) -> None:
    key = identity.key_from_seed(bytes(32))
    rec = codec.encode(body, key, 77, 1 << 40, bytes(32))
    ext = extensions_of(rec.raw, rec.kind)
    assert (ext.substitutes, ext.deliver_to, ext.needed_by_min) == (
        getattr(body, "substitutes", ""), getattr(body, "deliver_to", ""),
        getattr(body, "needed_by_min", 0))
    assert ext.pack == body.pack
    assert (ext.inputs, ext.windows) == (getattr(body, "inputs", ()), getattr(body, "windows", ()))
