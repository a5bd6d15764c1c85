"""The store seen through the sync engine's `Ledger` port (node/sync/ports.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..ledger import codec, identity
from ..ledger import records as r
from ..sync.ports import CLASS_OF_KIND, Ingested, RecordInfo
from .store import Store

_URGENT_KINDS = {r.Kind.CHARTER, r.Kind.VOUCH, r.Kind.REVOKE}
_MEMBERSHIP_KINDS = {r.Kind.CHARTER, r.Kind.VOUCH, r.Kind.REVOKE}
MEMBERS_REFRESH_S = 300.0  # another process (the CLI) may vouch: look again this often


class SyncLedger:
    """Adapter: `Store` as the engine's ledger.

    Trust only sets a record's sync priority, so membership is cached and
    refreshed when a vouch, revoke or charter passes through here, and every
    `MEMBERS_REFRESH_S` seconds for changes made by other processes.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._members: dict[bytes, int | None] = {}
        self._members_at = -1e18

    def _trusted(self, author: bytes, seq: int, now: float) -> bool:
        if now - self._members_at > MEMBERS_REFRESH_S:
            self._members = {bytes(k): t for k, t in self.store.db.execute(
                "SELECT key, revoked_through FROM members")}
            self._members_at = now
        if author not in self._members:
            return False
        through = self._members[author]
        return through is None or seq <= through

    def _info(self, kind: r.Kind, body: r.Body, seq: int, hlc: int, digest: bytes,
              author: bytes, now: float) -> RecordInfo:
        trusted = self._trusted(author, seq, now)
        # Only an admitted author's revocation or critical need jumps the queue.
        urgent = trusted and (kind in _URGENT_KINDS
                              or (isinstance(body, r.Need) and body.urgency == 3))
        return RecordInfo(digest[:8], CLASS_OF_KIND[kind], hlc, urgent, trusted,
                          identity.short_id(author))

    def _of_record(self, rec: r.Record, now: float) -> RecordInfo:
        return self._info(rec.kind, rec.body, rec.seq, rec.hlc, hashlib.sha256(rec.raw).digest(),
                          rec.author, now)

    def sync_ingest(self, raw: bytes, now: float) -> Ingested:
        """Ingest; `info` is set for accepted records and for duplicates, and
        `released` lists records this one freed from the held table."""
        outcome = self.store.ingest(raw, now)
        if outcome.record is not None and outcome.record.kind in _MEMBERSHIP_KINDS:
            self._members_at = -1e18  # membership may have changed
        released = tuple(self._of_record(rec, now) for rec in self.store.take_released())
        if outcome.status == "duplicate":
            digest = hashlib.sha256(raw).digest()
            row = self.store.db.execute(
                "SELECT author FROM records WHERE hash = ?", [digest]
            ).fetchone()
            if row is not None:
                p = codec.parse(raw)
                return Ingested("duplicate", "",
                                self._info(p.kind, p.body, p.seq, p.hlc, digest, row[0], now),
                                released)
        if outcome.status != "accepted" or outcome.record is None:
            return Ingested(outcome.status, outcome.reason, None, released)
        return Ingested("accepted", "", self._of_record(outcome.record, now), released)

    def sync_infos(self) -> Iterator[RecordInfo]:
        for raw, digest, author in self.store.db.execute(
            "SELECT raw, hash, author FROM records"
        ).fetchall():
            p = codec.parse(raw)
            yield self._info(p.kind, p.body, p.seq, p.hlc, digest, author, 0.0)

    def sync_raw(self, rid: bytes) -> bytes | None:
        row = self.store.db.execute(
            "SELECT raw FROM records WHERE hash >= ? AND hash <= ? LIMIT 1",
            [rid + bytes(24), rid + b"\xff" * 24],
        ).fetchone()
        return None if row is None else bytes(row[0])
