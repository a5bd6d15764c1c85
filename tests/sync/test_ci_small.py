"""`ci-small` through the bench code path, in process and as a real `meshaid bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meshaid.node.sim.runner import Simulation
from meshaid.node.sim.scenario import load

KEYS = {"delivered_fraction", "convergence_s", "airtime_s", "max_duty_cycle_pct",
        "peak_channel_util_pct", "eta", "useful_fraction", "forks_detected", "wall_s"}


@pytest.fixture(scope="module")
def result() -> dict:
    return Simulation(load("ci-small"), "meshaid").run()


def test_ci_small_delivers_everything_within_the_budget(result: dict) -> None:
    assert result["delivered_fraction"] == 1.0
    assert result["records"] > 0
    assert result["max_duty_cycle_pct"] <= result["budget_pct"]
    assert result["forks_detected"] == 0


def test_ci_small_is_deterministic(result: dict) -> None:
    again = Simulation(load("ci-small"), "meshaid").run()
    drop = {"wall_s"}
    assert {k: v for k, v in again.items() if k not in drop} == {
        k: v for k, v in result.items() if k not in drop}


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshaid.node.cli", "bench", *args],
                          capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def test_bench_json_prints_one_object_with_the_issue_keys(tmp_path: Path) -> None:
    proc = bench("--scenario", "ci-small", "--json", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)  # exactly one JSON document, nothing else
    assert isinstance(data, dict)
    assert KEYS <= set(data)
    conv = data["convergence_s"]
    assert {"p50", "p95", "max", "after"} <= set(conv)
    assert conv["p50"] <= conv["p95"] <= conv["max"]
    air = data["airtime_s"]
    assert {"total", "by_type"} <= set(air) and isinstance(air["by_type"], dict)
    rounding = 0.1 * len(air["by_type"])
    assert air["total"] == pytest.approx(sum(air["by_type"].values()), abs=rounding)
    assert isinstance(data["eta"], dict) and data["eta"]
    assert data["delivered_fraction"] == 1.0
    assert 0 <= data["useful_fraction"] <= 1
    assert data["max_duty_cycle_pct"] <= data["budget_pct"]
    assert data["wall_s"] >= 0


def test_bench_unknown_scenario_exits_1_with_one_line_on_stderr(tmp_path: Path) -> None:
    proc = bench("--scenario", "no-such-scenario", "--json", "--quiet", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-such-scenario" in lines[0]
    assert "Traceback" not in proc.stderr
