"""`meshaid bench`: run a simulated scenario and print its metrics."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import Finite, Refused


@click.command()
@click.option("--scenario", "scenario_name", required=True, metavar="NAME|PATH",
              help="A shipped scenario name (an unknown name lists them) or a TOML file "
                   "(node/sim/SCENARIOS.md).")
@click.option("--protocol", type=click.Choice(["meshaid", "b0", "b1", "b2", "b3"],
                                             case_sensitive=False),
              default="meshaid", show_default=True, help="meshaid, or a baseline: b0 full-state "
              "flooding, b1 push only, b2 push + id lists, b3 push + Bloom-filter gossip.")
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option("--baseline-budget", type=click.Choice(["share", "cap"]),
              help="Baselines' budget: each node's own share of the cap (as meshaid; the "
              "default) or the firmware's full cap.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw convergence and air time per node to this PNG (needs matplotlib).")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@click.option("--processes", type=click.IntRange(2, 32),
              help="Run on N real `meshaid daemon` processes with fake radios, in real time "
              "(then the same shape in virtual time, for comparison).")
@click.option("--minutes", type=Finite(0.5, None),
              help="With --processes: shorten the scenario to this many minutes.")
@click.option("--rate", type=Finite(0.0, None),
              help="With --processes: records per node per hour (default: the scenario's).")
def bench(scenario_name: str, protocol: str, seed: int | None, baseline_budget: str | None,
          as_json: bool, plot: Path | None, quiet: bool, processes: int | None,
          minutes: float | None, rate: float | None) -> None:
    """Run a scenario on a simulated LoRa mesh and report delivery, convergence,
    air time, duty cycle and efficiency against the lower bound.

    \b
    Examples:
      meshaid bench --scenario ci-small
      meshaid bench --scenario steady-50 --protocol b0 --json
      meshaid bench --scenario my-town.toml --seed 7 --plot town.png
      meshaid bench --scenario ci-small --processes 5 --minutes 10 --rate 30
    """
    from ..sim import scenario as sc_mod
    from ..sim.runner import Simulation

    try:
        sc = sc_mod.load(scenario_name)
    except sc_mod.ScenarioError as exc:
        raise Refused(str(exc)) from None
    if seed is not None:
        sc.seed = seed
    if baseline_budget is not None:
        sc.baseline_budget = baseline_budget
    if processes is not None:
        _processes(sc, processes, minutes, rate, as_json, quiet)
        return
    if plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise Refused("--plot needs matplotlib: pip install 'meshaid[plot]'") from None
    try:
        sim = Simulation(sc, protocol, progress=not quiet)
    except sc_mod.ScenarioError as exc:
        raise Refused(str(exc)) from None
    groups = _groups(sim.world.topology.adjacency())
    if len(groups) > 1:
        click.echo(f"warning: no link joins the mesh's {len(groups)} parts "
                   f"({' | '.join(_span(g) for g in groups)}): each record is owed only "
                   "where it can arrive (`unreachable` counts the rest)", err=True)
    result = sim.run()
    if plot is not None:
        from ..sim.plot import draw

        draw(sim, result, plot)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_summary(result)


def _processes(sc: object, n: int, minutes: float | None, rate: float | None, as_json: bool,
               quiet: bool) -> None:
    import tempfile

    from ..daemon import procbench

    shaped = procbench.shaped(sc, minutes, rate)
    virt = procbench.virtual(shaped, n)  # first: seconds, where the real run takes minutes
    with tempfile.TemporaryDirectory(prefix="meshaid-bench-") as tmp:
        try:
            real = procbench.run(shaped, n, Path(tmp), progress=not quiet)
        except RuntimeError as exc:
            raise Refused(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"processes": real, "virtual": virt}, indent=2))
        return
    for line in procbench.report(real, virt):
        click.echo(line)


def _print_summary(res: dict) -> None:
    conv = res["convergence_s"]
    click.echo(f"{res['scenario']} [{res['protocol']}] seed {res['seed']}: {res['nodes']} nodes, "
               f"{res['records']} records, {res['virtual_h']} h simulated in {res['wall_s']} s")
    click.echo(f"  delivered     {res['delivered_fraction']}"
               + (f" ({res['unreachable']} record-site pairs no link could carry, left out)"
                  if res.get("unreachable") else ""))
    click.echo(f"  convergence   p50 {_s(conv['p50'])}, p95 {_s(conv['p95'])}, max {_s(conv['max'])}"
               f" over {conv['records']} records ({conv['never']} never arrived everywhere)"
               + (f"; catch-up {_catch_up(conv['after'])}" if conv["after"] else ""))
    air = res["airtime_s"]
    click.echo(f"  air time      {air['total']} s: "
               + ", ".join(f"{k} {v}" for k, v in air["by_type"].items()))
    budget = res["budget"]
    click.echo(f"  duty cycle    worst rolling hour {res['max_duty_cycle_pct']} %, own packets "
               f"{res['max_own_duty_cycle_pct']} % (budget {budget['pct']} %: rule "
               f"{budget['rule']}; cap {res['duty_cycle_cap_pct']} %)")
    click.echo(f"  channel util  peak {res['peak_channel_util_pct']} %")
    eta = res["eta"]
    click.echo(f"  eta           {eta['total_greedy']} (gamma_c {eta['gamma_c_greedy']} greedy), "
               f"{eta['total_bound']} (gamma_c >= {eta['gamma_c_bound']}); "
               f"propagation only {eta['propagation_greedy']}")
    click.echo(f"  useful        {res['useful_fraction']}   forks detected {res['forks_detected']}")
    bought = [(k, v) for k, v in res["deliveries_by_type"].items() if v["transmissions"]]
    click.echo("  deliveries    " + ", ".join(
        f"{k} {v['first_deliveries']} from {v['useful']}/{v['transmissions']} sent"
        + (f" ({v['air_per_delivery_s']} s each)" if v["first_deliveries"] else "")
        for k, v in bought))


def _groups(adjacency: list[list[int]]) -> list[list[int]]:
    """The parts of the mesh that links join (a link either way joins two sites)."""
    links: list[set[int]] = [set(hears) for hears in adjacency]
    for a, hears in enumerate(adjacency):
        for b in hears:
            links[b].add(a)
    seen: set[int] = set()
    groups = []
    for start in range(len(adjacency)):
        if start in seen:
            continue
        seen.add(start)
        group, todo = [start], [start]
        while todo:
            for b in links[todo.pop()] - seen:
                seen.add(b)
                group.append(b)
                todo.append(b)
        groups.append(sorted(group))
    return groups


def _span(group: list[int]) -> str:
    """Sites of one part, briefly: 'sites 0-3, 7'."""
    runs: list[list[int]] = []
    for n in group:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "sites " + ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


def _s(value: object) -> str:
    return f"{value} s" if isinstance(value, (int, float)) else str(value)


def _catch_up(after: dict) -> str:
    return ", ".join(f"{k} {_s(v)}" for k, v in after.items())
