"""Ingest: verify one record, store it and update derived state, or hold it.

Every function here runs inside a `Store.write()` transaction. Checks come
before the first write of a record, so a record is either stored with all its
derived state or not at all. A record whose author's hello (or the network's
charter) is not known yet is held and retried when that arrives, here or in
another process sharing the database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from sqlite_utils import Database

from ..ledger import codec, hlc, identity
from ..ledger import records as r
from ..ledger.wire import DecodeError
from . import derive, gc, meshclock
from .errors import Outcome
from .schema import get_meta, put_meta
from .sqlconst import CHARTER, HELLO, padded

HELD_MAX = 10_000
PARALLEL_MIN = 64  # batches at least this big verify signatures in parallel
VERIFY_CHUNK = 32  # records per verification job


def _check_chunk(network: bytes, chunk: list[tuple[bytes, codec.Parsed, list[bytes]]]
                 ) -> list[r.Record | None]:
    """Verify each parsed record against its candidate keys (in a pool thread)."""
    out: list[r.Record | None] = []
    for _raw, parsed, candidates in chunk:
        message = codec.signing_message(parsed.kind, network, parsed.signed)
        rec = None
        for key in candidates:
            if identity.verify(key, parsed.signature, message):
                rec = r.Record(parsed.kind, key, parsed.seq, parsed.hlc, parsed.body, parsed.raw)
                break
        out.append(rec)
    return out


class RxInfo(Protocol):
    """Radio metadata of the packet that brought a record (sync.ports.RxMeta)."""

    @property
    def sender(self) -> int: ...

    @property
    def snr(self) -> float: ...

    @property
    def rssi(self) -> float: ...

    @property
    def hops(self) -> int: ...


class Ingester:
    """The ingest half of `Store` (a mixin: `Store` owns the attributes)."""

    db: Database
    clock: hlc.Clock
    _keys: dict[bytes, list[bytes]]
    _network: bytes | None
    _held_maybe: bool | None
    _verifying: dict[bytes, tuple[Future[list[r.Record | None]], int]]
    _parsed: dict[bytes, codec.Parsed]
    _present: set[bytes]  # of the digests looked up for this batch, those stored
    _looked_up: set[bytes]
    _derive: derive.Batch
    released: list[r.Record]
    _newest: dict[bytes, int]  # meshclock: top trusted authors by newest clock value
    _newest_dirty: bool  # changed since it was last saved
    _pool: ThreadPoolExecutor | None = None  # shared signature checkers
    generation: int  # bumped whenever the caches were reloaded (Store)
    _stores: int  # records this Store inserted (so far)
    _early: tuple[set[bytes], int, int]  # _start_checks' look-up: (present, generation, _stores)
    _tombs: set[bytes]  # 8-byte ids of the batch's records that have a tombstone (gc.py)
    refresh: Callable[[], None]

    def _start_checks(self, batch: list[bytes], digests: list[bytes]) -> None:
        """Before a batch, outside the write lock: parse the records not stored yet
        and, for a large batch, check their signatures on every core (Ed25519
        verification in `cryptography` releases the GIL, so threads run it in
        parallel with this one) while this thread parses on, waits for the lock
        and stores the records in order. Each chunk of VERIFY_CHUNK records is
        handed over as soon as it is parsed. Results only short-cut `_ingest`;
        records whose key is not known yet are verified there as usual."""
        self.refresh()  # known keys and the network, as of now
        present = self._lookup_present(digests)
        self._early = (present, self.generation, self._stores)
        network = self._network
        parallel = network is not None and len(batch) - len(present) >= PARALLEL_MIN
        chunk: list[tuple[bytes, codec.Parsed, list[bytes]]] = []
        for raw, digest in zip(batch, digests):
            if digest in present or raw in self._parsed:
                continue
            try:
                parsed = self._parsed[raw] = codec.parse(raw)
            except DecodeError:
                continue
            if parallel and parsed.kind is not r.Kind.CHARTER:
                chunk.append((raw, parsed, self._candidates(parsed)))
                if len(chunk) == VERIFY_CHUNK:
                    self._submit(network, chunk)
                    chunk = []
        if chunk:
            self._submit(network, chunk)

    def _submit(self, network: bytes | None,
                chunk: list[tuple[bytes, codec.Parsed, list[bytes]]]) -> None:
        assert network is not None
        if Ingester._pool is None:
            Ingester._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                                thread_name_prefix="meshaid-verify")
        future = Ingester._pool.submit(_check_chunk, network, chunk)
        for k, (raw, _parsed, _keys) in enumerate(chunk):
            self._verifying[raw] = (future, k)

    def _lookup_present(self, digests: list[bytes]) -> set[bytes]:
        present: set[bytes] = set()
        for i in range(0, len(digests), 500):
            part = padded(digests[i : i + 500])
            present.update(bytes(h) for (h,) in self.db.execute(
                f"SELECT hash FROM records WHERE hash IN ({','.join('?' * len(part))})", part))
        return present

    def _candidates(self, parsed: codec.Parsed) -> list[bytes]:
        if len(parsed.author_ref) == r.SHORT_ID_LEN:
            return list(self._keys_for(parsed.author_ref))
        return [parsed.author_ref]

    def _prepare(self, digests: list[bytes]) -> None:
        """Inside the write lock, before storing a batch: which of its records are
        stored already (one query), and what the records table holds at the
        (author, seq) pairs the rest will take (derive.Batch.prefetch)."""
        present, generation, stores = self._early
        if generation != self.generation or stores != self._stores:
            present = self._lookup_present(digests)  # another process or a retry stored some
        self._present = present
        self._looked_up = set(digests)
        ids = [d[:8] for d in digests if d not in present]
        self._tombs = set()
        for i in range(0, len(ids), 500):
            part = padded(ids[i : i + 500])
            self._tombs.update(bytes(t) for (t,) in self.db.execute(
                f"SELECT id FROM collected WHERE id IN ({','.join('?' * len(part))})", part))
        pairs: set[tuple[bytes, int]] = set()
        objects: set[tuple[bytes, int]] = set()
        for parsed in self._parsed.values():
            if parsed.kind is not r.Kind.CHARTER:
                for key in self._candidates(parsed):
                    pairs.add((key, parsed.seq))
                    if parsed.kind in r.OBJECT_KINDS:
                        objects.add((key, parsed.seq))
        self._derive.prefetch(pairs, objects)

    def _finish_batch(self) -> None:
        for future, _k in self._verifying.values():
            future.cancel()
        self._verifying.clear()
        self._early = (set(), -1, -1)
        self._tombs = set()
        self._parsed.clear()
        self._present.clear()
        self._looked_up.clear()
        self._derive.end()

    def _preverified(self, raw: bytes) -> r.Record | None:
        job = self._verifying.pop(raw, None)
        return None if job is None else job[0].result()[job[1]]

    def _ingest(self, raw: bytes, now: float, local: bool = False,
                heard: RxInfo | None = None, digest: bytes | None = None) -> Outcome:
        if digest is None:
            digest = hashlib.sha256(raw).digest()
        if digest in self._looked_up:
            if digest in self._present:
                return Outcome("duplicate")
        elif self.db.execute("SELECT 1 FROM records WHERE hash = ?", [digest]).fetchone():
            return Outcome("duplicate")
        gone = None  # a batch looked its ids up in the tombstones at once (_prepare)
        if digest not in self._looked_up or digest[:8] in self._tombs:
            gone = gc.tombstoned(self.db, digest, raw)  # collected here (node/store/gc.py)
        if gone:
            return Outcome("duplicate")
        if gone is False:  # no longer superseded: stored again; the pairs' look-ups are stale
            self._derive.end()
        try:
            parsed = self._parsed.get(raw) or codec.parse(raw)
        except DecodeError as exc:
            return Outcome("rejected", exc.reason, exc.detail)
        if parsed.kind is r.Kind.CHARTER:
            return self._ingest_charter(parsed, digest, now, local)
        if self._network is None:
            return self._hold(parsed, digest, "unknown-network", now)
        try:
            rec = self._preverified(raw) or codec.verify_parsed(
                parsed, self._network, self._keys_for
            )
        except DecodeError as exc:
            if exc.reason == "unknown-author":
                return self._hold(parsed, digest, exc.reason, now)
            return Outcome("rejected", exc.reason, exc.detail)
        self._store(rec, digest, now, parsed, local, heard)
        if self._held_maybe:
            self.db.execute("DELETE FROM held WHERE hash = ?", [digest])
        if rec.kind is r.Kind.HELLO:
            self._retry_held(rec.short_author, now)
        return Outcome("accepted", record=rec)

    def _check_held(self) -> None:
        """Look whether anything is held, unless known (our own holds set the flag;
        another process's commit clears what we knew)."""
        if self._held_maybe is None:
            self._held_maybe = bool(
                self.db.execute("SELECT EXISTS(SELECT 1 FROM held)").fetchone()[0])

    def _keys_for(self, short: bytes) -> list[bytes]:
        return self._keys.get(short, [])

    def _ingest_charter(self, parsed: codec.Parsed, digest: bytes, now: float,
                        local: bool) -> Outcome:
        try:
            rec = codec.verify_parsed(parsed, codec.NO_NETWORK, lambda s: ())
        except DecodeError as exc:
            return Outcome("rejected", exc.reason, exc.detail)
        net = identity.network_id(rec.raw)
        if self._network is not None:
            return Outcome("rejected", "other-network", "this node already has its charter")
        expected = get_meta(self.db, "expect_code")
        if expected is None or identity.network_code(net) != expected:
            return Outcome(
                "rejected",
                "other-network",
                f"charter of network {identity.network_code(net)}, expected {expected}",
            )
        self._network = net
        put_meta(self.db, "network_id", net.hex())
        put_meta(self.db, "network_name", rec.body.name if isinstance(rec.body, r.Charter) else "")
        self._store(rec, digest, now, None, local)
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
        self._check_held()
        if not self._held_maybe:
            return
        if short is None:
            rows = self.db.execute("SELECT hash, raw FROM held ORDER BY received_at").fetchall()
        else:
            rows = self.db.execute(
                "SELECT hash, raw FROM held WHERE short = ? ORDER BY received_at", [short]
            ).fetchall()
        self._retry_rows(rows, now)

    def _retry_rows(self, rows: list[tuple[bytes, bytes]], now: float) -> None:
        for held_hash, raw in rows:
            self.db.execute("DELETE FROM held WHERE hash = ?", [held_hash])
            outcome = self._ingest(bytes(raw), now)
            if outcome.status == "accepted" and outcome.record is not None:
                self.released.append(outcome.record)

    def _retry_others(self, now: float) -> None:
        """Another process stored hellos or the charter: retry what they free."""
        self._check_held()
        if not self._held_maybe:
            return
        rows = self.db.execute(
            "SELECT hash, raw FROM held WHERE short IN (SELECT short FROM keys)"
            " OR (? AND reason = 'unknown-network') ORDER BY received_at",
            [self._network is not None],
        ).fetchall()
        self._retry_rows(rows, now)

    def _store(self, rec: r.Record, digest: bytes, now: float,
               parsed: codec.Parsed | None = None, local: bool = False,
               heard: RxInfo | None = None) -> None:
        body = rec.body
        ref_short = ref_seq = subject = None
        if isinstance(body, r.Pledge):
            ref_short, ref_seq = body.need_author, body.need_seq
        elif isinstance(body, r.Update):
            ref_seq = body.target_seq
        elif isinstance(body, (r.Vouch, r.Revoke)):
            subject = body.subject
        critical = isinstance(body, r.Need) and body.urgency == r.CRITICAL
        twins = self._derive.holds(rec.author, rec.seq)
        short = parsed.author_short if parsed is not None else rec.short_author
        cursor = self.db.execute(
            "INSERT INTO records (hash, raw, kind, author, short, seq, hlc, received_at,"
            " ref_short, ref_seq, subject, local, critical)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [digest, rec.raw, int(rec.kind), rec.author, short, rec.seq, rec.hlc,
             now, ref_short, ref_seq, subject, int(local), int(critical)],
        )
        row_id = cursor.lastrowid
        self._stores += 1
        self._derive.stored(rec.author, rec.seq, ref_seq if rec.kind is r.Kind.UPDATE else None)
        self._present.add(digest)
        self._looked_up.add(digest)
        if local:
            self.db.execute("INSERT OR IGNORE INTO outbox (rid, record, queued_at)"
                            " VALUES (?, ?, ?)", [digest[:8], row_id, now])
        if heard is not None:
            self.db.execute("INSERT OR IGNORE INTO heard (record, node, snr, rssi, hops, heard_at)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            [row_id, heard.sender, heard.snr, heard.rssi, heard.hops, now])
        if not local:  # the clock follows mesh time only (node/store/meshclock.py)
            is_member, through, _forked = self._derive.facts(rec.author)
            newest = meshclock.consider(self._newest, rec.author, rec.hlc,
                                        is_member and (through is None or rec.seq <= through))
            if newest is not self._newest:  # saved when the transaction commits
                self._newest, self._newest_dirty = newest, True
                self.clock.advance(meshclock.mesh_hlc(newest))
        if twins:
            self.db.execute(
                "INSERT OR IGNORE INTO forks (author, seq) VALUES (?, ?)", [rec.author, rec.seq]
            )
            self.db.execute("UPDATE objects SET forked = 1 WHERE author = ?", [rec.author])
            self._derive.invalidate()
        kind = rec.kind
        if kind is r.Kind.HELLO:
            self._apply_hello(rec)
        elif kind in derive.OBJECT_KINDS:
            derive.recompute_object(
                self.db, rec.author, rec.seq, parsed, None if twins else row_id, self._derive
            )
        elif kind is r.Kind.UPDATE:
            assert isinstance(body, r.Update)
            self._derive.touch(rec.author, body.target_seq)
        if kind in (r.Kind.CHARTER, r.Kind.VOUCH, r.Kind.REVOKE) or twins:
            self.refresh_membership()
        if twins and self.db.execute(
                "SELECT 1 FROM members WHERE key = ? AND revoked_through IS NOT NULL",
                [rec.author]).fetchone():
            # A fork at or below a revoked key's cut untrusts that seq's twins, whatever kind.
            derive.refresh_authors(self.db, {rec.author}, self._derive)
            self._newest = meshclock.rebuild(self.db)

    def _apply_hello(self, rec: r.Record) -> None:
        body = rec.body
        assert isinstance(body, r.Hello)
        known = self._keys.setdefault(rec.short_author, [])
        if rec.author not in known:
            known.append(rec.author)
        # The key's latest hello wins; between forked twins the lowest hash, so
        # that every arrival order gives the same row.
        (winner,) = self.db.execute(
            f"SELECT raw FROM records WHERE author = ? AND kind = {HELLO} ORDER BY seq DESC, hash ASC"
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
        if self._network is None:
            return
        row = self.db.execute(f"SELECT raw FROM records WHERE kind = {CHARTER} LIMIT 1").fetchone()
        self._derive.flush()
        changed = derive.recompute_membership(self.db, None if row is None else row[0],
                                              self._network)
        self._derive.invalidate()
        derive.refresh_authors(self.db, changed, self._derive)
        if changed:
            self._newest = meshclock.rebuild(self.db)
            self.clock.advance(meshclock.mesh_hlc(self._newest))
