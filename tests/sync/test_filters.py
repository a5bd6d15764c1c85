"""Filters (node/sync/filters.py, PROTOCOL.md §7): a large difference is healed
by a Bloom filter of what one side holds, answered with what it lacks (found on
grid-split-joins, a mesh written outside the project: after a 2-hour cut, about
250 records a side, nothing crossed for 30 minutes; sketch streams of hundreds
of symbols rarely decoded on the boundary nodes' leftover air)."""

from __future__ import annotations

import random

import pytest

from meshaid.node.ledger import identity
from meshaid.node.ledger import records as r
from meshaid.node.sync import filterbits, riblt
from meshaid.node.sync import filters as fl
from meshaid.node.sync import messages as m
from meshaid.node.sync.ports import RecordInfo
from meshaid.node.sync.reconcile import Reconciler

from .harness import HOUR, Ledger, Mesh, clone, rid
from .meshes import flood, lone


def _info(rid: bytes, hlc: int, author: bytes = b"\x00" * 4) -> RecordInfo:
    return RecordInfo(rid, 1, hlc, False, True, author)


def test_a_filter_holds_every_id_put_in_and_few_others() -> None:
    rng = random.Random(3)
    ids = [rng.randbytes(8) for _ in range(160)]
    bits = fl.make_bits(ids, 200, fl.HASHES)
    assert all(fl.holds(bits, fl.HASHES, rid) for rid in ids)
    others = [rng.randbytes(8) for _ in range(5000)]
    assert sum(fl.holds(bits, fl.HASHES, rid) for rid in others) < 5000 * 0.02


def test_the_index_gives_the_newest_records_at_or_before_an_hlc() -> None:
    rng = random.Random(4)
    infos = {}
    index = filterbits.HlcIndex()
    for _ in range(500):
        info = _info(rng.randbytes(8), rng.randrange(1 << 40))
        infos[info.id] = info
        index.add(info)
    index.add(next(iter(infos.values())))  # (added twice: a record re-admitted)
    until = sorted(i.hlc for i in infos.values())[300]
    want = sorted((i for i in infos.values() if i.hlc <= until),
                  key=lambda i: (i.hlc, i.id), reverse=True)[:40]
    assert index.window(infos, until, 0, 40) == (want, want[-1].hlc)
    for info in want[:10]:
        del infos[info.id]  # left the sync set
    assert index.window(infos, until, 0, 30) == (want[10:], want[-1].hlc)
    assert index.window(infos, until, want[-1].hlc, 40) == (want[10:], None)


def test_the_index_leaves_a_flooding_keys_records_out_and_says_where_it_stopped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A window that leaves out the records of a key flooding the ledger reaches
    back past the flood to everyone else's (filters.py `window`)."""
    rng = random.Random(5)
    flood, other = b"\xf1" * 4, b"\x01" * 4
    infos = {}
    index = filterbits.HlcIndex()
    for k in range(300):  # 50 of others' records, then a flood of 250 newer ones
        info = _info(rng.randbytes(8), (1000 + k) << 16, flood if k >= 50 else other)
        infos[info.id] = info
        index.add(info)
    theirs = sorted((i for i in infos.values() if i.author == other),
                    key=lambda i: i.hlc, reverse=True)
    assert index.window(infos, m.HLC_MAX, 0, 40, {flood}) == (theirs[:40], theirs[39].hlc)
    assert index.window(infos, m.HLC_MAX, 0, 100, {flood}) == (theirs, None)
    assert index.window(infos, m.HLC_MAX, theirs[9].hlc, 100, {flood}) == (theirs[:10], None)
    monkeypatch.setattr(filterbits, "SKIP_MAX", 100)  # (what one answer may pass over is bounded)
    out, stop = index.window(infos, m.HLC_MAX, 0, 100, {flood})
    assert out == [] and stop == (1000 + 300 - 100) << 16


