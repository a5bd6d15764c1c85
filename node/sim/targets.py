"""The bench's targets, read from one run of the table.

    python -m meshaid.node.sim.table --jobs 2 --json run.json   # prints them at the end
    python -m meshaid.node.sim.targets run.json                  # again, from the file

Each target is a line of the table below: what it asks, the figure the run
gave, and whether it holds ("yes", "no", or "-" where the run cannot say: a
scenario not run, no baseline that delivers everything to compare with).
The figures come from the run's own seeds only (rows a `--seeds` run names
`scenario#seed` are left out: a target is read from one run, not pooled).

| target | from |
|---|---|
| 100 % delivery in every scenario | meshaid's rows |
| never over its own share in any rolling hour | worst own hour against the budget % |
| air at most 0.75 of the best full-delivery baseline (moonshot 0.5) | steady-50, town-40 (each baseline at the `[sync]` settings the scenario keeps: tune.py) |
| dense crowd: at most 1.5 times B1's air, p95 at most 60 s | dense-clique-60 |
| routers: median convergence no worse than B2's | town-40 (hilltop routers) |
| critical p95 at most 60 s | lossy-30, steady-50 |
| healing no slower than the best baseline | catch-up after the heal: partition-heal, blockaded-port |
| 200 sites for 24 h simulated in under 10 minutes | steady-200's wall time, when run |
"""

from __future__ import annotations

import json
import sys
from typing import Any

Result = dict[str, Any]
Verdict = tuple[str, str, str]  # (target, figure, "yes" | "no" | "-")

AIR_RATIO = 0.75  # of the best full-delivery baseline's air
MOONSHOT = 0.5
CROWD_AIR = 1.5  # times B1's air on the dense clique
P95_S = 60.0  # dense clique p95, critical p95
BENCH_S = 600.0  # steady-200 in under 10 minutes


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


def _num(value: Any) -> float | None:
    """A figure as a number; None for "not reached" and other words."""
    return float(value) if isinstance(value, (int, float)) else None


def _air(res: Result) -> float:
    return float(res["airtime_s"]["honest"])


def by_scenario(results: list[Result]) -> dict[str, dict[str, Result]]:
    """scenario -> protocol -> its result, own-seed rows only."""
    out: dict[str, dict[str, Result]] = {}
    for res in results:
        if "#" not in res["scenario"]:
            out.setdefault(res["scenario"], {})[res["protocol"]] = res
    return out


def best_baseline(runs: list[Result]) -> Result | None:
    """The baseline with the least air among those that delivered everything,
    else the one that delivered the most (None: no baseline among `runs`)."""
    theirs = [r for r in runs if r["protocol"] != "meshaid"]
    full = [r for r in theirs if (r["delivered_fraction"] or 0.0) >= 1.0]
    if full:
        return min(full, key=_air)
    return max(theirs, key=lambda r: r["delivered_fraction"] or 0.0, default=None)


def _air_ratio(by: dict[str, dict[str, Result]], name: str) -> Verdict:
    target = f"{name}: air at most {AIR_RATIO} of the best full-delivery baseline"
    runs = by.get(name, {})
    if "meshaid" not in runs:
        return target, "not run", "-"
    mine = _air(runs["meshaid"])
    best = best_baseline(list(runs.values()))
    if best is None:
        return target, f"meshaid {mine} s; no baseline run", "-"
    theirs = _air(best)
    ratio = mine / theirs if theirs else float("inf")
    if (best["delivered_fraction"] or 0.0) < 1.0:
        # (its air, for scale: a baseline short of full delivery is not the yardstick)
        return target, (f"no baseline delivers everything (best {best['protocol']} "
                        f"{best['delivered_fraction']}); meshaid {mine} s, {ratio:.3f} of "
                        f"{best['protocol']}'s {theirs} s"), "-"
    moon = " (moonshot met)" if ratio <= MOONSHOT else ""
    whole = (runs["meshaid"]["delivered_fraction"] or 0.0) >= 1.0
    lost = "" if whole else f" (meshaid delivered {runs['meshaid']['delivered_fraction']})"
    return (target, f"{mine} / {theirs} ({best['protocol']}) = {ratio:.3f}{moon}{lost}",
            _yes(whole and ratio <= AIR_RATIO))


