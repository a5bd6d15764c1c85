"""Scenario files a user may well write that the bench once answered with an
internal error (found by generating scenario files, issue 10 "Scenarios"):
sites out of everyone's range, a skew of nobody, events naming a radio-only
relay. Each now runs, or is refused with one line naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshaid.node.sim.metrics import greedy_cds
from meshaid.node.sim.runner import Simulation
from meshaid.node.sim.scenario import ScenarioError, parse


def _sc(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "odd", "seed": 3, "duration_h": 0.3,
                            "workload": {"records_per_node_per_hour": 6}}
    data.update(over)
    return data


def test_a_site_out_of_everyones_range_is_measured_not_a_crash() -> None:
    # Two sites 40 km apart on LONG_FAST (range about 10 km): no link at all.
    sc = parse(_sc(topology={"kind": "positions", "positions": [[0, 0], [40000, 0]]}), "far.toml")
    for protocol in ("meshaid", "b1"):
        res = Simulation(sc, protocol).run()
        assert res["eta"]["gamma_c_greedy"] == 0 and res["eta"]["total_greedy"] is None


def test_the_dominating_set_of_a_mesh_in_pieces_is_the_sum_of_its_pieces() -> None:
    line3 = {0: {1}, 1: {0, 2}, 2: {1}}
    assert greedy_cds(line3) == 1
    pieces = {0: {1}, 1: {0, 2}, 2: {1}, 3: set(), 4: {5}, 5: {4}, 6: {7}, 7: {6, 8}, 8: {7}}
    assert greedy_cds(pieces) == 1 + 0 + 1 + 1
    assert greedy_cds({0: set()}) == 1 and greedy_cds({}) == 0


def test_a_skew_of_nobody_skews_nobody() -> None:
    sc = parse(_sc(topology={"kind": "grid", "rows": 1, "cols": 1},
                   events=[{"at_h": 0.1, "kind": "skew", "fraction": 0.0, "seconds": 600}]),
               "skew.toml")
    sim = Simulation(sc)
    sim.run()
    assert all(node.skew == 0 for node in sim.nodes.values())
    sc = parse(_sc(topology={"kind": "line", "nodes": 4},
                   events=[{"at_h": 0.1, "kind": "skew", "fraction": 0.0, "seconds": 600}]),
               "skew.toml")
    sim = Simulation(sc)
    sim.run()
    assert all(node.skew == 0 for node in sim.nodes.values())


@pytest.mark.parametrize("event", [
    {"at_h": 0.1, "kind": "join", "node": 2},
    {"at_h": 0.1, "kind": "post", "node": 2},
    {"at_h": 0.1, "kind": "equivocate", "node": 2},
    {"at_h": 0.1, "kind": "burst", "count": 3, "nodes": [0, 2]},
])
def test_an_event_that_needs_a_ledger_on_a_relay_is_refused(event: dict[str, Any]) -> None:
    sc = parse(_sc(topology={"kind": "line", "nodes": 4, "relays": [2]}, events=[event]),
               "relay.toml")
    with pytest.raises(ScenarioError, match=r"'events\.nodes?' .* node 2 is a radio-only relay"):
        Simulation(sc)


def test_a_relay_may_lose_power_and_come_back() -> None:
    sc = parse(_sc(topology={"kind": "line", "nodes": 4, "relays": [2]},
                   events=[{"at_h": 0.1, "kind": "leave", "node": 2},
                           {"at_h": 0.2, "kind": "return", "node": 2}]), "mast.toml")
    assert Simulation(sc).run()["delivered_fraction"] is not None


def test_the_bench_refuses_such_a_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text('duration_h = 0.2\n[topology]\nkind = "line"\nnodes = 4\nrelays = [2]\n'
                    '[[events]]\nat_h = 0.1\nkind = "post"\nnode = 2\n')
    proc = subprocess.run([sys.executable, "-m", "meshaid.node.cli", "bench", "--scenario",
                           str(path), "--quiet"], capture_output=True, text=True, timeout=120,
                          check=False, cwd=tmp_path)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "radio-only relay" in lines[0] and "internal error" not in lines[0]
