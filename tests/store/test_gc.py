"""Garbage collection on a live node (node/store/gc.py): collecting at any point
of any arrival order leaves the derived state and the sync set as they would
be without collecting (hypothesis, with forks and revocations arriving after
the collection); an arriving copy of a collected record is a duplicate; the
policy's answer and the store's agree; the set an engine keeps from the sync
port's answers is the store's sync set."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import NOW, World, derived_state, sync_set

from meshaid.node.ledger import records as r
from meshaid.node.ledger import retention as policy
from meshaid.node.store import Store, gc, history, retention, synced
from meshaid.node.store.sync_port import SyncLedger


@st.composite
def histories(draw: st.DrawFn) -> tuple[World, list[r.Record]]:
    """A network with long chains of updates and hellos, sometimes a fork (a seq
    signed twice, maybe an update's) and revocations cutting below the latest
    updates, so that a collected version can count again."""
    w = World.build()
    net = w.net
    actors = [w.founder, w.anna, w.bo]
    records: list[r.Record] = list(w.base)
    objects: list[r.Record] = []
    for _ in range(draw(st.integers(3, 24))):
        who = draw(st.sampled_from(actors))
        mine = [o for o in objects if o.author == who.pub]
        action = draw(st.sampled_from(["need", "pledge", "update", "update", "update", "hello"]))
        if action == "need" or (action == "update" and not mine):
            rec = net.need(who, draw(st.integers(1, 50)))
        elif action == "pledge" and any(o.kind is r.Kind.NEED for o in objects):
            need = draw(st.sampled_from([o for o in objects if o.kind is r.Kind.NEED]))
            rec = net.pledge(who, need, draw(st.integers(1, 30)))
        elif action == "update":
            target = draw(st.sampled_from(mine))
            qty = draw(st.integers(0, 60))
            status = draw(st.sampled_from([0, 0, 1, 2]))
            rec = net.sign(who, r.Update(target.seq, status, qty, 0,
                                         draw(st.sampled_from([0, 0, 120])),
                                         draw(st.sampled_from(["", "note"]))))
        else:
            rec = net.hello(who, f"{who.label} {draw(st.integers(0, 9))}")
        records.append(rec)
        if rec.kind in (r.Kind.NEED, r.Kind.PLEDGE):
            objects.append(rec)
    for _ in range(draw(st.integers(0, 2))):  # twins of an earlier seq of anna's or bo's
        victim = draw(st.sampled_from([w.anna, w.bo]))
        theirs = [o for o in objects if o.author == victim.pub]
        if victim.seq >= 2 and theirs:
            seq = draw(st.integers(2, victim.seq))
            target = draw(st.sampled_from(theirs))
            if target.seq < seq:
                records.append(net.sign(victim, r.Update(target.seq, 2, 0, 0, 0, "twin"),
                                        seq=seq))
    if draw(st.booleans()):
        victim = draw(st.sampled_from([w.anna, w.bo]))
        records.append(net.revoke(w.founder, victim, draw(st.integers(0, max(1, victim.seq)))))
    return w, records


def digest(rec: r.Record) -> bytes:
    return hashlib.sha256(rec.raw).digest()


def fresh(w: World) -> Store:
    store = Store.open(":memory:")
    store.expect_network(w.net.code)
    return store


def state(store: Store) -> dict[str, Any]:
    out = derived_state(store)
    del out["records"]  # held records differ by design; the sync set is compared apart
    return out


@settings(max_examples=40, deadline=None)
@given(histories(), st.randoms(use_true_random=False), st.sets(st.integers(0, 40), max_size=5))
def test_collecting_at_any_point_of_any_order_keeps_state_and_sync_set(
        history_: tuple[World, list[r.Record]], rnd: Any, points: set[int]) -> None:
    w, records = history_
    order = list(records)
    rnd.shuffle(order)
    plain, collected = fresh(w), fresh(w)
    for i, rec in enumerate(order):
        if i in points:
            gc.collect(collected, batch=3)
        for store in (plain, collected):
            store.ingest(rec.raw, now=NOW)
        assert state(collected) == state(plain)
    gc.collect(collected, batch=3)
    assert state(collected) == state(plain)
    # Every record is held or tombstoned; what is superseded is the policy's answer.
    held = {bytes(h)[:8] for (h,) in collected.db.execute("SELECT hash FROM records")}
    tombs = {bytes(i) for (i,) in collected.db.execute("SELECT id FROM collected")}
    assert held | tombs == {digest(rec)[:8] for rec in records} and not held & tombs
    cut = retention.cut_keys(plain)
    superseded = {v.hash for v in gc.excluded(plain.db)}
    assert superseded == policy.collectible(list(records), cut)
    # The sync sets agree, even where a fork or a cut made a version collected
    # earlier count again: its tombstone kept the signature, so the record was
    # stored again at once (a node that never had it gets it from this one).
    assert tombs <= {v.id for v in gc.excluded(collected.db)}
    assert sync_set(collected) == sync_set(plain)
    for digest_ in sync_set(plain):
        assert collected.db.execute("SELECT raw FROM records WHERE hash = ?", [digest_]
                                    ).fetchone() == plain.db.execute(
            "SELECT raw FROM records WHERE hash = ?", [digest_]).fetchone()
    # Every copy arriving again is a duplicate.
    for rec in order:
        assert collected.ingest(rec.raw, now=NOW).status == "duplicate"
    assert sync_set(collected) == sync_set(plain)
    assert state(collected) == state(plain)
    gc.collect(collected)
    assert sync_set(collected) == sync_set(plain) and state(collected) == state(plain)


@settings(max_examples=60, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_the_set_kept_from_ingest_answers_is_the_stores_sync_set(
        history_: tuple[World, list[r.Record]], rnd: Any) -> None:
    """The set an engine keeps from `SyncLedger.sync_ingest`'s answers (each
    record's info, less what it dropped, plus what it released or brought
    back) is the store's own sync set at every step, forks and revocations
    included (the port skips the fork lookup for authors with none stored)."""
    w, records = history_
    order = list(records)
    rnd.shuffle(order)
    store = fresh(w)
    ledger = SyncLedger(store)
    kept: set[bytes] = set()
    for rec in order:
        got = ledger.sync_ingest(rec.raw, 0.0)
        if got.info is not None and got.status == "accepted":
            kept.add(got.info.id)
        kept |= {i.id for i in got.released} | {i.id for i in got.returned}
        kept -= set(got.dropped)
        assert kept == {h[:8] for h in sync_set(store)}
    assert kept == {i.id for i in ledger.sync_infos()}


def test_collected_versions_leave_the_sync_set_and_the_history_keeps_them() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1, u2, u3 = (net.update(w.anna, need, qty=q) for q in (9, 8, 7))
    hello = net.hello(w.anna, "Anna, clinic")
    store = w.store(need, u1, u2, u3, hello)
    first_hello = next(rec for rec in w.base if rec.kind is r.Kind.HELLO
                       and rec.author == w.anna.pub)
    gone = {digest(u1), digest(u2), digest(first_hello)}
    assert {h[:8] for h in gone} == synced.excluded_ids(store.db)
    done = gc.collect(store)
    assert done.records == 3 and done.bytes_before == sum(
        len(x.raw) for x in (u1, u2, first_hello))
    assert gc.collect(store, dry_run=True).records == 0
    assert [u["qty"] for u in history.updates_of(store, f"{need.short_author.hex()}-{need.seq}")] \
        == [9, 8, 7]
    for rec in (u1, u2, first_hello):
        assert store.ingest(rec.raw, now=NOW).status == "duplicate"


def test_a_cut_after_collection_falls_back_to_the_collected_version() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1 = net.update(w.anna, need, qty=9)
    u2 = net.update(w.anna, need, qty=1, status=2)  # a thief's withdrawal, say
    store = w.store(need, u1, u2)
    assert gc.collect(store).records == 1
    store.ingest(net.revoke(w.founder, w.anna, u1.seq).raw, now=NOW)
    qty, state_seq = store.db.execute("SELECT qty, state_seq FROM objects WHERE seq = ?",
                                      [need.seq]).fetchone()
    assert (qty, state_seq) == (9, u1.seq)


def test_the_newest_row_is_never_collected() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1, u2 = net.update(w.anna, need, qty=9), net.update(w.anna, need, qty=8)
    store = w.store(need, u2, u1)  # the superseded version arrived last
    assert gc.collect(store).records == 0
    store.ingest(net.need(w.bo, 3).raw, now=NOW)
    assert gc.collect(store).records == 1


def test_the_daemons_collector_works_in_slices_when_due() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    updates = [net.update(w.anna, need, qty=q) for q in range(9, 0, -1)]
    store = w.store(need, *updates, net.need(w.bo, 3))
    collector = gc.Collector(every_s=3600.0, first_s=300.0, batch=3)
    assert collector.step(store, 0.0) == 0  # not due yet
    assert collector.step(store, 299.0) == 0
    assert collector.step(store, 300.0) == 0 and len(collector.todo) == 8  # listed
    assert [collector.step(store, 301.0 + k) for k in range(4)] == [3, 3, 2, 0]
    assert collector.collected == 8 and gc.count(store.db) == 8
    store.ingest(net.update(w.anna, need, qty=0).raw, now=NOW)
    assert collector.step(store, 1000.0) == 0 and not collector.todo  # next round at 3900
    assert collector.step(store, 3900.0) == 0 and collector.step(store, 3901.0) == 1


def test_a_version_every_holder_collected_reaches_a_node_that_never_had_it_after_a_cut() -> None:
    """Every node that held u1 collected it; a node that only ever saw u2 (u1 is
    superseded, so it never travelled there) gets u1 once a cut makes it count
    again: the tombstone kept the signature, the collector stored u1 again."""
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1 = net.update(w.anna, need, qty=9)
    u2 = net.update(w.anna, need, qty=1, status=2)  # a thief's withdrawal, say
    collector = w.store(need, u1, u2)
    assert gc.collect(collector).records == 1
    late = w.store(need, u2)
    revoke = net.revoke(w.founder, w.anna, u1.seq)
    for store in (collector, late):
        assert store.ingest(revoke.raw, now=NOW).status == "accepted"
    assert gc.count(collector.db) == 0 and digest(u1) in sync_set(collector)
    assert sync_set(late) == sorted(set(sync_set(collector)) - {digest(u1)})
    for raw in collector.raw_records():  # what reconciling would send
        late.ingest(raw, now=NOW)
    assert sync_set(late) == sync_set(collector) and state(late) == state(collector)
    assert late.db.execute("SELECT qty, state_seq FROM objects WHERE seq = ?",
                           [need.seq]).fetchone() == (9, u1.seq)
    assert gc.collect(collector).records == 0  # a cut author's versions all count


def test_a_fork_at_a_collected_seq_stores_the_collected_twin_again() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1 = net.update(w.anna, need, qty=9)
    u2 = net.update(w.anna, need, qty=8)
    store = w.store(need, u1, u2, net.need(w.bo, 3))
    assert gc.collect(store).records == 1
    twin = net.sign(w.anna, r.Update(need.seq, 0, 5, 0, 0, "twin"), seq=u1.seq)
    assert store.ingest(twin.raw, now=NOW).status == "accepted"
    held = {bytes(h) for (h,) in store.db.execute("SELECT hash FROM records")}
    assert {digest(u1), digest(twin)} <= held and gc.count(store.db) == 0
    assert set(sync_set(store)) >= {digest(u1), digest(twin)}


def test_tombstones_without_a_signature_wait_for_a_neighbour(tmp_path: Path) -> None:
    """Tombstones made before m008 have no signature: a cut leaves them out of the
    sync set, and a copy arriving later is stored again."""
    import sqlite3

    from sqlite_utils import Database

    from meshaid.node.store.schema import migrations

    old = Database(sqlite3.connect(tmp_path / "old.db", isolation_level=None))
    migrations.apply(old, stop_before="m008_tombstones_keep_the_signature")
    assert "sig" not in old["collected"].columns_dict
    old.conn.close()
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1, u2 = net.update(w.anna, need, qty=9), net.update(w.anna, need, qty=1, status=2)
    store = Store.open(tmp_path / "old.db")  # migrated on opening
    store.expect_network(net.code)
    for rec in (*w.base, need, u1, u2):
        store.ingest(rec.raw, now=NOW)
    assert gc.collect(store).records == 1
    store.db.execute("UPDATE collected SET sig = NULL")  # as an m007 tombstone
    store.ingest(net.revoke(w.founder, w.anna, u1.seq).raw, now=NOW)
    assert gc.count(store.db) == 1 and digest(u1) not in sync_set(store)
    assert store.db.execute("SELECT qty FROM objects WHERE seq = ?", [need.seq]).fetchone() == (9,)
    assert store.ingest(u1.raw, now=NOW).status == "accepted"
    assert gc.count(store.db) == 0 and digest(u1) in sync_set(store)


def test_a_cut_in_a_large_batch_restores_as_one_by_one() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    updates = [net.update(w.anna, need, qty=q) for q in (9, 8, 7, 6)]
    later = [net.need(w.bo, 5 + i, text=f"rope {i}") for i in range(70)]
    batch = [net.revoke(w.founder, w.anna, updates[1].seq), *later,
             net.update(w.anna, need, qty=1)]  # past the cut: quarantined
    one, many = w.store(need, *updates), w.store(need, *updates)
    assert gc.collect(one).records == gc.collect(many).records == 3
    for rec in batch:
        one.ingest(rec.raw, now=NOW)
    assert {o.status for o in many.ingest_many([rec.raw for rec in batch], now=NOW)} == {
        "accepted"}
    assert gc.count(many.db) == gc.count(one.db) == 0
    assert sync_set(many) == sync_set(one) and state(many) == state(one)
    assert many.db.execute("SELECT qty FROM objects WHERE seq = ?", [need.seq]).fetchone() == (8,)


def test_a_copy_matches_a_tombstone_only_with_its_signature_too() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1, u2 = net.update(w.anna, need, qty=9), net.update(w.anna, need, qty=8)
    store = w.store(need, u1, u2, net.need(w.bo, 3))
    assert gc.collect(store).records == 1
    assert gc.tombstoned(store.db, digest(u1), u1.raw) is True
    store.db.execute("UPDATE collected SET sig = ?", [bytes(64)])  # not u1's signature
    assert gc.tombstoned(store.db, digest(u1), u1.raw) is None
