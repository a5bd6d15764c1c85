"""meshaid gc: a dry run counts, a run collects, the board and the history stay;
errors are one line."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli_helpers import meshaid_batch, one_line_error

from meshaid.node import actions
from meshaid.node.home import Home


def test_gc_dry_run_then_collect(tmp_path: Path) -> None:
    start = time.time() - 600
    home = Home(tmp_path / "node")
    store = home.create(name="Anna", site="Pier 3 clinic", role=0, new_network="Port", now=start)
    key = home.key()
    try:
        need = actions.post_need(store, key, "water", category="water", qty=10, now=start + 1)
        rid = actions.record_id(need.short_author, need.seq)
        for k, qty in enumerate((9, 8, 7)):
            actions.update(store, key, rid, qty=qty, now=start + 2 + k)
    finally:
        store.close()
    path = tmp_path / "node"
    dry, run, again, shown, bad, missing = meshaid_batch([
        (path, ["gc", "--dry-run"]),
        (path, ["gc"]),
        (path, ["gc", "--dry-run"]),
        (path, ["show", rid, "--json"]),
        (path, ["gc", "--everything"]),
        (tmp_path / "nobody", ["gc"]),
    ])
    assert dry.returncode == 0 and dry.stdout.startswith("would collect 2 superseded records")
    assert run.returncode == 0 and run.stdout.startswith("collected 2 superseded records")
    assert "2 tombstones in all" in run.stdout
    assert again.stdout.startswith("would collect 0 superseded records")
    assert shown.returncode == 0 and json.loads(shown.stdout)["remaining"] == 7
    assert one_line_error(bad, 2)
    assert "run 'meshaid init' first" in one_line_error(missing, 1)
