"""Bad and hostile input: junk, foreign networks, bad signatures, strangers, floods and
structured fuzzing of well-formed hostile packets; honest nodes stay in budget and converge."""

from __future__ import annotations

import random

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from meshaid.node.ledger import records as r
from meshaid.node.ledger.wire import DecodeError
from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync.budget import BULK, NORMAL, URGENT

from .harness import HOUR, T0, Radio, clique, line
from .meshes import converge, fresh_mesh, lone, spam_records


def test_random_bytes_are_dropped_and_counted() -> None:
    mesh, ledger = lone()
    engine = mesh.engines[0]
    rng = random.Random(5)
    for k in range(2000):
        payload = rng.randbytes(rng.randrange(0, 232))
        if k % 3 == 0 and len(payload) >= 3:  # our version and tag: parsed further
            payload = bytes([0x10 | rng.randrange(16)]) + ledger.network[:2] + payload[3:]
        dropped = sum(engine.stats.dropped.values())
        mesh.inject(0, payload, sender=rng.randrange(2**32))
        try:
            ours = m.peek(payload)[1] == ledger.network[:2] and m.decode(payload)
        except DecodeError:
            ours = False
        if not ours:
            assert sum(engine.stats.dropped.values()) == dropped + 1
    assert {"other-network", "bad-version", "unknown-kind", "truncated"} <= set(
        engine.stats.dropped)
    mesh.run_for(HOUR)
    mesh.assert_within_budget()


def test_foreign_network_packets_are_dropped_unparsed() -> None:
    mesh, ledger = lone()
    engine = mesh.engines[0]
    other = bytes([ledger.network[0] ^ 0xFF, ledger.network[1]])
    need = ledger.sign(1, r.Need(1, "from elsewhere", 4))
    for msg in (m.Digest(999, 1), m.Records((need,)), m.Request((bytes(8),)), m.More(0, 0),
                m.Pull(0, 0, 1, b"")):
        mesh.inject(0, m.encode(msg, other))
    assert engine.stats.dropped["other-network"] == 5
    before = len(mesh.sent)
    mesh.run_for(60.0)
    assert [s.out.tag for s in mesh.sent[before:] if s.out.tag != "digest"] == []
    assert mesh.holders(need) == []


def test_records_with_a_bad_signature_are_dropped_and_not_stored() -> None:
    mesh, ledger = lone()
    engine = mesh.engines[0]
    tag = ledger.network[:2]
    good = ledger.sign(1, r.Need(1, "genuine", 4))
    forged = good[:-1] + bytes([good[-1] ^ 1])
    garbage = bytes([0xEE]) * 80  # the right length for a record, nothing like one
    mesh.inject(0, m.encode(m.Records((forged, garbage)), tag))
    assert engine.stats.dropped["bad-signature"] == 1
    assert sum(engine.stats.dropped.values()) == 2
    assert mesh.holders(forged) == []
    before = len(mesh.sent)
    mesh.run_for(120.0)
    assert not [s for s in mesh.sent[before:] if s.out.tag in ("forward", "repair")]
    # The genuine record still gets in.
    mesh.inject(0, m.encode(m.Records((good,)), tag))
    assert mesh.holders(good) == [0]


def test_records_of_unadmitted_keys_travel_as_bulk_only() -> None:
    """PROTOCOL.md §7: records of unadmitted keys are bulk (60 % share) - whatever
    their kind, so a stranger cannot claim the urgent or normal share."""
    mesh = fresh_mesh(3, line(3), seed=2)
    mesh.run_for(2 * HOUR)  # neighbour lists known: node 1 relays for 0 and 2
    spam = spam_records(mesh.ledger, 6)
    strangers = set(spam)
    before = len(mesh.sent)
    for k in range(0, len(spam), 2):
        mesh.inject(0, m.encode(m.Records(tuple(spam[k : k + 2])), mesh.ledger.network[:2]))
    mesh.run_for(2 * HOUR)
    carried = [(s.node, s.out.tag, s.out.priority) for s in mesh.sent[before:]
               if s.out.tag not in ("digest", "sketch", "request", "more", "pull")
               and set(m.decode(s.out.payload).records) <= strangers]
    assert carried, "nobody passed the strangers' records on"
    assert {p for _n, _t, p in carried} == {BULK}, carried


