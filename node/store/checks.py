"""Signature checks ahead of the write lock, for batches (node/store/ingest.py).

Theory of operation
-------------------
Storing a record (its rows, derived state, the commit) runs in one thread
under SQLite's write lock; checking its Ed25519 signature does not need the
lock, and `cryptography` releases the GIL while it verifies, so pool threads
check signatures on the other cores at the same time. A `Checks` holds one
batch's early work: every record not stored yet is parsed in the calling
thread and handed to the pool VERIFY_CHUNK at a time as soon as it is parsed;
`Ingester._ingest` then takes each record's verified form from its job (or
verifies it itself when no job was started: a key not known yet, a small
batch). An early result only short-cuts the check: a record is verified
against the same candidate keys either way, so the answers never change.

Pipelining: `Store.ingest_stream` starts the next batch's `Checks` inside the
current batch's transaction, after its records are stored and before its
derived state is flushed and it commits, so the pool verifies batch N+1 while
the storing thread finishes batch N. The look-up of which records are stored
already (`present`) is only trusted while nothing was stored since
(`generation`, `stores`); otherwise the write lock's holder looks again.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

from ..ledger import codec, identity
from ..ledger import records as r

PARALLEL_MIN = 64  # batches with at least this many new records verify in parallel
VERIFY_CHUNK = 32  # records per verification job

Job = list[tuple[bytes, codec.Parsed, list[bytes]]]  # (raw, parsed, candidate keys)

_pool: ThreadPoolExecutor | None = None  # shared signature checkers, started on first use


def _check_chunk(network: bytes, chunk: Job) -> list[r.Record | None]:
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


def pool() -> ThreadPoolExecutor:
    """The shared verification pool (one thread per core)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                   thread_name_prefix="meshaid-verify")
    return _pool


class Checks:
    """One batch's early work: its records' digests, the parsed form of those not
    stored yet, and their verification jobs."""

    def __init__(self, raws: list[bytes], digests: list[bytes], present: set[bytes],
                 generation: int, stores: int) -> None:
        self.raws = raws
        self.digests = digests
        self.present = present  # of `digests`, those stored when looked up
        self.generation = generation  # Store.generation at the look-up
        self.stores = stores  # Store._stores at the look-up
        self.parsed: dict[bytes, codec.Parsed] = {}
        self._jobs: dict[bytes, tuple[Future[list[r.Record | None]], int]] = {}

    def submit(self, network: bytes, chunk: Job) -> None:
        """Check `chunk`'s signatures in the pool."""
        future = pool().submit(_check_chunk, network, chunk)
        for k, (raw, _parsed, _keys) in enumerate(chunk):
            self._jobs[raw] = (future, k)

    def verified(self, raw: bytes) -> r.Record | None:
        """The record if its job verified it; None if it failed or none was started
        (the caller verifies it then, and says why it is refused)."""
        job = self._jobs.pop(raw, None)
        return None if job is None else job[0].result()[job[1]]

    def cancel(self) -> None:
        """Drop the jobs not needed any more (those not started yet do not run)."""
        for future, _k in self._jobs.values():
            future.cancel()
        self._jobs.clear()
        self.parsed.clear()
