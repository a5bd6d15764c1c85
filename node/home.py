"""A node's home: its data directory, key file and database, and the actions
the CLI (and later the daemon and TUI) perform on them.

Layout of a data directory (XDG data dir by default, or MESHAID_HOME):
  key.ed25519   32-byte Ed25519 seed, mode 0600
  ledger.db     the SQLite store (WAL mode)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import actions
from .ledger import identity
from .ledger import records as r
from .store import Store, StoreError

KEY_FILE = "key.ed25519"
DB_FILE = "ledger.db"


def default_data_dir() -> Path:
    """MESHAID_HOME if set, else the XDG user data dir for meshaid."""
    env = os.environ.get("MESHAID_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("meshaid", appauthor=False))


@dataclass
class Home:
    path: Path

    @property
    def key_path(self) -> Path:
        return self.path / KEY_FILE

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    def exists(self) -> bool:
        return self.key_path.exists() and self.db_path.exists()

    def key(self) -> Ed25519PrivateKey:
        return identity.read_key_file(self.key_path)

    def open_store(self, readonly: bool = False) -> Store:
        """Open this node's store; StoreError if there is no node here."""
        if not self.db_path.exists():
            raise StoreError(f"no node at {self.path}; run 'meshaid init' first")
        return Store.open(self.db_path)

    def warnings(self) -> list[str]:
        """Problems worth a warning on every command: a key file others can read."""
        try:
            mode = self.key_path.stat().st_mode
        except OSError:
            return []
        if mode & 0o077:
            return [(f"{self.key_path} can be read by other users (mode {mode & 0o777:o}); "
                    f"run: chmod 600 {self.key_path}")]
        return []

    # ------------------------------------------------------------ creation

    def create(
        self,
        *,
        name: str,
        site: str,
        role: int,
        new_network: str | None = None,
        join: str | None = None,
        key: Ed25519PrivateKey | None = None,
        now: float | None = None,
    ) -> Store:
        """Create key, database and either a new network's charter or the
        expectation of an existing network's id. Refuses an existing node."""
        if self.key_path.exists() or self.db_path.exists():
            raise StoreError(f"a node already exists at {self.path}")
        code = identity.normalize_code(join) if join else None
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        identity.write_key_file(self.key_path, key or identity.generate_key())
        store = Store.open(self.db_path)
        store.set_meta("my_name", name)
        store.set_meta("my_site", site)
        store.set_meta("my_role", str(role))
        if new_network is not None:
            store.found_network(self.key(), r.Charter(new_network), now)
        elif code is not None:
            store.expect_network(code)
        self.ensure_hello(store, now)
        return store

    def ensure_hello(self, store: Store, now: float | None = None) -> r.Record | None:
        """Sign this node's hello once the network's charter is known and whenever
        name, site or role changed. Returns the new hello, if any."""
        return actions.ensure_hello(store, self.key(), now)


def now_s() -> float:
    return time.time()
