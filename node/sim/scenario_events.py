"""What each scheduled scenario event does to a running simulation.

| kind | arguments | effect |
|---|---|---|
| post | node, [urgency] | one record by `node` (a random body, or a need of that urgency) |
| burst | count, over_min, [nodes], [urgency] | `count` posts (needs of that urgency if given) over `over_min` minutes from random nodes |
| join | node or nodes | powered on with an empty ledger (charter only) |
| leave / return | node or nodes | power off (queue lost) / on again (catch-up measured) |
| partition | side = list of nodes, or "half" | cut every link across the cut |
| heal | - | restore all links; convergence after heal is measured from here |
| skew | fraction, seconds | that share of nodes gets its clock off by +-seconds |
| equivocate | node | node signs two different records with one seq, sent from two places |
| attacker | node, mode, rate_per_min, until_h | junk bytes, forged records or spam from unadmitted keys |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ledger import records as r
from ..sync import messages as m
from .runner import _as_list, forge_twin, fresh_key_records

if TYPE_CHECKING:
    from .runner import Simulation
    from .scenario import Event


def apply(sim: Simulation, ev: Event) -> None:
    handler = HANDLERS[ev.kind]
    handler(sim, ev)


def _post(sim: Simulation, ev: Event) -> None:
    node = int(ev.args["node"]) if "node" in ev.args else sim.workload.pick()
    urgency = ev.args.get("urgency")
    body = None
    if urgency is not None:
        body = r.Need(1, f"urgent need from {node}", 100, 4, int(urgency), 2880, "")
    raw = sim.post(node, body)
    if raw is not None and ev.args.get("mark"):
        sim.marks[str(ev.args["mark"])] = sim.events.now


def _burst(sim: Simulation, ev: Event) -> None:
    count = int(ev.args.get("count", 50))
    span = float(ev.args.get("over_min", 10)) * 60.0
    pool = [int(x) for x in _as_list(ev.args.get("nodes"))] or None
    urgency = ev.args.get("urgency")
    sim.workload.burst(count, span, pool, None if urgency is None else int(urgency))


def _join(sim: Simulation, ev: Event) -> None:
    for n in _as_list(ev.args.get("nodes", ev.args.get("node"))):
        node = sim.nodes[int(n)]
        node.joined = True
        sim.mesh.set_up(int(n), True)
        node.engine.start(sim.events.now)
        sim.marks[f"join:{n}"] = sim.events.now
        sim.net_version += 1
        # As a real node does on joining (Home.ensure_hello), it announces its key
        # first, so its own later records verify in its own store.
        sim.post(int(n), r.Hello(f"node {n}", f"site {n}", 0))


def _leave(sim: Simulation, ev: Event) -> None:
    for n in _as_list(ev.args.get("nodes", ev.args.get("node"))):
        sim.mesh.set_up(int(n), False)
        sim.sender.power_off(int(n))
    sim.net_version += 1


def _return(sim: Simulation, ev: Event) -> None:
    for n in _as_list(ev.args.get("nodes", ev.args.get("node"))):
        sim.mesh.set_up(int(n), True)
        sim.marks[f"return:{n}"] = sim.events.now
        sim.net_version += 1
        sim.pump(int(n))


def _partition(sim: Simulation, ev: Event) -> None:
    side = ev.args.get("side", "half")
    if side == "half":
        order = sim.world.topology.hops_from(0)
        ranked = sorted(range(sim.world.topology.n), key=lambda n: (order[n] or 0, n))
        side = ranked[: len(ranked) // 2]
    sim.mesh.partition([int(x) for x in side])
    sim.marks["partition"] = sim.events.now
    sim.net_version += 1


def _heal(sim: Simulation, ev: Event) -> None:
    sim.mesh.heal()
    sim.marks["heal"] = sim.events.now
    sim.net_version += 1
    for n in sim.world.ledger_nodes:
        sim.pump(n)


def _skew(sim: Simulation, ev: Event) -> None:
    fraction = float(ev.args.get("fraction", 0.2))
    seconds = float(ev.args.get("seconds", 3 * 86400))
    pool = sim.world.ledger_nodes[1:]  # (the founder keeps the time)
    count = min(len(pool), max(1, int(fraction * len(pool)))) if fraction > 0 else 0
    for n in sim.rng.sample(pool, count):
        sim.nodes[n].skew = seconds * sim.rng.choice([-1, 1])


def _equivocate(sim: Simulation, ev: Event) -> None:
    node = int(ev.args.get("node", sim.world.ledger_nodes[-1]))
    raw = sim.post(node, r.Need(1, "equivocation: the first text", 1, 0, 1, 0, ""))
    if raw is None:
        return
    twin = forge_twin(sim, node, raw)
    hops = sim.world.topology.hops_from(node)
    far = max((n for n in sim.world.ledger_nodes if hops[n] is not None),
              key=lambda n: (hops[n], n))
    sim.nodes[far].engine.local_record(twin, sim.events.now)
    sim.marks["equivocate"] = sim.events.now
    sim.pump(far)


def _attacker(sim: Simulation, ev: Event) -> None:
    node = int(ev.args.get("node", sim.world.ledger_nodes[-1]))
    sim.attackers.add(node)
    sim.net_version += 1
    rate = float(ev.args.get("rate_per_min", 6)) / 60.0
    until = float(ev.args.get("until_h", sim.sc.duration_s / 3600.0)) * 3600.0
    mode = str(ev.args.get("mode", "junk"))
    sim.events.schedule(sim.events.now, _attack_step, sim, node, rate, until, mode)


def _attack_step(sim: Simulation, node: int, rate: float, until: float, mode: str) -> None:
    if sim.events.now >= until:
        return
    tag = sim.world.network[:2]
    if mode == "junk":
        payload = bytes([0x11]) + tag + sim.rng.randbytes(sim.rng.randint(1, 200))
    elif mode == "forge":
        victim = sim.world.members[sim.world.ledger_nodes[0]]
        from ..ledger import codec, identity

        fake = codec.encode(r.Revoke(victim.public, 0, "forged"), sim.world.members[node].key,
                            99, 0, sim.world.network).raw
        forged = bytearray(fake)
        forged[1:5] = identity.short_id(victim.public)  # claim the founder wrote it
        payload = m.encode(m.Records((bytes(forged),)), tag)
    else:
        payload = m.encode(m.Records(tuple(fresh_key_records(sim, 1))), tag)
    sim.mesh.send(node, payload, hop_limit=3, tag="attack")
    sim.attack_sent += 1
    sim.events.schedule(sim.events.now + sim.rng.expovariate(rate), _attack_step, sim, node, rate,
                        until, mode)


HANDLERS = {
    "post": _post,
    "burst": _burst,
    "join": _join,
    "leave": _leave,
    "return": _return,
    "partition": _partition,
    "heal": _heal,
    "skew": _skew,
    "equivocate": _equivocate,
    "attacker": _attacker,
}
