"""The scaling table: one workload at several sizes, the best baseline picked per size."""

from __future__ import annotations

from meshaid.node.sim import scaling


def _res(sites: int, protocol: str, delivered: float, air: float) -> dict:
    return {"sites": sites, "protocol": protocol, "delivered_fraction": delivered,
            "airtime_s": {"honest": air}}


def test_the_best_baseline_is_the_cheapest_that_delivers_everything() -> None:
    results = [_res(25, "meshaid", 1.0, 1.0), _res(25, "b2", 1.0, 90.0),
               _res(25, "b3", 1.0, 80.0), _res(25, "b1", 0.9, 10.0),
               _res(50, "b2", 0.99, 50.0), _res(50, "b3", 0.97, 40.0)]
    assert scaling.best_baselines(results) == {25: "b3", 50: "b2"}


def test_a_size_runs_the_same_workload_with_only_the_node_count_changed() -> None:
    res = scaling.run_size(("ci-small", 6, "meshaid", 0.25))
    assert res["sites"] == 6 and res["nodes"] == 6
    assert res["virtual_h"] == 0.25
    assert res["memory"]["peak_rss_mb"] > 0
    line = scaling.row(res, best=False)
    assert line.startswith("| 6 | meshaid |") and line.count("|") == 14
