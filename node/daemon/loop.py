"""The daemon's event loop: one asyncio loop runs store, engine and radio adapter.

Theory of operation
-------------------
Everything touching the store or the engine runs on the loop's thread.
Radio adapters call the sink from their own threads; the sink only posts the
event to the loop (`call_soon_threadsafe`). The engine's clock is the loop's
clock, `loop.time()`: time.monotonic() on a normal loop, virtual time on the
test loop (tests/daemon/vloop.py), so the same code runs in both.

Timers: one for the engine (armed at `Daemon.pump`'s answer, i.e. the
engine's `next_timer()`), and one periodic tick every `FEED_EVERY_S` that
reads the change feed (records posted by the CLI or TUI reach the engine
within a second), writes the status row when due and persists the budget
window at most once a minute. Another runs one slice of garbage collection
every `GC_STEP_S` when a round is due (hourly; node/store/gc.py Collector), one
small write transaction at a time. With a systemd watchdog, a third timer pings
it at half its interval, so a stuck loop gets restarted.

Stopping (`request_stop`, wired to SIGTERM and SIGINT by the CLI): nothing
new is sent; sends already handed to the radio get up to `DRAIN_S` to report
(so that what went on air leaves the outbox), the budget is saved, the status
row is marked stopped and the radio is closed. Whatever did not go stays in
the outbox for the next start.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..radio.base import LinkState, RadioEvent
from .notify import Notifier
from .service import Daemon

log = logging.getLogger("meshaid.daemon")

FEED_EVERY_S = 0.5
GC_STEP_S = 2.0  # one slice of garbage collection (a small transaction) when due
STATUS_EVERY_S = 1.0  # look this often whether the status row is due (it decides)
DRAIN_S = 5.0


class Runner:
    """Runs one `Daemon` on the current asyncio loop until `request_stop`."""

    def __init__(self, daemon: Daemon, *, notifier: Notifier | None = None,
                 feed_every: float = FEED_EVERY_S, drain_s: float = DRAIN_S) -> None:
        self.daemon = daemon
        self.notifier = notifier or Notifier({})
        self.feed_every = feed_every
        self.drain_s = drain_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._due: float | None = None
        self._periodic: dict[str, asyncio.TimerHandle] = {}
        self._status_at = -1e18
        self.events = 0
        self.draining = False  # no new sends; results still count
        self.closed = False

    # ------------------------------------------------------------ clocks

    def now(self) -> float:
        assert self.loop is not None
        return self.loop.time()

    def wall(self) -> float:
        return self.daemon.store.wall()

    # ------------------------------------------------------------ plumbing

    def sink(self, event: RadioEvent) -> None:
        """Called by the adapter from any thread: post the event to the loop."""
        loop = self.loop
        if loop is None or self.closed:
            return
        try:
            loop.call_soon_threadsafe(self._on_event, event)
        except RuntimeError:  # the loop is closing: the event is lost, as at a power cut
            pass

    def _guard(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception:  # one bad event must not stop the node
            log.exception("%s failed", what)
            return None

    def _on_event(self, event: RadioEvent) -> None:
        if self.closed:
            return
        self.events += 1
        self._guard("radio event", self.daemon.handle, event, self.now(), self.wall())
        if isinstance(event, LinkState):
            self.notifier.status(self._summary())
            self._guard("feed", self.daemon.check_feed, self.now(), True)
        self._pump()

    def _pump(self) -> None:
        if self.draining:
            return
        assert self.loop is not None
        due = self._guard("engine", self.daemon.pump, self.now())
        if due == self._due and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due = due
        if due is not None:
            self._timer = self.loop.call_at(due, self._on_timer)

    def wake(self) -> None:
        """Run due engine work now (another part of the node gave it some: the bridge)."""
        if self.loop is not None and not self.closed:
            self._pump()

    def _on_timer(self) -> None:
        self._timer = None
        self._due = None
        self._pump()

    def _every(self, name: str, period: float, fn: Any) -> None:
        """Call `fn` every `period` seconds until draining starts."""
        loop = self.loop
        assert loop is not None

        def tick() -> None:
            if not self.draining:
                fn()
                self._periodic[name] = loop.call_later(period, tick)

        self._periodic[name] = loop.call_later(period, tick)

    def _tick(self) -> None:
        now, wall = self.now(), self.wall()
        if self._guard("feed", self.daemon.check_feed, now):
            self._pump()
        if now - self._status_at >= STATUS_EVERY_S:
            self._status_at = now
            self._guard("status", self.daemon.write_status, now, wall)
            self._guard("budget", self.daemon.save_budget, now, wall)

    def _summary(self) -> str:
        board = self.daemon.board
        device = board.device
        name = f" {device.node_id}" if device is not None else ""
        return f"radio {board.link}{name}; outbox {board.outbox}; peers {len(board.peers)}"

    # ------------------------------------------------------------ run

    def request_stop(self) -> None:
        """Ask the daemon to drain and stop (safe to call from a signal handler)."""
        if self._stop is not None:
            self._stop.set()

    async def run(self) -> None:
        """Start the radio, serve until `request_stop`, then drain and close."""
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        daemon = self.daemon
        daemon.radio.start(self.sink)
        daemon.write_status(self.now(), self.wall(), force=True)
        self._every("feed", self.feed_every, self._tick)
        self._every("gc", GC_STEP_S, lambda: self._guard("gc", daemon.collect, self.now()))
        if self.notifier.watchdog_s:
            self._every("watchdog", self.notifier.watchdog_s, self.notifier.watchdog)
        self.notifier.ready("started; radio connecting")
        log.info("daemon running (pid %d)", daemon.board.pid)
        try:
            await self._stop.wait()
        finally:
            await self._drain()

    async def _drain(self) -> None:
        self.notifier.stopping()
        self.draining = True
        log.info("stopping: draining %d sends in flight", len(self.daemon.pending))
        for handle in self._periodic.values():
            handle.cancel()
        deadline = self.now() + self.drain_s
        while self.daemon.pending and self.now() < deadline:
            await asyncio.sleep(0.05)
        if self._timer is not None:
            self._timer.cancel()
        self.closed = True
        self._guard("stop", self.daemon.stop, self.now(), self.wall())
        self._guard("radio close", self.daemon.radio.close)
        log.info("stopped; %d records wait in the outbox", self.daemon.board.outbox)
