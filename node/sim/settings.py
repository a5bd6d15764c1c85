"""Scenario settings that apply to every protocol alike: budget, hop limit, roles, queue.

Theory of operation
-------------------
A comparison is fair only if the protocols run under the same rules, and a
reader can see which. This module turns a scenario into

* the `SyncConfig` every protocol gets (`sync_config`): the budget is each
  node's own share of the duty-cycle cap (`budget_share`, default 0.5) for
  meshaid and, by default, for the baselines too; `baseline_budget = "cap"`
  gives the baselines the firmware's full cap instead (the firmware's
  duty-cycle limit is the backstop for everyone either way). The scenario's
  `[mesh] hop_limit` is the baselines' flood hop limit and meshaid's largest
  digest scope;
* the radio roles (`apply_mesh`): routers with the scenario's rebroadcast
  mode (a ROUTER left on CORE_PORTNUMS_ONLY drops our private port), mutes,
  radio-only relays;
* how an application hands packets to its radio (`Sender`): with
  `queue = "wait"` (the default, as the Meshtastic Python library does) a
  packet waits while the device's TX queue is full and goes when a slot
  frees; with `queue = "drop"` the radio refuses it.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import TYPE_CHECKING, Any

from ..sync.ports import Outgoing, SyncConfig
from . import background
from .airtime import frame_bytes, time_on_air
from .firmware import HOP_LIMIT_DEFAULT, Role
from .packets import Packet

if TYPE_CHECKING:
    from .runner import Simulation
    from .scenario import Scenario

BUDGET_RULES = ("share", "cap")
QUEUE_MODES = ("wait", "drop")
QUEUED_MAX = 64  # own frames remembered per radio until they go on air (its queue holds 16)
REBROADCAST_MODES = ("ALL", "LOCAL_ONLY", "KNOWN_ONLY", "NONE", "CORE_PORTNUMS_ONLY")


def budget_share(sc: Scenario, protocol: str) -> float:
    """Share of the duty-cycle cap that `protocol`'s own packets may use."""
    if protocol != "meshaid" and sc.baseline_budget == "cap":
        return 1.0
    return float(sc.sync.get("budget_share", 0.5))


def hop_limit(sc: Scenario) -> int:
    """The scenario's hop limit (every protocol's)."""
    return int(sc.mesh.get("hop_limit", HOP_LIMIT_DEFAULT))


def sync_config(sc: Scenario, protocol: str, network_tag: bytes) -> SyncConfig:
    """The SyncConfig for every node of `protocol` in scenario `sc`."""
    preset = sc.preset
    cap = sc.duty_cycle_pct or 10.0
    cfg = SyncConfig(network_tag=network_tag,
                     airtime=functools.lru_cache(maxsize=512)(
                         lambda n: time_on_air(frame_bytes(n), preset)),
                     budget_s_per_hour=3600.0 * cap / 100.0 * budget_share(sc, protocol))
    hops = hop_limit(sc)
    cfg.max_scope = hops
    cfg.extra["hop_limit"] = float(hops)
    for key, value in sc.sync.items():
        if key == "budget_share":
            continue
        if hasattr(cfg, key):
            current = getattr(cfg, key)
            setattr(cfg, key, tuple(float(v) for v in value) if isinstance(current, tuple)
                    else type(current)(value))
        else:
            cfg.extra[key] = float(value)
    return cfg


def budget_info(sc: Scenario, protocol: str) -> dict[str, Any]:
    """What the report says about the budget rule used."""
    cap = sc.duty_cycle_pct or 10.0
    share = budget_share(sc, protocol)
    rule = "cap" if protocol != "meshaid" and sc.baseline_budget == "cap" else "share"
    return {"rule": rule, "share": share, "pct": round(cap * share, 3)}


PACKET_SIGNATURE_BYTES = 66  # XEdDSA signature and its field tag on firmware 2.8


