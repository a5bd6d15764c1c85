"""Firmware routers in direct range, as the radio's node list says: the sync
engine beacons through them (node/sync/engine.py `_beacon`)."""

from __future__ import annotations

from types import SimpleNamespace

from meshaid.node.radio.base import Metrics
from meshaid.node.radio.meshtastic_config import routers_near
from meshaid.node.radio.meshtastic_radio import MeshtasticRadio
from meshaid.node.radio.sim_radio import SimAir
from meshaid.node.sim.firmware import Role
from meshaid.node.sim.topology import from_links

NOW = 1_800_000_000.0


def _node(num: int, role: str | None, hops: int | None = None,
          heard: float | None = NOW - 60) -> dict[str, object]:
    entry: dict[str, object] = {"num": num, "user": {"id": f"!{num:08x}"}}
    if role is not None:
        entry["user"] = {"id": f"!{num:08x}", "role": role}
    if hops is not None:
        entry["hopsAway"] = hops
    if heard is not None:
        entry["lastHeard"] = heard
    return entry


def test_routers_heard_directly_and_lately_are_counted() -> None:
    nodes = {
        "a": _node(1, "ROUTER"),  # hopsAway left out by the library: 0
        "b": _node(2, "ROUTER_LATE", hops=0),
        "c": _node(3, "REPEATER", hops=0),
        "d": _node(4, "ROUTER", hops=1),  # behind another relay
        "e": _node(5, "ROUTER", heard=NOW - 2 * 86400),  # not heard for two days
        "f": _node(6, None),  # a client (the library leaves CLIENT out)
        "g": _node(7, "CLIENT_MUTE"),
        "h": _node(8, "ROUTER", heard=None),  # never heard
        "me": _node(9, "ROUTER"),
        "junk": "not a node",
    }
    assert routers_near(nodes, 9, NOW) == 3  # type: ignore[arg-type]
    assert routers_near(None, 9, NOW) == 0


def test_the_meshtastic_adapter_adds_them_to_its_metrics() -> None:
    conn = SimpleNamespace(iface=SimpleNamespace(nodes={"a": _node(1, "ROUTER")}), me=9)
    got = MeshtasticRadio._with_routers(Metrics(5.0, 1.0, 0.0), conn)  # type: ignore[arg-type]
    assert got.routers_near == 1 and got.channel_util_pct == 5.0
    gone = SimpleNamespace(iface=SimpleNamespace(), me=9)  # a library without a node list
    assert MeshtasticRadio._with_routers(Metrics(5.0, 1.0, 0.0), gone).routers_near == 0  # type: ignore[arg-type]


def test_a_simulated_radio_reports_the_routers_beside_it() -> None:
    air = SimAir.build(from_links(3, [(0, 1, 4.0), (1, 2, 4.0)]), seed=1)
    air.mesh.set_role(1, Role.ROUTER)
    got: list[object] = []
    air.radio(0).start(got.append)
    air.events.run_until(1.0)
    metrics = [e for e in got if isinstance(e, Metrics)]
    assert metrics and metrics[0].routers_near == 1
    assert air.mesh.routers_near(1) == 0  # its neighbours are clients
