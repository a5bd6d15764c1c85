"""Property tests of the store: damaged and random bytes are never accepted and
never raise, and any arrival order of a set of records gives the same derived
state."""

from __future__ import annotations

import functools

import strategies as sts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import HLC0, NOW, Actor, Net, derived_state

from meshaid.node.ledger import codec
from meshaid.node.ledger import records as r
from meshaid.node.ledger.wire import DecodeError
from meshaid.node.store import Store

# --------------------------------------------------------------- damaged records


@functools.cache
def sample_world() -> tuple[Net, list[Actor], list[r.Record]]:
    """A network whose store knows every signer, and one record of each kind
    (the charter included) signed by them."""
    net = Net(costewards=(Actor("co", 6),))
    anna, bo = Actor("anna", 2), Actor("bo", 3)
    base = [net.charter, net.hello(net.founder), net.hello(anna), net.hello(bo),
            net.vouch(net.founder, anna)]
    need = net.need(anna, qty=200, urgency=3, site="Pier 3", valid_for_min=600,
                    position=r.Position.from_degrees(43.3, 5.4))
    samples = [
        net.charter,
        net.hello(bo, name="bo again", site="Foundry"),
        need,
        net.offer(bo, offer_type=1, rate=2),
        net.pledge(bo, need, 40, by_min=60, text="truck"),
        net.update(anna, need, qty=150, note="less"),
        net.vouch(net.founder, bo, grant=1),
        net.revoke(net.founder, anna, 1, reason="lost radio"),
    ]
    assert {rec.kind for rec in samples} == set(r.Kind)
    return net, [net.founder, anna, bo], [*base, *samples[1:]], samples


def damaged(raw: bytes) -> list[bytes]:
    out = [raw[:n] for n in range(len(raw))]
    for i, byte in enumerate(raw):
        for flip in (0x01, 0x40, 0xFF):
            out.append(raw[:i] + bytes([byte ^ flip]) + raw[i + 1 :])
    return out


def check_refused(store: Store, net: Net, signers: list[Actor], bad: bytes) -> None:
    keys = {a.short: [a.pub] for a in signers}
    try:
        codec.decode(bad, net.id, lambda s: keys.get(s, []))
    except DecodeError:
        pass
    else:
        raise AssertionError(f"codec accepted damaged bytes {bad.hex()}")
    outcome = store.ingest(bad, now=NOW)
    assert outcome.status in ("rejected", "held"), (outcome, bad.hex())
    assert outcome.reason


def test_every_byte_change_and_truncation_of_every_kind_is_refused_by_the_store() -> None:
    net, signers, stored, samples = sample_world()
    store = net.store(*stored)
    before = store.count("records")
    state = derived_state(store)
    # the charter's own network is already known: test it against a waiting node too
    waiting = net.store()
    for rec in samples:
        for bad in damaged(rec.raw):
            check_refused(store, net, signers, bad)
            if rec.kind is r.Kind.CHARTER:
                assert waiting.ingest(bad, now=NOW).status == "rejected"
    assert store.count("records") == before
    assert waiting.count("records") == 0 and waiting.network is None
    store.db.execute("DELETE FROM held")
    assert derived_state(store) == state


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(sts.signed_fields(), st.integers(0, 2), st.data())
def test_a_random_records_damaged_copies_are_never_accepted(fields, signer_index: int,
                                                            data: st.DataObject) -> None:
    net, signers, _, _ = sample_world()
    store = _shared_store()
    body, seq, at = fields
    signer = signers[signer_index]
    rec = net.sign(signer, body, seq=seq, at=at)
    raw = rec.raw
    pos = data.draw(st.integers(0, len(raw) - 1), label="position")
    xor = data.draw(st.integers(1, 255), label="xor")
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    check_refused(store, net, signers, raw[:pos] + bytes([raw[pos] ^ xor]) + raw[pos + 1 :])
    check_refused(store, net, signers, raw[:cut])


@functools.cache
def _shared_store() -> Store:
    net, _, stored, _ = sample_world()
    return net.store(*stored)


@settings(max_examples=400)
@given(st.binary(max_size=231)
       | st.builds(lambda k, rest: bytes([0x10 | k]) + rest, st.integers(0, 15),
                   st.binary(max_size=230)))
def test_random_bytes_never_crash_the_store(data: bytes) -> None:
    store = _shared_store()
    before = store.count("records")
    outcome = store.ingest(data, now=NOW)
    assert outcome.status in ("rejected", "held")
    assert store.count("records") == before


# --------------------------------------------------------------- convergence


