"""The store: the one module family that owns SQLite (through sqlite-utils).

Daemon, TUI and CLI share one database file in WAL mode. Records are kept as
the verbatim signed bytes plus decoded columns; derived state (current state
of needs, offers and pledges, totals, membership, trust) lives in tables that
`ingest` keeps up to date inside the same transaction. Writers take the write
lock up front and caches follow other processes' commits (store.py); the
change feed, outbox and radio metadata are in feed.py.
"""

from .errors import Outcome, StoreError
from .feed import Change, Heard
from .store import Store

__all__ = ["Change", "Heard", "Outcome", "Store", "StoreError"]
