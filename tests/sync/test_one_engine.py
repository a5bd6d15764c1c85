"""One engine, by hand: node 0 alone while the test plays its neighbours' packets
(digests, sketches, requests, MOREs, pulls) and checks each answer."""

from __future__ import annotations

import random

from meshaid.node.ledger import codec
from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync.budget import BULK, URGENT
from meshaid.node.sync.ports import CLASS_OF_KIND

from .harness import HOUR, T0, Ledger, Mesh, clone, rid
from .meshes import lone, sent_after


def test_a_differing_digest_leads_to_a_sketch_that_decodes_the_difference() -> None:
    mesh, ledger = lone()
    engine = mesh.engines[0]
    extra = ledger.sign(1, r.Need(1, "not yet on node 0", 3))
    theirs = {int.from_bytes(i, "big") for i in engine.infos} - {
        int.from_bytes(next(iter(engine.infos)), "big")} | {int.from_bytes(rid(extra), "big")}
    fp = 0
    for x in theirs:
        fp ^= x
    # Node 7 is a known neighbour (it agreed with our set twice; a stranger's
    # digest makes us sketch only as far as strangers' air paid: digests.py).
    for _ in range(2):
        mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint),
                                ledger.network[:2]), sender=7)
        mesh.run_for(30.0)
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Digest(len(theirs), fp), ledger.network[:2]), sender=7)
    mesh.run_for(120.0)
    sketches = sent_after(mesh, before, "sketch")
    assert sketches, "no sketch after a differing digest"
    sketch = sketches[0]
    assert isinstance(sketch, m.Sketch) and sketch.start == 0 and sketch.count == engine.count
    result = riblt.decode(riblt.parse_symbols(sketch.symbols), 0, riblt.Sketch(1024, theirs))
    assert result.complete, "a first sketch does not decode a difference of two"
    mine = {int.from_bytes(i, "big") for i in engine.infos}
    assert result.theirs == mine - theirs and result.ours == theirs - mine


def test_a_request_is_answered_and_a_copy_heard_first_cancels_the_answer() -> None:
    mesh, ledger = lone()
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    cap = engine.cfg.payload_cap
    raw = mesh.need(0, "tarpaulins")
    mesh.run_for(120.0)
    before = len(mesh.sent)
    # An honest request names its answerer and is padded to the size of the answer.
    mesh.inject(0, m.encode(m.pad_to(m.Request((rid(raw),), 0), cap, tag), tag), sender=7)
    mesh.run_for(engine.cfg.repair_window[1] + 1.0)
    repairs = sent_after(mesh, before, "repair")
    assert len(repairs) == 1 and repairs[0].records == (raw,)
    # Again, but this time another node answers first: ours is suppressed.
    mesh.run_for(120.0)
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.pad_to(m.Request((rid(raw),), 0), cap, tag), tag), sender=7)
    mesh.inject(0, m.encode(m.Records((raw,)), tag), sender=8)
    mesh.run_for(engine.cfg.repair_window[1] + 1.0)
    assert sent_after(mesh, before, "repair") == []


def _sketch_once(mesh: Mesh, tag: bytes) -> None:
    """Node 0 sketches from index 0 (a padded MORE from 0 asks it to): MOREs for
    symbols past index 0 continue a sketch it sent, not one sent in its name."""
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.pad_to(m.More(0, 0), 228, tag), tag), sender=98)
    mesh.run_for(30.0)
    assert sent_after(mesh, before, "sketch")


