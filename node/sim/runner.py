"""Run a scenario: real engines and real stores on a simulated Meshtastic mesh.

Theory of operation
-------------------
One `EventQueue` drives everything in virtual time. The `Mesh` hands each
received payload to that node's engine (`receive`), then the node is *pumped*:
its engine's `poll(now)` returns packets, which go to `Mesh.send`, and one
timer per node is (re)armed at `engine.next_timer()`. Workload posts, joins,
partitions, attacks and the rest are scheduled events. Every record accepted
by any node is logged (record id, node, time), and `metrics.summarise` turns
that log and the mesh's counters into the bench's numbers.
"""

from __future__ import annotations

import functools
import random
import sys
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from ..ledger import codec, hlc, identity, textcode
from ..ledger import records as r
from ..store import Store
from ..store.sync_port import SyncLedger
from ..sync import messages, riblt
from ..sync.engine import Engine, record_id
from ..sync.ports import Ingested, RecordInfo, RxMeta, SyncConfig
from . import settings
from .convergence import Arrivals, present
from .events import EventQueue, Handle
from .firmware import Role
from .radio import Mesh
from .scenario import Scenario
from .scenario_schema import ScenarioError
from .workload import Workload
from .world import SIM_EPOCH, World, build, clone, loss_model

PROTOCOLS = ("meshaid", "b0", "b1", "b2", "b3")


class TrackedLedger(SyncLedger):
    """The store port, logging each newly accepted record for the metrics."""

    def __init__(self, store: Store, node: int, sim: Simulation) -> None:
        super().__init__(store)
        self.node = node
        self.sim = sim

    def sync_ingest(self, raw: bytes, now: float, meta: RxMeta | None = None) -> Ingested:
        result = super().sync_ingest(raw, now, meta)
        if result.status == "accepted":
            self.sim.got(record_id(raw), self.node, raw)
            self.sim.superseded_got(raw, self.node)
        for freed in result.released:  # (held until its author's hello came)
            self.sim.got(freed.id, self.node, b"")
            held = super().sync_raw(freed.id)
            if held is not None:
                self.sim.superseded_got(held, self.node)
        if result.info is None and not (result.released or result.changed or result.returned):
            return result
        share = self.sim.shared_info
        return Ingested(result.status, result.reason, result.info and share(result.info),
                        tuple(map(share, result.released)), tuple(map(share, result.changed)),
                        result.dropped, tuple(map(share, result.returned)))

    def sync_infos(self) -> Iterator[RecordInfo]:
        return map(self.sim.shared_info, super().sync_infos())

    def sync_raw(self, rid: bytes) -> bytes | None:
        raw = super().sync_raw(rid)
        return None if raw is None else self.sim.raws.setdefault(raw, raw)


@dataclass
class SimNode:
    idx: int
    store: Store
    engine: Any
    timer: Handle | None = None
    timer_at: float | None = None
    skew: float = 0.0
    joined: bool = True


