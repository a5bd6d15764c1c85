"""The simulator's air (`Mesh`) run against the wall clock, for fake devices.

Theory of operation
-------------------
`Mesh` lives in virtual time on an `EventQueue`. `RealtimeMesh` owns one and
maps virtual time to the monotonic clock: ``sim = (monotonic() - t0) * speed``.
One thread (the "air" thread) sleeps until the next event is due, runs every
event up to the current virtual time, and sleeps again. Anything else that
touches the mesh (a fake device queuing a packet its client sent) does so
while holding `lock` and then calls `kick()` so the air thread re-reads the
next deadline. The mesh callbacks (`on_receive`, `on_heard_again`) therefore
always run on the air thread with `lock` held; they must not block.

`speed` > 1 compresses everything that is measured in virtual time: air time,
relay waits, the duty-cycle hour and the channel-utilisation minute. A speed
of 10 makes a LONG_FAST frame of 255 bytes last about 0.22 s of wall time and
the rolling duty-cycle hour six minutes.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from .events import EventQueue, Handle
from .packets import RxMeta
from .radio import Mesh
from .topology import Topology, from_links

__all__ = ["RealtimeMesh", "clique"]

log = logging.getLogger(__name__)

Receiver = Callable[[Any, RxMeta], None]
HeardAgain = Callable[[int, int], None]


def clique(n: int, snr_db: float = 6.0, *, preset: str = "LONG_FAST") -> Topology:
    """Every node hears every other with the same SNR (a bench on one table)."""
    return from_links(n, [(a, b, snr_db) for a in range(n) for b in range(a + 1, n)],
                      preset=preset)


class RealtimeMesh:
    """A `Mesh` whose virtual clock follows the monotonic clock (times ``speed``)."""

    def __init__(self, topology: Topology, *, speed: float = 1.0, preset: str = "LONG_FAST",
                 duty_cycle_pct: float | None = None, seed: int | None = None,
                 clock: Callable[[], float] = time.monotonic, **mesh_kw: Any) -> None:
        """Build the mesh (not yet running). Extra keywords go to `Mesh`."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._clock = clock
        self._t0 = clock()
        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self._receivers: dict[int, Receiver] = {}
        self._heard: dict[int, HeardAgain] = {}
        self.events = EventQueue()
        self.mesh = Mesh(topology, preset=preset, rng=random.Random(seed),
                         events=self.events, on_receive=self._on_receive,
                         on_heard_again=self._on_heard_again,
                         duty_cycle_pct=duty_cycle_pct, **mesh_kw)
        self._thread: threading.Thread | None = None
        self._stop = False
        self.errors: list[BaseException] = []

    # ---------------------------------------------------------------- clock
    def now(self) -> float:
        """Current virtual time (seconds since the mesh was built, times speed)."""
        return (self._clock() - self._t0) * self.speed

    def wall_delay(self, sim_seconds: float) -> float:
        """Wall-clock seconds that ``sim_seconds`` of virtual time take."""
        return sim_seconds / self.speed

    # ---------------------------------------------------------------- wiring
    def attach(self, node: int, on_receive: Receiver, on_heard_again: HeardAgain) -> None:
        """Route what node ``node`` hears to its device (called with ``lock`` held or before start)."""
        self._receivers[node] = on_receive
        self._heard[node] = on_heard_again

    def _on_receive(self, node: int, payload: Any, meta: RxMeta) -> None:
        cb = self._receivers.get(node)
        if cb is not None:
            cb(payload, meta)

    def _on_heard_again(self, node: int, src: int, pid: int) -> None:
        cb = self._heard.get(node)
        if cb is not None:
            cb(src, pid)

    def schedule_in(self, sim_delay: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` on the air thread after ``sim_delay`` virtual seconds.

        Call with ``lock`` held; the air thread is woken to honour the new deadline.
        """
        self.sync()
        h = self.events.schedule_in(max(0.0, sim_delay), callback, *args)
        self._cond.notify()
        return h

    def sync(self) -> None:
        """Bring the event queue's clock up to now (runs what is due). Call with ``lock`` held."""
        t = self.now()
        if t > self.events.now:
            self.events.run_until(t)

    def kick(self) -> None:
        """Wake the air thread (call with ``lock`` held after queuing packets)."""
        self._cond.notify()

    # ---------------------------------------------------------------- thread
    def start(self) -> None:
        """Start the air thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sim-air", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the air thread and wait for it."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        with self._cond:
            while not self._stop:
                try:
                    self.sync()
                except Exception as exc:  # a device callback failed: keep the air alive
                    log.exception("simulated air: an event failed")
                    self.errors.append(exc)
                nxt = self.events.peek()
                wait = 1.0 if nxt is None else max(0.0, (nxt - self.now()) / self.speed)
                if wait > 0:
                    self._cond.wait(timeout=min(wait, 1.0))
