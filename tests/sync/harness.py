"""A small world for engine tests: real stores, real engines, a fake clock and a
fake broadcast link that can drop, duplicate, delay (reorder) and partition.

Time is unix time (the stores check record clocks against it), starting at T0.
Node i hosts member i; node 0 is the founder (the only steward).
"""

from __future__ import annotations

import heapq
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ledger_helpers import derived_state
from sqlite_utils import Database

from meshaid.node.ledger import codec, hlc, identity
from meshaid.node.ledger import records as r
from meshaid.node.store import Store, synced
from meshaid.node.store.sync_port import SyncLedger
from meshaid.node.sync.budget import BULK, CATCH_UP, NORMAL, URGENT
from meshaid.node.sync.engine import Engine, record_id
from meshaid.node.sync.ports import Ingested, Outgoing, RxMeta, SyncConfig

T0 = 1_780_000_000.0
HOUR = 3600.0
PRIORITIES = (URGENT, NORMAL, CATCH_UP, BULK)


def airtime(n: int) -> float:
    return 0.4 + 0.0075 * n


def clone(store: Store) -> Store:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    store.db.conn.backup(conn)
    return Store(Database(conn))


class Ledger:
    """A network: founder (member 0) and `members` - 1 admitted members, each with
    a hello; optional history (needs, offers, pledges). `full` holds everything,
    `bare` the charter only."""

    def __init__(self, members: int, seed: int = 1, history: int = 0) -> None:
        self.rng = random.Random(seed)
        self.keys = [identity.key_from_seed(bytes([seed % 256, i]) * 16) for i in range(members)]
        self.seqs = [0] * members
        self.stamp = hlc.from_unix(T0 - 86400)
        self.charter = self.sign(0, r.Charter(f"sync test {seed}"), codec.NO_NETWORK)
        self.network = identity.network_id(self.charter)
        self.bare = Store.open(":memory:")
        self.bare.expect_network(identity.network_code(self.network))
        assert self.bare.ingest(self.charter, T0).status == "accepted"
        setup = [self.sign(i, r.Hello(f"member {i}", f"site {i}")) for i in range(members)]
        setup += [self.sign(0, r.Vouch(identity.public_bytes(k))) for k in self.keys[1:]]
        self.history: list[bytes] = []
        needs: list[tuple[bytes, int]] = []
        for j in range(history):
            i = self.rng.randrange(members)
            roll = self.rng.random()
            if roll < 0.5 or not needs:
                raw = self.sign(i, r.Need(1 + j % 5, f"history need {j}", 10 + j, 4, j % 3))
                needs.append((identity.short_id(identity.public_bytes(self.keys[i])), self.seqs[i]))
            elif roll < 0.8:
                raw = self.sign(i, r.Offer(35, f"history offer {j}", 5 + j))
            else:
                short, seq = self.rng.choice(needs)
                raw = self.sign(i, r.Pledge(short, seq, 1 + j % 7))
            self.history.append(raw)
        self.setup = setup
        self.full = clone(self.bare)
        outcomes = self.full.ingest_many(setup + self.history, T0)
        assert all(o.status == "accepted" for o in outcomes), outcomes

    def sign(self, i: int, body: r.Body, network: bytes | None = None) -> bytes:
        self.seqs[i] += 1
        self.stamp += 1 << 16
        net = self.network if network is None else network
        return codec.encode(body, self.keys[i], self.seqs[i], self.stamp, net).raw

    def config(self, **overrides: Any) -> SyncConfig:
        cfg = SyncConfig(network_tag=self.network[:2], airtime=airtime)
        for key, value in overrides.items():
            assert hasattr(cfg, key), key
            setattr(cfg, key, value)
        return cfg


