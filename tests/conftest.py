"""Test-wide fixtures: every test gets its own database and data directory, and
nothing can reach a developer's real meshaid data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_helpers import Net

from meshaid.node.store import Store

# Property tests are deterministic (the same examples on every run and machine)
# and never fail for being slow on a loaded machine.
settings.register_profile(
    "meshaid", derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("meshaid")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point MESHAID_HOME and the XDG dirs into tmp_path for every test."""
    home = tmp_path / "meshaid-home"
    monkeypatch.setenv("MESHAID_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.delenv("MESHAID_DEBUG", raising=False)
    return home


@pytest.fixture
def mem_store() -> Store:
    """A fresh in-memory store belonging to no network yet."""
    store = Store.open(":memory:")
    yield store
    store.close()


@pytest.fixture
def file_store(tmp_path: Path) -> Store:
    """A fresh on-disk store (WAL mode) in tmp_path."""
    store = Store.open(tmp_path / "ledger.db")
    yield store
    store.close()


@pytest.fixture
def net() -> Net:
    """A one-steward network with a deterministic founder key and clock."""
    return Net()
