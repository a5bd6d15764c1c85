"""node/home.py: where a node lives, and creating one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ledger_helpers import NOW

from meshaid.node import home as home_module
from meshaid.node.home import Home, default_data_dir
from meshaid.node.ledger import identity
from meshaid.node.store import StoreError


def test_tests_never_see_the_real_data_dir(tmp_path: Path) -> None:
    assert Path(os.environ["MESHAID_HOME"]).is_relative_to(tmp_path)
    assert default_data_dir() == Path(os.environ["MESHAID_HOME"])


def test_without_meshaid_home_the_xdg_data_dir_is_used(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHAID_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "meshaid"


def test_create_a_founder(tmp_path: Path) -> None:
    home = Home(tmp_path / "node")
    store = home.create(name="Anna", site="Pier 3", role=0, new_network="Port", now=NOW)
    assert home.exists()
    assert stat.S_IMODE(home.key_path.stat().st_mode) == 0o600
    me = identity.public_bytes(home.key())
    assert store.count() == 2  # charter and hello
    assert store.db.execute("SELECT name, site FROM keys WHERE key = ?", [me]).fetchone() == (
        "Anna", "Pier 3")
    assert home.ensure_hello(store, NOW) is None  # nothing changed, nothing signed
    store.set_meta("my_site", "Pier 4")
    hello = home.ensure_hello(store, NOW)
    assert hello is not None and hello.seq == 3
    store.close()
    with pytest.raises(StoreError, match="already exists"):
        home.create(name="Again", site="", role=0, new_network="Port")


def test_create_a_joiner_waits_for_the_charter(tmp_path: Path) -> None:
    home = Home(tmp_path / "node")
    code = identity.network_code(bytes(range(32)))
    typed = code.lower().replace("-", " ")
    store = home.create(name="Bo", site="", role=1, join=typed, now=NOW)
    assert store.network is None and store.network_code == code
    assert home.ensure_hello(store, NOW) is None  # no charter yet: no hello
    assert store.count() == 0
    store.close()
    again = Home(tmp_path / "fresh")
    with pytest.raises(identity.KeyFileError):
        again.create(name="Bo", site="", role=0, join="not a code")
    assert not again.key_path.exists()  # a bad code leaves nothing behind


def test_opening_a_missing_node_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="meshaid init"):
        Home(tmp_path / "none").open_store()
    assert home_module.DB_FILE == "ledger.db"


def test_a_full_disk_is_not_called_a_damaged_ledger(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding (an outside audit of the CLI, on a full tmpfs): every write said the
    ledger was damaged and advised 'init --reset', which then moved the sound
    ledger aside. SQLite's disk errors now say the disk may be full, and that
    the ledger itself is not damaged."""
    import sqlite3

    from meshaid.node.store import check

    home = Home(tmp_path / "node")
    home.create(name="Anna", site="", role=0, new_network="Port", now=NOW).close()
    real = sqlite3.connect

    class Full:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def execute(self, *args: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        def close(self) -> None:
            self.conn.close()

    monkeypatch.setattr(check.sqlite3, "connect", lambda *a, **k: Full(real(*a, **k)))
    with pytest.raises(StoreError) as err:
        home.open_store()
    message = str(err.value)
    assert "disk may be full" in message and "do not reset" in message
    assert "restore" not in message

