"""Catch-up after a partition heals (issue 10, healing): a sketch stream, once
begun, is never started over by symbols the listener already holds, and a lost
packet leaves a gap the rateless code fills with later symbols (found on
grid-split-joins: a listener that missed one packet dropped every later one
until the missing one came again; in the hour after the heal no difference
larger than five records decoded)."""

from __future__ import annotations

import random

import pytest

from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync.reconcile import Reconciler

from .harness import Ledger


def _sets(diff: int, seed: int = 4) -> tuple[riblt.Sketch, riblt.Sketch, set[int]]:
    rng = random.Random(seed)
    common = [rng.getrandbits(64) for _ in range(50)]
    theirs = [rng.getrandbits(64) for _ in range(diff)]
    return riblt.Sketch(1024, common), riblt.Sketch(1024, common + theirs), set(theirs)


def _packet(sketch: riblt.Sketch, start: int, n: int = 16) -> m.Sketch:
    return m.Sketch(sketch.n, start, sketch.encode(start, n))


def _decode_from(recon: Reconciler, theirs: riblt.Sketch, start: int,
                 now: float) -> riblt.Decoded | None:
    """Feed sketcher 5's packets from `start` on until the stream decodes."""
    result = None
    while result is None and start < 1024:
        result = recon.on_sketch(_packet(theirs, start), 5, now, recon.sketch.n)
        start += 16
    return result


def test_a_sketch_heard_again_from_index_zero_continues_the_stream() -> None:
    """Finding: every new round of a sketcher's sketch (index 0, the same set)
    threw away the symbols a listener held, so after a heal (hundreds of ids
    apart, 20 packets of symbols) no stream ever reached the end."""
    ours, theirs, lacking = _sets(100)
    recon = Reconciler(Ledger(3, seed=1).config(), random.Random(1), 1, ours)
    recon.more_rank = lambda sender: 0
    for start in (0, 16, 32):
        assert recon.on_sketch(_packet(theirs, start), 5, 10.0, ours.n) is None
    assert recon.on_sketch(_packet(theirs, 0), 5, 20.0, ours.n) is None  # a new round
    assert len(recon.remote[5]) == 48
    assert recon.more_due[5][1] == 48, "asks from where it stood"
    result = _decode_from(recon, theirs, 48, 40.0)
    assert result is not None and result.complete
    assert result.theirs == lacking and not result.ours


def test_a_changed_set_starts_a_new_stream() -> None:
    """Symbols held are kept only while they are the sketcher's: a sketch from
    index 0 of another set replaces them."""
    ours, theirs, _lacking = _sets(40)
    _o, other, _l = _sets(40, seed=9)
    recon = Reconciler(Ledger(3, seed=1).config(), random.Random(1), 1, ours)
    recon.more_rank = lambda sender: 0
    for start in (0, 16):
        recon.on_sketch(_packet(theirs, start), 5, 10.0, ours.n)
    recon.on_sketch(m.Sketch(theirs.n, 0, other.encode(0, 16)), 5, 20.0, ours.n)
    assert len(recon.remote[5]) == 16
    assert recon.remote[5][0] == riblt.parse_symbols(other.encode(0, 1))[0]


def test_a_sketch_newer_than_the_digest_heard_is_asked_on_in_its_senders_voice() -> None:
    """Finding (the demo's late joiner, 2-3 runs in 100 a record short): a sketch
    whose count was newer than its sender's last digest heard (records still
    arriving there) was not asked on, and the listener, still 'driving' that
    stream, planned no sketch of its own either: it waited for Trickle's long
    interval. Then the sender's next digest vouched for the symbols held; and
    across a weak link (scenario two-towns) that digest seldom came, so two
    towns stopped reconciling. Now a sketch from index 0 heard in its sender's
    own voice is that sender's latest word on its set, as believable as its
    digest: the listener asks on at once."""
    from meshaid.node.store.sync_port import SyncLedger
    from meshaid.node.sync.engine import Engine, record_id
    from meshaid.node.sync.ports import RxMeta

    from .harness import T0, clone

    net = Ledger(3, seed=5, history=60)
    store = clone(net.bare)
    store.ingest_many(net.setup + net.history[:20], T0)
    eng = Engine(SyncLedger(store), net.config(), 1, seed=1)
    eng.sketch.settle()
    ids = [int.from_bytes(record_id(raw), "big") for raw in net.setup + net.history]
    older = riblt.Sketch(1024, ids[: len(net.setup) + 50])
    newer = riblt.Sketch(1024, ids)
    meta = RxMeta(sender=7, snr=5.0, hops=0)
    tag = net.network[:2]

    def digest(sk: riblt.Sketch) -> bytes:
        fp = 0
        for x in ids[: sk.n]:
            fp ^= x
        return m.encode(m.Digest(sk.n, fp, False, (), False, ()), tag)

    now = T0 + 100.0
    eng.receive(digest(older), meta, now)
    eng.poll(now)
    eng.receive(m.encode(_packet(newer, 0), tag), meta, now + 1)  # newer than that digest
    assert 7 in eng.recon.more_due and eng.recon.more_due[7][1] == 16
    # In another voice (a signal far from its usual one) it vouches for nothing.
    other = Engine(SyncLedger(clone(store)), net.config(), 2, seed=1)
    other.sketch.settle()
    other.receive(digest(older), meta, now)
    other.poll(now)
    other.receive(m.encode(_packet(newer, 0), tag), RxMeta(sender=7, snr=-15.0, hops=0), now + 1)
    assert 7 not in other.recon.more_due


