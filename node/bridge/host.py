"""The bridge inside the sync daemon: the IP engine beside the radio engine.

Theory of operation
-------------------
`BridgeHost` is built before the daemon's `Daemon`, because it supplies the
radio engine (`engine_factory`: a `BridgeEngine` on a tapped ledger port,
whose polls first move records from the glue's backlog into it). The IP
engine is built at once from the store. `attach(daemon)` wraps the daemon's
change feed, so records posted or imported by other processes reach the IP
engine too. `start(runner)` runs on the daemon's asyncio loop: link events
are posted to the loop (paho calls from its own thread), the IP engine gets
its own timer, and every second the bridge part of the status row is
refreshed (`StatusBoard.bridge`). `close()` disconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..daemon.feed import Feed, FeedBatch
from ..store import Store
from ..store.sync_port import SyncLedger
from ..sync.engine import Engine
from ..sync.ports import SyncConfig
from .engines import DEFAULT_IP_MB_PER_HOUR, BridgeEngine, ip_config
from .glue import FEED, IP, RADIO, Glue
from .ipside import IpSide
from .link import IpEvent, IpLink, IpLinkState, node_of

if TYPE_CHECKING:
    from ..daemon.loop import Runner
    from ..daemon.service import Daemon

log = logging.getLogger("meshaid.bridge")
STATUS_EVERY_S = 1.0


@dataclass(frozen=True)
class BridgeOptions:
    """`--bridge` and its companions, as the user gave them."""

    broker: str  # mqtt[s]://HOST[:PORT]
    name: str
    password_file: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    ip_mb_per_hour: float = DEFAULT_IP_MB_PER_HOUR


def open_link(options: BridgeOptions, network: bytes) -> IpLink:
    """The MQTT link `options` describe (BrokerSpecError says what is wrong)."""
    from .mqtt import MqttLink, check_name, parse_broker, read_password

    spec = parse_broker(options.broker)
    check_name(options.name)
    password = read_password(options.password_file) if options.password_file else None
    return MqttLink(spec, options.name, network, password=password, ca_file=options.ca_file,
                    cert_file=options.cert_file, key_file=options.key_file)


class TappedFeed:
    """The daemon's change feed, also handing what it finds to the glue."""

    def __init__(self, inner: Feed, glue: Glue, clock: Callable[[], float]) -> None:
        self.inner = inner
        self.glue = glue
        self.clock = clock

    def drain(self) -> list[bytes]:
        raws = self.inner.drain()
        for raw in raws:
            self.glue.entered(raw, FEED, self.clock(), local=True)
        return raws

    def poll(self, force: bool = False) -> FeedBatch:
        batch = self.inner.poll(force)
        now = self.clock()
        for raw in batch.local:
            self.glue.entered(raw, FEED, now, local=True)
        for raw in batch.foreign:
            self.glue.entered(raw, FEED, now)
        return batch

    def done(self, ids: list[bytes]) -> None:
        self.inner.done(ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class BridgeHost:
    """The IP side of a bridge node inside the daemon (see the module doc)."""

    def __init__(self, store: Store, link: IpLink, network_tag: bytes, *,
                 ip_mb_per_hour: float = DEFAULT_IP_MB_PER_HOUR) -> None:
        self.store = store
        self.glue = Glue(link.name)
        self.ledger = SyncLedger(store)
        engine = BridgeEngine(self.glue.tap(IP, self.ledger), ip_config(network_tag, ip_mb_per_hour),
                              node_of(link.name), seed=node_of(link.name))
        self.glue.attach(IP, engine)
        self.side = IpSide(engine, link, self.glue)
        self.runner: Runner | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._status: asyncio.TimerHandle | None = None
        self.closed = False

    def engine_factory(self, ledger: SyncLedger, cfg: SyncConfig, node: int) -> Engine:
        """The daemon's radio engine: a `BridgeEngine` on a tapped port."""
        engine = BridgeEngine(self.glue.tap(RADIO, ledger), cfg, node)
        engine.before_poll = self.glue.feed_radio
        self.glue.attach(RADIO, engine)
        return engine

    def attach(self, daemon: Daemon) -> None:
        """Wrap the daemon's change feed (call once, before the daemon runs)."""
        daemon.feed = TappedFeed(daemon.feed, self.glue, self._now)  # type: ignore[assignment]
        self.daemon = daemon

    def _now(self) -> float:
        return self.loop.time() if self.loop is not None else 0.0

    # ------------------------------------------------------------ on the loop

    def start(self, runner: Runner) -> None:
        """Connect and serve on the running loop, beside `runner`."""
        self.runner = runner
        self.loop = loop = asyncio.get_running_loop()

        def wake(side: str) -> None:
            loop.call_soon(self._pump if side == IP else self._wake_radio)

        self.glue.wake = wake

        def sink(event: IpEvent) -> None:
            if not self.closed:
                try:
                    loop.call_soon_threadsafe(self._on_event, event)
                except RuntimeError:  # the loop is closing
                    pass

        self.side.link.start(sink)
        self._status = loop.call_later(STATUS_EVERY_S, self._refresh)

    def _on_event(self, event: IpEvent) -> None:
        if self.closed:
            return
        if isinstance(event, IpLinkState):
            log.info("bridge link %s: %s", "up" if event.up else "down", event.detail)
        try:
            self.side.on_event(event, self._now())
        except Exception:  # one bad message must not stop the node
            log.exception("bridge event failed")
        self._pump()
        self._wake_radio()

    def _wake_radio(self) -> None:
        if self.runner is not None and not self.closed:
            self.runner.wake()

    def _pump(self) -> None:
        if self.closed or self.loop is None:
            return
        try:
            due = self.side.pump(self._now())
        except Exception:
            log.exception("bridge pump failed")
            due = self._now() + 5.0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if due is not None:
            self._timer = self.loop.call_at(due, self._pump)

    def _refresh(self) -> None:
        if self.closed or self.loop is None:
            return
        now = self._now()
        if self.runner is not None:
            wall = self.runner.wall()
            self.runner.daemon.board.bridge = self.side.snapshot(now, wall - now)
        self._status = self.loop.call_later(STATUS_EVERY_S, self._refresh)

    def close(self) -> None:
        """Stop the timers and disconnect from the broker."""
        self.closed = True
        for handle in (self._timer, self._status):
            if handle is not None:
                handle.cancel()
        self.side.link.close()
