"""The bootstrap order of each partition, built in slices and kept current.

Theory of operation
-------------------
A PULL is answered from a partition sorted in the canonical bootstrap order
(class ascending, HLC descending but ascending for membership, id ascending:
bootstrap.py). Sorting a
partition of a large ledger at once would stall a poll() for hundreds of
milliseconds, so the orders are built once, in slices: `SLICE` records per
call to `step` are keyed into a sorted run per partition, then each
partition is merged from its runs, `MERGE_SLICE` keys per call. Then they
are kept current as records arrive (`added`, a bisection and an insertion). Each record's place is one integer, `key_of`, so the sort
and every bisection compare integers, not tuples of bytes.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterator, Mapping

from .ports import CLASS_MEMBERSHIP, RecordInfo

SLICE = 2000  # records keyed (into sorted runs) per step while building
MERGE_SLICE = 4000  # keys merged from a partition's runs per step
HLC_MAX = (1 << 48) - 1


def key_of(cls: int, hlc: int, rid: bytes) -> int:
    """One integer that sorts like (class, newest first (membership: oldest first), id)."""
    hlc = min(hlc, HLC_MAX)
    rank = hlc if cls == CLASS_MEMBERSHIP else HLC_MAX - hlc
    return (cls << 112) | (rank << 64) | int.from_bytes(rid, "big")


def cursor_key(cursor: bytes) -> int:
    """The key of a cursor (u8 class, u48 HLC, 8-byte id)."""
    return key_of(cursor[0], int.from_bytes(cursor[1:7], "big"), cursor[7:])


class Orders:
    def __init__(self, parts: int) -> None:
        self.parts = parts
        self.keys: list[list[int]] = [[] for _ in range(parts)]
        self.infos: list[list[RecordInfo]] = [[] for _ in range(parts)]
        self.ready = False
        self._todo: list[RecordInfo] | None = None
        self._pos = 0
        self._runs: list[list[list[int]]] = [[] for _ in range(parts)]  # sorted runs
        self._merging: Iterator[int] | None = None  # the partition being merged
        self._sorted = 0  # partitions finished
        self._by_key: dict[int, RecordInfo] = {}
        self._late: list[RecordInfo] = []

    def step(self, infos: Mapping[bytes, RecordInfo]) -> bool:
        """Do one slice of building (at most SLICE records keyed into sorted runs,
        or MERGE_SLICE keys of a partition merged from its runs); True once every
        partition is in order."""
        if self.ready:
            return True
        if self._todo is None:
            self._todo = list(infos.values())
        todo = self._todo
        if self._pos < len(todo):
            runs: list[list[int]] = [[] for _ in range(self.parts)]
            by_key, parts = self._by_key, self.parts
            for info in todo[self._pos : self._pos + SLICE]:
                k = key_of(info.cls, info.hlc, info.id)
                runs[info.id[0] % parts].append(k)
                by_key[k] = info
            for part, run in enumerate(runs):
                run.sort()
                self._runs[part].append(run)
            self._pos += SLICE
            if len(todo) > SLICE:
                return False
        while not self.ready:
            self._merge_some()
            if len(todo) > SLICE:
                break  # a large ledger: one slice per step
        return self.ready

    def _merge_some(self) -> None:
        """Merge up to MERGE_SLICE keys of the next partition from its sorted runs."""
        part = self._sorted
        if self._merging is None:
            self._merging = heapq.merge(*self._runs[part])
            self._runs[part] = []
        keys, infos, by_key = self.keys[part], self.infos[part], self._by_key
        taken = 0
        for k in itertools.islice(self._merging, MERGE_SLICE):
            taken += 1
            info = by_key.pop(k, None)
            if info is not None:  # (None: it left the set meanwhile)
                keys.append(k)
                infos.append(info)
        if taken == MERGE_SLICE:
            return  # more of this partition next step
        self._merging = None
        self._sorted += 1
        if self._sorted == self.parts:
            self.ready = True
            self._todo = None
            self._by_key = {}
            late, self._late = self._late, []
            for info in late:
                self.added(info)

    def added(self, info: RecordInfo) -> None:
        """A record joined the set: put it in its place (or in line, while building)."""
        if not self.ready:
            if self._todo is not None:
                self._late.append(info)
            return
        part = info.id[0] % self.parts
        k = key_of(info.cls, info.hlc, info.id)
        keys = self.keys[part]
        i = bisect.bisect_left(keys, k)
        if i < len(keys) and keys[i] == k:
            return
        keys.insert(i, k)
        self.infos[part].insert(i, info)

    def removed(self, info: RecordInfo) -> None:
        """A record left the set (a revocation cut its author, a later version
        superseded it): out of its order
        (while building, its key is skipped when its partition is merged)."""
        part = info.id[0] % self.parts
        if not self.ready:
            self._by_key.pop(key_of(info.cls, info.hlc, info.id), None)
            self._late = [i for i in self._late if i.id != info.id]
            if part > self._sorted:
                return  # (a partition merged already, or being merged, holds it in order)
        keys = self.keys[part]
        k = key_of(info.cls, info.hlc, info.id)
        i = bisect.bisect_left(keys, k)
        if i < len(keys) and keys[i] == k:
            del keys[i]
            del self.infos[part][i]

    def after(self, part: int, cursor: bytes) -> int:
        """Index in `infos[part]` of the first record after `cursor` (0: from the start)."""
        return bisect.bisect_right(self.keys[part], cursor_key(cursor)) if cursor else 0
