"""A node whose wall clock is far behind (no real-time clock, no network time),
through the real CLI (issue 6, "Done when"): its needs are dated in mesh time,
so they are open, not already expired, on a node with the right time, and
every command warns that the clock should be set.

The commands run in one interpreter whose `time.time` answers a clock the test
sets per command (fixed dates, never today's)."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import meshaid_batch
from ledger_helpers import NOW

DAY = 86400.0

def clocked(calls: list[tuple[float, Path, list[str]]]) -> list[tuple[int, str, str]]:
    """Each (wall clock, node, args) through the real entry point, in one interpreter."""
    runs = meshaid_batch([(home, args) for _, home, args in calls], at=[at for at, _, _ in calls])
    return [(run.returncode, run.stdout, run.stderr) for run in runs]


def test_needs_of_a_node_ten_days_behind_or_at_1970_are_open_elsewhere(tmp_path: Path) -> None:
    anna = tmp_path / "anna"
    first = clocked([
        (NOW, anna, ["init", "--new-network", "Port", "--name", "Anna", "--site", "Pier"]),
        (NOW + 60, anna, ["post", "need", "rice", "--qty", "5", "--category", "food"]),
        (NOW + 120, anna, ["export", str(tmp_path / "anna.bundle")]),
        (NOW + 120, anna, ["whoami", "--json"]),
    ])
    assert all(code == 0 for code, _, _ in first), first
    code = json.loads(first[-1][1])["network"]
    late = {"ten-days": NOW - 10 * DAY, "1970": 0.0}
    calls: list[tuple[float, Path, list[str]]] = []
    for name, wall in late.items():
        home = tmp_path / name
        calls += [
            (wall, home, ["init", "--join", code, "--name", name]),
            (wall, home, ["import", str(tmp_path / "anna.bundle")]),
            (wall + 60, home, ["post", "need", f"insulin for {name}", "--qty", "3",
                               "--category", "health", "--valid-for", "1h"]),
            (wall + 120, home, ["export", str(tmp_path / f"{name}.bundle")]),
        ]
    for name in late:
        calls.append((NOW + 600, anna, ["import", str(tmp_path / f"{name}.bundle")]))
    calls.append((NOW + 600, anna, ["list", "--json", "--kind", "need"]))
    calls.append((NOW + 600, anna, ["whoami"]))
    results = clocked(calls)
    for (at, home, args), (rc, out, err) in zip(calls, results):
        assert rc == 0, (args, out, err)
        assert "Traceback" not in err
        behind = home != anna and args[0] != "init"  # the import brings mesh time
        assert ("clock" in err and "behind the mesh" in err) == behind, (home.name, args, err)
    needs = {row["text"]: row for row in json.loads(results[-2][1])}
    for name in late:  # open on Anna's node, 10 minutes after they were posted
        row = needs[f"insulin for {name}"]
        assert row["status"] == "open", row
        assert NOW < row["valid_until"] <= NOW + 3600 + 600, row
