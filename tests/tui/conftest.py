"""Fixtures for the TUI tests (see helpers.py): times on screen in UTC, and a
node directory holding a small port network."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .helpers import Port, make_port


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times on screen are local times: make them the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def port(tmp_path: Path) -> Port:
    return make_port(tmp_path)
