"""Bench: two meshes and a flapping IP link, meshaid's bridge against a packet bridge.

    python -m meshaid.node.bridge.bench                 # 3 seeds, the table
    python -m meshaid.node.bridge.bench --seeds 1 --nodes 6 --json

Theory of operation
-------------------
Two meshes of `nodes` LoRa nodes (simnet.py's ring with chords, 5 % loss,
LONG_FAST, EU duty cycle) share a history and then post one record per node
per hour each. They are joined by one bridge node per mesh over a simulated
broker, through an IP link that follows one schedule for every protocol:
apart for the first 2 h, then flapping (up 40 min, down 20, up 30, down 15,
up 75), then a 4-hour split, then up to the end with a broker restart 10
minutes after the heal. `meshaid` is node/bridge (records cross, each side
reconciles itself); `packet` is packetbridge.py (Meshtastic's MQTT gateway:
every packet crosses, QoS 0, clean sessions, a 16-packet outbox). Reported:

* history crossed: for each link-up, the time until every node of both meshes
  holds every record that existed at that moment ("-" if the link dropped
  first);
* latency of new records: records posted while the link was up, the time
  until all nodes of both meshes hold them (p50 / p95; unreached ones count
  as never);
* completeness after the 4-hour split: share of the records that existed at
  the heal held by every node 60 minutes later, and at the end;
* IP bytes through the broker (published + delivered), air time in each mesh.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

from ..sim.runner import Simulation
from .simnet import BridgedSim, two_meshes

HOUR = 3600.0
# (time in hours, link up?) for both bridges; the split is 5 h - 9 h.
SCHEDULE = [(2.0, True), (2 + 40 / 60, False), (3.0, True), (3.5, False), (3.75, True),
            (5.0, False), (9.0, True)]
HEAL_H = 9.0
RESTART_AFTER_S = 600.0
HOURS = 14.0


def _build(protocol: str, nodes: int, seed: int) -> Simulation:
    sc = two_meshes(nodes, seed=seed, hours=HOURS, rate=1.0, history=60)
    if protocol == "meshaid":
        return BridgedSim(sc, bridges={0: "port", nodes: "hills"})
    from .packetbridge import PacketBridgedSim

    return PacketBridgedSim(sc, gateways={0: "port", nodes: "hills"})


def _schedule(sim: Any) -> None:
    broker = sim.broker
    names = list((getattr(sim, "bridges", None) or sim.gateways).values())
    for name in names:
        sim.events.schedule(0.0, broker.cut, name)
    for at_h, up in SCHEDULE:
        for name in names:
            sim.events.schedule(at_h * HOUR, broker.heal if up else broker.cut, name)
    sim.events.schedule(HEAL_H * HOUR + RESTART_AFTER_S, broker.restart, 120.0)


def _complete_at(sim: Simulation, rids: list[bytes], nodes: list[int]) -> float:
    """When every node in `nodes` held all of `rids` (inf if never)."""
    latest = 0.0
    for rid in rids:
        have = sim.have.get(rid, {})
        for n in nodes:
            t = have.get(n)
            if t is None:
                return math.inf
            latest = max(latest, t)
    return latest


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(protocol: str, nodes: int = 12, seed: int = 1) -> dict[str, Any]:
    """One run; the metrics of the module doc as a dict (seconds, bytes)."""
    wall0 = time.perf_counter()
    sim: Any = _build(protocol, nodes, seed)
    if hasattr(sim, "begin"):
        sim.begin()
    else:
        for n, node in sim.nodes.items():
            node.engine.start(0.0)
            sim.events.schedule(sim.rng.uniform(0, 1), sim.pump, n)
        sim.workload.schedule()
    _schedule(sim)
    sim.events.run_until(HOURS * HOUR)
    everyone = sorted(sim.nodes)
    ups = [at * HOUR for at, up in SCHEDULE if up]
    downs = [at * HOUR for at, up in SCHEDULE if not up] + [HOURS * HOUR]
    crossed = []
    for up in ups:
        down = min(d for d in downs if d > up)
        rids = [rid for rid, (t, _a, _n) in sim.created.items() if t <= up]
        done = _complete_at(sim, rids, everyone)
        crossed.append(done - up if done <= down else math.inf)
    latencies = []
    windows = [(up, min(d for d in downs if d > up)) for up in ups]
    for rid, (t, author, _n) in sim.created.items():
        if author >= 0 and any(a <= t < b for a, b in windows):
            done = _complete_at(sim, [rid], everyone)
            latencies.append(done - t)
    heal = HEAL_H * HOUR
    at_heal = [rid for rid, (t, _a, _n) in sim.created.items() if t <= heal]

    def held_by_all(at: float) -> float:
        ok = sum(1 for rid in at_heal
                 if all(sim.have.get(rid, {}).get(n, math.inf) <= at for n in everyone))
        return ok / len(at_heal) if at_heal else 1.0

    meshes = [everyone[:nodes], everyone[nodes:]]
    air = [sum(d for n in mesh for _s, d in sim.mesh.transmissions(n)) for mesh in meshes]
    stats = sim.broker.stats
    return {
        "protocol": protocol, "seed": seed, "nodes_per_mesh": nodes,
        "history_crossed_s": crossed,
        "latency_p50_s": _pct(latencies, 0.5), "latency_p95_s": _pct(latencies, 0.95),
        "new_records": len(latencies),
        "complete_1h_after_split": held_by_all(heal + HOUR),
        "complete_at_end": held_by_all(HOURS * HOUR),
        "ip_bytes": stats.published_bytes + stats.delivered_bytes,
        "air_s": air, "records": len(sim.created),
        "wall_s": round(time.perf_counter() - wall0, 1),
    }


def _fmt_s(x: float) -> str:
    if math.isinf(x):
        return "never"
    if math.isnan(x):
        return "-"
    return f"{x / 60:.0f} min" if x >= 90 else f"{x:.0f} s"


def table(results: list[dict[str, Any]], out: Callable[[str], Any] = print) -> None:
    """A Markdown table, one row per run."""
    out("| protocol | seed | history crossed after each link-up | new records p50 / p95 | "
        "complete 1 h after the 4 h split / at end | IP bytes | air time mesh A / B |")
    out("|---|---|---|---|---|---|---|")
    for r in results:
        crossed = ", ".join(_fmt_s(x) for x in r["history_crossed_s"])
        out(f"| {r['protocol']} | {r['seed']} | {crossed} | {_fmt_s(r['latency_p50_s'])} / "
            f"{_fmt_s(r['latency_p95_s'])} | {100 * r['complete_1h_after_split']:.0f} % / "
            f"{100 * r['complete_at_end']:.0f} % | {r['ip_bytes'] / 1000:.0f} kB | "
            f"{r['air_s'][0]:.0f} s / {r['air_s'][1]:.0f} s |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m meshaid.node.bridge.bench",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=12, help="nodes per mesh (default 12)")
    ap.add_argument("--seeds", type=int, default=3, help="runs per protocol (default 3)")
    ap.add_argument("--protocol", choices=("both", "meshaid", "packet"), default="both")
    ap.add_argument("--json", action="store_true", help="one JSON object per run")
    args = ap.parse_args(argv)
    if args.nodes < 3 or args.seeds < 1:
        ap.error("--nodes must be at least 3 and --seeds at least 1")
    protocols = ["meshaid", "packet"] if args.protocol == "both" else [args.protocol]
    results = []
    for protocol in protocols:
        for seed in range(1, args.seeds + 1):
            result = run(protocol, args.nodes, seed)
            results.append(result)
            if args.json:
                print(json.dumps(result))
            else:
                sys.stderr.write(f"  {protocol} seed {seed}: {result['wall_s']} s\n")
    if not args.json:
        print(f"Two meshes of {args.nodes} nodes, link schedule: apart 0-2 h, flapping 2-5 h, "
              "split 5-9 h, up 9-14 h with a broker restart at 9:10.")
        ups = ", ".join(f"{h:g} h" for h, up in SCHEDULE if up)
        print(f"History-crossed columns are the link-ups at {ups}.")
        table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
