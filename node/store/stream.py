"""Batched ingest, pipelined: many records, one commit per batch, the next
batch parsed and its signatures checked while the current one is stored and
committed.

Theory of operation
-------------------
`ingest_stream` reads records from any iterable a batch at a time. For the
first batch, outside the write lock, it looks up which records are stored
already and hands the others to the pool (checks.py), which parses each once
and checks its signature; it then reads the next batch from the source while
the pool works. It waits for the batch's parsed and verified forms outside
the write lock (and at least BATCH_PAUSE_S after the batch before committed,
so a waiting writer gets in); under the lock it at once hands the next batch
to the pool, then stores the batch in order (each record all or nothing),
flushes the derived state and commits, so the pool parses and verifies batch
N+1 while the storing thread stores and commits batch N. Each batch's
outcomes are yielded after its commit, in input order.

An exception raised by the source while the next batch is read is kept until
the current batch has committed and its outcomes were handed out, so a caller
that stops a long import (a file of junk) keeps what was stored before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Iterable
from contextlib import AbstractContextManager
from time import monotonic, sleep

from ..ledger import codec
from ..ledger import records as r
from ..ledger.wire import DecodeError
from .checks import PARALLEL_MIN, VERIFY_CHUNK, Checks
from .errors import Outcome
from .ingest import Ingester
from .sqlconst import padded

BATCH = 1000  # records per transaction in a long import
BATCH_PAUSE_S = 0.003  # the write lock stays free this long between batches


class Streaming(Ingester):
    """Batched ingest for `Store` (a mixin: `Store` owns the attributes)."""

    write: Callable[..., AbstractContextManager[None]]

    def ingest_many(self, raws: Iterable[bytes], now: float | None = None,
                    batch: int = BATCH) -> list[Outcome]:
        """Ingest many records, committing every `batch` records (each record
        still all-or-nothing), so other writers get in between batches. The
        outcomes come in input order."""
        return list(self.ingest_stream(raws, now, batch))

    def ingest_stream(self, raws: Iterable[bytes], now: float | None = None,
                      batch: int = BATCH) -> Generator[Outcome, None, None]:
        """Like `ingest_many`, lazily: read `raws` a batch at a time and yield each
        record's outcome, in input order, once its batch committed. The next
        batch is read, and its signatures checked, while one is being stored, so
        hand over a long import as one stream, not as one call per batch. An
        exception from `raws` comes after the outcomes of the records before it."""
        source = iter(raws)
        failure: list[Exception] = []

        def take() -> list[bytes]:
            out: list[bytes] = []
            if failure:
                return out
            try:
                for raw in source:
                    out.append(bytes(raw))
                    if len(out) >= batch:
                        break
            except Exception as exc:  # noqa: BLE001 - raised after the batch before it
                failure.append(exc)
            return out

        current = take()
        checks: Checks | None = self._start_checks(current)
        try:
            committed: float | None = None  # when the batch before committed (monotonic)
            while checks is not None:
                following = take()  # the pool works on `current` meanwhile
                outcomes, checks = self._ingest_batch(checks, now, following, committed)
                committed = monotonic()
                yield from outcomes
            if failure:
                raise failure[0]
        finally:
            if checks is not None:
                checks.cancel()

    def _ingest_batch(self, checks: Checks, now: float | None, following: list[bytes],
                      committed: float | None = None) -> tuple[list[Outcome], Checks | None]:
        """Store one batch in one transaction; before its first record is stored,
        start the checks of `following` (if any), which are returned with the
        outcomes. `committed`: when the batch before committed; the write lock
        is taken at least BATCH_PAUSE_S after that (what was read, awaited or
        handed out in between counts), so a waiting writer gets in."""
        ahead: Checks | None = None
        try:
            checks.settle()  # wait for the pool outside the write lock
            if committed is not None:  # leave the lock free BATCH_PAUSE_S between batches
                sleep(max(0.0, BATCH_PAUSE_S - (monotonic() - committed)))
            with self.write():
                stamp = self.wall() if now is None else now
                self._held_maybe = None
                self._check_held()
                self._prepare(checks)
                if following:  # (none: this was the last batch)
                    ahead = self._start_checks(following)  # checked while this is stored
                # Every check runs before the first write of a record, so a record is
                # never half-stored; an SQL failure rolls the whole batch back.
                out = [self._ingest(raw, stamp, digest=d)
                       for raw, d in zip(checks.raws, checks.digests)]
            return out, ahead
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
        finally:
            self._finish_batch()

    def _start_checks(self, batch: list[bytes]) -> Checks:
        """Before a batch is stored (outside the write lock, or inside the previous
        batch's transaction: checks.py): look up which records are stored and, for
        a large batch, have the pool parse the others and check their signatures,
        VERIFY_CHUNK records per job; a small batch is parsed here. Results only
        short-cut `_ingest`; records whose key is not known yet are verified there."""
        self.refresh()  # known keys and the network, as of now (outside a transaction)
        digests = [hashlib.sha256(raw).digest() for raw in batch]
        present = self._lookup_present(digests)
        network = self._network
        parallel = network is not None and len(batch) - len(present) >= PARALLEL_MIN
        checks = Checks(batch, digests, present, self.generation, self._stores, self._keys)
        seen: set[bytes] = set()
        chunk: list[bytes] = []
        for raw, digest in zip(batch, digests):
            if digest in present or raw in seen:
                continue
            seen.add(raw)
            if not parallel:
                try:
                    checks.parsed[raw] = codec.parse(raw)
                except DecodeError:
                    pass
                continue
            chunk.append(raw)
            if len(chunk) == VERIFY_CHUNK:
                assert network is not None
                checks.submit(network, chunk)
                chunk = []
        if chunk:
            assert network is not None
            checks.submit(network, chunk)
        return checks

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

    def _prepare(self, checks: Checks) -> None:
        """Inside the write lock, before storing a batch: which of its records are
        stored already (looked up again if anything was stored since its checks
        started), which have a tombstone (gc.py), and what the records table holds
        at the (author, seq) pairs the rest will take (derive.Batch.prefetch)."""
        checks.settle()  # the pool's parses and verified records
        self._checks = checks
        self._derive.parsed = checks.parsed  # saves derive parsing them again
        digests = checks.digests
        present = checks.present
        if checks.generation != self.generation or checks.stores != self._stores:
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
        for parsed in checks.parsed.values():
            if parsed.kind is not r.Kind.CHARTER:
                for key in self._candidates(parsed):
                    pairs.add((key, parsed.seq))
                    if parsed.kind in r.OBJECT_KINDS:
                        objects.add((key, parsed.seq))
        self._derive.prefetch(pairs, objects)
