"""Every shipped scenario against every protocol, as a Markdown table.

    python -m meshaid.node.sim.table [--scenarios a,b] [--protocols meshaid,b0] [--jobs 2]
                                      [--baseline-budget share|cap] [--json FILE]

Runs each (scenario, protocol) pair in its own process (`--jobs` at a time)
and prints one row per pair. Numbers only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .metrics import BACKGROUND_TAGS
from .runner import PROTOCOLS, Simulation
from .scenario import load, shipped_names

DEFAULT_SKIP = {"steady-200"}  # the bench-speed scenario: run it on its own


def run_one(job: tuple[str, str, str | None]) -> dict[str, Any]:
    name, protocol, baseline_budget = job
    sc = load(name)
    if baseline_budget:
        sc.baseline_budget = baseline_budget
    return Simulation(sc, protocol).run()


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


HEADER = ("| scenario | protocol | delivered | convergence p50 / p95 / max s (catch-up) | "
          "never | critical p95 s | air time s | budget rule % | worst hour own / all % | "
          "peak util % | eta total / propagation | useful | forks | wall s |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
NOTE = ("Convergence: per record over the nodes up, joined and reachable when it was created "
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
    parser.add_argument("--json", help="also write every result to this file")
    args = parser.parse_args()
    pairs = [(s, p, args.baseline_budget) for s in args.scenarios.split(",")
             for p in args.protocols.split(",")]
    print(NOTE + "\n")
    print(HEADER)
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(run_one, pairs):
            results.append(res)
            print(row(res))
            sys.stdout.flush()
    print("\n" + air_note(results))
    print("\n" + text_note(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