def test_a_set_sketched_by_a_neighbour_out_of_the_differing_nodes_range_is_sketched_again() -> None:
    """Finding (the demo, a district one record short to the end): a node whose
    set a neighbour had just sketched planned no sketch for a differing
    digest, though the differing node was out of that sketcher's range and
    never heard it; its own digests were kept quiet by Trickle (k = 1: other
    neighbours agreed with it), so the district never learnt of the record."""
    from meshaid.node.sync.relays import Peer, short

    ours, _theirs, _l = _sets(0)
    recon = Reconciler(Ledger(3, seed=1).config(), random.Random(1), 1, ours)
    recon.on_sketch(_packet(ours, 0), 5, 10.0, ours.n)  # node 5 sketched our very set
    hears_5 = Peer(count=ours.n - 1, neighbours=frozenset({short(1), short(5)}))
    recon.mismatch(ours.n - 1, ours.n, -1e9, 20.0, hears_5)
    assert recon.sketch_due is None  # it heard that sketch: it asks for MORE
    far_from_5 = Peer(count=ours.n - 1, neighbours=frozenset({short(1), short(9)}))
    recon.mismatch(ours.n - 1, ours.n, -1e9, 20.0, far_from_5)
    assert recon.sketch_due is not None


def test_a_node_that_knows_a_neighbour_differs_is_not_silenced_by_others_agreeing() -> None:
    """Finding (a healed partition stalled for hours at 85 % delivered): each side
    heard its own side agree, so Trickle (k = 1) kept every digest quiet; the
    nodes at the cut knew from old digests that the other side differed, but
    no digest crossed to start a sketch. Now a node that heard a neighbour
    differ (after its own set last changed) sends its digest when Trickle
    would have suppressed it."""
    from meshaid.node.store.sync_port import SyncLedger
    from meshaid.node.sync.engine import Engine

    from .harness import T0, clone

    net = Ledger(3, seed=6, history=20)
    eng = Engine(SyncLedger(clone(net.full)), net.config(), 1, seed=2)
    tag = net.network[:2]
    now = T0 + 100.0
    eng.start(now)
    behind = m.encode(m.Digest(eng.count - 2, 12345, False, (), False, ()), tag)
    same = m.encode(m.Digest(eng.count, eng.fingerprint, False, (), False, ()), tag)
    from meshaid.node.sync.ports import RxMeta

    eng.receive(same, RxMeta(sender=7, snr=6.0), now)
    eng.receive(behind, RxMeta(sender=8, snr=2.0), now)  # across the cut
    sent: list[str] = []
    t = now
    while t < now + 1800:
        t += 2.0
        sent += [out.tag for out in eng.poll(t)]
        eng.receive(same, RxMeta(sender=7, snr=6.0), t)  # its own side agrees, often
    assert sent.count("digest") >= 2  # (the first goes anyway: it carries our neighbour list)


def test_decoding_with_gaps_recovers_the_difference() -> None:
    ours, theirs, lacking = _sets(60)
    symbols: list[riblt.Symbol | None] = list(riblt.parse_symbols(theirs.encode(0, 400)))
    for i in range(16, 400, 48):  # every third packet of 16 lost
        symbols[i:i + 16] = [None] * 16
    result = riblt.decode(symbols, 0, ours)
    assert result.complete and result.theirs == lacking and not result.ours
    with pytest.raises(ValueError):
        riblt.decode([None] + symbols[1:], 0, ours)  # symbol 0 codes every element


def test_a_listener_that_missed_a_packet_keeps_the_symbols_after_it() -> None:
    ours, theirs, lacking = _sets(100)
    recon = Reconciler(Ledger(3, seed=1).config(), random.Random(1), 1, ours)
    recon.more_rank = lambda sender: 0
    recon.on_sketch(_packet(theirs, 0), 5, 10.0, ours.n)
    # symbols 16-31 lost; 32-47 heard (another listener asked for them)
    assert recon.on_sketch(_packet(theirs, 32), 5, 12.0, ours.n) is None
    held = recon.remote[5]
    assert len(held) == 48 and held[16:32] == [None] * 16 and held[32] is not None
    assert recon.more_due[5][1] == 48, "asks on from past the gap, not for it again"
    result = _decode_from(recon, theirs, 48, 20.0)
    assert result is not None and result.complete and result.theirs == lacking
