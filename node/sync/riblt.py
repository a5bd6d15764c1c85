"""Rateless invertible Bloom lookup tables (Yang, Gilad, Alizadeh, SIGCOMM 2024).

Theory of operation
-------------------
Each set element is a 64-bit id. A *coded symbol* holds the XOR of the ids
mapped to it, the XOR of their 32-bit checksums, and their count (mod 256 on
the wire). Element x maps to index 0 and then to an infinite, x-seeded,
increasing sequence of indices whose density falls off as about 1/(1 + i/2),
so the first symbols see nearly every element and later ones few.

A sender streams symbols 0, 1, 2, ... of its set. A receiver subtracts its own
symbols at the same indices, leaving the symbols of the symmetric difference,
and *peels*: a symbol whose count is ±1 and whose checksum matches its id sum
holds exactly one element, which is removed from every symbol it maps to,
freeing others. About 1.4-2 symbols per differing element decode the whole
difference; if not, the receiver asks for the next symbols. One broadcast
serves every neighbour at once, whatever each one's difference is.

Symbols on the wire are 13 bytes: 8 id-sum, 4 checksum-sum, 1 count.

A stream is only decodable if every symbol codes the same set, but a node's set
moves while its stream is read (records arrive, some from the very listener
decoding it). So `freeze` marks the set a stream starts from, and the changes
made since are kept (at most `JOURNAL_MAX`): `encode_frozen` gives later
symbols of the frozen set by taking them back out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..ledger.shared import Memo

MASK64 = (1 << 64) - 1
SYMBOL_BYTES = 13
JOURNAL_MAX = 512  # changes kept since `freeze`; one more and the frozen set is gone
_MUL = 0x9E3779B97F4A7C15


def _mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-mixed 64-bit hash."""
    x = (x + _MUL) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def checksum(x: int) -> int:
    return _mix(x ^ 0x5A5A5A5A5A5A5A5A) >> 32


def indices(x: int, limit: int) -> list[int]:
    """The symbol indices below `limit` that element `x` maps to (always 0 first)."""
    out = [0]
    state = _mix(x) | 1
    last = 0
    while True:
        state = (state * 0xDA942042E4DD58B5) & MASK64
        u = (state + 1) / 18446744073709551616.0  # (0, 1]
        last += math.ceil((last + 1.5) * (1.0 / math.sqrt(u) - 1.0))
        if last >= limit:
            return out
        out.append(last)


def _coded(key: tuple[int, int]) -> tuple[int, tuple[int, ...]]:
    x, limit = key
    return checksum(x), tuple(indices(x, limit))


# Every simulated node codes the same ids into sketches of the same size
# (node/ledger/shared.py): an id's checksum and indices, for the last ids coded.
CODED: Memo[tuple[int, int], tuple[int, tuple[int, ...]]] = Memo(8192, fifo=True)


@dataclass
class Symbol:
    ids: int = 0
    check: int = 0
    count: int = 0

    def is_zero(self) -> bool:
        return self.ids == 0 and self.check == 0 and self.count % 256 == 0


class Sketch:
    """The first `size` coded symbols of a set, kept up to date as ids are added.
    Ids given to `defer` are coded in only when the symbols are first read, so
    an engine starting on a large ledger does not pay for a sketch it may not
    need for a while."""

    def __init__(self, size: int = 1024, ids: Iterable[int] = ()) -> None:
        self.size = size
        self._ids = [0] * size
        self._checks = [0] * size
        self._counts = [0] * size
        self.n = 0
        self._pending: list[int] = []
        self._add_all(list(ids))
        self._journal: list[tuple[int, int]] | None = None  # changes since `freeze`

    @property
    def ids(self) -> list[int]:
        self.settle()
        return self._ids

    @property
    def checks(self) -> list[int]:
        self.settle()
        return self._checks

    @property
    def counts(self) -> list[int]:
        self.settle()
        return self._counts

    def add(self, x: int, sign: int = 1) -> None:
        c, where = CODED.get((x, self.size), _coded)
        for i in where:
            self._ids[i] ^= x
            self._checks[i] ^= c
            self._counts[i] += sign
        self.n += sign
        journal = self._journal
        if journal is not None:
            if len(journal) < JOURNAL_MAX:
                journal.append((x, sign))
            else:
                self._journal = None

    def freeze(self) -> None:
        """Mark the set as it is now: `encode_frozen` codes it until the next
        `freeze`, or until more than JOURNAL_MAX changes were made since."""
        self.settle()
        self._journal = []

    def encode_frozen(self, start: int, count: int) -> bytes | None:
        """Symbols [start, start + count) of the set as it was at `freeze`, in
        wire form; None if it is gone."""
        journal = self._journal
        if journal is None:
            return None
        end = min(start + count, self.size)
        ids, checks = self._ids[start:end], self._checks[start:end]
        counts = self._counts[start:end]
        for x, sign in journal:  # each change taken back out where it was coded in
            c = checksum(x)
            for i in indices(x, end):
                if i >= start:
                    ids[i - start] ^= x
                    checks[i - start] ^= c
                    counts[i - start] -= sign
        return _wire(ids, checks, counts)

    def defer(self, xs: Iterable[int]) -> None:
        """Add these ids, coding them in when the symbols are first read."""
        self._journal = None  # (start-up only: nothing was frozen to keep)
        before = len(self._pending)
        self._pending.extend(xs)
        self.n += len(self._pending) - before

    @property
    def ready(self) -> bool:
        """True when no deferred id waits to be coded in (reading is then cheap)."""
        return not self._pending

    def settle_some(self, limit: int) -> None:
        """Code in at most `limit` deferred ids (a bounded slice of start-up work)."""
        if self._pending:
            chunk, self._pending = self._pending[:limit], self._pending[limit:]
            self.n -= len(chunk)
            self._add_all(chunk)

    def settle(self) -> None:
        """Code in every deferred id now."""
        if self._pending:
            pending, self._pending = self._pending, []
            self.n -= len(pending)
            self._add_all(pending)

    def _add_all(self, xs: list[int]) -> None:
        """`add` for many ids, with `indices` inlined (same arithmetic, same symbols)."""
        ids, checks, counts, size = self._ids, self._checks, self._counts, self.size
        sqrt, ceil = math.sqrt, math.ceil
        for x in xs:
            c = checksum(x)
            ids[0] ^= x
            checks[0] ^= c
            counts[0] += 1
            state = _mix(x) | 1
            last = 0
            while True:
                state = (state * 0xDA942042E4DD58B5) & MASK64
                last += ceil((last + 1.5) * (1.0 / sqrt((state + 1) / 18446744073709551616.0)
                                             - 1.0))
                if last >= size:
                    break
                ids[last] ^= x
                checks[last] ^= c
                counts[last] += 1
        self.n += len(xs)

    def encode(self, start: int, count: int) -> bytes:
        """Symbols [start, start + count) in wire form."""
        self.settle()
        end = min(start + count, self.size)
        return _wire(self._ids[start:end], self._checks[start:end], self._counts[start:end])


