"""Maintenance writes on a node's store that are not ingest or authoring:
dropping held records an import proved bogus, and where the database lives."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .store import Store


def discard_held(store: Store, hashes: Iterable[bytes]) -> int:
    """Delete these records from the held table; return how many were there."""
    gone = 0
    with store.db.atomic():
        for digest in hashes:
            gone += store.db.execute("DELETE FROM held WHERE hash = ?", [digest]).rowcount
    return gone


def database_path(store: Store) -> Path | None:
    """The file of the store's main database, None for an in-memory store."""
    for _seq, name, file in store.db.execute("PRAGMA database_list").fetchall():
        if name == "main" and file:
            return Path(file)
    return None
