"""Posting from the TUI: sign and store a record at once, in a worker thread.

Each post opens its own writable Store (SQLite connections belong to one
thread), signs the body with the node's key at the app's clock and stores it
in one transaction; the node's daemon sends it from there. Failures raise
StoreError (or ValueError) with a one-line message for the screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store.store import record_id


class Writer:
    """Signs and stores records for one node."""

    def __init__(self, db_path: Path, key: Ed25519PrivateKey,
                 clock: Callable[[], float]) -> None:
        self.db_path = db_path
        self.key = key
        self.clock = clock

    def author(self, body: r.Body) -> str:
        """Sign `body` as this node's next record and store it; return its id."""
        store = Store.open(self.db_path)
        try:
            rec = store.author(body, self.key, self.clock())
        finally:
            store.close()
        return record_id(rec.short_author, rec.seq)
