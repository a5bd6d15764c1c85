"""A long sketch stream survives what a healed cut throws at it (issue 10,
healing): a lost packet leaves a gap the rateless code fills with later
symbols.

Found on grid-split-joins (a 5x5 grid cut in two for two hours, 250 records
apart when it heals): a listener that missed one packet of symbols dropped
every later one until the missing one came again; each boundary node's next
sketch from index 0 coded its newer set, and its listeners, hundreds of
symbols in, started over. In the hour after the heal, no difference larger
than five records decoded anywhere."""

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
    result = None
    start = 48
    while result is None and start < 1024:
        result = recon.on_sketch(_packet(theirs, start), 5, 20.0, ours.n)
        start += 16
    assert result is not None and result.complete and result.theirs == lacking
