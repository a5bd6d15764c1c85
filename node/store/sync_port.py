"""The store seen through the sync engine's `Ledger` port (node/sync/ports.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..ledger import codec
from ..ledger import records as r
from ..sync.ports import CLASS_BOARD, CLASS_COMMITMENTS, CLASS_MEMBERSHIP, Ingested, RecordInfo
from .store import Store

_CLASS = {
    r.Kind.CHARTER: CLASS_MEMBERSHIP,
    r.Kind.HELLO: CLASS_MEMBERSHIP,
    r.Kind.VOUCH: CLASS_MEMBERSHIP,
    r.Kind.REVOKE: CLASS_MEMBERSHIP,
    r.Kind.NEED: CLASS_BOARD,
    r.Kind.OFFER: CLASS_BOARD,
    r.Kind.PLEDGE: CLASS_COMMITMENTS,
    r.Kind.UPDATE: CLASS_COMMITMENTS,
}
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
        """Ingest; `info` is set for accepted records and for duplicates."""
        outcome = self.store.ingest(raw, now)
        digest = hashlib.sha256(raw).digest()
        if outcome.status == "duplicate":
            row = self.store.db.execute(
                "SELECT author FROM records WHERE hash = ?", [digest]
            ).fetchone()
            if row is not None:
                return Ingested("duplicate", "", self._info(codec.parse(raw), digest, row[0]))
        if outcome.status != "accepted" or outcome.record is None:
            return Ingested(outcome.status, outcome.reason)
        return Ingested("accepted", "", self._info(codec.parse(raw), digest, outcome.record.author))

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
