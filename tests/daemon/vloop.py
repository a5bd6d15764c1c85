"""An asyncio event loop in the simulator's virtual time, for deterministic daemon tests.

The loop's clock is the simulated mesh's `EventQueue.now`. Where a normal loop
would sleep in `select(timeout)`, this one runs the mesh's events up to the
next of: its own next timer, or the mesh's next event, and moves the clock
there. Mesh events (a packet heard, a send accepted) reach daemons through
their sinks, i.e. `call_soon_threadsafe`, exactly as radio threads do. Hours
of virtual time pass in seconds; nothing depends on the wall clock or on
thread timing.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any

from meshaid.node.sim.events import EventQueue


class AirSelector(selectors.SelectSelector):
    """A selector that advances virtual time instead of waiting."""

    def __init__(self, events: EventQueue) -> None:
        super().__init__()
        self.events = events

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        now = self.events.now
        nxt = self.events.peek()
        if timeout is None:
            if nxt is None:
                raise RuntimeError("virtual loop: nothing is scheduled, it would wait forever")
            target = nxt
        else:
            target = now + timeout
            if nxt is not None and nxt < target:
                target = nxt
        self.events.run_until(target)
        return super().select(0)


class VirtualLoop(asyncio.SelectorEventLoop):
    """`asyncio` loop whose `time()` is the mesh's virtual time."""

    def __init__(self, events: EventQueue) -> None:
        self.vevents = events
        super().__init__(AirSelector(events))

    def time(self) -> float:
        return self.vevents.now


def run(events: EventQueue, main: Any) -> Any:
    """Run coroutine `main` on a fresh virtual loop and close it."""
    loop = VirtualLoop(events)
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()