def test_the_symbols_of_a_first_sketch_tell_a_few_records_from_a_partition() -> None:
    rng = random.Random(5)
    common = [rng.getrandbits(64) for _ in range(300)]
    ours = riblt.Sketch(64, common + [rng.getrandbits(64) for _ in range(2)])

    def spread(extra: int) -> float:
        theirs = riblt.Sketch(64, common + [rng.getrandbits(64) for _ in range(extra)])
        return riblt.spread(list(riblt.parse_symbols(theirs.encode(0, 16))), ours,
                            theirs.n - ours.n)

    assert spread(1) < fl.LACKING and spread(4) < fl.LACKING
    assert spread(200) > fl.LACKING and spread(400) > fl.LACKING


def _filter_of(eng_infos: dict[bytes, RecordInfo], keep: int, target: int) -> m.Filter:
    """A filter of all but the `keep` newest of these records (it lacks those)."""
    newest = sorted(eng_infos.values(), key=lambda i: i.hlc, reverse=True)
    held = [i.id for i in newest[keep:]]
    return m.Filter(target, 0, m.HLC_MAX, len(held), fl.HASHES,
                    fl.make_bits(held, 160, fl.HASHES))


def test_a_filter_is_answered_with_the_records_it_lacks_as_far_as_its_sender_pays() -> None:
    mesh, ledger = lone(history=40)
    eng = mesh.engines[0]
    tag = ledger.network[:2]
    mesh.run_for(600.0)
    lacking = _filter_of(eng.infos, 3, 0)
    missing = {i.id for i in sorted(eng.infos.values(), key=lambda i: i.hlc)[-3:]}
    mesh.inject(0, m.encode(lacking, tag), sender=7, snr=5.0)
    # One packet of its own air: about one record's answer, not three.
    queued = {rid for rid, s in eng.sends.items() if s.tag == "repair"}
    assert queued and queued <= missing and len(queued) < 3
    eng.sends.clear()
    same = m.encode(m.Digest(eng.count, eng.fingerprint), tag)
    for _ in range(12):  # it talks: its air earns it credit here
        mesh.inject(0, same, sender=7, snr=5.0)
        mesh.run_for(5.0)
    mesh.inject(0, m.encode(lacking, tag), sender=7, snr=5.0)
    assert {rid for rid, s in eng.sends.items() if s.tag == "repair"} == missing
    eng.sends.clear()
    mesh.inject(0, m.encode(_filter_of(eng.infos, 3, 9), tag), sender=7, snr=5.0)
    assert not eng.sends, "a filter naming another node is that node's to answer"


def test_a_partition_of_many_records_a_side_heals_by_filters() -> None:
    """Two nodes cut apart while each posts 40 records (a difference of 80, the
    counts level, so no pull): after the heal the first sketch's symbols show a
    large difference and filters carry it, answered from the members' allowances
    (their tickets ride in the filters), in a few minutes. (Over mesh seeds
    1-20 one heal takes 540-930 s and 950-2,100 bytes of symbols: judged on the
    mean of five, not on one seed's luck.)"""
    ledger = Ledger(3, seed=6, history=30)
    took, symbols = [], []
    for seed in range(1, 6):
        mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], [(0, 1)], seed=seed)
        for i in (0, 1):
            mesh.engines[i].signer = identity.signer(ledger.keys[i])
        mesh.run_for(600.0)
        mesh.partition([0])
        for k in range(40):
            mesh.author(0, r.Offer(35, f"west offer {k}", 5 + k))
            mesh.author(1, r.Need(1, f"east need {k}", 10, 4, 1))
            mesh.run_for(90.0)
        mesh.run_for(1200.0)
        start, healed = len(mesh.sent), mesh.now
        mesh.heal()
        while not mesh.agree() and mesh.now < healed + HOUR:
            mesh.run_for(30.0)
        mesh.assert_converged()
        after = mesh.sent[start:]
        assert any(s.out.tag == "filter" for s in after)
        took.append(mesh.now - healed)
        symbols.append(sum(len(s.out.payload) for s in after if s.out.tag in ("sketch", "more")))
    assert sum(took) / len(took) < 900.0, took
    assert sum(symbols) / len(symbols) < 80 * 18, "the difference did not go by sketch symbols"


