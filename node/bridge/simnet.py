"""Two (or more) LoRa meshes joined by bridges over a broker, in simulated time.

Theory of operation
-------------------
One `Simulation` (node/sim) holds every node; the meshes are the connected
components of its radio topology, so they never hear each other on air. The
bridge nodes (one or more per mesh) run a `BridgeEngine` on their radio and
a second one, the IP engine, on a broker link over the same store, glued as
node/bridge/glue.py says. The broker is a `FakeBroker` in the simulation's
virtual time, or anything else that gives `IpLink`s (the real-broker test
hands in MQTT links and drives the clock itself, see `ip_events`).

`two_meshes(...)` builds the scenario the tests and the bench use: two
meshes of n nodes each (a ring with chords, so a record needs a few hops),
one shared network and history, every node posting as a Poisson process.
"""

from __future__ import annotations

import functools
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..ledger import records as r
from ..sim.runner import Simulation, TrackedLedger
from ..sim.scenario import Scenario, parse
from ..store import Store
from ..sync.engine import record_id
from .engines import BridgeEngine, ip_config
from .fakebroker import FakeBroker
from .glue import FEED, IP, RADIO, Glue
from .ipside import IpSide
from .link import IpEvent, IpLink, node_of


def two_meshes(n: int = 6, *, seed: int = 1, hours: float = 8.0, rate: float = 1.0,
               history: int = 60, loss: float = 0.05, meshes: int = 2) -> Scenario:
    """A scenario of `meshes` separate meshes of `n` nodes (ring plus chords),
    nodes 0..n-1 in the first; `rate` records per node per hour."""
    links = []
    rng = random.Random(seed)
    for m in range(meshes):
        base = m * n
        for i in range(n):
            links.append([base + i, base + (i + 1) % n, rng.uniform(-8.0, 6.0)])
        for i in range(0, n - 2, 3):
            links.append([base + i, base + i + 2, rng.uniform(-10.0, 0.0)])
    return parse({
        "name": f"bridge-{meshes}x{n}", "seed": seed, "duration_h": hours,
        "preset": "LONG_FAST", "duty_cycle_pct": 10, "initial_records": history,
        "topology": {"kind": "links", "nodes": meshes * n, "links": links},
        "loss": {"model": "bernoulli", "p": loss} if loss else {"model": "none"},
        "workload": {"records_per_node_per_hour": rate, "stop_fraction": 1.0},
    }, "<two meshes>")


