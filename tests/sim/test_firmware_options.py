"""Firmware options as scenario settings: 2.8 packet signatures, per-sender rate limit."""

from __future__ import annotations

from typing import Any

import pytest

from meshaid.node.sim.runner import Simulation
from meshaid.node.sim.scenario import ScenarioError, parse
from meshaid.node.sim.topology import line

from .helpers import make


def test_packet_signatures_make_small_broadcasts_dearer_and_leave_full_ones() -> None:
    airs = {}
    for sig in (0, 66):
        mesh, _rec = make(line(2), seed=1)
        mesh.signature_bytes = sig
        mesh.send(0, bytes(20), hop_limit=0, tag="small")
        mesh.send(0, bytes(231), hop_limit=0, tag="full")
        mesh.events.run()
        airs[sig] = dict(mesh.stats.airtime_by_tag)
    assert airs[66]["small"] > airs[0]["small"] + 0.3  # 66 bytes more on LONG_FAST
    assert airs[66]["full"] == airs[0]["full"]  # no room: sent unsigned


def test_a_relay_with_a_rate_limit_drops_a_burst_from_one_sender() -> None:
    mesh, rec = make(line(3), seed=1)
    mesh.rate_limit = 2
    for i in range(5):
        mesh.send(0, bytes([i]) * 30, hop_limit=3, tag="burst")
    mesh.events.run()
    assert len([n for n, _p, _m in rec.got if n == 2]) == 2  # node 1 relayed two of five
    assert mesh.stats.refused["relay_rate_limited"] == 3


def _sc(**mesh: Any) -> dict[str, Any]:
    return {"name": "f", "seed": 2, "duration_h": 0.3, "duty_cycle_pct": 10,
            "topology": {"kind": "line", "nodes": 3}, "mesh": mesh,
            "workload": {"records_per_node_per_hour": 6}}


def test_the_settings_reach_the_mesh_and_wrong_types_name_the_key() -> None:
    sim = Simulation(parse(_sc(packet_signatures=True, rate_limit_per_min=5)), "meshaid")
    assert sim.mesh.signature_bytes == 66 and sim.mesh.rate_limit == 5
    plain = Simulation(parse(_sc()), "meshaid")
    assert plain.mesh.signature_bytes == 0 and plain.mesh.rate_limit == 0
    with pytest.raises(ScenarioError, match="packet_signatures"):
        parse(_sc(packet_signatures="yes"))
