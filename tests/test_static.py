"""Lint and types are part of the suite: ruff everywhere, mypy on node/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, check=False,
                          text=True, timeout=600)


def test_ruff_is_clean() -> None:
    result = run("ruff", "check", "node", "tui", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_node() -> None:
    result = run("mypy", "node")
    assert result.returncode == 0, result.stdout + result.stderr