def test_a_listener_walks_only_toward_a_sketcher_holding_many_records_it_lacks() -> None:
    """The walk asks for what we lack: toward a sketcher that lacks hundreds of
    ours (a late joiner, the sketch of a node far behind) it would bring nothing
    (on late-joiner-2000 every node walked toward the joiner: 1,718 s of
    filters at seed 5); a few records apart, the stream goes on."""
    rng = random.Random(6)
    common = [rng.getrandbits(64) for _ in range(400)]
    mine = [rng.getrandbits(64) for _ in range(200)]

    def walks_toward(theirs: list[int]) -> bool:
        ours = riblt.Sketch(1024, common + mine)
        recon = Reconciler(Ledger(3, seed=1).config(), random.Random(1), 1, ours)
        recon.more_rank = lambda sender: 0
        asked: list[int] = []
        recon.large = lambda sketcher, now: asked.append(sketcher) is None
        sketch = riblt.Sketch(1024, common + theirs)
        recon.on_sketch(m.Sketch(sketch.n, 0, sketch.encode(0, 16)), 5, 10.0, ours.n)
        return asked == [5]

    assert walks_toward(mine + [rng.getrandbits(64) for _ in range(120)])
    assert walks_toward([rng.getrandbits(64) for _ in range(150)] + mine[:60])
    assert not walks_toward([])  # it lacks 200 of ours, holds none we lack
    assert not walks_toward(mine + [rng.getrandbits(64) for _ in range(3)])


def test_under_a_flood_a_walk_leaves_the_flooding_key_out_then_walks_it_too() -> None:
    """While a key floods the ledger here, a walk's filters first leave its
    records out on both sides: one packet then covers everyone else's records
    back to the start, where the flood's would fill a window of minutes and
    hide a neighbour's post among hundreds (stolen-critical, full size). Once
    that pass ends, the walk goes on over every record, the flood's included:
    a busy site's burst is no theft, and still has to cross."""
    mesh, ledger = lone(history=40)
    engine, tag = mesh.engines[0], ledger.network[:2]
    mesh.run_for(HOUR)
    heavy = flood(mesh, ledger, count=200)
    author = engine.infos[rid(heavy[0])].author
    for _ in range(2):  # a neighbour heard directly, level with us
        mesh.inject(0, m.encode(m.Digest(engine.count, 0x5151), tag), sender=0x77, snr=5.0)
        mesh.run_for(10.0)
    before = len(mesh.sent)
    assert engine.answers.filters.start(0x77, mesh.now)
    mesh.run_for(3 * fl.WAIT)
    sent = [m.decode(s.out.payload) for s in mesh.sent[before:] if s.out.tag == "filter"]
    first, then = sent[0], sent[1]
    assert first.skip == (author,) and first.since == 0
    # Every other author's record, in one packet.
    assert first.held == sum(i.author != author for i in engine.infos.values())
    assert then.skip == () and then.until == m.HLC_MAX and then.since > 0
    assert then.held > first.held  # the flood's newest fill this window


def test_a_filter_leaving_a_flooding_key_out_is_answered_from_the_other_records() -> None:
    """The node a filter names leaves the listed authors' records out of the
    window too: it answers the others' records the filter lacks, none of the
    flood's (which the asker does not count, hold in its filter or ask for)."""
    mesh, ledger = lone(history=40)
    engine, tag = mesh.engines[0], ledger.network[:2]
    mesh.run_for(600.0)
    heavy = flood(mesh, ledger, count=60)
    author = engine.infos[rid(heavy[0])].author
    others = sorted((i for i in engine.infos.values() if i.author != author),
                    key=lambda i: i.hlc, reverse=True)
    held = [i.id for i in others[3:]]
    for _ in range(12):  # it talks: its air earns it credit here
        mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint), tag), sender=7,
                    snr=5.0)
        mesh.run_for(5.0)
    engine.sends.clear()
    ask = m.Filter(0, 0, m.HLC_MAX, len(held), fl.HASHES, fl.make_bits(held, 160, fl.HASHES),
                   b"", (author,))
    mesh.inject(0, m.encode(ask, tag), sender=7, snr=5.0)
    assert {r for r, s in engine.sends.items() if s.tag == "repair"} == {i.id for i in others[:3]}
