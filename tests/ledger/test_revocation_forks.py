"""A revoked key reusing a seq at or below its cut (a fork) adds nothing (issue 9):
no trusted need, no pledge covering a need, no update withdrawing a need, no
vouch making a sybil a steward; in every arrival order."""

from __future__ import annotations

import itertools

import pytest
from ledger_helpers import NOW, Actor, Net, World, derived_state

from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store import queries as q


@pytest.fixture
def w() -> World:
    return World.build()


def obj(store: Store, actor: Actor, seq: int) -> dict:
    return q.get_object(store, actor.rid(seq), now=NOW)


def setup(w: World) -> tuple[list[r.Record], r.Record, r.Record, r.Record]:
    """anna posts a critical need; bo posts an offer, a need and a pledge (seqs
    2-4) and is revoked through 4 when his radio is stolen."""
    water = w.net.need(w.anna, qty=100, urgency=3, text="water")
    bo_offer = w.net.offer(w.bo)  # bo's seq 2
    bo_need = w.net.need(w.bo, qty=5, text="fuel", urgency=3)  # 3
    bo_pledge = w.net.pledge(w.bo, water, 10)  # 4
    cut = w.net.revoke(w.founder, w.bo, through_seq=4, reason="stolen radio")
    return [water, bo_offer, bo_need, bo_pledge, cut], water, bo_need, bo_pledge


def test_a_fork_below_the_cut_neither_posts_a_need_nor_covers_one(w: World) -> None:
    honest, water, _, _ = setup(w)
    fake_need = w.net.sign(w.bo, r.Need(1, "send everything to pier 9", 1000, 4, 3), seq=2)
    fake_pledge = w.net.sign(w.bo, r.Pledge(water.short_author, water.seq, 90), seq=3)
    store = w.store(*honest, fake_need, fake_pledge)
    assert obj(store, w.bo, 2)["trust"] == "quarantine"  # both twins of seq 2
    assert obj(store, w.bo, 3)["trust"] == "quarantine"
    shown = obj(store, w.anna, water.seq)
    assert shown["pledged"] == 10 and shown["status"] == "partial"  # only the honest pledge
    # before the revocation a fork was just flagged: the key could sign anything then
    before = w.store(*honest[:-1], fake_pledge)
    assert obj(before, w.bo, 3)["trust"] == "trusted"


def test_a_fork_below_the_cut_cannot_withdraw_the_owners_need(w: World) -> None:
    honest, _, bo_need, _ = setup(w)
    # seq 4 was bo's pledge; the thief reuses it for an update withdrawing seq 3
    withdraw = w.net.sign(w.bo, r.Update(bo_need.seq, 2, 5), seq=4)
    store = w.store(*honest, withdraw)
    shown = obj(store, w.bo, bo_need.seq)
    assert shown["status"] == "open" and shown["trust"] == "trusted"


def test_a_revoked_stewards_fork_at_its_cut_makes_no_sybil_a_steward(w: World) -> None:
    steward, sybil = Actor("steward", 11), Actor("sybil", 12)
    promote = w.net.vouch(w.founder, steward, grant=1)
    hello = w.net.hello(steward)  # steward's seq 1
    offer = w.net.offer(steward)  # seq 2
    cut = w.net.revoke(w.founder, steward, through_seq=2)
    forged = w.net.sign(steward, r.Vouch(sybil.pub, 1), seq=2)
    sybil_need = w.net.need(sybil, text="sybil")
    records = [promote, hello, offer, cut, w.net.hello(sybil), forged, sybil_need]
    states = set()
    for order in itertools.islice(itertools.permutations(records), 0, None, 97):
        store = w.store(*order)
        members = {m["key"]: m for m in q.members(store)}
        assert members[sybil.pub.hex()]["role"] is None
        assert obj(store, sybil, sybil_need.seq)["trust"] == "quarantine"
        states.add(repr(derived_state(store)))
    assert len(states) == 1