def test_a_flooding_member_is_rate_limited() -> None:
    """PROTOCOL.md §7: past its author's rate (a burst, then so many an hour) a
    member's records are not relayed; reconciliation carries them, paced by the
    asker's credit and allowance."""
    mesh = fresh_mesh(3, line(3), seed=4)
    mesh.run_for(2 * HOUR)
    cfg = mesh.engines[1].cfg
    before = len(mesh.sent)
    posted = set()
    for k in range(int(cfg.author_burst) + 30):
        posted.add(mesh.need(0, f"flood {k}"))
        mesh.run_for(3.0)
    mesh.run_for(HOUR)
    forwarded = {raw for s in mesh.sent[before:] if s.node == 1 and s.out.tag == "forward"
                 for raw in m.decode(s.out.payload).records} & posted
    # (the flood took 3 min; one missed at first may be relayed when repaired later)
    allowed = cfg.author_burst + cfg.author_rate_per_hour * 1.1
    assert mesh.engines[1].stats.rate_deferred > 0
    assert 0 < len(forwarded) <= allowed, len(forwarded)
    mesh.run_for(4 * HOUR)
    assert all(2 in mesh.holders(raw) for raw in posted), "reconciliation did not carry the rest"
    mesh.assert_within_budget()


def test_a_member_flooding_critical_needs_keeps_no_urgent_band() -> None:
    """A member key (stolen, say) posting critical needs as fast as it can: each node
    relays an author's urgent records as urgent only up to `author_urgent_burst`
    (then so many an hour, per class), the rest as normal records, so the urgent
    band stays free for others' critical needs and revocations."""
    mesh = fresh_mesh(3, line(3), seed=4)
    mesh.run_for(2 * HOUR)
    cfg = mesh.engines[1].cfg
    before = len(mesh.sent)
    flood = [mesh.need(2, f"flood {k}", urgency=r.CRITICAL) for k in range(3)]
    for k in range(3, 20):
        mesh.run_for(4.0)
        flood.append(mesh.need(2, f"flood {k}", urgency=r.CRITICAL))
    mesh.run_for(60.0)
    own = mesh.need(0, "insulin", urgency=r.CRITICAL)  # another author's: urgent still
    mesh.run_for(HOUR)
    prio: dict[bytes, set[int]] = {}
    for s in mesh.sent[before:]:
        if s.node == 1 and s.out.tag == "forward":
            for raw in m.decode(s.out.payload).records:
                prio.setdefault(raw, set()).add(s.out.priority)
    urgent = [raw for raw in flood if URGENT in prio.get(raw, ())]
    assert mesh.engines[1].stats.dropped["urgent-rate"] >= len(flood) - cfg.author_urgent_burst - 1
    assert len(urgent) <= cfg.author_urgent_burst + 1, len(urgent)
    assert any(NORMAL in prio.get(raw, ()) for raw in flood), "the rest were not relayed"
    assert prio.get(own) == {URGENT}
    assert all(0 in mesh.holders(raw) for raw in flood)


def test_hostile_traffic_never_pushes_an_engine_over_its_budget() -> None:
    """Three honest nodes; node 0 hears a relentless attacker for two hours: junk,
    spam from unadmitted keys, requests for everything, pulls, MOREs and lying
    digests, all meant to make it transmit. It must stay inside its budget, and
    honest records must still get everywhere."""
    mesh = fresh_mesh(3, clique(3), seed=6, history=60)
    ledger = mesh.ledger
    tag = ledger.network[:2]
    rng = random.Random(11)
    spam = spam_records(ledger, 150, seed=201)
    honest: list[bytes] = []
    ids = list(mesh.engines[0].infos)
    for k in range(2400):  # one packet every 3 s
        mesh.run_until(T0 + 3.0 * k)
        roll = k % 8
        if roll == 0:
            payload = rng.randbytes(rng.randrange(3, 232))
        elif roll == 1:
            payload = m.encode(m.Records(tuple(spam[(2 * k) % len(spam):][:2])), tag)
        elif roll == 2:
            chunk = tuple(rng.sample(ids, 27))
            payload = m.encode(m.Request(chunk), tag)
        elif roll == 3:
            payload = m.encode(m.Pull(0, rng.randrange(3), 3, b""), tag)
        elif roll == 4:
            payload = m.encode(m.More(0, 16 * rng.randrange(1, 40)), tag)
        elif roll == 5:
            payload = m.encode(m.Digest(rng.randrange(1000), rng.getrandbits(64)), tag)
        elif roll == 6:
            payload = m.encode(m.Sketch(rng.randrange(500), 0, rng.randbytes(13 * 16)), tag)
        else:
            payload = m.encode(m.Digest(len(ids) + 500, rng.getrandbits(64)), tag)
        mesh.inject(0, payload, sender=0xBAD0 + k % 3, snr=rng.uniform(-15, 10))
        if k % 400 == 0:
            honest.append(mesh.need(1 + k % 2, f"honest {k}"))
    mesh.run_for(2 * HOUR)
    mesh.assert_within_budget()
    for raw in honest:
        assert mesh.holders(raw) == [0, 1, 2]
    assert sum(mesh.engines[0].stats.dropped.values()) >= 300


