"""The process bench's pieces that run in seconds (the bench itself takes minutes
of real time: `meshaid bench --processes N`, not a test)."""

from __future__ import annotations

import random

from meshaid.node.daemon import procbench
from meshaid.node.sim import scenario


def test_the_workload_follows_the_scenario_and_is_posted_through_the_cli() -> None:
    sc = procbench.shaped(scenario.load("ci-small"), minutes=20, rate=60)
    assert sc.duration_s == 1200 and sc.workload["records_per_node_per_hour"] == 60
    posts = procbench._workload(sc, 4, sc.duration_s, random.Random(1))
    assert posts == procbench._workload(sc, 4, sc.duration_s, random.Random(1))
    times = [t for t, _node, _args in posts]
    assert times == sorted(times) and times[-1] < 0.75 * 1200  # stop_fraction
    assert 30 <= len(posts) <= 70  # 4 nodes x 60/h x 15 min = 60 expected
    assert {node for _t, node, _a in posts} == {0, 1, 2, 3}
    for _t, _node, args in posts:
        assert args[:2] in (["post", "need"], ["post", "offer"]) and "--category" in args


def test_the_virtual_run_has_the_same_shape_a_clique_of_n() -> None:
    sc = procbench.shaped(scenario.load("ci-small"), minutes=5, rate=60)
    virt = procbench.virtual(sc, 3)
    assert virt["records"] > 0 and virt["delivered_fraction"] == 1.0
    lines = procbench.report(
        {"scenario": "ci-small", "processes": 3, "duration_s": 300.0, "records": 4,
         "delivered_fraction": 1.0,
         "convergence_s": {"p50": 3.0, "p95": 9.0, "max": 9.0, "never": 0},
         "airtime_last_hour_s": [1.0, 2.0, 3.0], "send_failed": [{}, {}, {}],
         "daemon_exit_codes": [0, 0, 0],
         "air": {"topology": "clique of 3, SNR 6.0 dB", "loss": 0.1, "preset": "LONG_FAST"}},
        virt)
    assert lines[0].startswith("ci-small on 3 daemon processes with fake radios")
    assert lines[2].startswith(f"  virtual    {virt['records']} records, delivered 1.0")
