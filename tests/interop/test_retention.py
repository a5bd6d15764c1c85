"""Retention: the compaction policy keeps the derived state, every object and
the fork evidence, whatever the ledger and whatever the arrival order
(hypothesis); the per-author quota of live records."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import NOW, World, derived_state

from meshaid.node import actions
from meshaid.node.ledger import codec
from meshaid.node.ledger import records as r
from meshaid.node.ledger import retention as policy
from meshaid.node.store import Store, retention

KEEP = (r.Kind.CHARTER, r.Kind.NEED, r.Kind.OFFER, r.Kind.PLEDGE, r.Kind.VOUCH, r.Kind.REVOKE)


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[World, list[r.Record]]:
    """A port network with a random history: posts, pledges, chains of updates,
    new hellos, sometimes a fork (a seq signed twice) and a revocation."""
    w = World.build()
    net = w.net
    actors = [w.founder, w.anna, w.bo, w.cy]
    records: list[r.Record] = list(w.base)
    objects: list[r.Record] = []
    for _ in range(draw(st.integers(4, 18))):
        who = draw(st.sampled_from(actors))
        action = draw(st.sampled_from(["need", "offer", "pledge", "update", "update",
                                       "update", "hello"]))
        if action == "need":
            rec = net.need(who, draw(st.integers(1, 50)), valid_for_min=draw(st.sampled_from(
                [0, 60, 2880])))
        elif action == "offer":
            rec = net.offer(who, draw(st.integers(1, 50)))
        elif action == "pledge" and any(o.kind is r.Kind.NEED for o in objects):
            need = draw(st.sampled_from([o for o in objects if o.kind is r.Kind.NEED]))
            rec = net.pledge(who, need, draw(st.integers(1, 30)))
        elif action == "update" and [o for o in objects if o.author == who.pub]:
            target = draw(st.sampled_from([o for o in objects if o.author == who.pub]))
            status = draw(st.sampled_from([0, 0, 1, 2, 3] if target.kind is r.Kind.PLEDGE
                                          else [0, 0, 1, 2]))
            qty = draw(st.integers(0, 60))
            rec = net.sign(who, r.Update(target.seq, status, qty,
                                         qty if status == 3 else 0,
                                         draw(st.sampled_from([0, 0, 120]))))
        else:
            rec = net.hello(who, f"{who.label} {draw(st.integers(0, 9))}")
        records.append(rec)
        if rec.kind in (r.Kind.NEED, r.Kind.OFFER, r.Kind.PLEDGE):
            objects.append(rec)
    if draw(st.booleans()):  # a twin of one of anna's or bo's seqs
        victim = draw(st.sampled_from([w.anna, w.bo]))
        if victim.seq >= 2:
            seq = draw(st.integers(2, victim.seq))
            records.append(net.sign(victim, r.Update(1, 2, 0, 0, 0, "twin"), seq=seq))
    if draw(st.booleans()):
        records.append(net.revoke(w.founder, w.bo, draw(st.integers(0, max(1, w.bo.seq)))))
    return w, records


def state(store: Store) -> dict[str, Any]:
    out = derived_state(store)
    del out["records"]
    return out


def feed(w: World, records: list[r.Record]) -> Store:
    store = Store.open(":memory:")
    store.expect_network(w.net.code)
    for rec in records:
        store.ingest(rec.raw, now=NOW)
    return store


def digest(rec: r.Record) -> bytes:
    return hashlib.sha256(rec.raw).digest()


@settings(max_examples=25)
@given(ledgers(), st.randoms(use_true_random=False))
def test_compaction_keeps_the_derived_state_in_every_order(ledger: tuple[World, list[r.Record]],
                                                           rnd: Any) -> None:
    w, records = ledger
    full = feed(w, records)
    drop = retention.collectible(full)
    kept = [rec for rec in records if digest(rec) not in drop]
    rnd.shuffle(kept)
    compact = feed(w, kept)
    assert state(compact) == state(full)
    # the store's answer is the policy's on the records themselves, in any order
    shuffled = list(records)
    rnd.shuffle(shuffled)
    assert policy.collectible(shuffled, retention.cut_keys(full)) == drop
    # never an object, a membership record or a forked version; nothing more to drop after
    forked = {(a, s) for a, s in full.db.execute("SELECT author, seq FROM forks")}
    for rec in records:
        if rec.kind in KEEP or (rec.author, rec.seq) in forked:
            assert digest(rec) not in drop
    assert retention.collectible(compact) == set()
    assert {bytes(raw) for raw in retention.compacted(full)} == {rec.raw for rec in kept}


def test_superseded_updates_and_hellos_are_collected() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    u1 = net.update(w.anna, need, qty=8)
    u2 = net.update(w.anna, need, qty=6)
    pledge = net.pledge(w.bo, need, 3)
    p1 = net.sign(w.bo, r.Update(pledge.seq, 0, 4))
    hello = net.hello(w.anna, "Anna, clinic")
    store = w.store(need, u1, u2, pledge, p1, hello)
    drop = retention.collectible(store)
    first_hello = next(rec for rec in w.base if rec.kind is r.Kind.HELLO
                       and rec.author == w.anna.pub)
    assert drop == {digest(u1), digest(first_hello)}
    # a revoked author keeps every version: the cut decides which one counts
    store.ingest(net.revoke(w.founder, w.anna, u1.seq).raw, now=NOW)
    assert retention.collectible(store) == set()


def test_compact_bundle_imports_to_the_same_state(tmp_path: Path) -> None:
    from meshaid.node.interop import compact

    w = World.build()
    net = w.net
    need = net.need(w.anna, 10)
    updates = [net.update(w.anna, need, qty=q) for q in (9, 8, 7)]
    store = w.store(need, *updates)
    count = compact.write_bundle(store, tmp_path / "port.bundle")
    assert count == store.count("records") - 2
    other = Store.open(":memory:")
    other.expect_network(w.net.code)
    report = actions.import_bundle(other, None, tmp_path / "port.bundle", now=NOW)
    assert report.rejected == 0 and report.accepted == count
    assert state(other) == state(store)
    assert codec.parse(updates[-1].raw).seq in {s for (s,) in other.db.execute(
        "SELECT seq FROM records WHERE kind = 5")}


def test_quota_of_live_records(monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import fresh_node

    monkeypatch.setattr(retention, "LIVE_QUOTA", 3)
    node = fresh_node()
    made = [actions.post_need(node.store, node.key, f"need {i}", category="water", now=NOW)
            for i in range(3)]
    with pytest.raises(actions.ActionError, match="quota of 3"):
        actions.post_offer(node.store, node.key, "one too many", category="water", now=NOW)
    actions.update(node.store, node.key, actions.record_id(made[0].short_author, made[0].seq),
                   fulfil=True, now=NOW)
    actions.post_offer(node.store, node.key, "room again", category="water", now=NOW)
    assert retention.live_count(node.store, node.pub, NOW) == 3