@functools.cache
def scenario() -> tuple[Net, list[r.Record]]:
    """Charter (two stewards), hellos, vouches (one by a non-steward), needs,
    pledges (one from a non-member, one past a revoke, one before its need's
    update), updates, a revoke, a fork, a forked hello, a record whose author
    never says hello, and two needs with the same clock value."""
    co = Actor("co", 6)
    net = Net(costewards=(co,))
    f = net.founder
    a, b, c, d, e = (Actor(n, s) for n, s in (("anna", 2), ("bo", 3), ("cy", 4), ("dan", 5),
                                               ("eve", 7)))
    recs = [net.charter, net.hello(f), net.hello(co), net.hello(a), net.hello(b), net.hello(c)]
    recs.append(net.sign(d, r.Hello("dan", "Depot"), seq=1))
    recs.append(net.sign(d, r.Hello("daniel", "Quay"), seq=1))  # a forked hello
    d.seq = 1
    recs += [net.vouch(f, a), net.vouch(co, b), net.vouch(f, b), net.vouch(a, c),
             net.vouch(f, d, grant=1)]
    water = net.need(f, qty=100, valid_for_min=60, site="Pier 3")
    tie = HLC0 + (1_000 << 16)
    bread = net.sign(a, r.Need(2, "bread", 10, 0, 2), at=tie)
    fuel = net.sign(b, r.Need(5, "fuel", 10, 4, 2), at=tie)  # same hlc as bread
    recs += [water, bread, fuel]
    p_a = net.pledge(a, water, 30)
    p_b = net.pledge(b, water, 50)
    p_c = net.pledge(c, water, 20)  # cy is not a member: quarantined
    p_d1 = net.pledge(d, water, 5)
    p_d2 = net.pledge(d, water, 40)  # past dan's revoke
    over = net.pledge(b, bread, 10)
    over2 = net.pledge(f, bread, 5)  # with bo's, over-commits bread
    gone = net.pledge(b, water, 7)
    recs += [p_a, p_b, p_c, p_d1, p_d2, over, over2, gone]
    recs += [
        net.update(f, water, qty=120, note="more people"),
        net.update(b, gone, status=2),
        net.update(a, p_a, status=3, delivered=30),
        net.update(a, bread, status=0, qty=12, note="for 12"),
        net.revoke(co, d, through_seq=0, reason="not his voucher"),  # does not count
        net.revoke(f, d, through_seq=p_d1.seq, reason="stolen radio"),
        net.vouch(d, e),  # dan was a steward, but this vouch is past his revoke
        net.offer(c, text="welding"),
        net.sign(c, r.Offer(33, "welding", 2), seq=c.seq),  # cy forks that offer
        net.need(e, text="eve never said hello"),  # held forever
        net.pledge(a, net.need(Actor("ghost", 8)), 3),  # for a need that never arrives
    ]
    return net, recs


def full_state(store: Store) -> dict:
    state = derived_state(store)
    state["held"] = sorted(h for (h,) in store.db.execute("SELECT hash FROM held"))
    return state


@functools.cache
def expected_state() -> dict:
    net, recs = scenario()
    return full_state(net.store(*recs))


def test_the_scenario_exercises_what_it_claims() -> None:
    state = expected_state()
    rows = {row["text"]: row for row in state["list"] if row["kind"] == "need"}
    assert rows["drinking water"]["pledged"] == 30 + 50 + 5
    assert rows["drinking water"]["qty"] == 120
    assert rows["bread"]["status"] == "over-committed" and rows["bread"]["over_committed"] == 3
    trust = {row["trust"] for row in state["list"]}
    assert trust == {"trusted", "quarantine"}
    assert any(row["forked"] for row in state["list"])
    assert len(state["forks"]) == 2 and len(state["held"]) == 1
    status = {m["key"]: m["status"] for m in state["members_view"]}
    assert set(status.values()) == {"steward", "member", "not admitted", "revoked after seq 2"}
    assert sum(s == "steward" for s in status.values()) == 2  # dan's own promotion was revoked


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(len(scenario()[1])))))
def test_any_arrival_order_gives_the_same_derived_state(order: list[int]) -> None:
    net, recs = scenario()
    store = net.store(*(recs[i] for i in order))
    assert full_state(store) == expected_state()


def test_reverse_order_and_one_batch_give_the_same_state() -> None:
    net, recs = scenario()
    assert full_state(net.store(*reversed(recs))) == expected_state()
    batch = net.store()
    batch.ingest_many([rec.raw for rec in reversed(recs)], now=NOW)
    assert full_state(batch) == expected_state()


def test_a_large_shuffled_batch_matches_one_by_one_ingest() -> None:
    """Batches of 64 records or more verify signatures in parallel first."""
    import random

    from meshaid.node.store import checks as store_module

    net, recs = scenario()
    anna, bo = Actor("anna", 2), Actor("bo", 3)
    anna.seq = bo.seq = 1000  # well past their records in the scenario
    extra = []
    for i in range(40):
        need = net.need(anna, qty=10 + i, text=f"item {i}")
        extra += [need, net.pledge(bo, need, i)]
    everything = [*recs, *extra]
    assert len(everything) >= store_module.PARALLEL_MIN
    one_by_one = net.store(*everything)
    shuffled = everything[:]
    random.Random(7).shuffle(shuffled)
    batch = net.store()
    outcomes = batch.ingest_many([rec.raw for rec in shuffled], now=NOW)
    assert {o.status for o in outcomes} <= {"accepted", "held", "duplicate"}
    assert full_state(batch) == full_state(one_by_one)
