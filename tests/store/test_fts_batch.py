"""The full-text index stays exact although new objects rows enter it once per
batch (derive.Batch.flush_fts): updates, forks and rolled-back savepoints in the
same batch, and `meshaid check`'s rebuild."""

from __future__ import annotations

import pytest
from ledger_helpers import NOW, World, fts_entries

from meshaid.node.store import check
from meshaid.node.store.queries import Filters, list_objects


def index_matches_rows(store) -> None:
    before = fts_entries(store)
    assert before and all(author is not None for _t, author, *_ in before)  # no orphans
    with store.write():
        store.db.execute("INSERT INTO objects_fts (objects_fts) VALUES ('rebuild')")
    assert fts_entries(store) == before


def found(store, text: str) -> list[str]:
    return sorted(o["text"] for o in list_objects(store, Filters(text=text), now=NOW))


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_updates_and_forks_in_the_same_batch_keep_the_index_exact(batch: int) -> None:
    w = World.build()
    net, anna, bo = w.net, w.anna, w.bo
    water = net.need(anna, text="drinking water")
    bread = net.offer(bo, text="fresh bread")
    renamed = net.update(anna, water, note="kitchen tap")
    again = net.update(anna, water, note="garden hose")
    twin = net.sign(bo, net.need(bo, text="forked splints").body, seq=bread.seq)
    pledge = net.pledge(bo, water, 5, text="water truck")
    store = w.store()
    outcomes = store.ingest_many([rec.raw for rec in (water, bread, renamed, twin, again, pledge)],
                                 now=NOW, batch=batch)
    assert {o.status for o in outcomes} == {"accepted"}
    index_matches_rows(store)
    assert found(store, "garden") == ["drinking water"]
    assert found(store, "kitchen") == []  # the index follows the current state
    assert len(found(store, "bread") + found(store, "splints")) == 1  # one of the twins
    later = store.ingest_many([net.update(bo, bread, note="sold out").raw], now=NOW)
    assert later[0].status == "accepted"
    index_matches_rows(store)


def test_a_rolled_back_savepoint_leaves_no_index_entry() -> None:
    w = World.build()
    kept, dropped, last = (w.net.need(w.anna, text=t) for t in ("rope", "ghost item", "tarps"))
    store = w.store()
    with store.write():
        store.ingest(kept.raw, now=NOW)
        with pytest.raises(RuntimeError), store.write():
            store.ingest(dropped.raw, now=NOW)
            raise RuntimeError("rolled back")
        store.ingest(last.raw, now=NOW)
    assert found(store, "ghost") == []
    assert found(store, "rope tarps") == [] and found(store, "tarps") == ["tarps"]
    index_matches_rows(store)


def test_check_rebuild_finds_nothing_to_repair_after_batched_ingest() -> None:
    w = World.build()
    recs = [w.net.need(w.anna, text=f"item {i}") for i in range(70)]
    recs += [w.net.update(w.anna, recs[i], note=f"note {i}") for i in range(0, 70, 7)]
    store = w.store()
    store.ingest_many([rec.raw for rec in recs], now=NOW)
    before = fts_entries(store)
    assert check.rebuild(store) == {"objects": 0, "keys": 0, "members": 0, "forks": 0}
    assert fts_entries(store) == before
