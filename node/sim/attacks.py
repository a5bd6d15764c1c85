"""The attack suite: what an attacker with the channel key costs honest nodes
(and one with a member's stolen key as well: `stolen-pull`, `stolen-critical`,
`stolen-vouch`, `stolen-posts`, `stolen-far-proof`, `stolen-far-sketch`,
`stolen-far-behind`, `ticket-churn`, `stolen-near-digest`). The
attacks are attack_kinds.py's, attack_outside.py's and attack_phantom.py's
(the last two written from outside).

Theory of operation
-------------------
Every attack (attack_kinds.py) runs twice on the same simulated mesh with the
same seed: once with the attacker sending, once without. The attacker is a
node of the topology that runs no engine; it sends at hop 0 at a chosen duty
cycle (default 10 %), claiming any sender it likes, and when its header
claims relays, naming as the last relay (relay_node) the honest node most of
its hearers hear (attack_kinds.py `relay_for`). Per attack we report

* attacker air: seconds on air of its own packets;
* honest air caused: honest air with the attack minus without it, summed over
  the mesh, and the amplification ratio (caused / attacker air). Honest air
  is what honest radios sent: the attacker's radio relays others' packets as
  any firmware does, and that air is its own (`_honest_air`);
* delay of the victim's critical needs (and of normal board posts), four
  of each posted during the attack (sixteen at full size): the mean time until every honest node
  holds one, minus the same without the attack (">" marks a run where some
  never arrived everywhere), and for critical needs the worst single one
  (its time with the attack minus the same probe's without);
* what chance alone does to that worst single delay: the clean run again
  with other protocol jitter (same mesh, workload and radio), its worst
  probe minus the same probe's first clean time. On a lossy mesh one
  packet lost at the wrong node costs a repair round, so a worst single
  delay well above the mean can arrive without any attacker: with 8 meshes
  an attack, the clean re-run alone moved one critical probe by minutes;
  and what it moves honest air by (the sum over the meshes of the
  difference, "chance"): the scale against which `caused` reads when the
  attacker sends a handful of packets (at 0.1 % duty on the small mesh
  near-digest's 23 s a mesh caused stood against 3-5 s of chance);
  and, from the same re-runs, the ratio's band ("+-"): twice the root of the
  summed squares of those per-mesh differences, over the attacker's air. A
  mesh's `caused` is the difference of two runs whose randomness parted ways
  (the attack shifts every random stream after its first packet), as a
  re-run's difference is, so a ratio within its band of 1 is not told apart
  from 1 by these meshes: more seeds narrow it (the band shrinks as the root
  of their number, the attacker's air grows with it);
* the largest table any honest engine holds (answers.table_sizes), the
  non-member records stored, and the slowest single poll() in milliseconds,
  less what Python's cyclic garbage collector took inside it (polltime.py).

Run `python -m meshaid.node.sim.attacks` (full sizes) or `--size small`; the
CI tests (tests/sim/test_attacks.py) run the small sizes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from ..ledger import identity
from ..ledger import records as r
from ..store.sync_port import SyncLedger
from ..sync.engine import record_id
from . import attack_kinds as ak
from . import attack_outside as ao
from . import attack_phantom as ap
from .polltime import timed as _timed
from .runner import Simulation, fresh_key_records
from .scenario import Scenario, parse

PERIODIC = {**ak.PERIODIC, **ao.OUTSIDE, **ap.PHANTOM}
STOLEN = ak.STOLEN | ao.STOLEN | ap.STOLEN  # attacks that hold a stolen member key
ALL = [*PERIODIC, "echo"]


@dataclass(frozen=True)
class Size:
    nodes: int
    records: int
    duration_s: float
    start_s: float  # when the attack starts
    probe_s: float  # when the victim posts its probes (after the start)
    probes: int = 4  # critical and normal posts by the victim during the attack


PROBE_GAP_S = 240.0

SIZES = {
    "small": Size(nodes=7, records=120, duration_s=2700.0, start_s=300.0, probe_s=900.0),
    # 16 probes: one normal post in four or so goes by reconciliation (minutes)
    # even without an attacker, so four per run left the delay mostly chance.
    "full": Size(nodes=14, records=600, duration_s=3 * 3600.0, start_s=600.0, probe_s=2400.0,
                 probes=16),
}


def scenario(attack: str, size: Size, seed: int) -> Scenario:
    """The mesh an attack runs on: a random mesh, or for the echo attack a line
    of six overheard by the attacker on a hill."""
    if attack == "echo":
        # The attacker (node 6) hears the whole line and reaches node 1 only.
        links = [{"a": i, "b": i + 1, "snr_db": 3.0} for i in range(5)]
        links += [{"a": i, "b": 6, "snr_db": 8.0, "one_way": True} for i in range(6)]
        links += [{"a": 6, "b": 1, "snr_db": 8.0, "one_way": True}]
        topo: dict[str, Any] = {"kind": "links", "nodes": 7, "links": links}
    else:
        topo = {"kind": "random", "nodes": size.nodes, "avg_degree": 4}
    return parse({
        "name": f"attack-{attack}", "seed": seed, "duration_h": size.duration_s / 3600.0,
        "duty_cycle_pct": 10, "initial_records": size.records, "topology": topo,
        "loss": {"model": "bernoulli", "p": 0.01},
        "workload": {"records_per_node_per_hour": 0},
    }, f"<attack {attack}>")


def _pick(sim: Simulation, attack: str) -> tuple[int, int, list[int]]:
    """(attacker, victim, the honest ledger nodes that hear the attacker)."""
    topo = sim.world.topology
    ledger = sim.world.ledger_nodes
    if attack == "echo":
        attacker = 6
    else:  # the best-connected node that is not the founder: the most damage
        attacker = max(ledger[1:], key=lambda n: (len(topo.neighbors(n)), n))
    hear = [n for n in topo.neighbors(attacker) if n in ledger]
    victim = 0 if attack == "echo" else min(hear)
    return attacker, victim, hear


def run_one(attack: str, size: Size, seed: int = 1, duty_pct: float = 10.0,
            attacked: bool = True, jitter: int = 0) -> dict[str, Any]:
    """One run of `attack` (or of the same world without it; `jitter`: with
    other protocol jitter, runner.py): its measurements."""
    sim = Simulation(scenario(attack, size, seed), jitter=jitter)
    attacker, victim, hear = _pick(sim, attack)
    sim.attackers.add(attacker)
    sim.nodes[attacker].joined = False
    port = SyncLedger(sim.world.template)
    held = {i.id: port.sync_raw(i.id) for i in port.sync_infos()}
    ctx = ak.Ctx(sim.world.network[:2], attacker, victim, hear,
                 {rid: raw for rid, raw in held.items() if raw is not None}, sim.rng,
                 lambda n: fresh_key_records(sim, n),
                 {n: sim.world.topology.neighbors(n) for n in range(sim.world.topology.n)},
                 _stolen_key(sim, attacker, victim) if attack in STOLEN else None)
    if attack in ao.THIEF_SIGNS:
        ctx.sign = _thief(sim, attacker)
    ctx.now = lambda: sim.events.now
    inner_rx = sim.mesh.on_receive
    assert inner_rx is not None

    def overhear(n: int, payload: Any, meta: Any) -> None:
        if n == attacker and isinstance(payload, bytes) and meta.from_node != attacker:
            ctx.heard.append((sim.events.now, payload, meta.from_node))
            del ctx.heard[:-400]
        inner_rx(n, payload, meta)

    sim.mesh.on_receive = overhear
    victim_engine = sim.nodes[victim].engine
    ctx.victim_set = lambda: (victim_engine.count, victim_engine.fingerprint)
    polls: list[float] = [0.0]
    for n, node in sim.nodes.items():
        if n != attacker:
            node.engine.poll = _timed(node.engine.poll, polls)
    used = [0.0]

    def send(payload: bytes, src: int, hops: int = 0) -> None:
        relay = ak.relay_for(ctx, src, hops) if hops else None
        if sim.mesh.send(attacker, payload, hop_limit=0, tag="attack", src=src,
                         hop_start=hops, relay=relay):
            used[0] += sim.mesh.payload_airtime(len(payload))

    if attacked and attack in PERIODIC:
        gen = PERIODIC[attack]

        def step() -> None:
            pkt = gen(ctx)
            wait = 5.0
            if pkt is not None:
                send(*pkt)
                wait = sim.mesh.payload_airtime(len(pkt[0])) / (duty_pct / 100.0)
            sim.events.schedule(sim.events.now + wait * sim.rng.uniform(0.8, 1.2), step)

        sim.events.schedule(size.start_s, step)
    elif attacked and attack == "echo":
        inner = sim.mesh.on_receive
        assert inner is not None

        def hear_all(n: int, payload: Any, meta: Any) -> None:
            now = sim.events.now
            if n == attacker and now >= size.start_s:
                for copy in ak.echo_copies(ctx, payload, meta.from_node):
                    if used[0] < duty_pct / 100.0 * (now - size.start_s + 60.0):
                        send(*copy)
            inner(n, payload, meta)

        sim.mesh.on_receive = hear_all
    probes: dict[str, list[bytes]] = {"critical": [], "board": []}

    def probe(k: int) -> None:
        author = victim if attack != "echo" else 0
        crit = sim.author(author, r.Need(1, f"probe {k}: critical need", 5, 0, 3, 0, ""))
        board = sim.author(author, r.Need(2, f"probe {k}: normal need", 5, 0, 1, 0, ""))
        if crit is not None and board is not None:
            probes["critical"].append(crit)
            probes["board"].append(board)

    for k in range(size.probes):
        sim.events.schedule(size.probe_s + k * PROBE_GAP_S, probe, k)
    sim.run()
    honest = [n for n in sim.world.ledger_nodes if n != attacker]
    out: dict[str, Any] = {
        "attacker_air": round(sim.mesh.stats.airtime_by_tag.get("attack", 0.0), 1),
        "honest_air": _honest_air(sim, attacker),
        "attacker_relays": round(_relayed_air(sim, attacker), 1),
        "by_tag": {t: round(v, 1) for t, v in sim.mesh.stats.airtime_by_tag.items()},
        "poll_ms": round(max(polls) * 1000.0, 2),
    }
    for name, raws in probes.items():
        delays, missing = [], 0
        for raw in raws:
            got = sim.have.get(record_id(raw), {})
            t0 = sim.created[record_id(raw)][0]
            lacking = [n for n in honest if n not in got]
            missing += len(lacking)
            arrive = max((got[n] for n in honest if n in got), default=t0)
            delays.append((size.duration_s - t0) if lacking else arrive - t0)
        if delays:
            out[f"{name}_delay"] = sum(delays) / len(delays)
            out[f"{name}_delays"] = delays
            out[f"{name}_missing"] = missing
    tables: dict[str, int] = {}
    nonmember = 0
    for n in honest:
        eng = sim.nodes[n].engine
        for key, value in eng.answers.table_sizes().items():
            tables[key] = max(tables.get(key, 0), value)
        nonmember = max(nonmember, sum(1 for i in eng.infos.values() if not i.trusted)
                        + len(eng.outside))
    out["tables"] = tables
    out["nonmember_stored"] = nonmember
    return out


def _stolen_key(sim: Simulation, attacker: int, victim: int) -> ak.Signer:
    """The signer of the victim's member key (stolen), or of any other honest
    member's if the victim holds none."""
    members = sim.world.members
    owner = victim if victim in members else min(n for n in members if n != attacker)
    return identity.signer(members[owner].key)


