"""Batched ingest, pipelined: many records, one commit per batch, the next
batch's signatures checked while the current one is stored and committed.

Theory of operation
-------------------
`ingest_stream` reads records from any iterable a batch at a time. For each
batch, outside the write lock, it looks up which records are stored already,
parses the others and hands their signatures to the verification pool
(checks.py); it then reads the next batch from the source while the pool
works. Under the write lock it stores the batch in order (each record all or
nothing, taking its verified form from the pool), then starts the next batch's
checks and only then flushes the derived state and commits, so verification
of batch N+1 overlaps the end of batch N. Each batch's outcomes are yielded
after its commit, in input order.

An exception raised by the source while the next batch is read is kept until
the current batch has committed and its outcomes were handed out, so a caller
that stops a long import (a file of junk) keeps what was stored before it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Generator, Iterable
from contextlib import AbstractContextManager

from ..ledger import codec
from ..ledger import records as r
from ..ledger.wire import DecodeError
from .checks import PARALLEL_MIN, VERIFY_CHUNK, Checks, Job
from .errors import Outcome
from .ingest import Ingester
from .sqlconst import padded

BATCH = 1000  # records per transaction in a long import
BATCH_PAUSE_S = 0.003  # between batches: let a waiting writer in


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
            first = True
            while checks is not None:
                if not first:
                    time.sleep(BATCH_PAUSE_S)
                first = False
                following = take()  # the pool verifies `current` meanwhile
                outcomes, checks = self._ingest_batch(checks, now, following)
                yield from outcomes
            if failure:
                raise failure[0]
        finally:
            if checks is not None:
                checks.cancel()

    def _ingest_batch(self, checks: Checks, now: float | None,
                      following: list[bytes]) -> tuple[list[Outcome], Checks | None]:
        """Store one batch in one transaction; before it commits, start the checks
        of `following` (if any), which are returned with the outcomes."""
        ahead: Checks | None = None
        try:
            with self.write():
                stamp = self.wall() if now is None else now
                self._held_maybe = None
                self._check_held()
                self._prepare(checks)
                # Every check runs before the first write of a record, so a record is
                # never half-stored; an SQL failure rolls the whole batch back.
                out = [self._ingest(raw, stamp, digest=d)
                       for raw, d in zip(checks.raws, checks.digests)]
                if following:  # (none: this was the last batch)
                    ahead = self._start_checks(following)  # verified while this commits
            return out, ahead
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
        finally:
            self._finish_batch()

    def _start_checks(self, batch: list[bytes]) -> Checks:
        """Before a batch is stored (outside the write lock, or inside the previous
        batch's transaction: checks.py): look up which records are stored, parse
        the others and, for a large batch, check their signatures in the pool,
        VERIFY_CHUNK records per job, each handed over as soon as it is parsed.
        Results only short-cut `_ingest`; records whose key is not known yet are
        verified there."""
        self.refresh()  # known keys and the network, as of now (outside a transaction)
        digests = [hashlib.sha256(raw).digest() for raw in batch]
        present = self._lookup_present(digests)
        checks = Checks(batch, digests, present, self.generation, self._stores)
        network = self._network
        parallel = network is not None and len(batch) - len(present) >= PARALLEL_MIN
        chunk: Job = []
        for raw, digest in zip(batch, digests):
            if digest in present or raw in checks.parsed:
                continue
            try:
                parsed = checks.parsed[raw] = codec.parse(raw)
            except DecodeError:
                continue
            if parallel and parsed.kind is not r.Kind.CHARTER:
                chunk.append((raw, parsed, self._candidates(parsed)))
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