def test_an_answer_never_costs_more_air_than_its_request() -> None:
    """issue 9: a small request (an 11-byte REQUEST, a 9-byte MORE, a PULL) buys no
    answer bigger than itself; a request naming another node buys none at all."""
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    ids = sorted(engine.infos)
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Request(tuple(ids[:1])), tag), sender=7)
    mesh.inject(0, m.encode(m.More(0, 16), tag), sender=8)
    mesh.inject(0, m.encode(m.Pull(0, 1, 3, b""), tag), sender=9)
    mesh.inject(0, m.encode(m.pad_to(m.Request(tuple(ids[:1]), 5), 228, tag), tag), sender=10)
    mesh.run_for(120.0)
    answers = [s for s in mesh.sent[before:] if s.out.tag != "digest"]
    assert answers == []
    _sketch_once(mesh, tag)
    # Padded to full size, each buys one packet at most, at bulk priority.
    for sender, msg in ((17, m.Request(tuple(ids[:27]), 0)), (18, m.More(0, 16)),
                        (19, m.Pull(0, 1, 3, b""))):
        before = len(mesh.sent)
        payload = m.encode(m.pad_to(msg, 228, tag), tag)
        mesh.inject(0, payload, sender=sender)
        mesh.run_for(120.0)
        out = [s for s in mesh.sent[before:] if s.out.tag != "digest"]
        assert out and sum(s.cost for s in out) <= engine.cfg.airtime(len(payload))
        assert out[0].out.priority == BULK


def test_a_sketch_heard_first_cancels_ours() -> None:
    mesh, ledger = lone()
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    mesh.run_for(HOUR)  # nothing new lately: no settle delay
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Digest(engine.count + 1, 12345), tag), sender=7)
    # Node 8 shares our set exactly and sketches first.
    same = riblt.Sketch(1024, (int.from_bytes(i, "big") for i in engine.infos))
    mesh.inject(0, m.encode(m.Sketch(engine.count, 0, same.encode(0, 16)), tag), sender=8)
    mesh.run_for(60.0)
    assert sent_after(mesh, before, "sketch") == []


def test_a_sketch_stream_that_changed_midway_still_decodes() -> None:
    """The sketcher's set grew between its first packet and the continuation (it was
    still receiving records): symbols of two different sets never peel. A listener
    must start over rather than ask for ever more symbols of a stale stream."""
    mesh, ledger = lone(history=60)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    mine = sorted(int.from_bytes(i, "big") for i in engine.infos)
    rng = random.Random(3)
    missing = set(rng.sample(mine, 30))
    first = riblt.Sketch(1024, set(mine) - missing)
    later_set = set(mine) - set(sorted(missing)[:20])  # 10 more arrived meanwhile
    later = riblt.Sketch(1024, later_set)
    mesh.run_for(HOUR)
    # Node 7 is a known neighbour: its digest listed node 0 among its neighbours.
    mesh.inject(0, m.encode(m.Digest(first.n, 1, False, (0,), True), tag), sender=7)
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Sketch(first.n, 0, first.encode(0, 16)), tag), sender=7)
    mesh.run_for(20.0)
    seen = before
    mores = 0
    got: set[bytes] = set()
    theirs = {x.to_bytes(8, "big") for x in set(mine) - later_set}
    full = {rid(x): x for x in ledger.full.raw_records()}
    while mesh.now < T0 + 10 + 2 * HOUR:
        mesh.run_for(1.0)
        for s in mesh.sent[seen:]:
            msg = m.decode(s.out.payload)
            if isinstance(msg, m.More) and msg.target == 7:
                mores += 1
                # Node 7 answers honestly, from its set as it is now.
                mesh.inject(0, m.encode(m.Sketch(later.n, msg.start, later.encode(msg.start, 16)),
                                        tag), sender=7)
            elif isinstance(msg, m.Sketch) and msg.start == 0:
                # Our engine sketched so that node 7 can ask for what its sketch did
                # not pay for: node 7 (decoding it, in short) asks, padding its request.
                for x in sorted(theirs - got):
                    req = m.pad_to(m.Request((x,), 0), 228, tag)
                    mesh.inject(0, m.encode(req, tag), sender=7)
            elif isinstance(msg, m.Records):
                got |= {rid(x) for x in msg.records}
        seen = len(mesh.sent)
        if got >= theirs:
            break
    else:
        raise AssertionError(f"never decoded the difference; {mores} MOREs asked, "
                             f"{len(theirs - got)} of {len(theirs)} never sent")
    assert mores <= 8
    assert all(i in full for i in got)


