"""Every shipped scenario against every protocol, as a Markdown table.

    python -m meshaid.node.sim.table [--scenarios a,b] [--protocols meshaid,b0] [--jobs 2]
                                      [--seeds 1,2,3] [--baseline-budget share|cap]
                                      [--json FILE]

Runs each (scenario, protocol) pair in its own process (`--jobs` at a time)
and prints one row per pair. Numbers only; it asserts nothing.

One run of a mesh is chaotic: a critical p95 on one seed moves by tens of
seconds (lossy-30) or thousands (blockaded-port) with any change of timing.
`--seeds` runs each pair at those scenario seeds instead of the file's own
(rows named `scenario#seed`) and adds, per pair, the mean over the seeds of
delivery and air and the pooled critical p95: the 95th percentile of every
seed's critical records together.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from . import targets
from .convergence import NEVER, percentile, show
from .metrics import BACKGROUND_TAGS
from .runner import PROTOCOLS, Simulation
from .scenario import ScenarioError, load, shipped_names

DEFAULT_SKIP = {"steady-200"}  # the bench-speed scenario: run it on its own


def run_one(job: tuple[str, str, str | None, int | None]) -> dict[str, Any]:
    name, protocol, baseline_budget, seed = job
    sc = load(name)
    if baseline_budget:
        sc.baseline_budget = baseline_budget
    if seed is not None:
        sc.seed = seed
    res = Simulation(sc, protocol).run()
    if seed is not None:
        res["scenario"] = f"{name}#{seed}"
    return res


def row(res: dict[str, Any]) -> str:
    c = res["convergence_s"]
    after = ", ".join(f"{k} {v}" for k, v in c["after"].items())
    eta = res["eta"]
    crit = res["convergence_critical_s"]["p95"]
    budget = res["budget"]
    return (f"| {res['scenario']} | {res['protocol']} | {res['delivered_fraction']} | "
            f"{c['p50']} / {c['p95']} / {c['max']}" + (f" ({after})" if after else "") + " | "
            f"{c['never']} | {crit} | {res['airtime_s']['honest']} | "
            f"{budget['rule']} {budget['pct']} | {res['max_own_duty_cycle_pct']} / "
            f"{res['max_duty_cycle_pct']} | "
            f"{res['peak_channel_util_pct']} | {eta['total_greedy']} / {eta['propagation_greedy']} | "
            f"{res['useful_fraction']} | {res['forks_detected']} | {res['wall_s']} |")


def pooled_note(results: list[dict[str, Any]]) -> str:
    """Per (scenario, protocol) over its seeds: mean delivery and air, pooled critical p95."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for res in results:
        groups.setdefault((res["scenario"].split("#")[0], res["protocol"]), []).append(res)
    lines = [("Over the seeds (mean delivered and air; critical p95 of every seed's critical "
             "records pooled, and each seed's own):"), "",
             ("| scenario | protocol | seeds | delivered | air time s | critical p95 s pooled "
             "| per seed |"), "|---|---|---|---|---|---|---|"]
    for (name, protocol), runs in groups.items():
        times = [NEVER if t is None else t for res in runs
                 for t in res["convergence_critical_s"].get("times", [])]
        delivered = [r["delivered_fraction"] for r in runs if r["delivered_fraction"] is not None]
        mean_d = round(sum(delivered) / len(delivered), 4) if delivered else None
        air = round(sum(r["airtime_s"]["honest"] for r in runs) / len(runs), 1)
        each = " / ".join(str(r["convergence_critical_s"]["p95"]) for r in runs)
        lines.append(f"| {name} | {protocol} | {len(runs)} | {mean_d} | {air} | "
                     f"{show(percentile(times, 0.95))} | {each} |")
    return "\n".join(lines)


