"""The bench's numbers, from a finished simulation.

* delivered_fraction: over every (record, node that should hold it), the share
  held at the end. Should: every ledger node up at the end (attackers aside)
  that was owed it when it was created (convergence.py) or that can reach, at
  the end, a node up then that holds it (`reachable_holders`): a site no link
  reaches (a town placed from positions can leave one alone) is owed nothing,
  for every protocol alike. `unreachable`: the (record, node) pairs left out.
  Rounded down to four places: 1.0 means every pair (rounded to nearest, a
  run one pair in 54,000 short read 1.0: b3 on steady-50).
* convergence_s: per record, from creation until the last node owed it held
  it (p50, p95, max; "not reached" when that percentile falls on a record one
  of them never got; `records`, `never`): owed = the ledger nodes up, joined
  and reachable when it was created and up at the end (convergence.py).
  `after`: catch-up after each join, return and heal, from the event until
  the nodes concerned held every record that existed then.
* airtime_s: total on air (firmware relays included), `honest` (attackers and
  Meshtastic's own background traffic left out: what the protocol cost),
  `background`, and by message type.
* budget: the rule each protocol ran under ("share": each node's own share
  of the cap, the default for every protocol; "cap": baselines given the
  firmware's full cap), with the share and the percentage of air it allows.
* max_duty_cycle_pct: worst exact rolling hour of any node, firmware relays
  included; max_own_duty_cycle_pct: the same for a node's own packets only
  (what the sync budget governs).
* peak_channel_util_pct: highest firmware-style 60 s utilisation seen.
* eta: air time used over the lower bound gamma_c x sum(air time of each record
  alone), with gamma_c from a greedy connected dominating set (an upper
  estimate: so eta_greedy is optimistic) and from the bound
  gamma_c >= (n - 2) / (max degree - 1) (eta_bound is pessimistic).
* idle_util_pct: once all agree, the worst neighbourhood's share of air time.
* useful_fraction: record bytes delivered (each record once, times its
  delivered share) over payload bytes on air.
* deliveries_by_type: what each message type bought. Per tag: its
  transmissions (firmware relays of its packets included, as in airtime_s),
  `useful` (those that brought at least one node a record it did not hold:
  a node's first copy), `first_deliveries` (those (node,
  record) first copies) and `air_per_delivery_s` (its air over them; None
  when it delivered none). A record's author holds it without a delivery.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .airtime import frame_bytes, time_on_air
from .background import TAGS as BACKGROUND_TAGS
from .convergence import catch_up, figures, per_record, present
from .settings import budget_info, hop_limit

if TYPE_CHECKING:
    from .runner import Simulation

PROPAGATION_TAGS = {"push", "forward", "b0-state", "b1-push", "b2-push", "b3-push"}


def catch_ups(sim: Simulation, should: list[int],
              born: dict[bytes, float]) -> dict[str, float | str]:
    """Catch-up after each join, return and heal: seconds from the event until the
    nodes concerned held every record that existed then ("not reached" if never)."""
    joined_at = {int(k.split(":")[1]): t for k, t in sim.marks.items() if k.startswith("join:")}
    out: dict[str, float | str] = {}
    for mark, t_event in sim.marks.items():
        kind, _, who = mark.partition(":")
        if kind == "heal":
            nodes = [n for n in should if joined_at.get(n, 0.0) <= t_event]
        elif kind in ("join", "return") and int(who) in should:
            nodes = [int(who)]
        else:
            continue
        out[mark] = catch_up(t_event, nodes, born, sim.have)
    return out


def greedy_cds(adjacency: dict[int, set[int]]) -> int:
    """Size of a greedy connected dominating set (Guha-Khuller style growth); for
    a mesh in pieces (sites out of everyone's range), the sum over its pieces."""
    if len(adjacency) == 1:
        return 1  # a lone node sends; nobody relays
    left = set(adjacency)
    total = 0
    while left:
        start = max(left, key=lambda n: (len(adjacency[n] & left), -n))
        black = {start}
        covered = {start} | (adjacency[start] & left)
        while True:
            frontier = covered - black
            best = max(frontier, key=lambda n: (len(adjacency[n] - covered), -n), default=None)
            if best is None or not adjacency[best] - covered:
                break
            black.add(best)
            covered |= adjacency[best]
        if len(covered) > 1:  # (a site alone in its piece reaches nobody: no relay)
            total += len(black)
        left -= covered
    return total


def cds_lower_bound(adjacency: dict[int, set[int]]) -> int:
    n = len(adjacency)
    delta = max((len(v) for v in adjacency.values()), default=1)
    return max(1, math.ceil((n - 2) / max(1, delta - 1)))


def reachable_holders(sim: Simulation, alive: list[int], got: Any) -> set[int]:
    """The nodes of `alive` that can reach, now (the end), one of them holding a
    record (`got`): each holder's reach (convergence.py `present`, cached per
    node) taken once per distinct piece of the mesh."""
    out: set[int] = set()
    for n in alive:
        if n in got and n not in out:
            out |= present(sim, n)
    return out


def delivered(held: int, total: int) -> float | None:
    """The share `held` of `total` (record, node) pairs, rounded down to four
    places: 1.0 only if every pair was delivered (None: none owed)."""
    return math.floor(held * 10_000 / total) / 10_000 if total else None


def summarise(sim: Simulation, wall_s: float) -> dict[str, Any]:
    end = sim.events.now
    should = [n for n in sim.world.ledger_nodes
              if sim.mesh.is_up(n) and sim.nodes[n].joined and n not in sim.attackers]
    wanted = {rid: info for rid, info in sim.created.items() if info[1] != -2}
    held = 0
    total = 0
    delivered_bytes = 0.0
    unreachable = 0
    for rid, (t0, _author, size) in wanted.items():
        got = sim.have.get(rid, {})
        owed = reachable_holders(sim, should, got) | sim.expected.get(rid, frozenset())
        count = sum(1 for n in should if n in got and n in owed)
        due = sum(1 for n in should if n in owed)
        unreachable += len(should) - due
        held += count
        total += due
        delivered_bytes += size * count / max(1, due)
    alive = set(should)
    born = {rid: info[0] for rid, info in wanted.items() if info[0] > 0}
    conv = per_record(born, sim.expected, sim.have, alive)
    conv_urgent = [v for rid, v in conv.items() if rid in sim.urgent]
    after = catch_ups(sim, should, {rid: info[0] for rid, info in wanted.items()})
    stats = sim.mesh.stats
    by_tag = {tag: round(v, 1) for tag, v in sorted(stats.airtime_by_tag.items())}
    preset = sim.sc.preset
    alone = sum(time_on_air(frame_bytes(size), preset) for t0, _a, size in wanted.values()
                if t0 > 0)
    adjacency = {n: set(sim.world.topology.neighbors(n)) for n in range(sim.world.topology.n)}
    gamma = greedy_cds(adjacency)
    gamma_lb = cds_lower_bound(adjacency)
    honest_air = sum(v for tag, v in stats.airtime_by_tag.items()
                     if tag != "attack" and tag not in BACKGROUND_TAGS)
    background_air = sum(v for tag, v in stats.airtime_by_tag.items() if tag in BACKGROUND_TAGS)
    prop_air = sum(v for tag, v in stats.airtime_by_tag.items() if tag in PROPAGATION_TAGS)
    payload_bytes = getattr(stats, "tx_payload_bytes", 0) or 0
    duty = max((sim.mesh.max_duty_cycle_pct(n) for n in range(sim.world.topology.n)
                if n not in sim.attackers), default=0.0)
    from .firmware import max_rolling_duty_pct

    own_duty = max((max_rolling_duty_pct(sim.mesh.own_transmissions(n))
                    for n in range(sim.world.topology.n) if n not in sim.attackers), default=0.0)
    util = max((sim.mesh.peak_channel_utilization(n) for n in range(sim.world.topology.n)),
               default=0.0)
    forks = 0
    for n in should:
        forks += bool(sim.nodes[n].store.db.execute("SELECT COUNT(*) FROM forks").fetchone()[0])
    engines = [sim.nodes[n].engine for n in should]
    dropped: dict[str, int] = {}
    for e in engines:
        for reason, k in e.stats.dropped.items():
            dropped[reason] = dropped.get(reason, 0) + k
    cap = sim.sc.duty_cycle_pct
    budget = budget_info(sim.sc, sim.protocol)
    idle = idle_utilisation(sim, wanted, should, end)
    return {
        "scenario": sim.sc.name,
        "protocol": sim.protocol,
        "seed": sim.sc.seed,
        "nodes": sim.world.topology.n,
        "ledger_nodes": len(sim.world.ledger_nodes),
        "records": len([w for w in wanted.values() if w[0] > 0]),
        "initial_records": len(sim.world.history),
        "virtual_h": round(end / 3600.0, 2),
        "delivered_fraction": delivered(held, total),
        "unreachable": unreachable,
        "convergence_s": {**figures(list(conv.values())), "after": after},
        "convergence_critical_s": {
            "count": len([rid for rid in wanted if rid in sim.urgent]),
            **figures(conv_urgent),
            "times": [round(v, 1) if math.isfinite(v) else None for v in sorted(conv_urgent)],
        },
        "airtime_s": {"total": round(stats.tx_airtime, 1), "honest": round(honest_air, 1),
                      "background": round(background_air, 1), "by_type": by_tag},
        "max_duty_cycle_pct": round(duty, 3),
        "max_own_duty_cycle_pct": round(own_duty, 3),
        "duty_cycle_cap_pct": cap,
        "budget_pct": budget["pct"],
        "budget": budget,
        "hop_limit": hop_limit(sim.sc),
        "peak_channel_util_pct": round(util, 2),
        "idle_util_pct": idle,
        "eta": {
            "total_greedy": _r(honest_air / (gamma * alone), 3) if alone and gamma else None,
            "total_bound": _r(honest_air / (gamma_lb * alone), 3) if alone else None,
            "propagation_greedy": _r(prop_air / (gamma * alone), 3) if alone and gamma else None,
            "gamma_c_greedy": gamma,
            "gamma_c_bound": gamma_lb,
            "record_airtime_alone_s": round(alone, 1),
        },
        "useful_fraction": _r(delivered_bytes / payload_bytes, 4) if payload_bytes else None,
        "deliveries_by_type": deliveries(sim),
        "forks_detected": forks,
        "text_bytes": {"plain": sim.text_bytes[0], "coded": sim.text_bytes[1],
                       "records": sim.text_bytes[2]},
        "dropped": dropped,
        "attack_packets": sim.attack_sent,
        "radio": {"collisions": stats.collisions, "refused": dict(stats.refused),
                  "relays": stats.relays, "waited_for_queue": sim.sender.waited,
                  "dropped_core_only": stats.dropped_core_only},
        "wall_s": round(wall_s, 2),
    }


def deliveries(sim: Simulation) -> dict[str, dict[str, Any]]:
    """`deliveries_by_type` (see the module doc), for every tag sent."""
    stats = sim.mesh.stats
    out: dict[str, dict[str, Any]] = {}
    for tag in sorted(stats.tx_by_tag):
        firsts = sim.firsts.get(tag, 0)
        out[tag] = {
            "transmissions": stats.tx_by_tag[tag],
            "useful": sim.useful.get(tag, 0),
            "first_deliveries": firsts,
            "air_per_delivery_s": _r(stats.airtime_by_tag.get(tag, 0.0) / firsts, 3)
            if firsts else None,
        }
    return out


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def idle_utilisation(sim: Simulation, wanted: dict[bytes, tuple[float, int, int]],
                     should: list[int], end: float) -> dict[str, float] | None:
    """Air time per neighbourhood once every node agrees: from 10 minutes after the
    last record reached its last node to the end of the run (at least an hour),
    the worst node's share of time that it or a neighbour was transmitting."""
    last = 0.0
    for rid in wanted:
        got = sim.have.get(rid, {})
        for n in should:
            if n not in got:
                return None  # never converged: no idle period to measure
            last = max(last, got[n])
    start = last + 600.0
    if end - start < 3600.0:
        return None
    busy = []
    topo = sim.world.topology
    for v in range(topo.n):
        hood = {v, *topo.neighbors(v)}
        air = sum(min(t + d, end) - max(t, start)
                  for n in hood for t, d in sim.mesh.transmissions(n) if t + d > start and t < end)
        busy.append(air / (end - start))
    return {"window_h": round((end - start) / 3600.0, 2),
            "max_pct": round(100.0 * max(busy), 4),
            "mean_pct": round(100.0 * sum(busy) / len(busy), 4)}