def test_a_deferred_bulk_packet_does_not_hold_back_normal_traffic() -> None:
    """Bulk is capped at 60 % of the budget so that it never crowds out the rest: once
    bulk is spent, a waiting bulk packet (here, sketch symbols asked for again and
    again) must not delay a fresh record's push, which is normal traffic."""
    mesh, ledger = lone(history=20)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    mesh.run_for(HOUR)
    _sketch_once(mesh, tag)
    for k in range(1, 64):
        mesh.inject(0, m.encode(m.pad_to(m.More(0, 16 * k), 228, tag), tag), sender=7)
        mesh.run_for(10.0)
    assert engine.stats.deferred > 0, "bulk share not exhausted: the test needs more MOREs"
    before = len(mesh.sent)
    t0 = mesh.now
    raw = mesh.need(0, "bread for the shelter")
    mesh.run_for(engine.cfg.push_delay + 1.0)
    pushed = [s for s in mesh.sent[before:] if s.out.tag == "push"
              and raw in m.decode(s.out.payload).records]
    assert pushed, f"push held back; next timer in {engine.next_timer() - t0:.0f} s"
    mesh.assert_within_budget()


def test_a_more_request_gets_the_next_symbols() -> None:
    mesh, ledger = lone()
    tag = ledger.network[:2]
    _sketch_once(mesh, tag)
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.pad_to(m.More(0, 16), 228, tag), tag), sender=7)
    mesh.run_for(30.0)
    sketches = sent_after(mesh, before, "sketch")
    assert sketches and all(isinstance(s, m.Sketch) for s in sketches)
    assert sketches[0].start == 16
    # A MORE addressed to another node is not ours to answer.
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.pad_to(m.More(5, 16), 228, tag), tag), sender=7)
    mesh.run_for(30.0)
    assert sent_after(mesh, before, "sketch") == []


def test_symbols_asked_after_our_set_moved_continue_the_stream_we_began() -> None:
    """Records reached us between the first packet of our sketch and a MORE for the
    next symbols (on saturation, the repairs a listener sent us while it decoded
    our stream): the answer still codes the set we began with, and says its
    count, so the listener's stream stays one set and decodes."""
    mesh, ledger = lone(history=30)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    mesh.run_for(HOUR)
    began = {int.from_bytes(i, "big") for i in engine.infos}
    _sketch_once(mesh, tag)
    mesh.need(0, "bread for the shelter")
    mesh.need(0, "water filters")
    mesh.run_for(30.0)
    assert len(engine.infos) == len(began) + 2
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.pad_to(m.More(0, 16), 228, tag), tag), sender=98)
    mesh.run_for(30.0)
    sketches = sent_after(mesh, before, "sketch")
    assert sketches and isinstance(sketches[0], m.Sketch) and sketches[0].start == 16
    assert sketches[0].count == len(began)
    assert sketches[0].symbols == riblt.Sketch(engine.cfg.sketch_size, began).encode(16, 16)


def test_a_more_for_a_sketch_we_did_not_send_is_dropped() -> None:
    """Finding (more-flood: 3,051 s of attacker air cost honest nodes 1,067 s):
    a padded MORE naming a node for symbols past index 0 of a sketch it never
    sent was answered with symbols of its set, which continue nobody's stream.
    Now it is dropped; once the node has sketched, the same MORE is answered."""
    mesh, ledger = lone()
    tag = ledger.network[:2]
    more = m.encode(m.pad_to(m.More(0, 16), 228, tag), tag)
    before = len(mesh.sent)
    mesh.inject(0, more, sender=7)
    mesh.run_for(30.0)
    assert sent_after(mesh, before, "sketch") == []
    assert mesh.engines[0].recon.unsent_mores == 1
    _sketch_once(mesh, tag)
    before = len(mesh.sent)
    mesh.inject(0, more, sender=7)
    mesh.run_for(30.0)
    sketches = sent_after(mesh, before, "sketch")
    assert sketches and isinstance(sketches[0], m.Sketch) and sketches[0].start == 16


