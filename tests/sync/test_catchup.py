"""Catch-up after a partition heals (issue 10, healing): a sketch stream, once
begun, is never started over by symbols the listener already holds."""

from __future__ import annotations

import random

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
    result = None
    start = 48
    while result is None and start < 1024:
        result = recon.on_sketch(_packet(theirs, start), 5, 40.0, ours.n)
        start += 16
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
