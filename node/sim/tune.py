"""A protocol's settings tried over a grid: which spends least air at full delivery.

    python -m meshaid.node.sim.tune SCENARIO PROTOCOL KEY=V1,V2,... [KEY=...]
                                    [--seeds 1,2] [--jobs 2]

A setting that is a pair (a window: forward_window, crowd_window, ...) is
written LOW:HIGH, so `forward_window=2:30,2:120,2:240` tries three.

Runs SCENARIO under PROTOCOL once per combination of the listed `[sync]`
values (each KEY a setting a scenario's `[sync]` table may hold: the engine's
or a baseline's, b3_period for one) and per seed (default: the scenario's
own), and prints one row per combination: the least delivered fraction over
the seeds, the mean air, the mean convergence p50 and p95. Then it names the
combination that spent least air among those that delivered everything at
every seed, or says that none did.

This is how the bench's yardsticks are tuned: the targets compare meshaid
with the best baseline that delivers everything (targets.py), and a baseline
run at settings that miss a record, or spend more air than it needs, is no
yardstick. A scenario file keeps the chosen values in its `[sync]` table, with
the command that found them; the table then runs the baseline at them.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .runner import PROTOCOLS, Simulation
from .scenario import ScenarioError, load
from .scenario_schema import sync_spec

Setting = tuple[tuple[str, Any], ...]


def parse_grid(items: list[str]) -> list[tuple[str, list[Any]]]:
    """["b3_period=600,900", ...] -> [("b3_period", [600.0, 900.0]), ...]; each value
    checked as the scenario file's `[sync]` table would (ScenarioError naming it)."""
    spec = sync_spec()
    grid: list[tuple[str, list[Any]]] = []
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise ScenarioError(f"{item!r}: write KEY=V1,V2,... (b3_period=600,900)")
        if key not in spec:
            raise ScenarioError(f"'sync.{key}' is not a setting a scenario's [sync] may hold")
        if any(k == key for k, _ in grid):
            raise ScenarioError(f"'sync.{key}' is listed twice")
        checked = []
        for v in values.split(","):
            ok = spec[key](_value(v.strip(), key), f"sync.{key}")
            checked.append(tuple(ok) if isinstance(ok, list) else ok)  # (a setting is a key)
        grid.append((key, checked))
    return grid


def _value(text: str, key: str) -> Any:
    """One value as written: LOW:HIGH (a pair), true or false, or a number."""
    if ":" in text:
        return [_number(x.strip(), key) for x in text.split(":")]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return _number(text, key)


def _number(text: str, key: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ScenarioError(f"'sync.{key}': {text!r} is not a number") from None


def combinations(grid: list[tuple[str, list[Any]]]) -> list[Setting]:
    keys = [k for k, _ in grid]
    return [tuple(zip(keys, values)) for values in itertools.product(*(v for _, v in grid))]


def run_one(job: tuple[str, str, Setting, int | None]) -> dict[str, Any]:
    name, protocol, setting, seed = job
    sc = load(name)
    sc.sync.update(dict(setting))
    if seed is not None:
        sc.seed = seed
    res = Simulation(sc, protocol).run()
    res["setting"] = setting
    return res


def _mean(values: list[Any]) -> float | str:
    nums = [v for v in values if isinstance(v, (int, float))]
    if len(nums) < len(values):
        return "not reached"
    return round(sum(nums) / len(nums), 1)


def summary(results: list[dict[str, Any]]) -> tuple[list[str], Setting | None]:
    """The rows of a tuning run and the least-air setting that delivered everything
    at every seed (None if none did)."""
    groups: dict[Setting, list[dict[str, Any]]] = {}
    for res in results:
        groups.setdefault(res["setting"], []).append(res)
    lines = ["| setting | seeds | delivered (least) | air time s (mean) | p50 s | p95 s |",
             "|---|---|---|---|---|---|"]
    best: tuple[float, Setting] | None = None
    for setting, runs in groups.items():
        delivered = min((r["delivered_fraction"] or 0.0) for r in runs)
        air = round(sum(r["airtime_s"]["honest"] for r in runs) / len(runs), 1)
        p50 = _mean([r["convergence_s"]["p50"] for r in runs])
        p95 = _mean([r["convergence_s"]["p95"] for r in runs])
        lines.append(f"| {show(setting)} | {len(runs)} | {delivered} | {air} | {p50} | {p95} |")
        if delivered >= 1.0 and (best is None or air < best[0]):
            best = (air, setting)
    return lines, (best[1] if best else None)


def show(setting: Setting) -> str:
    return " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("protocol", choices=list(PROTOCOLS))
    parser.add_argument("grid", nargs="+", metavar="KEY=V1,V2,...")
    parser.add_argument("--seeds", help="comma-separated seeds (default: the scenario's own)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        load(args.scenario)
        grid = parse_grid(args.grid)
        seeds: list[int | None] = ([int(x) for x in args.seeds.split(",")] if args.seeds
                                   else [None])
    except ScenarioError as exc:
        print(f"tune: {exc}", file=sys.stderr)
        return 2
    except ValueError:
        print(f"tune: --seeds wants whole numbers separated by commas, not {args.seeds!r}",
              file=sys.stderr)
        return 2
    jobs = [(args.scenario, args.protocol, s, seed) for s in combinations(grid) for seed in seeds]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_one, jobs))
    lines, best = summary(results)
    print("\n".join(lines))
    if best is None:
        print(f"\nNo setting delivered everything at every seed: {args.protocol} on "
              f"{args.scenario} has no full-delivery setting in this grid.")
    else:
        print(f"\nLeast air at full delivery: {show(best)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
