"""After a sketch decodes a gap, when the next digest goes: a small gap (a record
or a few lost on the way) is closed by its own requests and repairs, so Trickle
checks again after the news interval, not at Imin (on steady-50 a third of all
digests came from such Imin resets, most of them while the repairs were still on
the way); a large gap (a heal) is still checked at Imin."""

from __future__ import annotations

import random

import pytest

from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt

from .meshes import lone


@pytest.mark.parametrize("lacking, interval", [(1, "news"), (3, "news"), (7, "imin")])
def test_a_decoded_gap_resets_trickle_by_its_size(lacking: int, interval: str) -> None:
    mesh, ledger = lone()
    engine = mesh.engines[0]
    mesh.run_for(4 * 3600.0)  # quiet: Trickle's interval has grown long
    assert engine.trickle.interval > engine.cfg.news_interval
    rng = random.Random(lacking)
    ours = [int.from_bytes(i, "big") for i in engine.infos]
    theirs = riblt.Sketch(1024, ours + [rng.getrandbits(64) for _ in range(lacking)])
    tag = ledger.network[:2]
    for _ in range(2):  # a neighbour syncing with us (a stranger's ids wait for the pool)
        mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint), tag), sender=7)
    mesh.run_for(4 * 3600.0)
    assert engine.trickle.interval > engine.cfg.news_interval
    mesh.inject(0, m.encode(m.Sketch(theirs.n, 0, theirs.encode(0, 16)), tag), sender=7)
    expected = engine.cfg.news_interval if interval == "news" else engine.cfg.trickle_imin
    assert engine.trickle.interval == expected
    assert engine.trickle.start == mesh.now
