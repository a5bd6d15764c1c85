"""The store seen through the sync engine's `Ledger` port (node/sync/ports.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..ledger import codec
from ..ledger import records as r
from ..sync.ports import CLASS_OF_KIND, Ingested, RecordInfo
from .store import Store

_CLASS = CLASS_OF_KIND
_URGENT_KINDS = {r.Kind.CHARTER, r.Kind.VOUCH, r.Kind.REVOKE}


class SyncLedger:
    """Adapter: `Store` as the engine's ledger."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _info(self, parsed: codec.Parsed, digest: bytes, author: bytes) -> RecordInfo:
        urgent = parsed.kind in _URGENT_KINDS or (
            isinstance(parsed.body, r.Need) and parsed.body.urgency == 3
        )
        row = self.store.db.execute(
            "SELECT revoked_through FROM members WHERE key = ?", [author]
        ).fetchone()
        trusted = row is not None and (row[0] is None or parsed.seq <= row[0])
        return RecordInfo(digest[:8], _CLASS[parsed.kind], parsed.hlc, urgent, trusted,
                          parsed.author_short)

    def sync_ingest(self, raw: bytes, now: float) -> Ingested:
        """Ingest; `info` is set for accepted records and for duplicates, and
        `released` lists records this one freed from the held table."""
        outcome = self.store.ingest(raw, now)
        released = tuple(
            self._info(codec.parse(rec.raw), hashlib.sha256(rec.raw).digest(), rec.author)
            for rec in self.store.take_released()
        )
        digest = hashlib.sha256(raw).digest()
        if outcome.status == "duplicate":
            row = self.store.db.execute(
                "SELECT author FROM records WHERE hash = ?", [digest]
            ).fetchone()
            if row is not None:
                return Ingested("duplicate", "", self._info(codec.parse(raw), digest, row[0]),
                                released)
        if outcome.status != "accepted" or outcome.record is None:
            return Ingested(outcome.status, outcome.reason, None, released)
        return Ingested("accepted", "", self._info(codec.parse(raw), digest, outcome.record.author),
                        released)

    def sync_infos(self) -> Iterator[RecordInfo]:
        for raw, digest, author in self.store.db.execute(
            "SELECT raw, hash, author FROM records"
        ).fetchall():
            yield self._info(codec.parse(raw), digest, author)

    def sync_raw(self, rid: bytes) -> bytes | None:
        row = self.store.db.execute(
            "SELECT raw FROM records WHERE hash >= ? AND hash <= ? LIMIT 1",
            [rid + bytes(24), rid + b"\xff" * 24],
        ).fetchone()
        return None if row is None else bytes(row[0])