def _wire(ids: list[int], checks: list[int], counts: list[int]) -> bytes:
    out = bytearray()
    for x, c, k in zip(ids, checks, counts):
        out += x.to_bytes(8, "big")
        out += c.to_bytes(4, "big")
        out.append(k % 256)
    return bytes(out)


def parse_symbols(data: bytes) -> list[Symbol]:
    if len(data) % SYMBOL_BYTES:
        raise ValueError("symbol bytes not a multiple of 13")
    return [
        Symbol(int.from_bytes(data[o : o + 8], "big"), int.from_bytes(data[o + 8 : o + 12], "big"),
               data[o + 12])
        for o in range(0, len(data), SYMBOL_BYTES)
    ]


@dataclass
class Decoded:
    complete: bool
    theirs: set[int]  # in the remote set, not in ours
    ours: set[int]  # in our set, not in the remote one


def decode(remote: Sequence[Symbol | None], start: int, local: Sketch) -> Decoded:
    """Peel the difference between remote symbols [start, start+len) — which must
    begin at 0 to be complete — and our own sketch. A symbol may be missing
    (None: its packet was lost): the code is rateless, so later symbols stand in
    for it, and symbol 0, which codes every element, must be there."""
    n = start + len(remote)
    if start != 0 or n > local.size or (remote and remote[0] is None):
        raise ValueError("decode needs symbols from index 0, within the local sketch size")
    ids, checks, counts = local.ids, local.checks, local.counts
    diff = [
        None if s is None else Symbol(s.ids ^ ids[i], s.check ^ checks[i], (s.count - counts[i]) % 256)
        for i, s in enumerate(remote)
    ]
    theirs: set[int] = set()
    ours: set[int] = set()
    queue = list(range(n))
    while queue:
        i = queue.pop()
        sym = diff[i]
        if sym is None or sym.count not in (1, 255) or sym.ids == 0 \
                or checksum(sym.ids) != sym.check:
            continue
        x, sign = sym.ids, (1 if sym.count == 1 else -1)
        if x in theirs or x in ours:
            continue
        (theirs if sign == 1 else ours).add(x)
        c = checksum(x)
        for j in indices(x, n):
            d = diff[j]
            if d is None:
                continue
            d.ids ^= x
            d.check ^= c
            d.count = (d.count - sign) % 256
            queue.append(j)
    complete = all(s is None or s.is_zero() for s in diff)
    return Decoded(complete, theirs, ours)


def spread(remote: Sequence[Symbol | None], local: Sketch, delta: int) -> float:
    """About how many ids the remote set and ours differ by (both ways), from
    its symbols held (from index 0) and `delta`, its count less ours: the
    signed count of difference symbol i >= 1 codes each differing id with
    probability rho = 2 / (2 + i), so it averages delta x rho, and the square
    of what is left averages d x rho(1 - rho). Over 15 symbols the estimate is
    within about 40 % of d: a first packet of symbols tells a few records from
    a partition."""
    counts = local.counts
    num = den = 0.0
    for i, s in enumerate(remote[1 : local.size], 1):
        if s is None:
            continue
        rho = 2.0 / (2.0 + i)
        c = (s.count - counts[i] - round(delta * rho)) % 256
        c = c - 256 if c >= 128 else c
        num += c * c
        den += rho * (1.0 - rho)
    return num / den if den else 0.0
