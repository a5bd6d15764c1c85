"""Building a simulated world from a scenario: radios, identities and stores.

Every ledger node gets a real `Store` (SQLite in memory) and a real sync
engine (or a baseline). The network's charter, every member's hello and vouch,
and the scenario's initial history are signed once into a template database
that each node clones with SQLite's backup API, so a 200-node world starts
in seconds.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlite_utils import Database

from ..ledger import codec, hlc, identity
from ..ledger import records as r
from ..store import Store
from ..store.schema import drop_board
from . import topology as topo
from .loss import Bernoulli, GilbertElliott, LossModel
from .scenario import Scenario, ScenarioError
from .wiring import LossSpec

SIM_EPOCH = 1_795_000_000.0  # unix time of simulated t = 0 (November 2026)


@dataclass
class Member:
    node: int
    key: Ed25519PrivateKey
    public: bytes
    seq: int = 1


@dataclass
class World:
    topology: topo.Topology
    ledger_nodes: list[int]
    relays: list[int]
    routers: list[int]
    members: dict[int, Member]
    network: bytes
    template: Store
    bare: Store  # charter only: what a late joiner starts with
    history: list[bytes] = field(default_factory=list)
    setup: list[bytes] = field(default_factory=list)  # members' hellos and vouches


def build_topology(sc: Scenario, rng: random.Random) -> topo.Topology:
    t = sc.topology
    kind = t.get("kind", "random")
    if kind == "random":
        return topo.random_geometric(int(t["nodes"]), float(t.get("avg_degree", 7)), rng,
                                     preset=sc.preset)
    if kind == "line":
        return topo.line(int(t["nodes"]), float(t.get("snr_db", 5.0)), preset=sc.preset)
    if kind == "grid":
        return topo.grid(int(t["rows"]), int(t["cols"]), float(t.get("snr_db", 5.0)),
                         diagonal=bool(t.get("diagonal", False)), preset=sc.preset)
    if kind == "positions":
        env = topo.PathLoss(tx_power_dbm=float(t.get("tx_power_dbm", 20.0)),
                            exponent=float(t.get("path_loss_exponent", 3.0)),
                            ref_loss_db=float(t.get("ref_loss_db", 31.2)),
                            shadowing_sigma_db=float(t.get("shadowing_db", 0.0)),
                            noise_figure_db=float(t.get("noise_figure_db", 6.0)))
        positions = [(float(x), float(y)) for x, y in t["positions"]]
        gains = [0.0] * len(positions)
        for node, gain in t.get("gain_db", []):
            gains[int(node)] = float(gain)
        return topo.from_positions(positions, sc.preset, env, rng, gains_db=gains)
    tuples: list[tuple[float, ...]] = []
    for link in t["links"]:
        a, b, snr = int(link["a"]), int(link["b"]), float(link["snr_db"])
        extra = (float(link["rssi_dbm"]),) if "rssi_dbm" in link else ()
        tuples.append((a, b, snr, *extra))
        if not link.get("one_way"):
            tuples.append((b, a, snr, *extra))
    n = int(t.get("nodes", 1 + max(max(link["a"], link["b"]) for link in t["links"])))
    return topo.from_links(n, tuples, symmetric=False, preset=sc.preset)


def _model(p: float, model: str, mean_burst: float, step_s: float | None) -> LossModel | None:
    if p <= 0.0 or model == "none":
        return None
    if model == "bernoulli":
        return Bernoulli(p)
    try:
        return GilbertElliott.with_mean_loss(p, mean_burst, step_s=step_s)
    except ValueError as exc:
        raise ScenarioError(f"loss: {exc} (p {p}, mean_burst {mean_burst})") from None


def loss_model(sc: Scenario) -> LossSpec:
    """The scenario's loss: one model for every link, or per link where the
    topology's links give their own `loss` (Gilbert-Elliott if the link or the
    scenario says `mean_burst`, else Bernoulli)."""
    model = sc.loss.get("model", "none")
    burst = float(sc.loss.get("mean_burst", 4.0))
    step = sc.loss.get("step_s")
    default = _model(float(sc.loss.get("p", 0.0)), model, burst, step)
    own: dict[tuple[int, int], LossModel | None] = {}
    for link in sc.topology.get("links", []):
        if "loss" not in link:
            continue
        kind = "gilbert" if "mean_burst" in link or model == "gilbert" else "bernoulli"
        lm = _model(float(link["loss"]), kind, float(link.get("mean_burst", burst)),
                    link.get("step_s", step))
        a, b = int(link["a"]), int(link["b"])
        own[(a, b)] = lm
        if not link.get("one_way"):
            own[(b, a)] = lm.fresh() if lm is not None else None
    if not own:
        return default

    def per_link(a: int, b: int) -> LossModel | None:
        if (a, b) in own:
            return own[(a, b)]
        return default.fresh() if default is not None else None

    return per_link


def _pick(spec: object, pool: list[int], rng: random.Random, what: str) -> list[int]:
    if spec is None:
        return []
    if isinstance(spec, list):
        return [int(x) for x in spec]
    if isinstance(spec, (int, float)):
        count = int(spec * len(pool)) if spec < 1 else int(spec)
        return sorted(rng.sample(pool, min(count, len(pool))))
    raise ScenarioError(f"topology.{what} must be a count, a fraction or a list of nodes")


def build(sc: Scenario, rng: random.Random, slim: bool = False) -> World:
    """The scenario's radios, members and stores; `slim`: node stores keep only
    what the sync engine reads (`Store.slim`)."""
    topology = build_topology(sc, rng)
    nodes = list(range(topology.n))
    relays = _pick(sc.topology.get("relays"), nodes[1:], rng, "relays")
    ledger_nodes = [n for n in nodes if n not in set(relays)]
    routers = _pick(sc.topology.get("routers"), nodes, rng, "routers")
    members = {}
    for n in ledger_nodes:
        key = identity.key_from_seed(rng.randbytes(32))
        members[n] = Member(n, key, identity.public_bytes(key))
    founder = members[ledger_nodes[0]]
    stamp = hlc.from_unix(SIM_EPOCH - 86400)
    charter = codec.encode(r.Charter(sc.name[:24] or "sim"), founder.key, 1, stamp,
                           codec.NO_NETWORK)
    net = identity.network_id(charter.raw)
    bare = Store.open(":memory:")
    bare.expect_network(identity.network_code(net))
    bare.ingest(charter.raw, SIM_EPOCH)
    setup: list[bytes] = []
    for n in ledger_nodes:
        m = members[n]
        m.seq += 1
        stamp += 1
        setup.append(codec.encode(r.Hello(f"node {n}", f"site {n}", 0), m.key, m.seq, stamp,
                                  net).raw)
    for n in ledger_nodes[1:]:
        founder.seq += 1
        stamp += 1
        setup.append(codec.encode(r.Vouch(members[n].public), founder.key, founder.seq, stamp,
                                  net).raw)
    history = _history(sc, rng, members, ledger_nodes, net, stamp)
    template = clone(bare, slim)
    outcomes = template.ingest_many(setup + history, SIM_EPOCH)
    bad = [o for o in outcomes if o.status != "accepted"]
    if bad:
        raise ScenarioError(f"setup record refused: {bad[0].reason} {bad[0].detail}")
    if slim:
        drop_board(template.db)  # what every node's copy would carry unused
    return World(topology, ledger_nodes, relays, routers, members, net, template, bare, history,
                 setup)


def _history(sc: Scenario, rng: random.Random, members: dict[int, Member],
             ledger_nodes: list[int], net: bytes, stamp: int) -> list[bytes]:
    """The scenario's initial records: needs and offers, pledges, and updates that
    supersede earlier state (`superseded_fraction`)."""
    out: list[bytes] = []
    needs: list[tuple[bytes, int]] = []
    own: dict[int, list[int]] = {n: [] for n in ledger_nodes}
    for i in range(sc.initial_records):
        n = rng.choice(ledger_nodes)
        m = members[n]
        m.seq += 1
        stamp += 1 << 16
        roll = rng.random()
        if own[n] and roll < sc.superseded_fraction:
            body: r.Body = r.Update(rng.choice(own[n]), rng.choice([0, 1]), rng.randint(1, 300))
        elif roll < 0.55 or not needs:
            body = r.Need(rng.choice([1, 2, 3, 5, 35, 37]), f"history need {i}", rng.randint(1, 300),
                          0, rng.randrange(3), 0, "")
            needs.append((identity.short_id(m.public), m.seq))
            own[n].append(m.seq)
        elif roll < 0.8:
            body = r.Offer(rng.choice([32, 33, 36, 39]), f"history offer {i}", rng.randint(1, 50))
            own[n].append(m.seq)
        else:
            short, seq = rng.choice(needs)
            body = r.Pledge(short, seq, rng.randint(1, 20))
            own[n].append(m.seq)
        out.append(codec.encode(body, m.key, m.seq, stamp, net).raw)
    return out


def clone(store: Store, slim: bool = False) -> Store:
    """A fresh in-memory copy of `store` (SQLite backup API), slim or not."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    store.db.conn.backup(conn)
    return Store(Database(conn), slim=slim)
