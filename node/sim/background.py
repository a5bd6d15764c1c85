"""Meshtastic's own traffic on the channel: position, telemetry and node info.

Theory of operation
-------------------
Every radio in a real mesh (ledger sites, relays and routers alike) sends its
own broadcasts whether or not anyone runs an application on it. With a
`[background]` table a scenario adds them, per node, at fixed intervals (the
firmware defaults are about 15 min for position, 30 min for device telemetry
and 3 h for node info; 0 turns one off), each node starting at a random
offset drawn from a random stream of its own (so the same under every
protocol). Payload sizes are typical encoded sizes: position 30 bytes,
device telemetry 25, node info (with its public key) 80. They travel at the
scenario's hop limit as `CorePayload`, which routers on CORE_PORTNUMS_ONLY
still relay, which our application never sees, and which does not count as
a node's own (sync) air time. Their air time is reported under the tags
`bg-position`, `bg-telemetry` and `bg-nodeinfo`.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .packets import CorePayload

if TYPE_CHECKING:
    from .runner import Simulation

KINDS = {"position_s": ("bg-position", 30), "telemetry_s": ("bg-telemetry", 25),
         "nodeinfo_s": ("bg-nodeinfo", 80)}
DEFAULTS = {"position_s": 900.0, "telemetry_s": 1800.0, "nodeinfo_s": 10800.0}
TAGS = frozenset(tag for tag, _size in KINDS.values())


def schedule(sim: Simulation, hop_limit: int) -> None:
    """Start every node's background broadcasts, if the scenario asks for them."""
    if not sim.sc.background:
        return
    rng = random.Random(f"background:{sim.sc.seed}")
    for key, (tag, size) in KINDS.items():
        period = float(sim.sc.background.get(key, DEFAULTS[key]))
        if period <= 0:
            continue
        payload = CorePayload(bytes(size))
        for n in range(sim.world.topology.n):
            sim.events.schedule(rng.uniform(0, period), _send, sim, n, payload, tag, period,
                                hop_limit)


def _send(sim: Simulation, n: int, payload: CorePayload, tag: str, period: float,
          hop_limit: int) -> None:
    if sim.mesh.is_up(n):
        sim.mesh.send(n, payload, hop_limit=hop_limit, tag=tag)
    sim.events.schedule(sim.events.now + period, _send, sim, n, payload, tag, period, hop_limit)