def _thief(sim: Simulation, attacker: int) -> Any:
    """The attacker node's own member key, stolen: signs a record body at its next
    seq, dated now (stolen-critical, stolen-posts, stolen-vouch)."""
    from ..ledger import codec, hlc

    member = sim.world.members[attacker]
    state = {"seq": member.seq + 1, "n": 0}

    def sign(body: Any) -> bytes:
        stamp = hlc.from_unix(sim.clock(attacker)) + state["n"] % 60000
        state["n"] += 1
        raw = codec.encode(body, member.key, state["seq"], stamp, sim.world.network).raw
        state["seq"] += 1
        return raw
    return sign


def _relayed_air(sim: Simulation, node: int) -> float:
    """Air of others' packets that `node`'s radio repeated (as any firmware does)."""
    nd = sim.mesh.nodes[node]
    return sum(d for _t, d in nd.txlog) - sum(d for _t, d in nd.own_txlog)


def _honest_air(sim: Simulation, attacker: int) -> float:
    """Air honest radios spent: every tag but the attacker's and background
    (attack scenarios have none), less the attacker radio's relays, its own
    air (hop1-near seed 5: 212 s of the 1,109 s once counted as caused)."""
    from .metrics import BACKGROUND_TAGS

    tags = sum(v for t, v in sim.mesh.stats.airtime_by_tag.items()
               if t != "attack" and t not in BACKGROUND_TAGS)
    return round(tags - _relayed_air(sim, attacker), 1)


