"""`meshaid bench --plot FILE.png`: convergence over time and air time per node.

Needs matplotlib (the optional `plot` extra); imported only when asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .firmware import max_rolling_duty_pct

if TYPE_CHECKING:
    from .runner import Simulation


def draw(sim: Simulation, result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8))
    should = [n for n in sim.world.ledger_nodes if n not in sim.attackers]
    events = []
    for rid, (t0, _author, _size) in sim.created.items():
        if t0 <= 0:
            continue
        events.append((t0, 1, 0))
        got = sim.have.get(rid, {})
        for n in should:
            if n in got:
                events.append((got[n], 0, 1))
    events.sort()
    xs, created, held = [0.0], [0], [0]
    c = h = 0
    for t, dc, dh in events:
        c += dc
        h += dh
        xs.append(t / 3600.0)
        created.append(c * len(should))
        held.append(h)
    top.plot(xs, created, label="(record, node) pairs that should exist")
    top.plot(xs, held, label="pairs delivered")
    for mark, t in sim.marks.items():
        top.axvline(t / 3600.0, color="grey", linestyle=":")
        top.text(t / 3600.0, 0, mark, rotation=90, fontsize=7, va="bottom")
    top.set_xlabel("simulated hours")
    top.set_ylabel("record copies")
    top.set_title(f"{result['scenario']} [{result['protocol']}]: delivered "
                  f"{result['delivered_fraction']}, p95 {result['convergence_s']['p95']} s")
    top.legend(loc="upper left", fontsize=8)
    nodes = list(range(sim.world.topology.n))
    total = [max_rolling_duty_pct(sim.mesh.transmissions(n)) for n in nodes]
    own = [max_rolling_duty_pct(sim.mesh.own_transmissions(n)) for n in nodes]
    bottom.bar(nodes, total, color="#bbbbbb", label="all frames (firmware relays too)")
    bottom.bar(nodes, own, color="#3366aa", label="own packets")
    bottom.axhline(result["budget_pct"], color="green", label=f"sync budget {result['budget_pct']} %")
    if result["duty_cycle_cap_pct"]:
        bottom.axhline(result["duty_cycle_cap_pct"], color="red",
                       label=f"duty-cycle cap {result['duty_cycle_cap_pct']} %")
    bottom.set_xlabel("node")
    bottom.set_ylabel("worst rolling hour, % air time")
    bottom.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
