"""Sketch back-offs (node/sync/reconcile.py `mismatch`): nodes that got the same
news at the same instant do not sketch at the same instant."""

from __future__ import annotations

import random

from meshaid.node.sync import riblt
from meshaid.node.sync.reconcile import Reconciler

from .harness import Ledger


def test_nodes_that_got_the_same_news_together_spread_their_sketches_past_settle() -> None:
    """Finding (town-40 seed 2): the nodes behind a firmware router all got each
    record at the same instant (the mast's relay), and a differing digest made
    each plan its sketch at the later of its back-off and `settle` after that
    news: the same instant for all of them. Their sketches collided at the mast
    round after round while they fell 50 records behind. The back-off now
    counts from the end of `settle`."""
    cfg = Ledger(3, seed=1).config()
    news = 1000.0
    dues = []
    for node in range(8):
        recon = Reconciler(cfg, random.Random(node), node, riblt.Sketch(1024, [1, 2, 3]))
        # a digest heard 2 s after the news; differences count from `settle` after
        # it (engine `quiet_since`, with the default relay window)
        recon.mismatch(10, 3, news + cfg.settle, news + 2.0)
        assert recon.sketch_due is not None and recon.sketch_due[1] == 0
        dues.append(recon.sketch_due[0])
    lo, hi = cfg.repair_window
    assert all(news + cfg.settle + lo <= t <= news + cfg.settle + hi for t in dues)
    assert len(set(dues)) == len(dues)
