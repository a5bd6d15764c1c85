"""Maintenance writes on a node's store that are not ingest or authoring:
dropping held records an import proved bogus, where the database lives, and
the restore epoch of a restored key (node/ledger/seqspace.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..ledger import hlc
from ..ledger.seqspace import restore_floor
from .schema import put_meta

if TYPE_CHECKING:
    from .authoring import Authoring
    from .store import Store


def discard_held(store: Store, hashes: Iterable[bytes]) -> int:
    """Delete these records from the held table; return how many were there."""
    gone = 0
    with store.write():
        for digest in hashes:
            gone += store.db.execute("DELETE FROM held WHERE hash = ?", [digest]).rowcount
    return gone


def database_path(store: Store) -> Path | None:
    """The file of the store's main database, None for an in-memory store."""
    for _seq, name, file in store.db.execute("PRAGMA database_list").fetchall():
        if name == "main" and file:
            return Path(file)
    return None


def mark_restored(store: Store, key: bytes) -> None:
    """Say that `key` was restored here (paper backup, reset, old backup): its next
    record jumps to a restore epoch, so it never reuses a seq the lost node signed."""
    with store.write():
        put_meta(store.db, "restored:" + key.hex(), "1")


def restore_pending(store: Store, key: bytes) -> bool:
    """Has `key` been restored here and not signed anything since?"""
    return store.meta("restored:" + key.hex()) is not None


def settle_restore(store: Authoring, author: bytes, highest: int, floor: int) -> int:
    """Inside the write transaction of the first record `author` signs after a
    restore: fix its seq floor at the restore epoch and clear the mark. Returns
    the new floor (the next seq is one above it)."""
    now = max(store.mesh_now(), float(hlc.unix_of(store.clock.last)))
    new = max(floor, restore_floor(now, highest) - 1)
    put_meta(store.db, "seq_floor:" + author.hex(), str(new))
    store.db.execute("DELETE FROM meta WHERE key = ?", ["restored:" + author.hex()])
    return new
