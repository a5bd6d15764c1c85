"""`meshaid tui` as a command: a missing node is one line on stderr, not a
traceback; without a terminal plain `meshaid` still prints its usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .helpers import env_without_tty


def meshaid(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshaid.node.cli", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=env_without_tty(), timeout=60,
                          check=False)


def test_tui_without_a_node_is_one_line(tmp_path: Path) -> None:
    result = meshaid("--data-dir", str(tmp_path / "nothing"), "tui")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "no node at" in result.stderr and "meshaid init" in result.stderr
    assert not (tmp_path / "nothing").exists()


def test_plain_meshaid_without_a_terminal_prints_usage() -> None:
    result = meshaid()
    assert result.returncode == 2
    assert "missing command" in result.stderr