def test_a_pull_is_answered_in_priority_order_from_the_cursor() -> None:
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]

    def pull(part: int, cursor: bytes, target: int = 0) -> list[m.Records]:
        before = len(mesh.sent)
        mesh.inject(0, m.encode(m.pad_to(m.Pull(target, part, 3, cursor), 228, tag), tag),
                    sender=7)
        mesh.run_for(30.0)
        return [a for a in sent_after(mesh, before, "pull-records") if isinstance(a, m.Records)]

    got: list[bytes] = []
    cursor = b""
    for _ in range(40):  # about one packet per (padded) pull: chain the cursor
        answers = pull(0, cursor)[:1]
        assert len(answers) == 1 and not answers[0].relay
        assert answers[0].after == (cursor[7:] if cursor else bytes(8))
        got += [x for x in answers[0].records if x not in got]
        last = answers[0].records[-1]
        p = codec.parse(last)
        cursor = bytes([CLASS_OF_KIND[p.kind]]) + p.hlc.to_bytes(6, "big") + rid(last)
        if answers[0].end:
            break
    else:
        raise AssertionError("the partition never ended")
    assert all(rid(x)[0] % 3 == 0 for x in got)
    classes = [CLASS_OF_KIND[codec.parse(x).kind] for x in got]
    order = [(c, codec.parse(x).hlc if c == 0 else -codec.parse(x).hlc)
             for c, x in zip(classes, got, strict=True)]
    assert order == sorted(order), "not served class first, then newest first"
    # Membership is causal: oldest first, so each record's author comes before it.
    assert classes.count(0) >= 2
    # Another partition from the start: only records of that partition.
    more = [raw for a in pull(1, b"") for raw in a.records]
    assert more and all(rid(x)[0] % 3 == 1 for x in more)
    # A pull for another node, or for another way of splitting, is not answered.
    assert pull(0, b"", target=3) == []
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.pad_to(m.Pull(0, 0, 2, b""), 228, tag), tag), sender=7)
    mesh.run_for(30.0)
    assert sent_after(mesh, before, "pull-records") == []


def test_a_busy_channel_holds_normal_traffic_but_not_urgent() -> None:
    mesh, _ledger = lone()
    engine = mesh.engines[0]
    mesh.run_for(HOUR)
    engine.set_channel_utilization(60.0)  # above busy_util_pct: only urgent traffic
    before = len(mesh.sent)
    normal = mesh.need(0, "spare tyres")
    mesh.run_for(300.0)
    assert [s.out.tag for s in mesh.sent[before:]] == [], "sent normal traffic on a busy channel"
    t0 = mesh.now
    urgent = mesh.need(0, "oxygen, now", urgency=3)
    first = [s for s in mesh.sent[before:] if s.out.tag == "push"]
    assert first and first[0].t == t0 and urgent in m.decode(first[0].out.payload).records
    assert all(s.out.priority == URGENT for s in mesh.sent[before:])
    engine.set_channel_utilization(5.0)
    mesh.run_for(120.0)
    carried = [raw for s in mesh.sent[before:] if s.out.tag == "push"
               for raw in m.decode(s.out.payload).records]
    assert normal in carried


def test_a_partition_served_to_its_end_does_not_keep_the_puller_awake() -> None:
    """A bootstrap pulls three partitions; one responder says its partition ended
    while the others still stream. The finished partition must not leave a timer in
    the past: next_timer() right after poll() is always in the future."""
    ledger = Ledger(3, seed=8, history=80)
    mesh = Mesh(ledger, [clone(ledger.bare)], [], seed=8)
    tag = ledger.network[:2]
    full = {rid(x): x for x in ledger.full.raw_records()}
    for sender in (7, 8, 9):
        mesh.inject(0, m.encode(m.Digest(len(full), 1), tag), sender=sender)
    mesh.run_for(5.0)
    pulls = [m.decode(s.out.payload) for s in mesh.sent if s.out.tag == "pull"]
    assert len({p.part for p in pulls}) == 3 and all(p.parts == 3 for p in pulls)
    first = pulls[0]
    charter = ledger.charter
    # Its responder answers with the whole partition in one packet: just one record
    # of that partition (the charter, if it falls there), marked as the end.
    ours = [x for i, x in full.items() if i[0] % 3 == first.part and x != charter][:1]
    mesh.inject(0, m.encode(m.Records(tuple(ours), relay=False, end=True, after=bytes(8)), tag),
                sender=first.target)
    mesh.run_for(120.0)
    assert mesh.late_timers == 0, "woken in the past again and again (busy loop)"
    nxt = mesh.engines[0].next_timer()
    assert nxt is None or nxt > mesh.now