def apply_mesh(sim: Simulation) -> None:
    """Roles and rebroadcast modes of the scenario on the simulation's mesh."""
    mesh = sim.mesh
    mesh.duty_mode = str(sim.sc.mesh.get("duty_mode", mesh.duty_mode))
    if sim.sc.mesh.get("packet_signatures", False):
        mesh.signature_bytes = PACKET_SIGNATURE_BYTES
    mesh.rate_limit = int(sim.sc.mesh.get("rate_limit_per_min", 0))
    mode = str(sim.sc.mesh.get("router_rebroadcast", "ALL"))
    for n in sim.world.routers:
        mesh.set_role(n, Role.ROUTER)
        mesh.set_rebroadcast_mode(n, mode)
    for n in sim.sc.topology.get("mutes", []):
        mesh.set_role(int(n), Role.CLIENT_MUTE)
    for n in sim.world.relays:
        if n not in sim.world.routers:
            mesh.set_rebroadcast_mode(n, "ALL")
    background.schedule(sim, hop_limit(sim.sc))


class Sender:
    """An application's link to its radio: waits while the TX queue is full, or drops."""

    def __init__(self, sim: Simulation, wait: bool = True) -> None:
        self.sim = sim
        self.wait = wait
        self.waiting: dict[int, deque[Outgoing]] = {}
        self.waited = 0  # packets that had to wait for a free slot
        # per node: the packets in its radio's queue, so that the protocol hears
        # when each went on air (`sent`: its budget counts the air from then)
        self.queued: dict[int, dict[int, tuple[Any, Outgoing]]] = {}
        sim.mesh.on_tx_done = self.tx_done

    def send(self, n: int, out: Outgoing) -> bool:
        """Hand `out` to node n's radio; False if the radio refused it."""
        mesh = self.sim.mesh
        line = self.waiting.get(n)
        if self.wait and (line or mesh.queue_len(n) >= mesh.tx_queue_len):
            self.waiting.setdefault(n, deque()).append(out)
            self.waited += 1
            return True
        if self._radio(n, out):
            return True
        self._refused(n, out)
        return False

    def _radio(self, n: int, out: Outgoing) -> bool:
        if not self.sim.mesh.send(n, out.payload, hop_limit=out.hop_limit, tag=out.tag):
            return False
        queued = self.queued.setdefault(n, {})
        queued[id(out.payload)] = (out.payload, out)
        if len(queued) > QUEUED_MAX:  # frames the radio dropped unsent: forget the oldest
            del queued[next(iter(queued))]
        return True

    def _refused(self, n: int, out: Outgoing) -> None:
        """The radio said no (duty cycle, too large): tell the engine, as the daemon
        does on a NAK, so it can send those records again (if it knows how)."""
        node = self.sim.nodes.get(n)
        failed = getattr(node.engine, "send_failed", None) if node is not None else None
        if failed is not None:
            failed(out, self.sim.events.now)

    def tx_done(self, n: int, pkt: Packet) -> None:
        """A frame left node n's radio: tell the protocol when its own went on
        air; a waiting packet takes the free slot."""
        if pkt.own:
            entry = self.queued.get(n, {}).pop(id(pkt.payload), None)
            node = self.sim.nodes.get(n)
            sent = getattr(node.engine, "sent", None) if node is not None else None
            if entry is not None and entry[0] is pkt.payload and sent is not None:
                sent(entry[1], self.sim.events.now - pkt.airtime)
        line = self.waiting.get(n)
        mesh = self.sim.mesh
        refused = False
        while line and mesh.queue_len(n) < mesh.tx_queue_len:
            out = line.popleft()
            if not self._radio(n, out):
                self._refused(n, out)
                refused = True
        if refused and n in self.sim.nodes:
            self.sim.pump(n)

    def power_off(self, n: int) -> None:
        """Node n lost power: what waited in its app's queue is gone."""
        self.waiting.pop(n, None)
        self.queued.pop(n, None)