@dataclass
class Simulation:
    sc: Scenario
    protocol: str = "meshaid"
    progress: bool = False
    # Node stores keep only what the engine reads (no board, search or first-heard
    # rows: Store.slim); the results are the same either way (tests/sim/test_slim.py).
    slim: bool = True
    # Added to every engine's seed: the same mesh, workload and radio, other
    # protocol jitter (attacks.py measures what chance alone moves a delay by).
    jitter: int = 0
    rng: random.Random = field(init=False)
    events: EventQueue = field(init=False)
    world: World = field(init=False)
    mesh: Mesh = field(init=False)
    nodes: dict[int, SimNode] = field(default_factory=dict)
    created: dict[bytes, tuple[float, int, int]] = field(default_factory=dict)  # t, author, len
    # record -> node -> when it first held it (Arrivals: a flat array per record)
    have: dict[bytes, MutableMapping[int, float]] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)
    attackers: set[int] = field(default_factory=set)
    urgent: set[bytes] = field(default_factory=set)
    expected: dict[bytes, frozenset[int]] = field(default_factory=dict)  # owed to (convergence.py)
    net_version: int = 0  # bumped whenever who-can-reach-whom changes
    attack_sent: int = 0
    text_bytes: list[int] = field(default_factory=lambda: [0, 0, 0])  # plain, packed, records
    # (author short id, update target or -1 for hellos) -> (seq, id) of versions authored
    versions: dict[tuple[bytes, int], list[tuple[int, bytes]]] = field(default_factory=dict)
    workload: Workload = field(init=False)
    sender: settings.Sender = field(init=False)
    # One object per distinct record info and record bytes for every node's engine
    # (both immutable): hundreds of engines hold the same records.
    infos: dict[RecordInfo, RecordInfo] = field(default_factory=dict)
    raws: dict[bytes, bytes] = field(default_factory=dict)
    # What each message type bought (metrics.py `deliveries`): per tag, the
    # (node, record) pairs whose first copy it carried, and the transmissions
    # that carried at least one such first copy. A transmission's receptions
    # all end at once (flooding.py `_end_tx`), so the last one counted is
    # enough to count each once.
    firsts: dict[str, int] = field(default_factory=dict)
    useful: dict[str, int] = field(default_factory=dict)
    _rx: tuple[str, int, int, int] | None = None  # (tag, radio, sender, packet id) heard
    _counted: tuple[str, int, int, int] | None = None  # the last transmission counted useful

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        # Simulated nodes verify, parse and decode the very same bytes (shared.py).
        for memo in (identity.VERIFIED, codec.PARSED, messages.DECODED, riblt.CODED):
            memo.share()
        self.rng = random.Random(self.sc.seed)
        self.events = EventQueue()
        self.world = build(self.sc, self.rng, slim=self.slim)
        _check_event_nodes(self.sc, set(self.world.ledger_nodes))
        roles = {n: Role.ROUTER for n in self.world.routers}
        self.mesh = Mesh(self.world.topology, preset=self.sc.preset,
                         rng=random.Random(self.sc.seed + 1), events=self.events,
                         on_receive=self._on_receive, roles=roles, apps=self.world.ledger_nodes,
                         loss=loss_model(self.sc), duty_cycle_pct=self.sc.duty_cycle_pct)
        settings.apply_mesh(self)
        self.sender = settings.Sender(self, wait=self.sc.mesh.get("queue", "wait") == "wait")
        joiners = {int(x) for ev in self.sc.events if ev.kind == "join"
                   for x in _as_list(ev.args.get("nodes", ev.args.get("node")))}
        for n in self.world.ledger_nodes:
            store = clone(self.world.bare if n in joiners else self.world.template, self.slim)
            store.wall = functools.partial(self.clock, n)  # the node's (skewed) virtual wall clock
            node = SimNode(n, store, None, joined=n not in joiners)
            self.nodes[n] = node
            node.engine = self._make_engine(n, store)
            if n in joiners:
                self.mesh.set_up(n, False)
            # Every node knows its own last seq, as a real node keeps it: the template
            # stored its setup and history records as received (not local), and a
            # joiner's ledger is empty, so neither would tell it; it never signs a
            # fork, and never a seq below its history (node/PROTOCOL.md, "Seq space").
            member = self.world.members[n]
            store.set_meta("seq_floor:" + member.public.hex(), str(member.seq))
        # The members' hellos and vouches, and the history: held from the start by
        # every node but the joiners, who must get them.
        for raw in self.world.setup + self.world.history:
            rid = record_id(raw)
            self.created[rid] = (0.0, -1, len(raw))
            got = self.have[rid] = Arrivals(self.mesh.n)
            for n in self.world.ledger_nodes:
                if n not in joiners:
                    got[n] = 0.0
            # History has versions too: a joiner that gets the last one got what the
            # ones below it said (`superseded_got`), as with versions posted live.
            p = codec.parse(raw)
            slot = _slot(p.body)
            if slot is not None:
                self.versions.setdefault((p.author_short, slot), []).append((p.seq, rid))
        self.workload = Workload(self)

    # ------------------------------------------------------------ plumbing

    def _config(self) -> SyncConfig:
        return settings.sync_config(self.sc, self.protocol, self.world.network[:2])

    def _make_engine(self, n: int, store: Store) -> Any:
        ledger = TrackedLedger(store, n, self)
        seed = self.sc.seed * 1000 + n + 7919 * self.jitter
        if self.protocol == "meshaid":
            engine = Engine(ledger, self._config(), n, seed)
            # What the radio's node list would say: firmware routers in direct range.
            engine.set_routers_near(self.mesh.routers_near(n))
            member = self.world.members.get(n)
            if member is not None:  # its key is vouched in the template: it signs tickets
                engine.signer = identity.signer(member.key)
            return engine
        from . import baselines

        cls = {"b0": baselines.FullStateFlood, "b1": baselines.PushOnly,
               "b2": baselines.PushAndIdLists, "b3": baselines.FilterGossip}[self.protocol]
        return cls(ledger, self._config(), n, seed)

    def clock(self, n: int) -> float:
        node = self.nodes.get(n)
        return SIM_EPOCH + self.events.now + (node.skew if node else 0.0)

    def shared_info(self, info: RecordInfo) -> RecordInfo:
        """The one object every engine gets for records info equal to `info`."""
        return self.infos.setdefault(info, info)

    def _arrivals(self, rid: bytes) -> Arrivals:
        got = self.have.get(rid)
        if got is None:
            got = self.have[rid] = Arrivals(self.mesh.n)
        assert isinstance(got, Arrivals)
        return got

    def got(self, rid: bytes, n: int, raw: bytes) -> None:
        arrivals = self._arrivals(rid)
        if raw and self._rx is not None and n not in arrivals:
            tag = self._rx[0]  # (a record in the packet heard, not one it released)
            self.firsts[tag] = self.firsts.get(tag, 0) + 1
            if self._rx != self._counted:
                self._counted = self._rx
                self.useful[tag] = self.useful.get(tag, 0) + 1
        arrivals.first(n, self.events.now)
        if rid not in self.created:
            self.created[rid] = (self.events.now, -2, len(raw))  # heard before its author's log

    def superseded_got(self, raw: bytes, n: int) -> None:
        """A node that got a version got what the versions below it said: they
        are left out of every sync set (node/store/synced.py) and never reach
        a node holding a later one, so they count as delivered with it."""
        p = codec.parse(raw)
        slot = _slot(p.body)
        for seq, rid in self.versions.get((p.author_short, slot), ()) if slot is not None else ():
            if seq < p.seq:
                self.got(rid, n, b"")

    def _on_receive(self, n: int, payload: bytes, meta: Any) -> None:
        node = self.nodes.get(n)
        if node is None or not node.joined or n in self.attackers:
            return
        rx = RxMeta(sender=meta.from_node, snr=meta.snr, rssi=meta.rssi, hops=meta.hops_away,
                    hop_limit=meta.hop_limit, relay=meta.relay_node & 0xFF)
        self._rx = (meta.tag, meta.relay_node, meta.from_node, meta.packet_id)
        try:
            node.engine.receive(payload, rx, self.events.now)
        finally:
            self._rx = None
        self.pump(n)

    def pump(self, n: int) -> None:
        node = self.nodes.get(n)
        if node is None or not node.joined or not self.mesh.is_up(n):
            return
        now = self.events.now
        due = node.engine.next_timer()
        if due is not None and due > now and due == node.timer_at:
            return  # nothing became due and the timer already points at the next work
        node.engine.set_channel_utilization(self.mesh.channel_utilization(n))
        for out in node.engine.poll(now):
            self.sender.send(n, out)
        due = node.engine.next_timer()
        if due is not None and due <= now:
            due = now + 0.05
        if due != node.timer_at:
            if node.timer is not None:
                self.events.cancel(node.timer)
            node.timer = self.events.schedule(due, self.pump, n) if due is not None else None
            node.timer_at = due

    # ------------------------------------------------------------ workload

    def post(self, n: int, body: r.Body | None = None) -> bytes | None:
        """Post `body` (or a random one from the workload's stream) as node n."""
        return self.workload.post(n, body)

    def author(self, n: int, body: r.Body) -> bytes | None:
        """Node n signs and sends `body`; None if it is down, not joined yet, or an
        attacker now (its engine no longer runs: nobody is owed what it posts)."""
        node = self.nodes[n]
        if not node.joined or not self.mesh.is_up(n) or n in self.attackers:
            return None
        member = self.world.members[n]
        rec = node.store.author(body, member.key, self.clock(n))
        rid = record_id(rec.raw)
        self.created[rid] = (self.events.now, n, len(rec.raw))
        slot = _slot(body)
        if slot is not None:
            self.versions.setdefault((rec.short_author, slot), []).append((rec.seq, rid))
        plain, packed = textcode.body_saving(body)
        self.text_bytes[0] += plain
        self.text_bytes[1] += packed
        self.text_bytes[2] += len(rec.raw)
        self.expected[rid] = present(self, n)
        if isinstance(body, r.Need) and body.urgency == 3:
            self.urgent.add(rid)
        self._arrivals(rid)[n] = self.events.now
        if slot is not None:
            self.superseded_got(rec.raw, n)  # its author holds what the versions below said
        node.engine.local_record(rec.raw, self.events.now)
        self.pump(n)
        return rec.raw

    # ------------------------------------------------------------ run

    def run(self) -> dict[str, Any]:
        from . import scenario_events

        wall0 = time.perf_counter()
        for n, node in self.nodes.items():
            if node.joined:
                node.engine.start(0.0)
                self.events.schedule(self.rng.uniform(0, 1), self.pump, n)
        self.workload.schedule()
        for ev in self.sc.events:
            self.events.schedule(ev.at_s, scenario_events.apply, self, ev)
        end = self.sc.duration_s
        step = end / 20
        t = 0.0
        while t < end:
            t = min(end, t + step)
            self.events.run_until(t)
            if self.progress:
                sys.stderr.write(f"\r  {self.sc.name} [{self.protocol}] {100 * t / end:5.1f}% "
                                 f"virtual {t / 3600:.1f} h, wall {time.perf_counter() - wall0:.0f} s")
                sys.stderr.flush()
        if self.progress:
            sys.stderr.write("\n")
        from .metrics import summarise

        return summarise(self, time.perf_counter() - wall0)


