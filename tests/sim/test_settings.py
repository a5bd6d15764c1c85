"""One rule for every protocol: budget, hop limit, router rebroadcast mode, radio queue."""

from __future__ import annotations

from typing import Any

import pytest

from meshaid.node.sim import settings
from meshaid.node.sim.packets import CorePayload
from meshaid.node.sim.runner import Simulation
from meshaid.node.sim.scenario import parse
from meshaid.node.sim.topology import line
from meshaid.node.sync.ports import Outgoing

from .helpers import make


def scenario(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "s", "seed": 3, "duration_h": 1.0, "duty_cycle_pct": 10,
        "topology": {"kind": "random", "nodes": 10, "avg_degree": 4},
        "loss": {"model": "bernoulli", "p": 0.05},
        "workload": {"records_per_node_per_hour": 4, "stop_fraction": 0.9},
        "sync": {"b0_period": 300},
    }
    base.update(over)
    return base


def test_baselines_keep_to_the_same_share_as_meshaid_unless_given_the_cap() -> None:
    share = Simulation(parse(scenario()), "b0").run()
    assert share["budget"] == {"rule": "share", "share": 0.5, "pct": 5.0}
    assert share["max_own_duty_cycle_pct"] <= 5.0
    capped = Simulation(parse(scenario(baseline_budget="cap")), "b0").run()
    assert capped["budget"] == {"rule": "cap", "share": 1.0, "pct": 10.0}
    assert capped["max_own_duty_cycle_pct"] > 5.0  # B0 every 5 min wants more than the share
    mine = Simulation(parse(scenario(baseline_budget="cap")), "meshaid")
    assert mine._config().budget_s_per_hour == 180.0  # the switch is for baselines only


def test_b0_state_floods_count_as_propagation() -> None:
    res = Simulation(parse(scenario(duration_h=0.5)), "b0").run()
    assert res["eta"]["propagation_greedy"] == res["eta"]["total_greedy"] > 0


@pytest.mark.parametrize("hops", [1, 4])
def test_the_hop_limit_is_a_scenario_setting_for_baselines(hops: int) -> None:
    sc = parse(scenario(topology={"kind": "line", "nodes": 6}, loss={"model": "none"},
                        workload={}, mesh={"hop_limit": hops},
                        events=[{"at_h": 0.1, "kind": "post", "node": 0, "urgency": 1}]))
    sim = Simulation(sc, "b1")
    assert sim._config().max_scope == hops  # meshaid's widest scope follows it too
    sim.run()
    (rid,) = [rid for rid, (t0, author, _s) in sim.created.items() if author == 0 and t0 > 0]
    assert set(sim.have[rid]) == set(range(hops + 2))  # the author, hops + 1 radio hops


def test_a_router_on_core_portnums_only_drops_our_port_but_relays_core_traffic() -> None:
    def run(mode: str) -> Simulation:
        sc = parse(scenario(topology={"kind": "line", "nodes": 3, "routers": [1]},
                            loss={"model": "none"}, workload={},
                            mesh={"router_rebroadcast": mode},
                            background={"position_s": 600, "telemetry_s": 0, "nodeinfo_s": 0},
                            events=[{"at_h": 0.1, "kind": "post", "node": 0}]))
        sim = Simulation(sc, "b1")
        sim.run()
        return sim

    for mode, reaches in (("ALL", True), ("CORE_PORTNUMS_ONLY", False)):
        sim = run(mode)
        (rid,) = [rid for rid, (t0, a, _s) in sim.created.items() if a == 0 and t0 > 0]
        assert (2 in sim.have[rid]) is reaches, mode
        # position broadcasts: every node every 10 min, node 0's relayed through node 1
        assert sim.mesh.stats.tx_by_tag["bg-position"] >= 3 * 6 + 6
    assert run("CORE_PORTNUMS_ONLY").mesh.stats.dropped_core_only > 0


def test_core_traffic_never_reaches_the_application_nor_its_own_air_time() -> None:
    mesh, rec = make(line(3), seed=2)
    mesh.send(0, CorePayload(bytes(30)), hop_limit=3, tag="bg-position")
    mesh.events.run()
    assert rec.got == [] and mesh.stats.relays == 2  # nodes 1 and 2 relay it
    assert mesh.own_transmissions(0) == [] and len(mesh.transmissions(0)) == 1


@pytest.mark.parametrize("wait", [True, False])
def test_a_full_radio_queue_makes_the_sender_wait(wait: bool) -> None:
    sc = parse(scenario(topology={"kind": "line", "nodes": 2}, loss={"model": "none"},
                        workload={}, mesh={"queue": "wait" if wait else "drop"}))
    sim = Simulation(sc, "b1")
    sender = settings.Sender(sim, wait=wait)
    for i in range(40):
        sender.send(0, Outgoing(bytes([i]) * 200, 0, "test", 1))
    sim.events.run_until(3600.0)
    sent = sim.mesh.stats.tx_by_tag.get("test", 0)
    if wait:
        assert sent == 40 and sender.waited == 40 - sim.mesh.tx_queue_len
        assert "queue_full" not in sim.mesh.stats.refused
    else:
        assert sent == sim.mesh.tx_queue_len
        assert sim.mesh.stats.refused["queue_full"] == 40 - sim.mesh.tx_queue_len
    sender.power_off(0)
    assert not sender.waiting


def test_critical_bursts_are_critical_needs() -> None:
    sc = parse(scenario(workload={}, events=[{"at_h": 0.2, "kind": "burst", "count": 12,
                                              "over_min": 5, "urgency": 3}]))
    sim = Simulation(sc, "b1")
    res = sim.run()
    assert res["convergence_critical_s"]["count"] == 12 == len(sim.urgent)


@pytest.mark.parametrize("protocol", ["meshaid", "b1"])
def test_the_protocol_hears_when_each_of_its_packets_went_on_air(
        protocol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy channel holds packets in the radio's queue for seconds: the
    simulator tells the protocol when each of its own frames started on air
    (`sent`, as the daemon does), and its budget counts the air from then."""
    sim = Simulation(parse(scenario(
        topology={"kind": "random", "nodes": 12, "avg_degree": 6},
        workload={"records_per_node_per_hour": 16, "stop_fraction": 0.9})), protocol)
    heard: list[tuple[Any, Outgoing, float]] = []
    kind = type(sim.nodes[0].engine)
    original = kind.sent

    def sent(engine: Any, out: Outgoing, now: float) -> None:
        heard.append((engine, out, now))
        original(engine, out, now)

    monkeypatch.setattr(kind, "sent", sent)
    res = sim.run()
    assert res["max_own_duty_cycle_pct"] <= 5.0
    node_of = {id(node.engine): n for n, node in sim.nodes.items()}
    starts = {n: {round(t, 6) for t, _d in sim.mesh.own_transmissions(n)} for n in sim.nodes}
    waited = 0
    for engine, out, now in heard:
        n = node_of[id(engine)]
        assert round(now, 6) in starts[n]  # the frame's start on air
        assert now >= out.at
        waited += now > out.at + 1.0
    own = sum(len(s) for s in starts.values())
    assert len(heard) == own  # each frame of ours, once
    assert waited > 0.1 * own  # the channel was busy: many waited in the queue
