"""Bloom filter bits and the index of our records by HLC that FILTER windows
read (filters.py; PROTOCOL.md §7, FILTER).

Filter bits: id x (8 bytes, already a hash) sets the k bits h1 + i*h2 mod 8m
(h1 its high 32 bits, h2 its low 32 bits OR 1), bit j in byte j div 8,
least significant first.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping

from .ports import RecordInfo

BUCKET_SHIFT = 16 + 12  # index buckets of 4096 s of HLC
SKIP_MAX = 4096  # of our ids a filter's authors left out pass over, read for one filter


def positions(rid: bytes, hashes: int, m_bits: int) -> Iterator[int]:
    """The bit positions of an 8-byte id in a filter of `m_bits` bits: double
    hashing of its high and low 32 bits (ids are already hashes)."""
    x = int.from_bytes(rid, "big")
    h1, h2 = x >> 32, (x & 0xFFFFFFFF) | 1
    return ((h1 + i * h2) % m_bits for i in range(hashes))


def make_bits(ids: list[bytes], size: int, hashes: int) -> bytes:
    """A filter of `size` bytes holding `ids`."""
    bits = bytearray(size)
    for rid in ids:
        for p in positions(rid, hashes, size * 8):
            bits[p >> 3] |= 1 << (p & 7)
    return bytes(bits)


def holds(bits: bytes, hashes: int, rid: bytes) -> bool:
    """Whether the filter may hold `rid` (no false negatives)."""
    return all(bits[p >> 3] >> (p & 7) & 1 for p in positions(rid, hashes, len(bits) * 8))


def _newest_first(info: RecordInfo) -> int:
    """One integer that sorts newest first (HLC, then id, descending)."""
    return -(info.hlc << 64 | int.from_bytes(info.id, "big"))


class HlcIndex:
    """The sync set's records by HLC, in buckets of about an hour, each kept
    newest first: the newest records at or before an HLC in a bisection and a
    walk, never a sort of the whole set. Records that left the set are dropped
    as they are met."""

    def __init__(self, infos: Iterable[RecordInfo] = ()) -> None:
        self.buckets: dict[int, list[RecordInfo]] = {}
        for info in infos:
            self.buckets.setdefault(info.hlc >> BUCKET_SHIFT, []).append(info)
        for items in self.buckets.values():
            items.sort(key=_newest_first)
        self.keys = sorted(self.buckets)  # bucket numbers, ascending

    def add(self, info: RecordInfo) -> None:
        b = info.hlc >> BUCKET_SHIFT
        items = self.buckets.get(b)
        if items is None:
            self.buckets[b] = items = []
            bisect.insort(self.keys, b)
        key = _newest_first(info)
        # (most records arrive as the newest of their hour: no bisection for them)
        at = 0 if not items or key < _newest_first(items[0]) else bisect.bisect_left(
            items, key, key=_newest_first)
        if at == len(items) or items[at].id != info.id:
            items.insert(at, info)

    def window(self, infos: Mapping[bytes, RecordInfo], until: int, since: int,
               limit: int, skip: Collection[bytes] = ()) -> tuple[list[RecordInfo], int | None]:
        """Our newest records (HLC, then id, descending) in [since, until], at most
        `limit`, those of authors in `skip` left out; and where the read stopped
        short: the HLC of the last record it looked at when `limit` records, or
        `SKIP_MAX` left out, ended it first (None: it read the window whole)."""
        out: list[RecordInfo] = []
        skipped = 0
        i = bisect.bisect_right(self.keys, until >> BUCKET_SHIFT)
        while i > 0 and self.keys[i - 1] >= since >> BUCKET_SHIFT:
            i -= 1
            items = self.buckets[self.keys[i]]
            start = bisect.bisect_left(items, -(until << 64 | 0xFFFFFFFFFFFFFFFF),
                                       key=_newest_first)
            gone = []
            stop: int | None = None
            for at, info in enumerate(itertools.islice(items, start, None), start):
                if info.id not in infos:
                    gone.append(at)
                    continue
                if info.hlc < since:
                    break
                if info.author in skip:
                    skipped += 1
                else:
                    out.append(info)
                if len(out) == limit or skipped == SKIP_MAX:
                    stop = info.hlc
                    break
            for at in reversed(gone):
                del items[at]
            if stop is not None:
                return out, stop
        return out, None
