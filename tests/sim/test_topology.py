"""Topology builders."""

from __future__ import annotations

import random

import pytest

from meshaid.node.sim.airtime import PRESETS
from meshaid.node.sim.topology import (
    PathLoss,
    from_links,
    from_positions,
    grid,
    line,
    line_positions,
    random_geometric,
)


def test_positions_path_loss_and_floor() -> None:
    env = PathLoss()
    r = env.range_m("LONG_FAST")
    topo = from_positions([(0, 0), (r * 0.99, 0), (r * 2.5, 0)], "LONG_FAST", env)
    ln = topo.link(0, 1)
    assert ln is not None and ln.snr_db == pytest.approx(-17.5, abs=0.2)
    assert ln.rssi_dbm == pytest.approx(ln.snr_db + PRESETS["LONG_FAST"].noise_floor_dbm())
    assert topo.link(0, 2) is None and topo.link(1, 2) is None
    # slower presets reach further
    assert env.range_m("LONG_SLOW") > r > env.range_m("SHORT_FAST")


def test_asymmetric_power() -> None:
    env = PathLoss()
    r = env.range_m()
    topo = from_positions([(0, 0), (r * 1.2, 0)], env=env, tx_power_dbm=[30.0, 20.0])
    assert topo.link(0, 1) is not None and topo.link(1, 0) is None


def test_shadowing_needs_rng_and_is_deterministic() -> None:
    env = PathLoss(shadowing_sigma_db=8.0)
    pos = line_positions(10, 3000.0)
    with pytest.raises(ValueError):
        from_positions(pos, env=env)
    a = from_positions(pos, env=env, rng=random.Random(4))
    b = from_positions(pos, env=env, rng=random.Random(4))
    assert a.links == b.links
    assert a.links != from_positions(pos, env=env, rng=random.Random(5)).links


@pytest.mark.parametrize("n", [20, 50, 200])
def test_random_geometric_degree_and_connectivity(n: int) -> None:
    topo = random_geometric(n, 7.0, random.Random(n))
    assert topo.avg_degree() == pytest.approx(7.0, abs=0.02)
    assert topo.is_connected()
    assert len(topo.edges()) * 2 == len(topo.links)  # symmetric


@pytest.mark.parametrize(("n", "degree"), [(60, 3.5), (30, 2.0), (120, 3.0), (12, 1.9)])
def test_a_sparse_random_mesh_is_connected_at_the_degree_asked(n: int, degree: float) -> None:
    # Random placements this sparse are almost never connected: the one that
    # connects soonest loses its weakest links that are not bridges.
    topo = random_geometric(n, degree, random.Random(n), env=PathLoss(shadowing_sigma_db=4.0))
    assert topo.is_connected()
    assert len(topo.edges()) == round(n * degree / 2) and len(topo.edges()) * 2 == len(topo.links)


def test_a_degree_below_a_trees_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1.80"):
        random_geometric(10, 1.5, random.Random(1))


def test_random_geometric_with_shadowing() -> None:
    topo = random_geometric(60, 6.0, random.Random(2), env=PathLoss(shadowing_sigma_db=6.0))
    assert topo.is_connected() and topo.avg_degree() == pytest.approx(6.0, abs=0.05)


def test_line_grid_explicit() -> None:
    assert line(5).diameter() == 4
    g = grid(3, 4)
    assert g.neighbors(5) == [1, 4, 6, 9]
    assert len(grid(3, 3, diagonal=True).neighbors(4)) == 8
    t = from_links(3, [(0, 1, 3.0), (1, 0, -2.0, -120.0)])
    assert t.link(0, 1).snr_db == 3.0  # type: ignore[union-attr]
    assert t.link(1, 0).rssi_dbm == -120.0  # type: ignore[union-attr]
    assert not t.is_connected() and t.hops_from(0) == [0, 1, None]
