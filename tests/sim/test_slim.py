"""The simulator's shortcuts change nothing it measures.

Simulated nodes keep slim stores (no board, search or first-heard rows:
`Store.slim`) and share parse results (`codec.PARSED`) and decoded packets
(`messages.DECODED`). A run with all three
must give exactly the result of a run with full stores and private parsing and decoding:
same records, same deliveries at the same virtual times, same air time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from meshaid.node.ledger import codec
from meshaid.node.sim.runner import Simulation
from meshaid.node.sim.scenario import load
from meshaid.node.sync import messages


def _run(name: str, protocol: str, hours: float | None, slim: bool) -> tuple[dict[str, Any], int]:
    sc = load(name)
    if hours:
        sc = replace(sc, duration_s=3600.0 * hours)
    sim = Simulation(sc, protocol, slim=slim)
    if not slim:
        codec.PARSED.share(False)  # every node parses for itself, as a real node does
        messages.DECODED.share(False)  # and decodes what it hears
    try:
        res = sim.run()
    finally:
        codec.PARSED.share(False)
        messages.DECODED.share(False)
    res.pop("wall_s")
    objects = sum(node.store.db.execute("SELECT COUNT(*) FROM objects").fetchone()[0]
                  for node in sim.nodes.values())
    return res, objects


@pytest.mark.parametrize(("name", "protocol", "hours"), [
    ("ci-small", "meshaid", None),
    ("ci-small", "b3", None),
    ("equivocation", "meshaid", 2.0),  # a fork: twins stored, the author's trust recomputed
    ("blockaded-port", "meshaid", 4.0),  # a critical burst, a partition, a late joiner
])
def test_slim_stores_and_shared_parses_give_the_full_result(name: str, protocol: str,
                                                            hours: float | None) -> None:
    full, full_objects = _run(name, protocol, hours, slim=False)
    slim, slim_objects = _run(name, protocol, hours, slim=True)
    assert full["records"] > 0 and full["delivered_fraction"] > 0
    assert slim == full
    assert full_objects > 0 and slim_objects == 0  # the slim stores kept no board rows
