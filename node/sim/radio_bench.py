"""Speed benchmark of the radio layer: ``python -m meshaid.node.sim.radio_bench``.

Theory of operation: builds a connected random geometric mesh (default 200
nodes, average degree 7, LONG_FAST, EU 10 % duty cycle, 10 % ROUTERs, 20 %
radio-only relays), has every node broadcast one 150-byte packet per hour at
uniformly random times for 24 h of virtual time, runs the event queue, and
prints wall time, events per second and the headline counters. This is the
only module in the package that reads the wall clock, to time itself.
"""

from __future__ import annotations

import argparse
import random
import time

from .events import EventQueue
from .firmware import Role
from .radio import Mesh
from .topology import random_geometric


def run(nodes: int = 200, hours: float = 24.0, per_node_per_hour: float = 1.0,
        payload: int = 150, seed: int = 1, degree: float = 7.0) -> dict[str, float]:
    """Run the benchmark scenario; return timing and headline numbers."""
    rng = random.Random(seed)
    topo = random_geometric(nodes, degree, rng)
    roles = {i: Role.ROUTER for i in rng.sample(range(nodes), nodes // 10)}
    apps = set(rng.sample(range(nodes), nodes - nodes // 5))
    delivered = [0]

    def on_rx(node: int, data: object, meta: object) -> None:
        delivered[0] += 1

    ev = EventQueue()
    mesh = Mesh(topo, rng=rng, events=ev, roles=roles, apps=apps, duty_cycle_pct=10.0,
                on_receive=on_rx)
    body = bytes(payload)
    horizon = hours * 3600.0
    n_posts = int(nodes * hours * per_node_per_hour)
    for _ in range(n_posts):
        src = rng.randrange(nodes)
        ev.schedule(rng.uniform(0.0, horizon), mesh.send, src, body)
    t0 = time.perf_counter()
    n_events = ev.run_until(horizon + 600.0)
    wall = time.perf_counter() - t0
    st = mesh.stats
    return {
        "nodes": nodes,
        "virtual_hours": hours,
        "broadcasts": n_posts,
        "events": n_events,
        "wall_s": wall,
        "events_per_s": n_events / wall if wall > 0 else float("inf"),
        "tx_frames": st.tx_count,
        "relays": st.relays,
        "cancellations": st.cancellations,
        "collisions": st.collisions,
        "deliveries": delivered[0],
        "deliveries_per_broadcast": delivered[0] / max(1, n_posts),
        "air_time_h": st.tx_airtime / 3600.0,
        "worst_node_duty_pct": max(mesh.max_duty_cycle_pct(i) for i in range(nodes)),
        "peak_channel_util_pct": max(mesh.peak_channel_utilization(i) for i in range(nodes)),
        "refused": sum(st.refused.values()),
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--rate", type=float, default=1.0, help="broadcasts per node per hour")
    ap.add_argument("--payload", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    res = run(a.nodes, a.hours, a.rate, a.payload, a.seed)
    for k, v in res.items():
        print(f"{k:>26}: {v:,.3f}" if isinstance(v, float) else f"{k:>26}: {v:,}")


if __name__ == "__main__":
    main()