def test_one_member_cannot_pledge_or_deliver_more_than_a_need_asks(w: World) -> None:
    water = w.net.need(w.anna, qty=100, urgency=3, text="water")
    huge = w.net.pledge(w.bo, water, 10**8 - 1)
    again = w.net.pledge(w.bo, water, 50)
    bread_need = w.net.need(w.anna, qty=40, text="bread")
    small = w.net.pledge(w.bo, bread_need, 5)
    over_deliver = w.net.update(w.bo, small, status=3, qty=5, delivered=10**6)
    store = w.store(water, huge, again, bread_need, small, over_deliver)
    shown = obj(store, w.anna, water.seq)
    assert shown["pledged"] == 100 and shown["status"] == "covered"  # not 100 000 049
    bread = obj(store, w.anna, bread_need.seq)
    assert (bread["pledged"], bread["delivered"]) == (5, 5)  # delivered at most the pledge
    # a second member's pledge still shows the need over-committed: real information
    cy_vouched = w.net.vouch(w.founder, w.cy)
    store.ingest(cy_vouched.raw, now=NOW)
    store.ingest(w.net.pledge(w.cy, water, 30).raw, now=NOW)
    assert obj(store, w.anna, water.seq)["pledged"] == 130


def test_a_cut_co_stewards_counter_revoke_brings_back_nothing_through_the_store() -> None:
    """The hole of mutual revocation (node/PROTOCOL.md §4) end to end: whatever
    the arrival order, the thief's sybil is no member and its need stays in
    quarantine; the founder and the members it admitted keep their standing."""
    k1, k2, sybil, anna = Actor("k1", 21), Actor("k2", 22), Actor("sybil", 23), Actor("anna", 24)
    net = Net(costewards=(k1, k2))
    f = net.founder
    base = [net.charter, net.hello(f), net.hello(anna), net.vouch(f, anna), net.hello(k2),
            net.sign(k1, r.Hello("k1", "Pier 3"), seq=3)]  # past k1's cut: a name only
    k1.seq = k2.seq = 59
    honest = [net.revoke(f, k2, 0), net.revoke(f, k1, 0), net.revoke(k2, k1, 0)]
    attack = [net.sign(k1, r.Revoke(k2.pub, 0, "coup"), seq=1),
              net.sign(k1, r.Vouch(sybil.pub, 0), seq=2), net.hello(sybil),
              net.need(sybil, text="send all fuel to pier 9")]
    states = set()
    for order in itertools.islice(itertools.permutations(honest + attack), 0, None, 317):
        store = net.store(*base, *order)
        members = {m["key"]: m for m in q.members(store)}
        assert members[sybil.pub.hex()]["role"] is None
        assert members[anna.pub.hex()]["role"] == "member"
        assert q.get_object(store, sybil.rid(2), now=NOW)["trust"] == "quarantine"
        states.add(repr(derived_state(store)))
    assert len(states) == 1


def test_a_revoked_keys_hello_past_its_cut_or_forked_below_it_renames_nothing(w: World) -> None:
    """A thief holding bo's key after his revocation signs hellos calling him
    "founder" at Pier 9: past the cut, and as a twin of his own first hello.
    Whatever the order, the members list still shows the name the network
    knew; before the revocation the newest hello still wins."""
    offer = w.net.offer(w.bo)  # bo's seq 2 (his hello is seq 1)
    cut = w.net.revoke(w.founder, w.bo, through_seq=2, reason="stolen radio")
    past = w.net.sign(w.bo, r.Hello("founder", "Pier 9"))  # seq 3
    twin = w.net.sign(w.bo, r.Hello("founder", "Pier 9"), seq=1)
    base = w.base[:3] + w.base[4:]  # every record but bo's own hello, which goes in the orders

    def names(store: Store) -> tuple[str, str]:
        row = next(m for m in q.members(store) if m["key"] == w.bo.pub.hex())
        return row["name"], row["site"]

    bo_hello = w.base[3]
    assert isinstance(bo_hello.body, r.Hello) and bo_hello.author == w.bo.pub
    for extra, expect in (([past], ("bo", "Pier 3")), ([twin], ("", "")),
                          ([past, twin], ("", ""))):
        for order in itertools.permutations([bo_hello, offer, cut, *extra]):
            store = w.net.store(*base, *order)
            assert names(store) == expect, (extra, [(e.kind.name, e.seq) for e in order])
    assert names(w.net.store(*base, bo_hello, offer, past)) == ("founder", "Pier 9")
    everything = w.net.revoke(w.founder, w.bo, through_seq=0)
    assert names(w.net.store(*base, bo_hello, offer, past, everything)) == ("bo", "Pier 3")
