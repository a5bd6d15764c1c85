"""A real Mosquitto per test that asks for `broker` (deploy/test-setup.sh installs it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .mosquitto import Broker

USERS = {"port": "pw-port", "hills": "pw-hills", "spy": "pw-spy"}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path, USERS)
    b.start()
    try:
        yield b
    finally:
        b.stop()
