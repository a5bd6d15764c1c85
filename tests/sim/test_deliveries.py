"""What each message type bought: the bench's `deliveries_by_type` (metrics.py)."""

from __future__ import annotations

from typing import Any

from meshaid.node.sim.runner import Simulation
from meshaid.node.sim.scenario import parse


def line_post(nodes: int, protocol: str, **over: Any) -> tuple[Simulation, dict[str, Any]]:
    """One plain post at the end of a lossless line, nothing else."""
    sc: dict[str, Any] = {
        "name": "line", "seed": 2, "duration_h": 0.5, "duty_cycle_pct": 10,
        "topology": {"kind": "line", "nodes": nodes}, "loss": {"model": "none"},
        "workload": {}, "events": [{"at_h": 0.1, "kind": "post", "node": 0}],
    }
    sc.update(over)
    sim = Simulation(parse(sc), protocol)
    return sim, sim.run()


def test_a_flooded_push_delivers_once_per_hop_and_its_last_relay_nothing() -> None:
    sim, res = line_post(5, "b1", mesh={"hop_limit": 4})
    push = res["deliveries_by_type"]["b1-push"]
    # node 0 sends at hop limit 4 and every radio down the line relays it once:
    # the first four transmissions each bring the next node its first copy, the
    # last (radio 4's, heard only by radio 3) brings nobody anything
    assert push == {"transmissions": 5, "useful": 4, "first_deliveries": 4,
                    "air_per_delivery_s": round(sim.mesh.stats.airtime_by_tag["b1-push"] / 4, 3)}
    (rid,) = [rid for rid, (t0, a, _s) in sim.created.items() if a == 0 and t0 > 0]
    assert set(sim.have[rid]) == set(range(5))


def test_meshaid_counts_each_nodes_first_copy_once_and_digests_buy_none() -> None:
    sim, res = line_post(4, "meshaid")
    bought = res["deliveries_by_type"]
    (rid,) = [rid for rid, (t0, a, _s) in sim.created.items() if a == 0 and t0 > 0]
    assert set(sim.have[rid]) == {0, 1, 2, 3}
    # three nodes got it, each by exactly one packet: the push, then relays
    assert sum(v["first_deliveries"] for v in bought.values()) == 3
    assert bought["push"]["first_deliveries"] == 1  # node 1, the only one in range
    assert bought["forward"]["first_deliveries"] == 2
    assert bought["digest"]["transmissions"] > 0
    assert bought["digest"]["first_deliveries"] == bought["digest"]["useful"] == 0
    assert bought["digest"]["air_per_delivery_s"] is None
    for v in bought.values():
        assert v["useful"] <= v["transmissions"]
        assert v["useful"] <= v["first_deliveries"]
    assert set(bought) == set(res["airtime_s"]["by_type"])