def measure(attack: str, size: Size, seeds: int = 1, duty_pct: float = 10.0,
            chance: bool = False) -> dict[str, Any]:
    """An attack against its own baseline, over `seeds` meshes (summed air, mean
    delays, largest tables and polls): the row of the table. `chance`: also
    re-run each baseline with other protocol jitter, for what chance alone
    moves a critical probe by (`chance_worst`) and honest air by (`chance_air`)."""
    caused = air = 0.0
    delays: dict[str, list[float]] = {"critical": [], "board": []}
    worst = {"critical": 0.0, "board": 0.0}  # the most one probe was delayed
    moved = 0.0  # the most one critical probe moved between two clean runs
    drift = 0.0  # honest air that other jitter alone moved, summed over the meshes
    spread = 0.0  # the squares of those differences, summed (the ratio's band)
    missing = {"critical": 0, "board": 0}
    tables: dict[str, int] = {}
    nonmember = 0
    poll_ms = 0.0
    for seed in range(1, seeds + 1):
        base = run_one(attack, size, seed, duty_pct, attacked=False)
        hit = run_one(attack, size, seed, duty_pct, attacked=True)
        again = run_one(attack, size, seed, duty_pct, attacked=False, jitter=1) \
            if chance else {}
        if again:
            drift += abs(again["honest_air"] - base["honest_air"])
            spread += (again["honest_air"] - base["honest_air"]) ** 2
        if "critical_delays" in again and "critical_delays" in base:
            moved = max(moved, *(a - b for a, b in zip(
                again["critical_delays"], base["critical_delays"], strict=True)))
        caused += hit["honest_air"] - base["honest_air"]
        air += hit["attacker_air"]
        for name, values in delays.items():
            if f"{name}_delay" in hit and f"{name}_delay" in base:
                values.append(hit[f"{name}_delay"] - base[f"{name}_delay"])
                missing[name] += hit[f"{name}_missing"]
                worst[name] = max(worst[name], *(
                    h - b for h, b in zip(hit[f"{name}_delays"], base[f"{name}_delays"],
                                          strict=True)))
        for key, value in hit["tables"].items():
            tables[key] = max(tables.get(key, 0), value)
        nonmember = max(nonmember, hit["nonmember_stored"])
        poll_ms = max(poll_ms, hit["poll_ms"])
    caused = max(0.0, caused)
    row: dict[str, Any] = {
        "attack": attack, "attacker_air": round(air, 1), "honest_caused": round(caused, 1),
        "ratio": round(caused / air, 2) if air > 0 else 0.0,
        "table_max": max(tables.values(), default=0), "tables": tables,
        "nonmember_stored": nonmember, "poll_ms": poll_ms,
    }
    for name, got in delays.items():
        if got:
            row[f"{name}_delay"] = round(sum(got) / len(got), 1)
            row[f"{name}_worst"] = round(worst[name], 1)
            row[f"{name}_missing"] = missing[name]
    if delays["critical"] and chance:
        row["chance_worst"] = round(moved, 1)
    if chance:
        row["chance_air"] = round(drift, 1)
        if air > 0:
            row["ratio_band"] = round(2.0 * spread ** 0.5 / air, 2)
    return row


