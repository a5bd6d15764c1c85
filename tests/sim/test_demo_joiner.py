"""The demo's late joiner catches up on every run. Its ledger is a chain: the
clinic's hello, then the clinic's vouches, then everyone else's records. These
epochs (the demo's clock; it changes every record id) lost the hello that
chain hangs on: the joiner spent its air asking for records it already held
aside (outside the sync set, or held by the store for a hello not yet heard),
and dropped a sketch stream after one MORE went unanswered, waiting minutes
for a new round. It ended the story holding 1 (or 38) of 44 records. The last two epochs ended
it one record (or eight) short: the neighbours' sketches were newer than
their digests the joiner had heard (records still arriving there), so it
asked no MORE of them, and still counting itself busy with such a stream it
planned no sketch either, until Trickle's long interval came round. In the
last epoch the machine shop held a record the district lacked and never
sketched for it: a neighbour out of the district's range had just sketched
the machine shop's set, which counted as served, and Trickle kept its digest
quiet (its other neighbours agreed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshaid.node.sim.demo import PortDemo
from meshaid.node.sim.demo_story import JOINER


@pytest.mark.parametrize("epoch", [1_780_050_729.3, 1_780_071_763.4,
                                   1_780_920_656.3, 1_780_960_252.8, 1_781_007_768.6])
def test_the_late_joiner_catches_up_after_losing_the_hello(tmp_path: Path,
                                                          epoch: float) -> None:
    demo = PortDemo(tmp_path, epoch=epoch, say=None)
    try:
        summary = demo.run_headless()
        counts = summary["records_per_site"]
        assert "caught-up" in demo.marks, counts
        assert demo.nodes[JOINER].engine.count == demo.nodes[0].engine.count == 44
        assert summary["in_step"], counts
    finally:
        demo.close()