@dataclass
class BridgedSim(Simulation):
    """A `Simulation` whose `bridges` nodes (node -> bridge name) also run an IP
    engine on a link from `make_link(name, network id)` (default: a `FakeBroker`)."""

    bridges: dict[int, str] = field(default_factory=dict)
    make_link: Callable[[str, bytes], IpLink] | None = None  # (name, network id) -> link
    ip_mb_per_hour: float = 20.0
    radio_queue: int = 16
    glues: dict[int, Glue] = field(default_factory=dict)
    ips: dict[int, IpSide] = field(default_factory=dict)
    ip_timers: dict[int, Any] = field(default_factory=dict)
    broker: FakeBroker | None = None
    ip_inbox: deque[tuple[int, IpEvent]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        for n, name in self.bridges.items():
            self.glues[n] = Glue(name, radio_queue=self.radio_queue)
        super().__post_init__()
        if self.make_link is None:
            self.broker = FakeBroker(self.events)
            broker = self.broker
            self.make_link = lambda name, _network: broker.client(name)
        tag = self.world.network[:2]
        for n, name in self.bridges.items():
            glue = self.glues[n]
            store = self.nodes[n].store
            ledger = glue.tap(IP, TrackedLedger(store, n, self))
            engine = BridgeEngine(ledger, ip_config(tag, self.ip_mb_per_hour), node_of(name),
                                  self.sc.seed * 1000 + 500 + n)
            glue.attach(IP, engine)
            glue.wake = functools.partial(self._wake, n)
            side = IpSide(engine, self.make_link(name, self.world.network), glue)
            self.ips[n] = side
            side.link.start(functools.partial(self._ip_sink, n))

    # ------------------------------------------------------------ engines

    def _make_engine(self, n: int, store: Store) -> Any:
        glue = self.glues.get(n)
        if glue is None:
            return super()._make_engine(n, store)
        ledger = glue.tap(RADIO, TrackedLedger(store, n, self))
        engine = BridgeEngine(ledger, self._config(), n, self.sc.seed * 1000 + n)
        engine.before_poll = glue.feed_radio
        glue.attach(RADIO, engine)
        return engine

    def author(self, n: int, body: r.Body) -> bytes | None:
        raw = super().author(n, body)
        glue = self.glues.get(n)
        if raw is not None and glue is not None:
            glue.entered(raw, FEED, self.events.now, local=True)
        return raw

    def _wake(self, n: int, side: str) -> None:
        if side == RADIO:
            self.events.schedule_in(0.0, self._radio_news, n)
        else:
            self.events.schedule_in(0.0, self.ip_pump, n)

    def _radio_news(self, n: int) -> None:
        """The glue has records for node n's radio: move them in, then pump (the
        simulator's pump skips the poll when no timer moved)."""
        if self.nodes[n].joined and self.mesh.is_up(n):
            self.glues[n].feed_radio(self.events.now)
        self.pump(n)

    # ------------------------------------------------------------ IP side

    def _ip_sink(self, n: int, event: IpEvent) -> None:
        """Link events: handled at once in virtual time (the fake broker calls
        from the event loop); real links queue them for `ip_events`."""
        if self.broker is None:
            self.ip_inbox.append((n, event))
            return
        self.ip_handle(n, event)

    def ip_handle(self, n: int, event: IpEvent) -> None:
        """One link event for bridge node `n`, at the current virtual time."""
        self.ips[n].on_event(event, self.events.now)
        self.ip_pump(n)

    def ip_events(self) -> int:
        """Handle what real links queued (the real-broker driver calls this)."""
        count = 0
        while self.ip_inbox:
            n, event = self.ip_inbox.popleft()
            self.ip_handle(n, event)
            count += 1
        return count

    def ip_pump(self, n: int) -> None:
        side = self.ips[n]
        due = side.pump(self.events.now)
        timer = self.ip_timers.pop(n, None)
        if timer is not None:
            self.events.cancel(timer)
        if due is not None:
            self.ip_timers[n] = self.events.schedule(due, self.ip_pump, n)

    # ------------------------------------------------------------ checks

    def meshes(self) -> list[list[int]]:
        """The ledger nodes of each mesh (connected components on air)."""
        topo = self.world.topology
        seen: set[int] = set()
        out = []
        for start in self.world.ledger_nodes:
            if start in seen:
                continue
            comp, todo = [], [start]
            seen.add(start)
            while todo:
                a = todo.pop()
                comp.append(a)
                for b in topo.neighbors(a):
                    if b not in seen:
                        seen.add(b)
                        todo.append(b)
            out.append(sorted(x for x in comp if x in self.nodes))
        return out

    def holdings(self) -> dict[int, set[bytes]]:
        """Record ids each ledger node's store holds."""
        return {n: {record_id(bytes(raw)) for (raw,) in node.store.db.execute(
            "SELECT raw FROM records")} for n, node in self.nodes.items()}

    def missing(self) -> int:
        """Records some node lacks that another holds (0: every node converged)."""
        held = self.holdings()
        union = set().union(*held.values())
        return sum(len(union - h) for h in held.values())


    def begin(self) -> None:
        """Start every engine and the workload (what `Simulation.run` does first);
        then advance with `self.events.run_until(t)`."""
        for n, node in self.nodes.items():
            if node.joined:
                node.engine.start(0.0)
                self.events.schedule(self.rng.uniform(0, 1), self.pump, n)
        self.workload.schedule()

    def settle(self, until: float, step: float = 300.0) -> float | None:
        """Run to `until`; the first multiple of `step` at which every node held
        the same records (None if they never did)."""
        t = self.events.now
        first = None
        while t < until:
            t = min(until, t + step)
            self.events.run_until(t)
            if first is None and self.missing() == 0:
                first = t
        return first
