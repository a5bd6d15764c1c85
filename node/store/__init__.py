"""The store: the one module family that owns SQLite (through sqlite-utils).

Daemon, TUI and CLI share one database file in WAL mode. Records are kept as
the verbatim signed bytes plus decoded columns; derived state (current state
of needs, offers and pledges, totals, membership, trust) lives in tables that
`ingest` keeps up to date inside the same transaction.
"""

from .store import Outcome, Store, StoreError

__all__ = ["Outcome", "Store", "StoreError"]
