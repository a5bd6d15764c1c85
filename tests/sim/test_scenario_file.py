"""Scenario files: every shipped one loads; mistakes name the key; towns from positions."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from meshaid.node.sim.loss import Bernoulli, GilbertElliott
from meshaid.node.sim.scenario import ScenarioError, load, parse, shipped_names
from meshaid.node.sim.world import build_topology, loss_model


def base(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"topology": {"kind": "random", "nodes": 6}}
    data.update(over)
    return data


@pytest.mark.parametrize("name", shipped_names())
def test_every_shipped_scenario_loads(name: str) -> None:
    sc = load(name)
    assert sc.name and sc.duration_s > 0


@pytest.mark.parametrize(("data", "key"), [
    (base(sync={"trickle_imx": 3.0}), "sync.trickle_imx"),
    (base(sync={"trickle_imax": "fast"}), "sync.trickle_imax"),
    (base(sync={"repair_window": 3}), "sync.repair_window"),
    (base(topology={"kind": "random", "nodes": 6, "routers": "1,2"}), "topology.routers"),
    (base(topology={"kind": "random", "nodes": 6, "mutes": "12"}), "topology.mutes"),
    (base(topology={"kind": "random", "nodes": "6"}), "topology.nodes"),
    (base(topology={"kind": "links", "links": "0-1"}), "topology.links"),
    (base(topology={"kind": "links", "links": [[0, 1]]}), "topology.links[0]"),
    (base(topology={"kind": "links", "links": [{"a": 0, "b": 1, "snr": 3}]}), "topology.links[0]"),
    (base(topology={"kind": "positions", "positions": [[0, 0], [1, "x"]]}), "topology.positions"),
    (base(topology={"kind": "positions"}), "topology.positions"),
    (base(loss={"model": "gilbert"}), "loss.p"),
    (base(loss={"model": "bernoulli", "p": 0.1, "burst": 3}), "loss.burst"),
    (base(workload={"mix": {"need": 1, "gift": 1}}), "workload.mix.gift"),
    (base(mesh={"hop_limit": 9}), "mesh.hop_limit"),
    (base(mesh={"router_rebroadcast": "core"}), "mesh.router_rebroadcast"),
    (base(background={"position": 900}), "background.position"),
    (base(baseline_budget="all"), "baseline_budget"),
    (base(events=[{"at_h": 1, "kind": "partition", "side": "left"}]), "events[0].side"),
    (base(events=[{"at_h": 1, "kind": "join", "nodes": "3"}]), "events[0].nodes"),
    (base(events=[{"at_h": 1, "kind": "join", "node": 9}]), "events[0].node"),
    (base(events=[{"at_h": 1, "kind": "heal", "side": [1]}]), "events[0].side"),
    (base(events=[{"kind": "heal"}]), "events[0].at_h"),
    (base(events={"at_h": 1, "kind": "heal"}), "events"),
    (base(seeds=3), "seeds"),
    (base(topology={"kind": "random", "nodes": 30, "avg_degree": 1.5}), "topology.avg_degree"),
    (base(topology={"kind": "links", "links": [[0, 7, 1.0]], "nodes": 3}), "topology.links"),
])
def test_a_mistake_is_an_error_that_names_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse(data, "town.toml")
    message = str(err.value)
    assert message.startswith("town.toml: ") and f"'{key}" in message
    assert "\n" not in message


def test_a_file_with_a_mistake_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[sync]\nbudget_shar = 0.5\n')
    with pytest.raises(ScenarioError, match=r"bad\.toml: unknown key 'sync\.budget_shar'"):
        load(str(path))


def test_a_misspelt_sync_key_gets_the_nearest_name() -> None:
    """`[sync]` takes every engine setting (too many to list in one line): a key
    that is not one is answered with the nearest that is."""
    with pytest.raises(ScenarioError) as err:
        parse({"name": "x", "sync": {"trickle_imx": 5}}, "x")
    assert "unknown key 'sync.trickle_imx' (did you mean 'sync.trickle_imax'?)" in str(err.value)


def test_positions_with_path_loss_shadowing_and_hilltop_gain() -> None:
    # 6 km spacing: plain neighbours hear each other, two apart do not (range ~10 km at
    # exponent 3 on LONG_FAST); a mast with 15 dB of gain on node 2 reaches much further.
    row = [[6000.0 * i, 0.0] for i in range(6)]
    flat = build_topology(parse(base(topology={"kind": "positions", "positions": row})),
                          random.Random(1))
    assert flat.neighbors(2) == [1, 3]
    mast = parse(base(topology={"kind": "positions", "positions": row, "gain_db": [[2, 15]]}))
    assert set(build_topology(mast, random.Random(1)).neighbors(2)) > {0, 1, 3, 4}
    shadowed = parse(base(topology={"kind": "positions", "positions": row, "shadowing_db": 8}))
    a = build_topology(shadowed, random.Random(1))
    b = build_topology(shadowed, random.Random(2))
    assert a.links != b.links  # shadowing drawn from the run's seed
    assert a.links == build_topology(shadowed, random.Random(1)).links


def test_explicit_links_with_their_own_snr_and_loss() -> None:
    sc = parse(base(
        topology={"kind": "links", "links": [[0, 1, 5.0], [1, 2, -3.0, 0.4],
                                             {"a": 2, "b": 3, "snr_db": 1, "loss": 0.2,
                                              "mean_burst": 5, "one_way": True}]},
        loss={"model": "bernoulli", "p": 0.05}))
    topo = build_topology(sc, random.Random(1))
    assert topo.link(1, 2) is not None and topo.link(1, 2).snr_db == -3.0  # type: ignore[union-attr]
    assert topo.link(2, 3) is not None and topo.link(3, 2) is None
    per_link = loss_model(sc)
    assert callable(per_link)
    m01, m12, m23 = per_link(0, 1), per_link(1, 2), per_link(2, 3)  # type: ignore[operator]
    assert isinstance(m01, Bernoulli) and m01.p == 0.05
    assert isinstance(m12, Bernoulli) and m12.p == 0.4
    assert isinstance(m23, GilbertElliott) and m23.mean_loss == pytest.approx(0.2)


def test_gilbert_loss_can_be_correlated_in_time() -> None:
    sc = parse(base(loss={"model": "gilbert", "p": 0.2, "mean_burst": 3, "step_s": 20}))
    model = loss_model(sc)
    assert isinstance(model, GilbertElliott) and model.step_s == 20
    with pytest.raises(ScenarioError, match="burst"):
        loss_model(parse(base(loss={"model": "gilbert", "p": 0.9, "mean_burst": 1})))
