"""Tuning a protocol's settings: the grid is checked as a scenario's [sync] is, and
the least-air setting that delivered everything is the one named."""

from __future__ import annotations

from typing import Any

import pytest

from meshaid.node.sim import tune
from meshaid.node.sim.scenario import ScenarioError


def test_a_grid_is_checked_as_the_scenario_files_sync_table() -> None:
    grid = tune.parse_grid(["b3_period=600,900", "b3_bits_per_id=6"])
    assert grid == [("b3_period", [600.0, 900.0]), ("b3_bits_per_id", [6.0])]
    assert len(tune.combinations(grid)) == 2
    for bad, named in [("b3_perod=600", "sync.b3_perod"), ("b3_period=x", "sync.b3_period"),
                       ("b3_period=-5", "sync.b3_period"), ("b3_period", "KEY=V1"),
                       ("trickle_imin=true", "sync.trickle_imin")]:
        with pytest.raises(ScenarioError, match=named):
            tune.parse_grid([bad])
    with pytest.raises(ScenarioError, match="twice"):
        tune.parse_grid(["b3_period=600", "b3_period=900"])


def test_a_window_is_tuned_as_low_high_pairs() -> None:
    grid = tune.parse_grid(["forward_window=2:30,2:240"])
    assert grid == [("forward_window", [(2, 30), (2, 240)])]
    assert len({s for s in tune.combinations(grid)}) == 2  # settings group the runs
    for bad in ("forward_window=30", "forward_window=2:x", "forward_window=1:2:3",
                "b3_period=600:900"):
        with pytest.raises(ScenarioError, match="sync."):
            tune.parse_grid([bad])


def _res(setting: tune.Setting, delivered: float, air: float) -> dict[str, Any]:
    return {"setting": setting, "delivered_fraction": delivered,
            "airtime_s": {"honest": air}, "convergence_s": {"p50": 10.0, "p95": "not reached"}}


def test_the_least_air_among_settings_that_delivered_everything_at_every_seed() -> None:
    cheap, full, dear = (("b3_period", 1800.0),), (("b3_period", 900.0),), (("b3_period", 300.0),)
    results = [_res(cheap, 1.0, 100.0), _res(cheap, 0.9999, 90.0),  # one seed missed a pair
               _res(full, 1.0, 200.0), _res(full, 1.0, 220.0),
               _res(dear, 1.0, 400.0), _res(dear, 1.0, 380.0)]
    lines, best = tune.summary(results)
    assert best == full
    assert "| b3_period=1800 | 2 | 0.9999 | 95.0 | 10.0 | not reached |" in lines
    assert tune.summary([_res(cheap, 0.99, 1.0)])[1] is None


def test_a_small_grid_runs_and_names_its_choice(capsys: pytest.CaptureFixture[str]) -> None:
    assert tune.main(["ci-small", "b3", "b3_period=300,900", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("| b3_period=") == 2
    assert "Least air at full delivery: b3_period=" in out or "No setting delivered" in out
    assert tune.main(["ci-small", "b3", "b3_perod=300"]) == 2
    assert "sync.b3_perod" in capsys.readouterr().err
