"""Fixtures of the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import ok


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A founded node with one need and one offer, for commands that only read."""
    home = tmp_path_factory.mktemp("port") / "node"
    env_home = home.parent / "unused"
    ok(home, "init", "--new-network", "Port", "--name", "Anna", env_home=env_home)
    ok(home, "post", "need", "drinking water", "--qty", "9", "--category", "water",
       env_home=env_home)
    ok(home, "post", "offer", "bricks", "--category", "shelter", env_home=env_home)
    return home