HEADER = ("| scenario | protocol | delivered | convergence p50 / p95 / max s (catch-up) | "
          "never | critical p95 s | air time s | budget rule % | worst hour own / all % | "
          "peak util % | eta total / propagation | useful | forks | wall s |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
NOTE = ("Delivered: per record over the nodes up at the end that were owed it when it was "
        "created or can reach a node holding it at the end (a site no link reaches, or only "
        "an attacker's radio, is owed nothing). "
        "Convergence: per record over the nodes up, joined and reachable when it was created "
        "(\"not reached\": that percentile falls on a record one of them never got; never = "
        "such records); catch-up after joins, returns and heals in brackets. Budget rule: "
        "share = each node's own share of the duty-cycle cap, cap = the firmware's full cap.")


def text_note(results: list[dict[str, Any]]) -> str:
    """One line per scenario: the record bytes that text compression saved."""
    lines = ["Record text compression (node/ledger/textcode.py), records authored in each run:"]
    seen = set()
    for res in results:
        t = res.get("text_bytes")
        if not t or res["scenario"] in seen or not t["records"]:
            continue
        seen.add(res["scenario"])
        saved = t["plain"] - t["coded"]
        lines.append(f"- {res['scenario']}: text {t['plain']} -> {t['coded']} B "
                     f"({100 * saved / max(1, t['plain']):.0f} % saved), records "
                     f"{t['records']} B, {100 * saved / (t['records'] + saved):.1f} % smaller")
    return "\n".join(lines)


def air_note(results: list[dict[str, Any]]) -> str:
    """A table of each run's air time by packet type (seconds, and % of its honest
    air): which kind of traffic a protocol spends its air on. Types are the
    engines' accounting tags (push, forward, digest, ...), attack and background
    traffic left out."""
    tags = sorted({t for res in results for t in res["airtime_s"].get("by_type", {})
                   if t != "attack" and t not in BACKGROUND_TAGS})
    if not tags:
        return ""
    lines = ["Air time by packet type, s (% of the run's honest air):", "",
             "| scenario | protocol | " + " | ".join(tags) + " |",
             "|---|---|" + "---|" * len(tags)]
    for res in results:
        by = res["airtime_s"].get("by_type", {})
        honest = res["airtime_s"]["honest"] or 1.0
        cells = [f"{by[t]} ({100 * by[t] / honest:.0f} %)" if by.get(t) else "-" for t in tags]
        lines.append(f"| {res['scenario']} | {res['protocol']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(n for n in shipped_names()
                                                        if n not in DEFAULT_SKIP))
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baseline-budget", choices=["share", "cap"],
                        help="override the scenarios' baseline budget rule (default: share)")
    parser.add_argument("--seeds", help="run at these seeds (comma-separated) instead of "
                        "each scenario's own, and print the pooled figures")
    parser.add_argument("--json", help="also write every result to this file")
    args = parser.parse_args()
    try:
        seeds: list[int | None] = ([int(x) for x in args.seeds.split(",")] if args.seeds
                                   else [None])
    except ValueError:
        parser.error(f"--seeds wants whole numbers separated by commas, not {args.seeds!r}")
    protocols = [p.strip().lower() for p in args.protocols.split(",")]
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown:
        parser.error(f"unknown protocol {unknown[0]!r}; choose from " + ", ".join(PROTOCOLS))
    scenarios = [s.strip() for s in args.scenarios.split(",")]
    for name in scenarios:
        try:
            load(name)  # a name or file that is not a scenario: one line, not a traceback
        except ScenarioError as exc:
            parser.error(str(exc))
    pairs = [(s, p, args.baseline_budget, seed) for s in scenarios
             for p in protocols for seed in seeds]
    print(NOTE + "\n")
    print(HEADER)
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(run_one, pairs):
            results.append(res)
            print(row(res))
            sys.stdout.flush()
    if args.seeds:
        print("\n" + pooled_note(results))
    print("\n" + air_note(results))
    print("\n" + text_note(results))
    if not args.seeds:
        print("\n" + targets.note(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
