"""Nodes for daemon tests: real data directories (key + SQLite file) in one network,
and daemons on the simulator's air, all in virtual time.

Node 0 founds the network and vouches for the others; every node then holds
the same setup records (as after a bundle import), with empty outboxes.
Wall clocks are T0 + virtual time, so nothing depends on today's date.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from meshaid.node.daemon.loop import Runner
from meshaid.node.daemon.procbench import make_network
from meshaid.node.daemon.service import Daemon, Settings
from meshaid.node.home import Home
from meshaid.node.ledger import records as r
from meshaid.node.radio.sim_radio import SimAir
from meshaid.node.sim.topology import from_links
from meshaid.node.store import Store
from meshaid.node.sync.engine import record_id

T0 = 1_780_000_000.0


def make_homes(root: Path, n: int) -> list[Home]:
    """n nodes of one network, all admitted, each holding every setup record."""
    return make_network(root, n, now=T0)


@dataclass
class Node:
    home: Home
    store: Store
    daemon: Daemon
    runner: Runner
    task: asyncio.Task[None] | None = None


@dataclass
class World:
    """n nodes on a simulated mesh; `start()` runs their daemons on the current loop."""

    root: Path
    n: int
    links: list[tuple[int, int]] | None = None  # default: every pair hears each other
    snr: float = 5.0
    settings: Settings = field(default_factory=Settings)
    homes: list[Home] = field(init=False)
    air: SimAir = field(init=False)
    nodes: list[Node | None] = field(init=False)

    def __post_init__(self) -> None:
        self.homes = make_homes(self.root, self.n)
        links = self.links if self.links is not None else [
            (a, b) for a in range(self.n) for b in range(a + 1, self.n)]
        topology = from_links(self.n, [(a, b, self.snr) for a, b in links])
        self.air = SimAir.build(topology, seed=7, duty_cycle_pct=10.0)
        self.nodes = [None] * self.n

    @property
    def now(self) -> float:
        return self.air.now

    def wall(self) -> float:
        return T0 + self.air.now

    def open_store(self, i: int) -> Store:
        """Another connection to node i's database, as the CLI or TUI would open."""
        return Store.open(self.homes[i].db_path, wall=self.wall)

    def start(self, i: int) -> Node:
        store = self.open_store(i)
        home = self.homes[i]  # (as node/daemon/main.py: the hello is signed once a charter is)
        daemon = Daemon(store, self.air.radio(i), settings=self.settings,
                        announce=lambda: home.ensure_hello(store))
        node = Node(self.homes[i], store, daemon, Runner(daemon))
        node.task = asyncio.get_running_loop().create_task(node.runner.run())
        self.nodes[i] = node
        return node

    def start_all(self) -> list[Node]:
        return [self.start(i) for i in range(self.n)]

    async def stop(self, i: int) -> None:
        node = self.nodes[i]
        assert node is not None and node.task is not None
        node.runner.request_stop()
        await node.task
        node.store.close()
        self.nodes[i] = None

    async def stop_all(self) -> None:
        for i in range(self.n):
            if self.nodes[i] is not None:
                await self.stop(i)

    def post_need(self, i: int, text: str, urgency: int = 1) -> bytes:
        """Author a need on node i through a separate connection (the CLI's way)."""
        store = self.open_store(i)
        try:
            rec = store.author(r.Need(1, text, 10, 4, urgency), self.homes[i].key())
        finally:
            store.close()
        return record_id(rec.raw)

    def has(self, i: int, rid: bytes) -> bool:
        store = self.open_store(i)
        try:
            return any(record_id(raw) == rid for raw in store.raw_records())
        finally:
            store.close()


async def until(cond: Callable[[], bool], limit_s: float, step: float = 1.0) -> float | None:
    """Wait in virtual time until `cond()` holds; the time taken, or None after `limit_s`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start <= limit_s:
        if cond():
            return loop.time() - start
        await asyncio.sleep(step)
    return None
