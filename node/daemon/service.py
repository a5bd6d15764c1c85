"""The daemon's state machine: store, sync engine and radio, without the event loop.

Theory of operation
-------------------
`Daemon` turns radio events, feed records and timer ticks into engine calls
and radio sends; loop.py calls it from one asyncio loop, always with the
loop's monotonic time `now` (the engine's clock) and wall time `wall` (only
for what people read: status, persisted budget).

* The engine is built when the link first comes up, because its node number
  is the radio's. Then the outbox is drained into it (records queued before
  a crash go out) and the persisted budget window is restored.
* `pump(now)` runs due engine work: each packet goes to `radio.send` with a
  token and its Meshtastic priority. A `SendResult` ok takes the records the
  packet carried out of the outbox and tells the engine (`sent`: its air
  counts in the budget from then); a failure hands the packet back to the
  engine (`send_failed`: requeued, air time refunded) and holds sending back
  for a while, doubling up to a minute while failures continue. A send with
  no result after `RESULT_TIMEOUT_S` counts as failed.
* While the link is down nothing is polled: the engine keeps its queue and
  the outbox keeps the records.
* Device metrics feed the engine's channel utilisation; the first metrics
  after each connect seed the budget from air_util_tx, if the radio spent
  more air time in the last hour than the engine knows of.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..radio.base import (
    DeviceInfo,
    Dropped,
    LinkState,
    Metrics,
    PayloadTooLarge,
    Radio,
    RadioEvent,
    Received,
    SendResult,
    mesh_priority,
)
from ..store import Store, gc, strangers
from ..store.sync_port import SyncLedger
from ..sync.engine import Engine
from ..sync.ports import Outgoing, SyncConfig
from ..sync.ticket import Signer
from .feed import Feed
from .status import StatusBoard, StatusWriter

log = logging.getLogger("meshaid.daemon")

RESULT_TIMEOUT_S = 120.0
HOLD_MIN_S, HOLD_MAX_S = 5.0, 60.0
MIN_TIMER_S = 0.05  # never wake sooner than this after a poll
SEED_AGE_S = 1800.0  # air_util_tx is spread over the last hour: count it as half an hour old


@dataclass
class Settings:
    budget_share: float = 0.5  # of the region's duty cycle (10 % where none is legal)
    preset: str = "LONG_FAST"  # until the device says otherwise


class Daemon:
    """One node's sync daemon, minus the event loop (see module doc)."""

    def __init__(self, store: Store, radio: Radio, *, settings: Settings | None = None,
                 ledger: SyncLedger | None = None,
                 engine_factory: Callable[[SyncLedger, SyncConfig, int], Engine] | None = None,
                 signer: Signer | None = None,
                 announce: Callable[[], object | None] | None = None) -> None:
        self.store = store
        self.radio = radio
        self.settings = settings or Settings()
        self.ledger = ledger or SyncLedger(store)
        self.feed = Feed(store, self.ledger.sync_raw)
        self.board = StatusBoard()
        self.writer = StatusWriter(store)
        self.engine: Engine | None = None
        self._engine_factory = engine_factory or (lambda lg, cfg, node: Engine(lg, cfg, node))
        self.signer = signer  # the node's own key signs its pull tickets (sync/ticket.py)
        # Signs and stores this node's hello (Home.ensure_hello) once the charter is
        # here: a node that joined with the network code alone gets the charter
        # over the radio, and only then can it announce its key to be vouched for.
        self.announce = announce
        self._announced = announce is None
        self.preset = self.settings.preset
        self.pending: dict[int, tuple[Outgoing, float]] = {}
        self._token = 0
        self.hold_until = -1e18
        self._hold = 0.0
        self._seed_pending = False
        self.radio_dropped: Counter[str] = Counter()
        self.budget_saved_at = -1e18
        self._budget_key: tuple[int, float] | None = None
        self.collector = gc.Collector()  # superseded records, hourly, in slices
        self.expiry = strangers.Expiry()  # unadmitted keys' records, hourly

    # ------------------------------------------------------------ engine

    def _config(self, device: DeviceInfo | None) -> SyncConfig:
        from ..sim.airtime import frame_bytes, time_on_air

        if device is not None and device.preset:
            self.preset = device.preset
        cap = (device.duty_cycle_pct if device is not None else None) or 10.0

        def airtime(n: int) -> float:
            try:
                return time_on_air(frame_bytes(n), self.preset)
            except (KeyError, ValueError):
                return time_on_air(frame_bytes(n), "LONG_FAST")

        return SyncConfig(network_tag=network_tag(self.store), airtime=airtime,
                          budget_s_per_hour=3600.0 * cap / 100.0 * self.settings.budget_share)

    def _build_engine(self, device: DeviceInfo, now: float, wall: float) -> Engine:
        engine = self._engine_factory(self.ledger, self._config(device), device.node_num)
        engine.signer = self.signer
        engine.start(now)
        entries = self.store.load_budget()  # (age, cost) pairs, aged by the store's wall clock
        if entries:
            engine.restore_budget(entries, now)
        self.engine = engine
        queued = self.feed.drain()
        for raw in queued:
            engine.local_record(raw, now)
        log.info("engine ready: node !%08x, %d records, %d queued in the outbox",
                 device.node_num, engine.count, len(queued))
        self._announce(now)
        return engine

    def _announce(self, now: float) -> None:
        """Our hello, signed once the network's charter is known (`announce`)."""
        if self._announced or self.announce is None or self.store.network is None:
            return
        self._announced = True
        try:
            if self.announce() is not None:
                log.info("the network's charter is here: this node's hello is signed")
                self.check_feed(now, force=True)
        except Exception as exc:  # noqa: BLE001 - a hello that could not be signed waits for a restart
            log.warning("could not sign this node's hello: %s", exc)

    # ------------------------------------------------------------ events

    def handle(self, event: RadioEvent, now: float, wall: float) -> None:
        """One event from the radio (on the loop's thread)."""
        match event:
            case Received():
                self._received(event, now, wall)
            case SendResult():
                self._result(event, now, wall)
            case LinkState():
                self._link(event, now, wall)
            case Metrics():
                self._metrics(event, now)
            case Dropped():
                self.radio_dropped[event.reason] += 1

    def _received(self, event: Received, now: float, wall: float) -> None:
        engine = self.engine
        if engine is None:
            return
        meta = event.meta
        count = engine.count
        engine.receive(event.payload, meta, now)
        if not self._announced:
            self._announce(now)
        self.board.heard(meta.sender, meta.snr, meta.hops, wall)
        peer = engine.peers.get(meta.sender)
        if peer is not None and peer.count:
            self.board.peers[meta.sender].holds = peer.count
        if engine.count > count:
            self.board.last_sync = wall

    def _result(self, event: SendResult, now: float, wall: float) -> None:
        entry = self.pending.pop(event.token, None)
        if entry is None:
            return
        out, _sent_at = entry
        if event.ok:
            self._hold = 0.0
            if self.engine is not None:  # it left our hands now: its air counts from now
                self.engine.sent(out, now)
            ids = list(out.records)
            self.feed.done(ids)
            if ids:
                self.board.last_sync = wall
            return
        self._failed(out, event.reason or "failed", now)

    def _failed(self, out: Outgoing, reason: str, now: float) -> None:
        self.board.send_failed[reason] += 1
        if self.engine is not None:
            self.engine.send_failed(out, now)
        self._hold = min(HOLD_MAX_S, max(HOLD_MIN_S, self._hold * 2))
        self.hold_until = now + self._hold
        log.warning("send failed (%s, %s, %d bytes); sending again in %.0f s",
                    reason, out.tag, len(out.payload), self._hold)

    def _link(self, event: LinkState, now: float, wall: float) -> None:
        if event.up:
            device = event.device
            self.board.link, self.board.link_detail = "up", event.detail
            if device is not None:
                self.board.device = device
                if self.engine is None:
                    self._build_engine(device, now, wall)
                else:
                    cfg = self._config(device)
                    self.engine.budget.limit_s = cfg.budget_s_per_hour
            self._seed_pending = True
            self.hold_until = -1e18
            log.info("radio link up: %s", event.detail or "connected")
        else:
            self.board.link, self.board.link_detail = "down", event.detail
            log.warning("radio link down: %s", event.detail or "disconnected")

    def _metrics(self, event: Metrics, now: float) -> None:
        engine = self.engine
        if engine is None:
            return
        engine.set_channel_utilization(event.channel_util_pct)
        engine.set_routers_near(event.routers_near)
        if self._seed_pending:
            self._seed_pending = False
            radio_s = event.air_util_tx_pct / 100.0 * 3600.0
            known = engine.budget.used(now)
            if radio_s > known + 1.0:
                engine.restore_budget([(SEED_AGE_S, radio_s - known)], now)  # adds to it
                log.info("budget seeded from the radio: %.0f s on air in the last hour", radio_s)

    # ------------------------------------------------------------ work

    @property
    def sending(self) -> bool:
        return self.engine is not None and self.board.link == "up"

    def pump(self, now: float) -> float | None:
        """Run due engine work and send its packets; returns when to pump next."""
        engine = self.engine
        if engine is None or not self.sending:
            return None
        self._expire(now)
        if now < self.hold_until:
            return self.hold_until
        for out in engine.poll(now):
            self._send(out, now)
        due = engine.next_timer()
        if due is not None and due <= now:
            due = now + MIN_TIMER_S
        if self.pending:
            oldest = min(t for _, t in self.pending.values()) + RESULT_TIMEOUT_S
            due = oldest if due is None else min(due, oldest)
        return due

    def _send(self, out: Outgoing, now: float) -> None:
        self._token += 1
        token = self._token
        self.pending[token] = (out, now)
        try:
            self.radio.send(out.payload, hop_limit=out.hop_limit, token=token, dest=out.dest,
                            priority=mesh_priority(out.priority, out.tag))
        except PayloadTooLarge as exc:  # the engine's cap is below the radio's: a bug
            self.pending.pop(token, None)
            self.board.send_failed["too-large"] += 1
            log.error("engine produced an oversized packet: %s", exc)

    def _expire(self, now: float) -> None:
        late = [t for t, (_, sent) in self.pending.items() if now - sent >= RESULT_TIMEOUT_S]
        for token in late:
            out, _ = self.pending.pop(token)
            self._failed(out, "no-result", now)

    def check_feed(self, now: float, force: bool = False) -> int:
        """Hand records posted by other processes to the engine; returns how many."""
        if self.engine is None:
            return 0
        batch = self.feed.poll(force)
        for raw in batch.local:
            self.engine.local_record(raw, now)
        for raw in batch.foreign:
            self.engine.add_stored(raw, now)
        return len(batch.local) + len(batch.foreign)

    def collect(self, now: float) -> int:
        """One slice of garbage collection when due (node/store/gc.py), and of the
        expiry of unadmitted keys' records (node/store/strangers.py)."""
        gone = self.expiry.step(self.store, now)
        if gone and self.engine is not None:
            self.engine.forget(gone)
        return self.collector.step(self.store, now) + len(gone)

    def refresh_board(self, now: float) -> StatusBoard:
        board = self.board
        board.outbox = self.store.count("outbox")
        rejected = Counter(self.radio_dropped)
        engine = self.engine
        if engine is not None:
            rejected.update(engine.stats.dropped)
            board.airtime_used_s = engine.budget.used(now)
            board.airtime_budget_s = engine.budget.limit_s
            board.sent = {tag: (n, engine.stats.airtime.get(tag, 0.0))
                          for tag, n in engine.stats.sent.items() if n}
        board.rejected = rejected
        return board

    def write_status(self, now: float, wall: float, force: bool = False) -> bool:
        return self.writer.maybe_write(self.refresh_board(now), now, wall, force=force)

    def save_budget(self, now: float, wall: float, force: bool = False) -> bool:
        """Persist the budget window: at most once a minute and only if it changed,
        or now if `force`."""
        if self.engine is None or (not force and now - self.budget_saved_at < 60.0):
            return False
        entries = self.engine.budget_snapshot(now)
        # Unchanged since the last save (nothing sent, nothing expired): no write.
        key = (len(entries), round(sum(cost for _age, cost in entries), 6))
        if not force and key == self._budget_key:
            return False
        self.store.save_budget(entries, wall)
        self.budget_saved_at, self._budget_key = now, key
        return True

    def stop(self, now: float, wall: float) -> None:
        """Last words: budget saved, status marked stopped (the store stays open)."""
        self.save_budget(now, wall, force=True)
        self.board = replace(self.board, link="down", link_detail="daemon stopped", stopped=True)
        self.write_status(now, wall, force=True)


def network_tag(store: Store) -> bytes:
    """The first two bytes of the network id: from the charter, or from the
    network code this node expects (a joiner without the charter yet)."""
    from ..ledger import identity

    if store.network is not None:
        return store.network[:2]
    code = store.meta("expect_code")
    if not code:
        raise ValueError("this node belongs to no network yet; run 'meshaid init' first")
    return identity.b32decode(code.replace("-", "")[:4], 2)