COLUMNS = [("attack", 16), ("attacker_air", 9), ("honest_caused", 9), ("chance_air", 9),
           ("ratio", 6), ("ratio_band", 6),
           ("critical_delay", 9), ("critical_worst", 9), ("chance_worst", 9),
           ("board_delay", 9), ("table_max", 7), ("nonmember_stored", 8), ("poll_ms", 8)]
HEAD = ["attack", "atk air", "caused", "chance", "ratio", "+-", "crit +s", "worst +s", "chance +s",
        "board +s", "table", "nonmem", "poll ms"]


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a plain-text table."""
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w)
                       for i, (h, (_k, w)) in enumerate(zip(HEAD, COLUMNS, strict=True)))]
    for row in rows:
        cells = []
        for i, (key, width) in enumerate(COLUMNS):
            value = row.get(key, "")
            if key.endswith("_delay") and row.get(key.replace("delay", "missing")):
                value = f">{value}"
            cells.append(str(value).rjust(width) if i else str(value).ljust(width))
        lines.append("  ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the attack suite and print its table."""
    ap = argparse.ArgumentParser(
        prog="python -m meshaid.node.sim.attacks",
        description="Run the attack suite against the sync engine and print, per attack, "
                    "the attacker's air, the honest air it caused, the delay of honest "
                    "posts, table sizes and the slowest poll(). "
                    "Example: python -m meshaid.node.sim.attacks --size small --attack pull-flood")
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--attack", action="append", choices=ALL,
                    help="run only this attack (repeatable; default: all)")
    ap.add_argument("--duty", type=float, default=10.0, help="attacker duty cycle, percent")
    ap.add_argument("--seeds", type=int, default=3, help="meshes per attack (default 3)")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = ap.parse_args(argv)
    if not 0 < args.duty <= 100 or args.seeds < 1:
        print("--duty must be in (0, 100] and --seeds at least 1", file=sys.stderr)
        return 2
    rows = []
    for attack in args.attack or ALL:
        rows.append(measure(attack, SIZES[args.size], args.seeds, args.duty, chance=True))
        if not args.json:
            print(table(rows[-1:]).splitlines()[-1] if len(rows) > 1 else table(rows),
                  flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
