"""`Store`: open a node's database, ingest records, author local records.

Ingest promise: `ingest(raw)` is atomic and idempotent. It answers
`accepted` (verified and stored, derived state updated), `duplicate` (these
exact bytes are already stored), `held` (well-formed but its author's key or
the network's charter is not known yet; kept aside and retried when they
arrive) or `rejected` with a reason (nothing of it is stored).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlite_utils import Database

from ..ledger import codec, hlc, identity
from ..ledger import records as r
from ..ledger.wire import DecodeError
from . import derive
from .schema import migrate

HELD_MAX = 10_000
HELD_CHECK_S = 60.0  # a held row another process left is cleaned up within this
PARALLEL_MIN = 64  # batches at least this big verify signatures in parallel


class StoreError(Exception):
    """A refused operation on the store, with a message fit for a user."""


@dataclass(frozen=True)
class Outcome:
    status: str  # accepted | duplicate | held | rejected
    reason: str = ""
    detail: str = ""
    record: r.Record | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("accepted", "duplicate")


def record_id(short: bytes, seq: int) -> str:
    """The human id of a record: short author id in hex, a dash, the seq."""
    return f"{short.hex()}-{seq}"


def parse_record_id(text: str) -> tuple[bytes, int]:
    try:
        short_hex, seq_text = text.strip().split("-")
        short, seq = bytes.fromhex(short_hex), int(seq_text)
    except ValueError:
        raise StoreError(f"{text!r} is not a record id like 1a2b3c4d-7") from None
    if len(short) != 4 or seq < 1:
        raise StoreError(f"{text!r} is not a record id like 1a2b3c4d-7")
    return short, seq


class Store:
    """One node's ledger database. Not thread-safe: one Store per thread."""

    _pool: ThreadPoolExecutor | None = None  # shared signature checkers

    def __init__(self, db: Database) -> None:
        self.db = db
        migrate(db)
        self._keys: dict[bytes, list[bytes]] = {}
        for key, short in db.execute("SELECT key, short FROM keys").fetchall():
            self._keys.setdefault(short, []).append(key)
        self.clock = hlc.Clock(int(self.meta("hlc_last") or 0))
        # Clock values seen on stored records are not saved one by one: observe
        # them again, so that after a restart this node never signs a record
        # that orders before one it had already seen.
        seen = self.db.execute(
            "SELECT MAX(m) FROM (" + " UNION ALL ".join(
                f"SELECT MAX(hlc) AS m FROM records WHERE kind = {int(k)}" for k in r.Kind
            ) + ")"
        ).fetchone()[0]
        if seen:
            self.clock.observe(seen, time.time())
        self.network: bytes | None = None
        self._held_maybe = True  # cleared when the held table is seen empty
        self._held_at = -1e18
        self._verified: dict[bytes, r.Record] = {}
        self.released: list[r.Record] = []
        self._parsed: dict[bytes, codec.Parsed] = {}
        net = self.meta("network_id")
        if net:
            self.network = bytes.fromhex(net)

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (creating if needed) the database at `path`, or ':memory:'."""
        if str(path) == ":memory:":
            db = Database(memory=True)
        else:
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            db = Database(conn)
            db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        return cls(db)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ settings

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def expect_network(self, code: str) -> None:
        """Accept only the charter whose network code is `code`."""
        self.set_meta("expect_code", identity.normalize_code(code))

    @property
    def network_code(self) -> str | None:
        return identity.network_code(self.network) if self.network else self.meta("expect_code")

    def charter_raw(self) -> bytes | None:
        row = self.db.execute("SELECT raw FROM records WHERE kind = 0 LIMIT 1").fetchone()
        return None if row is None else row[0]

    # ------------------------------------------------------------ ingest

    def ingest(self, raw: bytes, now: float | None = None) -> Outcome:
        """Verify and store one record atomically. Never raises for bad bytes."""
        stamp = time.time() if now is None else now
        with self.db.atomic():
            self._check_held(stamp)
            return self._ingest(bytes(raw), stamp)

    def ingest_many(self, raws: Iterable[bytes], now: float | None = None) -> list[Outcome]:
        """Ingest many records in one transaction (each still all-or-nothing)."""
        stamp = time.time() if now is None else now
        with self.db.atomic():
            self._check_held()
            batch = [bytes(raw) for raw in raws]
            self._preverify(batch)
            try:
                # Every check runs before the first write of a record, so a record
                # is never half-stored; an SQL failure rolls the whole batch back.
                return [self._ingest(raw, stamp) for raw in batch]
            finally:
                self._verified.clear()
                self._parsed.clear()

    def _preverify(self, batch: list[bytes]) -> None:
        """Check the signatures of a large batch on every core (Ed25519 verification
        releases the GIL). Results only short-cut `_ingest`; records whose key is
        not known yet are verified there as usual."""
        if self.network is None or len(batch) < PARALLEL_MIN:
            return
        network = self.network

        jobs: list[tuple[bytes, codec.Parsed, list[bytes]]] = []
        for raw in batch:
            try:
                parsed = codec.parse(raw)
            except DecodeError:
                continue
            self._parsed[raw] = parsed
            if parsed.kind is not r.Kind.CHARTER:
                jobs.append((raw, parsed, list(self._keys_for(parsed.author_ref))
                             if len(parsed.author_ref) == r.SHORT_ID_LEN else [parsed.author_ref]))

        def check(job: tuple[bytes, codec.Parsed, list[bytes]]) -> r.Record | None:
            _raw, parsed, candidates = job
            message = codec.signing_message(parsed.kind, network, parsed.signed)
            for key in candidates:
                if identity.verify(key, parsed.signature, message):
                    return r.Record(parsed.kind, key, parsed.seq, parsed.hlc, parsed.body,
                                    parsed.raw)
            return None

        if Store._pool is None:
            Store._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                             thread_name_prefix="meshaid-verify")
        for job, rec in zip(jobs, Store._pool.map(check, jobs, chunksize=32)):
            if rec is not None:
                self._verified[job[0]] = rec

    def _ingest(self, raw: bytes, now: float) -> Outcome:
        digest = hashlib.sha256(raw).digest()
        if self.db.execute("SELECT 1 FROM records WHERE hash = ?", [digest]).fetchone():
            return Outcome("duplicate")
        try:
            parsed = self._parsed.get(raw) or codec.parse(raw)
        except DecodeError as exc:
            return Outcome("rejected", exc.reason, exc.detail)
        if parsed.kind is r.Kind.CHARTER:
            return self._ingest_charter(parsed, digest, now)
        if self.network is None:
            return self._hold(parsed, digest, "unknown-network", now)
        try:
            rec = self._verified.get(raw) or codec.verify_parsed(
                parsed, self.network, self._keys_for
            )
        except DecodeError as exc:
            if exc.reason == "unknown-author":
                return self._hold(parsed, digest, exc.reason, now)
            return Outcome("rejected", exc.reason, exc.detail)
        self._store(rec, digest, now, parsed)
        if self._held_maybe:
            self.db.execute("DELETE FROM held WHERE hash = ?", [digest])
        if rec.kind is r.Kind.HELLO:
            self._retry_held(rec.short_author, now)
        return Outcome("accepted", record=rec)

    def _check_held(self, now: float | None = None) -> None:
        """Look whether anything is held (ours or another process's), at most once
        every HELD_CHECK_S of `now` when ingesting one record at a time."""
        if now is not None and self._held_maybe is False and now - self._held_at < HELD_CHECK_S:
            return
        self._held_maybe = bool(self.db.execute("SELECT EXISTS(SELECT 1 FROM held)").fetchone()[0])
        self._held_at = now if now is not None else -1e18

    def _keys_for(self, short: bytes) -> list[bytes]:
        return self._keys.get(short, [])

    def _ingest_charter(self, parsed: codec.Parsed, digest: bytes, now: float) -> Outcome:
        try:
            rec = codec.verify_parsed(parsed, codec.NO_NETWORK, lambda s: ())
        except DecodeError as exc:
            return Outcome("rejected", exc.reason, exc.detail)
        net = identity.network_id(rec.raw)
        if self.network is not None:
            return Outcome("rejected", "other-network", "this node already has its charter")
        expected = self.meta("expect_code")
        if expected is None or identity.network_code(net) != expected:
            return Outcome(
                "rejected",
                "other-network",
                f"charter of network {identity.network_code(net)}, expected {expected}",
            )
        self.network = net
        self.set_meta("network_id", net.hex())
        self.set_meta("network_name", rec.body.name if isinstance(rec.body, r.Charter) else "")
        self._store(rec, digest, now)
        self._retry_held(None, now)
        return Outcome("accepted", record=rec)

    def _hold(self, parsed: codec.Parsed, digest: bytes, reason: str, now: float) -> Outcome:
        count = self.db.execute("SELECT COUNT(*) FROM held").fetchone()[0]
        if count >= HELD_MAX:
            self.db.execute(
                "DELETE FROM held WHERE hash IN "
                "(SELECT hash FROM held ORDER BY received_at ASC LIMIT ?)",
                [count - HELD_MAX + 1],
            )
        self._held_maybe = True
        self.db.execute(
            "INSERT OR IGNORE INTO held (hash, raw, short, reason, received_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [digest, parsed.raw, parsed.author_short, reason, now],
        )
        detail = "kept aside until its author's hello arrives"
        if reason == "unknown-network":
            detail = "kept aside until this network's charter arrives"
        return Outcome("held", reason, detail)

    def _retry_held(self, short: bytes | None, now: float) -> None:
        if short is None:
            rows = self.db.execute("SELECT hash, raw FROM held ORDER BY received_at").fetchall()
        else:
            rows = self.db.execute(
                "SELECT hash, raw FROM held WHERE short = ? ORDER BY received_at", [short]
            ).fetchall()
        for held_hash, raw in rows:
            self.db.execute("DELETE FROM held WHERE hash = ?", [held_hash])
            outcome = self._ingest(raw, now)
            if outcome.status == "accepted" and outcome.record is not None:
                self.released.append(outcome.record)

    def take_released(self) -> list[r.Record]:
        """Records that left the held table (their author's hello or the charter
        arrived) since the last call: callers that mirror the record set need them."""
        out, self.released = self.released, []
        return out

    def _store(
        self, rec: r.Record, digest: bytes, now: float, parsed: codec.Parsed | None = None
    ) -> None:
        body = rec.body
        ref_short = ref_seq = subject = None
        if isinstance(body, r.Pledge):
            ref_short, ref_seq = body.need_author, body.need_seq
        elif isinstance(body, r.Update):
            ref_seq = body.target_seq
        elif isinstance(body, (r.Vouch, r.Revoke)):
            subject = body.subject
        twins = self.db.execute(
            "SELECT COUNT(*) FROM records WHERE author = ? AND seq = ?", [rec.author, rec.seq]
        ).fetchone()[0]
        short = parsed.author_short if parsed is not None else rec.short_author
        cursor = self.db.execute(
            "INSERT INTO records (hash, raw, kind, author, short, seq, hlc, received_at,"
            " ref_short, ref_seq, subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [digest, rec.raw, int(rec.kind), rec.author, short, rec.seq, rec.hlc,
             now, ref_short, ref_seq, subject],
        )
        self.clock.observe(rec.hlc, now)
        if twins:
            self.db.execute(
                "INSERT OR IGNORE INTO forks (author, seq) VALUES (?, ?)", [rec.author, rec.seq]
            )
            self.db.execute("UPDATE objects SET forked = 1 WHERE author = ?", [rec.author])
        kind = rec.kind
        if kind is r.Kind.HELLO:
            self._apply_hello(rec)
        elif kind in derive.OBJECT_KINDS:
            derive.recompute_object(
                self.db, rec.author, rec.seq, parsed, None if twins else cursor.lastrowid
            )
        elif kind is r.Kind.UPDATE:
            assert isinstance(body, r.Update)
            derive.recompute_object(self.db, rec.author, body.target_seq)
        if kind in (r.Kind.CHARTER, r.Kind.VOUCH, r.Kind.REVOKE) or twins:
            self.refresh_membership()

    def _apply_hello(self, rec: r.Record) -> None:
        body = rec.body
        assert isinstance(body, r.Hello)
        known = self._keys.setdefault(rec.short_author, [])
        if rec.author not in known:
            known.append(rec.author)
        # The key's latest hello wins; between forked twins the lowest hash, so
        # that every arrival order gives the same row.
        (winner,) = self.db.execute(
            "SELECT raw FROM records WHERE author = ? AND kind = 1 ORDER BY seq DESC, hash ASC"
            " LIMIT 1", [rec.author]
        ).fetchone()
        if winner != rec.raw:
            return
        self.db.execute(
            "INSERT INTO keys (key, short, name, site, role, lat, lon, hello_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " name = excluded.name, site = excluded.site, role = excluded.role,"
            " lat = excluded.lat, lon = excluded.lon, hello_seq = excluded.hello_seq",
            [rec.author, rec.short_author, body.name, body.site, body.role,
             body.position.lat if body.position else None,
             body.position.lon if body.position else None, rec.seq],
        )

    def refresh_membership(self) -> None:
        """Recompute membership, then everything whose trust it changed."""
        if self.network is None:
            return
        changed = derive.recompute_membership(self.db, self.charter_raw(), self.network)
        derive.refresh_authors(self.db, changed)

    # ------------------------------------------------------------ authoring

    def found_network(self, key: Ed25519PrivateKey, charter: r.Charter,
                      now: float | None = None) -> r.Record:
        """Sign and store the charter of a new network, making this node its founder."""
        if self.network is not None or self.meta("expect_code"):
            raise StoreError("this node already belongs to a network")
        stamp = time.time() if now is None else now
        rec = codec.encode(charter, key, 1, self.clock.now(stamp), codec.NO_NETWORK)
        with self.db.atomic():
            self.set_meta("expect_code", identity.network_code(identity.network_id(rec.raw)))
            self.set_meta("hlc_last", str(self.clock.last))
            outcome = self._ingest(rec.raw, stamp)
        if outcome.status != "accepted":
            raise StoreError(f"charter refused: {outcome.reason} {outcome.detail}".strip())
        return rec

    def next_seq(self, author: bytes) -> int:
        row = self.db.execute(
            "SELECT MAX(seq) FROM records WHERE author = ?", [author]
        ).fetchone()
        floor = int(self.meta("seq_floor:" + author.hex()) or 0)
        return max(row[0] or 0, floor) + 1

    def author(self, body: r.Body, key: Ed25519PrivateKey, now: float | None = None) -> r.Record:
        """Sign `body` as this key's next record and ingest it; raise StoreError if refused."""
        stamp = time.time() if now is None else now
        if self.network is None and not isinstance(body, r.Charter):
            raise StoreError("this node has no network charter yet; import a bundle first")
        with self.db.atomic():
            me = identity.public_bytes(key)
            seq = self.next_seq(me)
            rec = codec.encode(body, key, seq, self.clock.now(stamp), self.network or b"")
            self.set_meta("hlc_last", str(self.clock.last))
            outcome = self._ingest(rec.raw, stamp)
            if outcome.status != "accepted":
                raise StoreError(f"own record refused: {outcome.reason} {outcome.detail}".strip())
            return rec

    # ------------------------------------------------------------ reading

    def raw_records(self, kinds: Iterable[int] | None = None) -> Iterator[bytes]:
        """Every stored record in an order that ingests without holding:
        charter, hellos, vouches and revokes, then the rest by HLC."""
        order = "CASE kind WHEN 0 THEN 0 WHEN 1 THEN 1 WHEN 6 THEN 2 WHEN 7 THEN 2 ELSE 3 END"
        sql = f"SELECT raw FROM records ORDER BY {order}, hlc, id"
        if kinds is not None:
            wanted = ",".join(str(int(k)) for k in kinds)
            sql = f"SELECT raw FROM records WHERE kind IN ({wanted}) ORDER BY {order}, hlc, id"
        for (raw,) in self.db.execute(sql):
            yield raw

    def count(self, table: str = "records") -> int:
        if table not in ("records", "objects", "held", "keys", "members"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