class LoggingLedger(SyncLedger):
    """The store port, remembering the order in which records were accepted."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.accepted: list[bytes] = []

    def sync_ingest(self, raw: bytes, now: float, meta: RxMeta | None = None) -> Ingested:
        result = super().sync_ingest(raw, now, meta)
        if result.status == "accepted":
            self.accepted.append(raw)
        return result


@dataclass
class Radio:
    loss: float = 0.0  # independent loss per receiver
    dup: float = 0.0  # chance that a delivered copy arrives twice
    jitter: float = 0.0  # extra delivery delay, uniform in [0, jitter): reorders packets
    snr: tuple[float, float] = (-10.0, 10.0)


@dataclass
class Sent:
    t: float
    node: int
    out: Outgoing
    cost: float
    life: int = 0  # which engine of the node (a reboot starts a new one)


@dataclass
class Mesh:
    """Engines on a fake broadcast link. `edges` are undirected pairs."""

    ledger: Ledger
    stores: list[Store]
    edges: Iterable[tuple[int, int]]
    radio: Radio = field(default_factory=Radio)
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    now: float = T0

    def __post_init__(self) -> None:
        self.n = len(self.stores)
        self.rng = random.Random(self.seed)
        self.links: dict[int, dict[int, float]] = {i: {} for i in range(self.n)}
        for a, b in self.edges:
            snr = self.rng.uniform(*self.radio.snr)
            self.links[a][b] = self.links[b][a] = snr
        self.cut: set[frozenset[int]] = set()
        for store in self.stores:
            store.wall = lambda: self.now  # engine time doubles as wall time here
        self.ledgers = [LoggingLedger(s) for s in self.stores]
        self.engines = [Engine(self.ledgers[i], self.ledger.config(**self.config), i,
                               seed=self.seed * 100 + i) for i in range(self.n)]
        self.up = [True] * self.n
        self.lives = [0] * self.n
        self.queue: list[tuple[float, int, int, int, bytes]] = []  # t, seq, dst, src, payload
        self.seq = 0
        self.timers: list[float | None] = [None] * self.n
        self.sent: list[Sent] = []
        self.polls = [0] * self.n
        self.late_timers = 0  # next_timer() at or before the poll that just ran
        self.events = 0
        for i in range(self.n):
            self.engines[i].start(self.now)
            self.timers[i] = self.now + self.rng.uniform(0.0, 1.0)

    # ------------------------------------------------------------ driving

    def pump(self, i: int) -> None:
        if not self.up[i]:
            self.timers[i] = None
            return
        engine = self.engines[i]
        self.polls[i] += 1
        for out in engine.poll(self.now):
            self.transmit(i, out)
        due = engine.next_timer()
        if due is not None and due <= self.now:
            self.late_timers += 1
            due = self.now + 0.05
        self.timers[i] = due

    def transmit(self, i: int, out: Outgoing) -> None:
        cost = airtime(len(out.payload))
        self.sent.append(Sent(self.now, i, out, cost, self.lives[i]))
        assert len(out.payload) <= self.engines[i].cfg.payload_cap
        for j in self.links[i]:
            if frozenset((i, j)) in self.cut or (out.dest is not None and out.dest != j):
                continue
            if self.rng.random() < self.radio.loss:
                continue
            copies = 2 if self.rng.random() < self.radio.dup else 1
            for _ in range(copies):
                at = self.now + cost + self.rng.uniform(0.0, self.radio.jitter)
                self.deliver_at(at, j, i, out.payload)

    def deliver_at(self, at: float, dst: int, src: int, payload: bytes) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, dst, src, payload))

    def reboot(self, i: int) -> None:
        """Node i restarts: a new engine over the same store (queues, timers and the
        memory of its own recent air time lost)."""
        self.lives[i] += 1
        self.engines[i] = Engine(self.ledgers[i], self.ledger.config(**self.config), i,
                                 seed=self.seed * 100 + i + 50)
        self.engines[i].start(self.now)
        self.timers[i] = self.now + self.rng.uniform(0.0, 1.0)

    def inject(self, dst: int, payload: bytes, sender: int = 999, snr: float = 0.0) -> None:
        """A packet from outside (an attacker) heard by `dst` now."""
        self.engines[dst].receive(payload, RxMeta(sender=sender, snr=snr), self.now)
        self.pump(dst)

    def run_until(self, t_end: float, max_events: int = 500_000) -> None:
        while True:
            next_rx = self.queue[0][0] if self.queue else float("inf")
            armed = [(t, i) for i, t in enumerate(self.timers) if t is not None]
            next_timer, who = min(armed) if armed else (float("inf"), -1)
            t = min(next_rx, next_timer)
            if t > t_end:
                break
            self.events += 1
            assert self.events < max_events, "the engines never go quiet"
            self.now = max(self.now, t)
            if next_rx <= next_timer:
                _t, _s, dst, src, payload = heapq.heappop(self.queue)
                if self.up[dst]:
                    meta = RxMeta(sender=src, snr=self.links[dst].get(src, 0.0))
                    self.engines[dst].receive(payload, meta, self.now)
                    self.pump(dst)
            else:
                self.pump(who)
        self.now = max(self.now, t_end)

    def run_for(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    # ------------------------------------------------------------ workload

    def author(self, i: int, body: r.Body) -> bytes:
        rec = self.stores[i].author(body, self.ledger.keys[i], self.now)
        self.engines[i].local_record(rec.raw, self.now)
        self.pump(i)
        return rec.raw

    def need(self, i: int, text: str = "water", urgency: int = 1) -> bytes:
        return self.author(i, r.Need(1, text, 10, 4, urgency))

    def partition(self, side: Iterable[int]) -> None:
        side = set(side)
        self.cut = {frozenset((a, b)) for a in range(self.n) for b in self.links[a]
                    if (a in side) != (b in side)}

    def heal(self) -> None:
        self.cut = set()

    # ------------------------------------------------------------ checks

    def record_sets(self) -> list[set[bytes]]:
        """Each node's sync set by SHA-256: its records minus the superseded ones
        (node/store/synced.py) and those of keys nobody admitted (kept where they
        landed, never reconciled: PROTOCOL.md §9)."""
        out = []
        for s, e in zip(self.stores, self.engines, strict=True):
            superseded = synced.excluded_ids(s.db)
            out.append({bytes(h) for (h,) in s.db.execute("SELECT hash FROM records")
                        if bytes(h)[:8] not in superseded and bytes(h)[:8] not in e.outside})
        return out

    def agree(self) -> bool:
        sets = self.record_sets()
        return all(s == sets[0] for s in sets)

    def assert_converged(self) -> None:
        sets = self.record_sets()
        for i, s in enumerate(sets):
            assert s == sets[0], f"node {i}: {len(s - sets[0])} extra, {len(sets[0] - s)} missing"
        states = [self.admitted_state(i) for i in range(self.n)]
        for i, st in enumerate(states):
            assert st == states[0], f"node {i} derives another state"
        for i, e in enumerate(self.engines):
            assert e.count == len(sets[0]), f"engine {i} counts {e.count}, holds {len(sets[0])}"

    def admitted_state(self, i: int) -> dict[str, Any]:
        """Node i's derived state. Records of keys nobody admitted stay where they
        landed (PROTOCOL.md §9): when any node holds some, what they add (their
        keys, quarantined objects and their text) is left out."""
        state = derived_state(self.stores[i])
        if not any(e.outside for e in self.engines):
            return state
        members = {dict(row)["key"] for row in state["members"]}
        outside = set().union(*(e.outside for e in self.engines))
        state["records"] = [h for h in state["records"] if h[:8] not in outside]  # sync set
        state["keys"] = [row for row in state["keys"] if dict(row)["key"] in members]
        state["objects"] = [row for row in state["objects"] if dict(row)["trust"] == "trusted"]
        state["fts"] = [row for row in state["fts"] if row[1] in members]
        del state["list"], state["members_view"]
        return state

    def holders(self, raw: bytes) -> list[int]:
        digest_rows = [s.db.execute("SELECT 1 FROM records WHERE raw = ?", [raw]).fetchone()
                       for s in self.stores]
        return [i for i, row in enumerate(digest_rows) if row is not None]

    def assert_within_budget(self) -> None:
        """No engine's own air time exceeds its budget in any rolling hour, and what it
        reports in stats is what it handed to the radio."""
        for i, e in enumerate(self.engines):
            limit = e.cfg.budget_s_per_hour
            for life in range(self.lives[i] + 1):
                mine = [s for s in self.sent if s.node == i and s.life == life]
                for k, s in enumerate(mine):
                    window = sum(x.cost for x in mine[k:] if x.t < s.t + HOUR)
                    assert window <= limit + 1e-6, f"node {i}: {window:.1f} s in an hour from {s.t}"
            reported = sum(e.stats.airtime.values())
            assert abs(reported - sum(s.cost for s in mine)) < 1e-6, (i, reported)

    def count_sent(self, tag: str, start: float, end: float) -> int:
        return sum(1 for s in self.sent if s.out.tag == tag and start <= s.t < end)


def line(n: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)]


def ring(n: int) -> list[tuple[int, int]]:
    return [(i, (i + 1) % n) for i in range(n)]


def clique(n: int) -> list[tuple[int, int]]:
    return [(a, b) for a in range(n) for b in range(a + 1, n)]


def rid(raw: bytes) -> bytes:
    return record_id(raw)