def _heal(by: dict[str, dict[str, Result]], name: str) -> Verdict:
    target = f"{name}: catch-up after the heal no slower than the best baseline"
    runs = by.get(name, {})
    if "meshaid" not in runs:
        return target, "not run", "-"
    mine = _num(runs["meshaid"]["convergence_s"].get("after", {}).get("heal"))
    theirs = [(t, p) for p, r in runs.items() if p != "meshaid"
              for t in [_num(r["convergence_s"].get("after", {}).get("heal"))] if t is not None]
    best = min(theirs) if theirs else None
    shown = "not reached" if mine is None else f"{mine} s"
    if best is None:
        if len(runs) == 1:
            return target, f"meshaid {shown}; no baseline run", "-"
        return target, f"meshaid {shown}; no baseline caught up", _yes(mine is not None)
    return (target, f"meshaid {shown}, {best[1]} {best[0]} s",
            _yes(mine is not None and mine <= best[0]))


def targets(results: list[Result]) -> list[Verdict]:
    """Every target, its figure in this run and whether it holds."""
    by = by_scenario(results)
    mine = {s: runs["meshaid"] for s, runs in sorted(by.items()) if "meshaid" in runs}
    out: list[Verdict] = []
    target = "100 % delivery in every scenario"
    short = [f"{s} {r['delivered_fraction']}" for s, r in mine.items()
             if (r["delivered_fraction"] or 0.0) < 1.0]
    out.append((target, "short: " + ", ".join(short) if short
                else f"1.0 in all {len(mine)} scenario{'s' * (len(mine) != 1)} run",
                _yes(not short) if mine else "-"))
    target = "never over its own share in any rolling hour"
    if mine:
        over = [s for s, r in mine.items() if r["max_own_duty_cycle_pct"] > r["budget_pct"]]
        worst = max(mine, key=lambda s: mine[s]["max_own_duty_cycle_pct"])
        out.append((target, f"worst {mine[worst]['max_own_duty_cycle_pct']} % ({worst}, share "
                    f"{mine[worst]['budget_pct']} %)" + (f"; over in {', '.join(over)}"
                                                         if over else ""), _yes(not over)))
    else:
        out.append((target, "not run", "-"))
    out += [_air_ratio(by, "steady-50"), _air_ratio(by, "town-40")]
    target = f"dense-clique-60: at most {CROWD_AIR} times B1's air, p95 at most {P95_S:.0f} s"
    runs = by.get("dense-clique-60", {})
    if "meshaid" in runs and "b1" in runs:
        times = _air(runs["meshaid"]) / _air(runs["b1"])
        p95 = _num(runs["meshaid"]["convergence_s"]["p95"])
        out.append((target, (f"{times:.3f} times (B1 delivered "
                             f"{runs['b1']['delivered_fraction']}), "
                             f"p95 {runs['meshaid']['convergence_s']['p95']} s"),
                    _yes(times <= CROWD_AIR and p95 is not None and p95 <= P95_S)))
    else:
        out.append((target, "not run", "-"))
    target = "town-40 (routers): median convergence no worse than B2's"
    runs = by.get("town-40", {})
    if "meshaid" in runs and "b2" in runs:
        ours, b2 = (_num(runs[p]["convergence_s"]["p50"]) for p in ("meshaid", "b2"))
        out.append((target, (f"meshaid {runs['meshaid']['convergence_s']['p50']} s, B2 "
                             f"{runs['b2']['convergence_s']['p50']}"),
                    _yes(ours is not None and (b2 is None or ours <= b2))))
    else:
        out.append((target, "not run", "-"))
    for name in ("lossy-30", "steady-50"):
        target = f"{name}: critical p95 at most {P95_S:.0f} s"
        res = mine.get(name)
        crit = None if res is None else res["convergence_critical_s"].get("p95")
        out.append((target, "not run" if res is None else f"{crit} s",
                    "-" if res is None else _yes((_num(crit) or 1e18) <= P95_S)))
    out += [_heal(by, "partition-heal"), _heal(by, "blockaded-port")]
    target = "steady-200 simulated in under 10 minutes"
    res = mine.get("steady-200")
    out.append((target, "not run" if res is None else f"{res['wall_s']} s",
                "-" if res is None else _yes(res["wall_s"] < BENCH_S)))
    return out


def note(results: list[Result]) -> str:
    """The targets as a Markdown table."""
    lines = ["Targets (this run's own seeds; node/sim/targets.py):", "",
             "| target | figure | holds |", "|---|---|---|"]
    lines += [f"| {t} | {f} | {h} |" for t, f, h in targets(results)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m meshaid.node.sim.targets RUN.json "
              "(written by python -m meshaid.node.sim.table --json RUN.json)", file=sys.stderr)
        return 2
    try:
        with open(args[0]) as fh:
            results = json.load(fh)
        print(note(results))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read the table's results from {args[0]}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
