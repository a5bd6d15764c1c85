"""How cost grows with the mesh: one workload at 25, 50, 100 and 200 sites.

    python -m meshaid.node.sim.scaling [--sizes 25,50,100,200] [--protocols meshaid,b2,b3]
                                       [--scenario steady-200] [--hours H] [--jobs 1]

Theory of operation
-------------------
The scenario (default `steady-200`: a random mesh of mean degree 7, one record
per site per hour, 5 % loss, MEDIUM_FAST) is run with only its node count
changed, so every size carries the same workload per site. Each (size,
protocol) pair runs in a fresh process, which measures its own wall time and
peak memory (the process's peak RSS less what it held before the run, per
simulated node). For each size the table marks the best baseline: the one
with the least air time among those that delivered everything (else the one
that delivered most). Numbers only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from .runner import Simulation
from .scenario import load
from .targets import best_baseline

SIZES = (25, 50, 100, 200)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_size(job: tuple[str, int, str, float | None]) -> dict[str, Any]:
    """Run the scenario at `nodes` sites under `protocol`; the bench's result plus
    memory figures."""
    name, nodes, protocol, hours = job
    sc = load(name)
    sc = replace(sc, name=f"{sc.name}@{nodes}", topology={**sc.topology, "nodes": nodes})
    if hours:
        sc = replace(sc, duration_s=3600.0 * hours)
    before = _rss_mb()
    cpu0 = time.process_time()
    res = Simulation(sc, protocol).run()
    res["cpu_s"] = round(time.process_time() - cpu0, 1)
    peak = _rss_mb()
    res["sites"] = nodes
    res["memory"] = {"peak_rss_mb": round(peak, 1),
                     "mb_per_node": round((peak - before) / nodes, 2)}
    return res


def best_baselines(results: list[dict[str, Any]]) -> dict[int, str]:
    """Per size, the baseline with least air among those delivering everything
    (else the one delivering most: targets.py `best_baseline`)."""
    best: dict[int, str] = {}
    for size in {r["sites"] for r in results}:
        pick = best_baseline([r for r in results if r["sites"] == size])
        if pick is not None:
            best[size] = pick["protocol"]
    return best


HEADER = ("| sites | protocol | records | delivered | air s per record | eta total | p50 / p95 s | "
          "critical p95 s | worst own duty % | wall s | CPU s | peak RSS MB | MB per node |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def row(res: dict[str, Any], best: bool) -> str:
    """One Markdown row of the scaling table."""
    c = res["convergence_s"]
    per = res["airtime_s"]["honest"] / max(1, res["records"])
    name = res["protocol"] + (" (best baseline)" if best else "")
    return (f"| {res['sites']} | {name} | {res['records']} | {res['delivered_fraction']} | "
            f"{per:.2f} | {res['eta']['total_greedy']} | {c['p50']} / {c['p95']} | "
            f"{res['convergence_critical_s']['p95']} | {res['max_own_duty_cycle_pct']} | "
            f"{res['wall_s']} | {res['cpu_s']} | {res['memory']['peak_rss_mb']} | "
            f"{res['memory']['mb_per_node']} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--protocols", default="meshaid,b2,b3")
    parser.add_argument("--scenario", default="steady-200")
    parser.add_argument("--hours", type=float, help="shorten the run (default: the scenario's)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at a time (1 keeps wall times comparable)")
    args = parser.parse_args(argv)
    jobs = [(args.scenario, int(n), p, args.hours) for n in args.sizes.split(",")
            for p in args.protocols.split(",")]
    results = []
    load0 = os.getloadavg()[0]
    with ProcessPoolExecutor(max_workers=args.jobs, max_tasks_per_child=1) as pool:
        for res in pool.map(run_size, jobs):
            results.append(res)
            sys.stderr.write(f"  {res['sites']} sites, {res['protocol']}: {res['wall_s']} s wall, "
                             f"{res['cpu_s']} s CPU\n")
    best = best_baselines(results)
    print(f"Scaling: {args.scenario} with only the node count changed "
          f"(air per record = honest air time / records posted; memory per node = peak RSS "
          f"growth of the run's own process / sites; CPU s = the run's own process time, "
          f"which other jobs on the machine do not inflate: load average "
          f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)\n")
    print(HEADER)
    for res in sorted(results, key=lambda r: (r["sites"], r["protocol"] != "meshaid")):
        if res["protocol"] == "meshaid" or best.get(res["sites"]) == res["protocol"]:
            print(row(res, res["protocol"] != "meshaid"))
    others = [r for r in results if r["protocol"] != "meshaid"
              and best.get(r["sites"]) != r["protocol"]]
    if others:
        print("\nOther baselines: " + "; ".join(
            f"{r['sites']} {r['protocol']}: delivered {r['delivered_fraction']}, "
            f"{r['airtime_s']['honest'] / max(1, r['records']):.2f} s/record" for r in others))


if __name__ == "__main__":
    main()
