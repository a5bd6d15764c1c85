"""A large batch is parsed and its signatures checked in pool threads before the
write lock is taken; none of that may change what ingest answers: a forged
signature is rejected and counted exactly as when records arrive one by one, a
record whose author's hello comes earlier in the same batch is accepted, and a
record another process stores between the early look-up and the write lock is
a duplicate, not a second row."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_helpers import NOW, Actor, Net, derived_state

from meshaid.node.store import Store
from meshaid.node.store import checks as checks_module


def forged(raw: bytes) -> bytes:
    """The record with one bit of its signature flipped."""
    return raw[:-1] + bytes([raw[-1] ^ 1])


def network() -> tuple[Net, list[bytes], Actor, Actor]:
    net = Net()
    anna, bo = Actor("anna", 2), Actor("bo", 3)
    setup = [net.charter, net.hello(net.founder), net.hello(anna), net.vouch(net.founder, anna)]
    return net, [rec.raw for rec in setup], anna, bo


def outcomes(store: Store, raws: list[bytes], one_by_one: bool) -> list[tuple[str, str]]:
    if one_by_one:
        got = [store.ingest(raw, now=NOW) for raw in raws]
    else:
        got = store.ingest_many(raws, now=NOW)
    return [(o.status, o.reason) for o in got]


def test_forged_signatures_in_a_large_batch_count_as_one_by_one() -> None:
    net, setup, anna, bo = network()
    hello_bo = net.hello(bo).raw
    raws = []
    for i in range(3 * checks_module.PARALLEL_MIN):
        raw = net.need(anna, qty=i + 1, text=f"water {i}").raw
        raws.append(forged(raw) if i % 7 == 3 else raw)
    # bo's hello comes in the batch after some of bo's records, then more of them.
    bo_recs = [net.offer(bo, text=f"crane {i}").raw for i in range(4)]
    raws[10:10] = bo_recs[:2]
    raws[100:100] = [hello_bo, *bo_recs[2:]]
    raws.append(forged(net.vouch(net.founder, bo).raw))
    assert len(raws) - 20 >= checks_module.PARALLEL_MIN

    single = net.store()
    single.ingest_many(setup, now=NOW)
    expected = outcomes(single, raws, one_by_one=True)
    batch = net.store()
    batch.ingest_many(setup, now=NOW)
    got = outcomes(batch, raws, one_by_one=False)

    assert got == expected
    assert got.count(("rejected", "bad-signature")) == len(range(3, 3 * 64, 7)) + 1
    assert got[raws.index(bo_recs[2])] == ("accepted", "")  # after its hello: verified
    assert got[raws.index(bo_recs[0])] == ("held", "unknown-author")  # before it
    assert derived_state(batch) == derived_state(single)
    assert batch.count("held") == single.count("held") == 0  # released by the hello


def test_a_record_stored_by_another_process_meanwhile_is_a_duplicate(tmp_path: Path) -> None:
    net, setup, anna, _bo = network()
    path = tmp_path / "ledger.db"
    mine = Store.open(path)
    mine.expect_network(net.code)
    mine.ingest_many(setup, now=NOW)
    other = Store.open(path)
    raws = [net.need(anna, qty=i + 1, text=f"tarps {i}").raw
            for i in range(2 * checks_module.PARALLEL_MIN)]
    sneaked = raws[50]
    take_lock = mine._begin

    def begin_after_the_other_writes() -> None:
        # Between mine's early look-up (outside the lock) and its BEGIN IMMEDIATE.
        assert other.ingest(sneaked, now=NOW).status == "accepted"
        mine._begin = take_lock  # type: ignore[method-assign]
        take_lock()

    mine._begin = begin_after_the_other_writes  # type: ignore[method-assign]
    got = mine.ingest_many(raws, now=NOW)
    assert [o.status for o in got] == ["duplicate" if raw == sneaked else "accepted" for raw in raws]
    assert mine.count("records") == len(setup) + len(raws)
    assert derived_state(mine)["objects"] == derived_state(other)["objects"]
    assert mine.count("objects") == len(raws)


def test_single_records_and_small_batches_never_start_the_pool(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The radio's path (one record per transaction) and small batches verify in
    the storing thread: no pool is started for them."""
    monkeypatch.setattr(checks_module, "_pool", None)
    net, setup, anna, _bo = network()
    store = net.store()
    store.ingest_many(setup, now=NOW)
    for i in range(5):
        assert store.ingest(net.need(anna, text=f"soap {i}").raw, now=NOW).status == "accepted"
    small = [net.need(anna, text=f"salt {i}").raw for i in range(checks_module.PARALLEL_MIN - 1)]
    assert {o.status for o in store.ingest_many(small, now=NOW)} == {"accepted"}
    assert checks_module._pool is None
    large = [net.need(anna, text=f"oil {i}").raw for i in range(checks_module.PARALLEL_MIN)]
    assert {o.status for o in store.ingest_many(large, now=NOW)} == {"accepted"}
    pool = checks_module._pool
    assert pool is not None
    pool.shutdown()


def test_collected_records_in_a_large_batch_are_duplicates_looked_up_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch looks its ids up in the tombstones (node/store/gc.py) in one query;
    only those found are checked one by one, with the same answers."""
    from ledger_helpers import World

    from meshaid.node.store import gc

    w = World.build()
    need = w.net.need(w.anna, 10)
    updates = [w.net.update(w.anna, need, qty=q) for q in range(30, 0, -1)]
    store = w.store(need, *updates)
    assert gc.collect(store).records >= len(updates) - 1
    extra = [w.net.need(w.bo, text=f"nails {i}") for i in range(checks_module.PARALLEL_MIN)]
    checked: list[bytes] = []
    tombstoned = gc.tombstoned

    def counting(db, digest, raw):  # type: ignore[no-untyped-def]
        checked.append(digest)
        return tombstoned(db, digest, raw)

    monkeypatch.setattr(gc, "tombstoned", counting)
    got = store.ingest_many([u.raw for u in updates] + [e.raw for e in extra], now=NOW)
    assert [o.status for o in got] == ["duplicate"] * len(updates) + ["accepted"] * len(extra)
    assert len(checked) == len(updates) - 1  # the tombstoned ones only
