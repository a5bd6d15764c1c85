"""Records that reach the daemon from outside the radio: the outbox and the change feed.

Theory of operation
-------------------
A record authored on this node (by the CLI, the TUI or an import) is stored
and queued in the store's outbox in one transaction, so it survives any
crash. The daemon learns of it in two ways:

* at start-up, `drain()` returns everything still in the outbox (queued
  while no daemon ran, or sent by a daemon that died before the radio said
  so);
* while running, `poll()` looks at SQLite's data_version (cheap; it changes
  only when another connection committed) and, when it moved, reads the
  change feed from its cursor on. Records authored here are returned for the
  engine to push; records from elsewhere (an imported bundle) are returned
  apart, so the engine can learn of them without pushing them.

The cursor is taken before the outbox is read, so nothing committed in
between is missed (at worst a record is handed over twice, which the engine
ignores). `done(ids)` removes records from the outbox once a packet carrying
them went on air.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..store import Store


@dataclass
class FeedBatch:
    local: list[bytes] = field(default_factory=list)  # authored here: push them
    foreign: list[bytes] = field(default_factory=list)  # from elsewhere (an import)


class Feed:
    """The daemon's view of records that appear in the store without the radio."""

    def __init__(self, store: Store, raw_of: Callable[[bytes], bytes | None],
                 batch: int = 500) -> None:
        self.store = store
        self.raw_of = raw_of  # 8-byte record id -> the record's bytes
        self.batch = batch
        self.cursor = store.last_cursor()
        self.version = store.data_version()

    def drain(self) -> list[bytes]:
        """Records waiting in the outbox, oldest first."""
        return [bytes(raw) for raw in self.store.outbox()]

    def poll(self, force: bool = False) -> FeedBatch:
        """Records committed by other connections since the last call."""
        out = FeedBatch()
        version = self.store.data_version()
        if version == self.version and not force:
            return out
        self.version = version
        while True:
            cursor, changes = self.store.changes(self.cursor, limit=self.batch)
            self.cursor = max(self.cursor, cursor)
            for change in changes:
                raw = self.raw_of(bytes(change.hash[:8]))
                if raw is not None:
                    (out.local if change.local else out.foreign).append(raw)
            if len(changes) < self.batch:
                return out

    def done(self, ids: list[bytes]) -> None:
        """These records went on air: take them out of the outbox."""
        if ids:
            self.store.outbox_done(ids)