def _slot(body: r.Body) -> int | None:
    """What a record is a version of, among its author's: an update's target,
    -1 for a hello, None for records never superseded."""
    if isinstance(body, r.Update):
        return body.target_seq
    return -1 if isinstance(body, r.Hello) else None


LEDGER_EVENTS = ("post", "burst", "join", "equivocate")  # need a node with a ledger


def _check_event_nodes(sc: Scenario, ledger: set[int]) -> None:
    """Events that post, join or sign name ledger nodes, not radio-only relays
    (a relay chosen by count or fraction is known only once the world is built)."""
    for ev in sc.events:
        if ev.kind not in LEDGER_EVENTS:
            continue
        for key in ("node", "nodes"):
            for node in _as_list(ev.args.get(key)):
                if int(node) not in ledger:
                    raise ScenarioError(
                        f"{sc.name}: 'events.{key}' ({ev.kind} at {ev.at_s / 3600:g} h): node "
                        f"{node} is a radio-only relay (topology.relays), it holds no ledger")


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def forge_twin(sim: Simulation, n: int, raw: bytes) -> bytes:
    """A different record with the same (author, seq): an equivocation by node n."""
    p = codec.parse(raw)
    member = sim.world.members[n]
    body = r.Need(1, "equivocation: same seq, other text", 1, 0, 1, 0, "")
    return codec.encode(body, member.key, p.seq, p.hlc, sim.world.network).raw


def fresh_key_records(sim: Simulation, count: int) -> list[bytes]:
    """Validly signed hellos and needs from unadmitted keys (quarantine spam),
    dated now (older ones are refused as expired: node/store/strangers.py)."""
    out = []
    stamp = hlc.from_unix(sim.clock(0))
    for _ in range(count):
        key = identity.key_from_seed(sim.rng.randbytes(32))
        out.append(codec.encode(r.Hello("spam", "nowhere"), key, 1, stamp,
                                sim.world.network).raw)
        out.append(codec.encode(r.Need(1, "spam" * 10, 999, 0, 3), key, 2, stamp,
                                sim.world.network).raw)
    return out
