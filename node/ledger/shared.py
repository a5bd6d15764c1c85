"""Process-wide memos for the simulator: hundreds of simulated nodes verify,
parse and decode the very same bytes (node/sim/runner.py turns them on). A real
node does all of it itself, so each memo is off unless `share()` turned it on.
What a memo holds is immutable, and an exception is raised every time, never
remembered: with a memo on or off, every caller gets the same answers."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most `most` answers; when full, the oldest goes (`fifo`: answers that
    matter for seconds, such as a packet every node in range decodes) or
    nothing more is kept (answers asked for all run long, such as records)."""

    def __init__(self, most: int, fifo: bool = False) -> None:
        self.most = most
        self.fifo = fifo
        self.table: dict[K, V] | None = None

    def share(self, enabled: bool = True) -> None:
        self.table = {} if enabled else None

    def get(self, key: K, compute: Callable[[K], V]) -> V:
        """`compute(key)`, remembered while sharing."""
        table = self.table
        if table is None:
            return compute(key)
        value = table.get(key)
        if value is None:
            value = compute(key)
            if len(table) < self.most:
                table[key] = value
            elif self.fifo:
                del table[next(iter(table))]
                table[key] = value
        return value
