"""The slowest poll() of the attack suite (attacks.py), less the collector.

Python's cyclic garbage collector, when it runs a full collection, walks the
whole process's heap: in a simulation every engine, the radio world and what
earlier attacks left behind (50-60 ms here), which a node's daemon does not
hold. Landing inside one poll, it made the suite's slowest poll read 52-57 ms
where the engine's work took under a millisecond. So the time the collector
took inside a poll (gc.callbacks) is left out. node/sim/pollbench.py times a
real node's polls at 100,000 records, collector included.
"""

from __future__ import annotations

import gc
import time
from typing import Any


class _Collector:
    """Wall time Python's cyclic garbage collector has taken so far (gc.callbacks)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


_COLLECTOR = _Collector()


def timed(poll: Any, acc: list[float]) -> Any:
    """`poll`, keeping in `acc[0]` the longest call less collector time (above)."""
    def wrapped(now: float) -> Any:
        t0, g0 = time.perf_counter(), _COLLECTOR.total
        try:
            return poll(now)
        finally:
            took = time.perf_counter() - t0 - (_COLLECTOR.total - g0)
            acc[0] = max(acc[0], took)
    return wrapped
