"""A deterministic discrete-event queue in virtual time.

Theory of operation: events live in a binary heap keyed by ``(time, seq)``
where ``seq`` is a strictly increasing insertion counter, so two events at the
same virtual time always run in the order they were scheduled -- the run is
reproducible regardless of callback identity. A handle is the heap entry
itself (a small list); cancelling blanks its callback in place ("lazy
deletion"), which is O(1) and leaves the heap untouched until the entry
surfaces and is skipped. Time only moves forward: ``now`` is the time of the
event being run, and ``run_until(t)`` leaves ``now == t``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

__all__ = ["EventQueue", "Handle"]

# A handle is the heap entry: [at, seq, callback | None, args].
Handle = list[Any]


class EventQueue:
    """Min-heap of timed callbacks with FIFO tie-breaking and lazy cancellation."""

    __slots__ = ("_heap", "_live", "_seq", "now", "processed")

    def __init__(self, start: float = 0.0) -> None:
        """Create an empty queue whose clock reads ``start``."""
        self.now: float = float(start)
        self._heap: list[Handle] = []
        self._seq: int = 0
        self._live: int = 0
        self.processed: int = 0

    def schedule(self, at: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` at virtual time ``at`` (>= now); return a handle."""
        if at < self.now:
            raise ValueError(f"cannot schedule in the past: {at} < now {self.now}")
        self._seq += 1
        entry: Handle = [at, self._seq, callback, args]
        heapq.heappush(self._heap, entry)
        self._live += 1
        return entry

    def schedule_in(self, delay: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` ``delay`` seconds from now; return a handle."""
        return self.schedule(self.now + delay, callback, *args)

    def cancel(self, handle: Handle | None) -> bool:
        """Cancel a pending event; return False if it already ran or was cancelled."""
        if handle is None or handle[2] is None:
            return False
        handle[2] = None
        handle[3] = ()
        self._live -= 1
        return True

    @staticmethod
    def active(handle: Handle | None) -> bool:
        """True while ``handle`` is still pending."""
        return handle is not None and handle[2] is not None

    def __len__(self) -> int:
        """Number of pending (not cancelled) events."""
        return self._live

    def peek(self) -> float | None:
        """Time of the next pending event, or None."""
        heap = self._heap
        while heap and heap[0][2] is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Run the next pending event; return False when the queue is empty."""
        heap = self._heap
        while heap:
            entry = heapq.heappop(heap)
            cb = entry[2]
            if cb is None:
                continue
            entry[2] = None  # mark as run so cancel() on it is a no-op
            self._live -= 1
            self.now = entry[0]
            self.processed += 1
            cb(*entry[3])
            return True
        return False

    def run_until(self, t: float) -> int:
        """Run every event with time <= ``t`` in order, then set ``now = t``.

        Returns the number of callbacks run. Events scheduled by callbacks for
        times <= ``t`` run in the same call.
        """
        heap = self._heap
        pop = heapq.heappop
        n = 0
        while heap and heap[0][0] <= t:
            entry = pop(heap)
            cb = entry[2]
            if cb is None:
                continue
            entry[2] = None  # mark as run so cancel() on it is a no-op
            self._live -= 1
            self.now = entry[0]
            n += 1
            cb(*entry[3])
        self.now = max(self.now, t)
        self.processed += n
        return n

    def run(self, max_events: int | None = None) -> int:
        """Run until the queue is empty (or ``max_events`` ran); return the count."""
        n = 0
        while (max_events is None or n < max_events) and self.step():
            n += 1
        return n
