"""Parsing and signature checks ahead of the write lock, for batches
(node/store/ingest.py).

Theory of operation
-------------------
Storing a record (its rows, derived state, the commit) runs in one thread
under SQLite's write lock; parsing it and checking its Ed25519 signature do not
need the lock. `cryptography` releases the GIL while it verifies and SQLite
while it runs a statement, so pool threads parse and check records on the
other core at the same time as the storing thread writes. A `Checks` holds one
batch's early work: every record not stored yet goes to the pool VERIFY_CHUNK
at a time, where it is parsed once and verified against the candidate keys in
the store's key table (read as the job runs, so a hello just stored by the
batch before counts). Before the batch is stored, and before the write lock is
taken, `settle` collects the parsed forms (every step of storing needs them)
and the verified records; `Ingester._ingest` then takes each record's verified
form from there, or parses and verifies it itself when the pool did not (a key
not known yet, bytes that do not parse, a small batch, which never starts the
pool). An early result only short-cuts the work: a record is verified against
the same candidate keys either way (the storing thread takes a pool result
only for a key its key table still holds), so the answers never change.

Pipelining: `Store.ingest_stream` starts the next batch's `Checks` inside the
current batch's transaction, before its first record is stored, so the pool
parses and verifies batch N+1 while the storing thread stores and commits
batch N. The look-up of which records are stored already (`present`) is only
trusted while nothing was stored since (`generation`, `stores`); otherwise the
write lock's holder looks again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from ..ledger import codec, identity
from ..ledger import records as r
from ..ledger.wire import DecodeError

PARALLEL_MIN = 64  # batches with at least this many new records go to the pool
VERIFY_CHUNK = 32  # records per pool job

Keys = Mapping[bytes, Sequence[bytes]]  # short id -> full keys known with it
Result = tuple[codec.Parsed | None, r.Record | None]  # (parsed, verified) of one record

_pool: ThreadPoolExecutor | None = None  # shared parsers and checkers, started on first use


def _check_chunk(network: bytes, keys: Keys, chunk: list[bytes]) -> list[Result]:
    """Parse each record and verify it against its candidate keys (in a pool
    thread): (None, None) for bytes that do not parse, (parsed, None) for a record
    no candidate signed (or a charter, which the storing thread checks)."""
    out: list[Result] = []
    for raw in chunk:
        try:
            parsed = codec.parse(raw)
        except DecodeError:
            out.append((None, None))
            continue
        rec = None
        if parsed.kind is not r.Kind.CHARTER:
            ref = parsed.author_ref
            # The storing thread may add a key meanwhile (a hello): take a copy.
            candidates = (ref,) if len(ref) == r.KEY_LEN else tuple(keys.get(ref, ()))
            message = codec.signing_message(parsed.kind, network, parsed.signed)
            for key in candidates:
                if identity.verify(key, parsed.signature, message):
                    rec = r.Record(parsed.kind, key, parsed.seq, parsed.hlc, parsed.body, raw)
                    break
        out.append((parsed, rec))
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
    stored yet, and their pool jobs."""

    def __init__(self, raws: list[bytes], digests: list[bytes], present: set[bytes],
                 generation: int, stores: int, keys: Keys | None = None) -> None:
        self.raws = raws
        self.digests = digests
        self.present = present  # of `digests`, those stored when looked up
        self.generation = generation  # Store.generation at the look-up
        self.stores = stores  # Store._stores at the look-up
        self.keys: Keys = {} if keys is None else keys  # candidate keys (Store._keys)
        self.parsed: dict[bytes, codec.Parsed] = {}  # complete once settled
        self._verified: dict[bytes, r.Record] = {}
        self._jobs: list[tuple[list[bytes], Future[list[Result]]]] = []

    def submit(self, network: bytes, chunk: list[bytes]) -> None:
        """Parse and check `chunk`'s records in the pool."""
        self._jobs.append((chunk, pool().submit(_check_chunk, network, self.keys, chunk)))

    def settle(self) -> None:
        """Wait for the pool's jobs and keep what they found (in the storing thread,
        before the batch is stored)."""
        jobs, self._jobs = self._jobs, []
        for chunk, future in jobs:
            for raw, (parsed, rec) in zip(chunk, future.result()):
                if parsed is not None:
                    self.parsed[raw] = parsed
                if rec is not None:
                    self._verified[raw] = rec

    def verified(self, raw: bytes) -> r.Record | None:
        """The record if the pool verified it; None if it failed or never went to
        the pool (the caller verifies it then, and says why it is refused)."""
        return self._verified.pop(raw, None)

    def cancel(self) -> None:
        """Drop the jobs not needed any more (those not started yet do not run)."""
        for _chunk, future in self._jobs:
            future.cancel()
        self._jobs.clear()
        self._verified.clear()
        self.parsed.clear()