# No shrinking: each example runs hours of virtual time, and shrinking a failure took
# minutes. The failure message carries the whole (replayable) sequence instead.
@settings(max_examples=15, phases=[Phase.explicit, Phase.generate])
@given(st.data())
def test_any_sequence_of_well_formed_hostile_packets_is_survived(data: st.DataObject) -> None:
    """Structured fuzzing: well-formed packets with hostile fields (lying counts and
    fingerprints, symbols of other sets, pulls and MOREs for anyone, records forged,
    foreign, junk or from strangers, senders spoofing honest node numbers), at random
    times. Nothing raises, no engine leaves its budget or asks to be woken in the past,
    and once the attacker stops the honest nodes still converge."""
    mesh = fresh_mesh(2, line(2), seed=data.draw(st.integers(0, 50)), history=10,
                      radio=Radio(loss=0.1))
    ledger = mesh.ledger
    tag = ledger.network[:2]
    ids = sorted(mesh.engines[0].infos)
    spam = spam_records(ledger, 4, seed=202)
    genuine = ledger.sign(1, r.Need(1, "late but genuine", 4))
    pool = [*spam, genuine, genuine[:-1] + bytes([genuine[-1] ^ 4]), bytes(70),
            ledger.sign(1, r.Offer(35, "signed for another network", 1), network=bytes(32))]
    honest: list[bytes] = []
    u16 = st.integers(0, 0xFFFF)
    log: list[tuple[float, object, int]] = []  # (after seconds, message or poster, sender)
    for step in range(data.draw(st.integers(5, 80))):
        wait = data.draw(st.sampled_from([0.0, 0.5, 5.0, 40.0, 300.0]))
        mesh.run_for(wait)
        kind = data.draw(st.sampled_from(["records", "digest", "sketch", "request", "more",
                                          "pull", "post"]))
        msg: m.Message
        if kind == "post":
            poster = data.draw(st.integers(0, 1))
            honest.append(mesh.need(poster, f"honest {step}"))
            log.append((wait, "post", poster))
            continue
        if kind == "records":
            chosen = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2))
            after = data.draw(st.none() | st.binary(min_size=8, max_size=8) | st.sampled_from(ids))
            msg = m.Records(tuple(chosen), data.draw(st.booleans()), data.draw(st.booleans()),
                            after)
        elif kind == "digest":
            nbrs = tuple(data.draw(st.lists(st.sampled_from([0, 1, 7]) | u16, max_size=6,
                                            unique=True)))
            count = data.draw(st.sampled_from([0, len(ids), len(ids) + 3, len(ids) + 60,
                                               2**35 - 1]))
            msg = m.Digest(count, data.draw(st.integers(0, 2**64 - 1)), data.draw(st.booleans()),
                           nbrs, bool(nbrs) or data.draw(st.booleans()),
                           tuple(x for x in nbrs if data.draw(st.booleans())))
        elif kind == "sketch":
            theirs = riblt.Sketch(1024, (int.from_bytes(x, "big") for x in
                                         data.draw(st.lists(st.sampled_from(ids)))))
            start = data.draw(st.sampled_from([0, 16, 32, 1008, 1020, 65535]))
            symbols = theirs.encode(start, 16) or data.draw(st.binary(min_size=13, max_size=13))
            msg = m.Sketch(data.draw(st.integers(0, 2**35 - 1)), start, symbols)
        elif kind == "request":
            msg = m.Request(tuple(data.draw(st.lists(
                st.sampled_from(ids) | st.binary(min_size=8, max_size=8), min_size=1,
                max_size=27))))
        elif kind == "more":
            msg = m.More(data.draw(st.sampled_from([0, 1, 99])),
                         data.draw(st.sampled_from([0, 16, 512, 1023, 1024, m.MAX_INDEX])),
                         ticket=data.draw(st.sampled_from([b""]) | st.binary(
                             min_size=m.TICKET_LEN, max_size=m.TICKET_LEN)))
        else:
            parts = data.draw(st.integers(1, 16))
            cursor = data.draw(st.sampled_from([b"", bytes(15), b"\xff" * 15, b"\x01" * 15]))
            msg = m.Pull(data.draw(st.sampled_from([0, 1, 99])),
                         data.draw(st.integers(0, parts - 1)), parts, cursor)
        sender = data.draw(st.sampled_from([1, 0xBAD, 2**32 - 1]))
        mesh.inject(0, m.encode(msg, tag), sender=sender, snr=data.draw(st.floats(-20, 10)))
        log.append((wait, msg, sender))
    mesh.run_for(HOUR)
    mesh.assert_within_budget()
    assert mesh.late_timers == 0, f"woken in the past {mesh.late_timers} times after: {log}"
    converge(mesh, 8 * HOUR)
    for raw in honest:
        assert mesh.holders(raw) == [0, 1]
    mesh.run_for(HOUR)
    mesh.assert_converged()
    mesh.assert_within_budget()
