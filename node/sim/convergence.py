"""Convergence: how long a record takes to reach the nodes that should get it.

Theory of operation
-------------------
A record is owed to the ledger nodes that could have received it when it was
created: powered on, joined (a late joiner is not owed what came before it),
not an attacker, and reachable from the author over live links that carry our
port (radio-only relays count as transit; a router left on CORE_PORTNUMS_ONLY
does not, nor an attacker's radio; the other side of a partition does not).
`present` computes that set when a record is authored; it is cached per author
until the network changes (`Simulation.net_version`).

Of that set, the nodes still up at the end of the run are the ones it is
timed over: convergence = last arrival - creation. A record that never
reaches one of them never converges: it enters the percentiles as infinity,
so a protocol that loses records cannot look fast, and a p95 that falls on a
lost record is reported as "not reached" (`NOT_REACHED`) instead of a number.

Whatever a node gets after it joins, returns, or after a partition heals is
catch-up, measured on its own (`catch_up`): from the event until the nodes
concerned hold every record that existed then.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import Simulation

NOT_REACHED = "not reached"
NEVER = math.inf
_ABSENT = -1.0  # virtual times are never negative


class Arrivals(MutableMapping[int, float]):
    """When each node first held one record (node -> virtual time), as a flat
    array of the mesh's nodes: 8 bytes a node where a dict costs about 70, for
    every record of a 200-node run."""

    __slots__ = ("_t",)

    def __init__(self, nodes: int) -> None:
        """No node holds it yet."""
        self._t = array("d", [_ABSENT]) * nodes

    def __getitem__(self, n: int) -> float:
        t = self._t[n]
        if t < 0.0:
            raise KeyError(n)
        return t

    def __contains__(self, n: object) -> bool:
        return isinstance(n, int) and 0 <= n < len(self._t) and self._t[n] >= 0.0

    def __setitem__(self, n: int, t: float) -> None:
        self._t[n] = t

    def __delitem__(self, n: int) -> None:
        if n not in self:
            raise KeyError(n)
        self._t[n] = _ABSENT

    def __iter__(self) -> Iterator[int]:
        return (n for n, t in enumerate(self._t) if t >= 0.0)

    def __len__(self) -> int:
        return sum(1 for t in self._t if t >= 0.0)

    def first(self, n: int, t: float) -> None:
        """Node n got it at t, unless it held it already."""
        if self._t[n] < 0.0:
            self._t[n] = t


def present(sim: Simulation, author: int) -> frozenset[int]:
    """Ledger nodes owed a record `author` creates now (see the module doc)."""
    cache: dict[tuple[int, int], frozenset[int]] = sim.__dict__.setdefault("_present_cache", {})
    key = (sim.net_version, author)
    hit = cache.get(key)
    if hit is not None:
        return hit
    if len(cache) > 4096:
        cache.clear()
    mesh = sim.mesh
    adjacency = sim.__dict__.get("_adjacency")
    if adjacency is None:  # the topology's links never change (cuts are the mesh's)
        adjacency = sim.__dict__["_adjacency"] = sim.world.topology.adjacency()
    seen = {author}
    todo = deque([author])
    while todo:
        a = todo.popleft()
        if a != author and (mesh.nodes[a].core_only or a in sim.attackers):
            continue  # hears our packets but neither relays nor delivers them (an
            # attacker's radio may relay, but nobody is owed what only it carries)
        for b in adjacency[a]:
            if b not in seen and mesh.is_up(b) and mesh.link_up(a, b):
                seen.add(b)
                todo.append(b)
    nodes = frozenset(n for n in seen if n in sim.nodes and sim.nodes[n].joined
                      and mesh.is_up(n) and n not in sim.attackers
                      and not mesh.nodes[n].core_only)
    cache[key] = nodes
    return nodes


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (linear interpolation); infinity if it falls on a lost record."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    a, b = ordered[lo], ordered[hi]
    if math.isinf(b):
        return a if lo == hi or k == lo else NEVER
    return a + (b - a) * (k - lo)


def per_record(created: Mapping[bytes, float], owed: Mapping[bytes, Iterable[int]],
               have: Mapping[bytes, Mapping[int, float]], alive: set[int]) -> dict[bytes, float]:
    """Seconds from creation until the last owed node still `alive` held each record
    (NEVER if one of them never did). Records owed to no live node are left out."""
    out: dict[bytes, float] = {}
    for rid, t0 in created.items():
        nodes = [n for n in owed.get(rid, ()) if n in alive]
        if not nodes:
            continue
        got = have.get(rid, {})
        if all(n in got for n in nodes):
            out[rid] = max(got[n] for n in nodes) - t0
        else:
            out[rid] = NEVER
    return out


def figures(values: list[float]) -> dict[str, float | int | str | None]:
    """p50 / p95 / max of per-record times, with lost records as "not reached"."""
    never = sum(1 for v in values if math.isinf(v))
    return {"p50": show(percentile(values, 0.5)), "p95": show(percentile(values, 0.95)),
            "max": show(max(values) if values else None), "records": len(values),
            "never": never}


def show(value: float | None) -> float | str | None:
    """A figure for the report: rounded seconds, or "not reached"."""
    if value is None:
        return None
    if math.isinf(value):
        return NOT_REACHED
    return round(value, 1)


def catch_up(t_event: float, nodes: Iterable[int], created: Mapping[bytes, float],
             have: Mapping[bytes, Mapping[int, float]]) -> float | str:
    """Seconds from `t_event` until every node in `nodes` held every record created
    up to then ("not reached" if one never did)."""
    latest = t_event
    nodes = list(nodes)
    for rid, t0 in created.items():
        if t0 > t_event:
            continue
        got = have.get(rid, {})
        for n in nodes:
            if n not in got:
                return NOT_REACHED
            latest = max(latest, got[n])
    return round(latest - t_event, 1)
