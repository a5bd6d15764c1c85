"""Managed flooding, roles, half-duplex, collisions and capture."""

from __future__ import annotations

import functools
import random

import pytest

from meshaid.node.sim.firmware import Role
from meshaid.node.sim.radio import BROADCAST, Mesh
from meshaid.node.sim.topology import from_links, line, random_geometric

from .helpers import make


@pytest.mark.parametrize("hop_limit", [0, 1, 2, 3])
def test_chain_reaches_exactly_hop_limit_plus_one(hop_limit: int) -> None:
    mesh, rec = make(line(8))
    assert mesh.send(0, b"hello", hop_limit=hop_limit)
    mesh.events.run_until(120)
    assert rec.nodes() == set(range(1, hop_limit + 2))
    for node, payload, meta in rec.got:
        assert payload == b"hello"
        assert meta.from_node == 0 and meta.to == BROADCAST
        assert meta.hop_start == hop_limit
        assert meta.hops_away == node - 1
        assert meta.relay_node == node - 1
    assert mesh.stats.relays == hop_limit


def test_a_spoofed_header_claims_relays_it_never_went_through() -> None:
    """An attacker's header (attacks.py `far-claims`): hop start 3 and hop limit 0,
    so its neighbours read three relays and nobody relays it on."""
    mesh, rec = make(line(4))
    assert mesh.send(1, b"far away", hop_limit=0, hop_start=3, src=0x40000001)
    mesh.events.run_until(60)
    assert rec.nodes() == {0, 2} and mesh.stats.relays == 0
    for _node, _payload, meta in rec.got:
        assert meta.from_node == 0x40000001 and meta.hop_start == 3 and meta.hops_away == 3
        assert meta.relay_node == 1  # the header names the radio that sent it


def test_a_spoofed_header_may_name_any_relay() -> None:
    """relay_node is the attacker's to set too (node/sync/hearers.py reads it); the
    copies that honest radios relay name the relaying radio."""
    mesh, rec = make(line(4))
    assert mesh.send(1, b"named", hop_limit=1, hop_start=2, relay=3)
    mesh.events.run_until(60)
    got = {node: meta for node, _payload, meta in rec.got}
    assert got[0].relay_node == 3 and got[2].relay_node == 3
    assert got[3].relay_node == 2 and got[3].hops_away == 2  # node 2 relayed it on


def test_three_hop_chain_with_default_hop_limit() -> None:
    mesh, rec = make(line(4))
    mesh.send(0, b"x")
    mesh.events.run_until(60)
    assert rec.nodes() == {1, 2, 3}
    mesh2, rec2 = make(line(6))
    mesh2.send(0, b"x")  # hop_limit 3: one direct hop plus three relays
    mesh2.events.run_until(60)
    assert rec2.nodes() == {1, 2, 3, 4}


def test_client_mute_never_relays() -> None:
    mesh, rec = make(line(3), roles={1: Role.CLIENT_MUTE})
    mesh.send(0, b"x")
    mesh.events.run_until(60)
    assert rec.nodes() == {1}
    assert mesh.stats.relays == 0


def _diamond() -> list[tuple[int, int, float]]:
    # 0 is heard by relays 1 and 2, which hear each other; 3 hears only the relays.
    return [(0, 1, 0.0), (0, 2, 0.0), (1, 2, 0.0), (1, 3, 0.0), (2, 3, 0.0)]


def test_client_cancels_duplicate_relay() -> None:
    for seed in range(10):
        mesh, rec = make(from_links(4, _diamond()), seed=seed, roles={3: Role.CLIENT_MUTE})
        mesh.send(0, b"x", hop_limit=1)
        mesh.events.run_until(60)
        assert mesh.stats.relays == 1
        assert mesh.stats.cancellations == 1
        assert 3 in rec.nodes()


def test_router_never_cancels() -> None:
    for seed in range(10):
        mesh, _rec = make(from_links(4, _diamond()), seed=seed,
                          roles={1: Role.ROUTER, 2: Role.ROUTER, 3: Role.CLIENT_MUTE})
        mesh.send(0, b"x", hop_limit=1)
        mesh.events.run_until(60)
        assert mesh.stats.relays == 2
        assert mesh.stats.cancellations == 0


def test_router_relays_before_client() -> None:
    for seed in range(10):
        tx: list[int] = []
        mesh, _rec = make(from_links(4, _diamond()), seed=seed,
                          roles={1: Role.ROUTER, 3: Role.CLIENT_MUTE})
        mesh.on_tx_done = lambda node, pkt, tx=tx: tx.append(node)
        mesh.send(0, b"x", hop_limit=1)
        mesh.events.run_until(60)
        assert tx == [0, 1]  # the CLIENT (2) heard the ROUTER and cancelled
        assert mesh.stats.cancellations == 1


def test_low_snr_relays_first() -> None:
    # 0 -> 1 is weak, 0 -> 2 strong; both reach 3. The far (low-SNR) node should relay first.
    links = [(0, 1, -15.0), (0, 2, 10.0), (1, 2, 0.0), (1, 3, 0.0), (2, 3, 0.0)]
    first = []
    for seed in range(40):
        tx: list[int] = []
        mesh, _rec = make(from_links(4, links), seed=seed, roles={3: Role.CLIENT_MUTE})
        mesh.on_tx_done = lambda node, pkt, tx=tx: tx.append(node)
        mesh.send(0, b"x", hop_limit=1)
        mesh.events.run_until(60)
        first.append(tx[1])
    assert first.count(1) >= 36


def test_direct_message_only_to_destination() -> None:
    mesh, rec = make(line(4))
    assert mesh.send(0, b"dm", to=3)
    mesh.events.run_until(60)
    assert rec.nodes() == {3}
    assert mesh.stats.relays == 2  # 1 and 2 relay; 3 does not relay what is for it


def test_half_duplex() -> None:
    # With CAD blind for 10 s both nodes key up together: neither hears the other.
    mesh, rec = make(line(2), cad_blind_s=10.0)
    mesh.send(0, b"a", hop_limit=0)
    mesh.send(1, b"b", hop_limit=0)
    mesh.events.run_until(30)
    assert rec.got == []
    assert mesh.stats.half_duplex == 2
    # With working CAD a node that senses the other's frame waits, and both get through.
    mesh, rec = make(line(2))
    mesh.send(0, bytes(231), hop_limit=0)
    mesh.events.schedule(0.25, mesh.send, 1, b"b")
    mesh.events.run_until(30)
    assert rec.nodes() == {0, 1}
    assert mesh.stats.half_duplex == 0
    assert mesh.stats.cad_backoffs >= 1


def _hidden(snr_a: float, snr_b: float) -> list[tuple[int, int, float]]:
    return [(0, 1, snr_a), (2, 1, snr_b)]  # 0 and 2 cannot hear each other


def test_collision_without_capture() -> None:
    mesh, rec = make(from_links(3, _hidden(0.0, 1.0)))
    mesh.send(0, b"a", hop_limit=0)
    mesh.send(2, b"b", hop_limit=0)
    mesh.events.run_until(30)
    assert 1 not in rec.nodes()
    assert mesh.stats.collisions == 2


def test_capture_effect() -> None:
    mesh, rec = make(from_links(3, _hidden(10.0, -5.0)))
    mesh.send(0, b"strong", hop_limit=0)
    mesh.send(2, b"weak", hop_limit=0)
    mesh.events.run_until(30)
    assert [(n, p) for n, p, _m in rec.got if n == 1] == [(1, b"strong")]
    assert mesh.stats.collisions == 1
    # a stricter capture threshold loses both
    mesh, rec = make(from_links(3, _hidden(10.0, -5.0)), capture_db=20.0)
    mesh.send(0, b"strong", hop_limit=0)
    mesh.send(2, b"weak", hop_limit=0)
    mesh.events.run_until(30)
    assert 1 not in rec.nodes()


def test_refusals() -> None:
    mesh, _rec = make(line(2))
    assert not mesh.send(0, bytes(232))
    assert mesh.send(0, bytes(231))
    assert not mesh.send(0, bytes(220), to=1)  # PKI DM: 219 max
    assert mesh.stats.refused == {"too_large": 2}
    for _ in range(15):
        assert mesh.send(0, b"q")
    assert not mesh.send(0, b"q")
    assert mesh.stats.refused["queue_full"] == 1
    with pytest.raises(ValueError):
        mesh.send(0, b"x", hop_limit=8)


def test_set_up_and_down() -> None:
    mesh, rec = make(line(3))
    mesh.set_up(1, False)
    assert not mesh.send(1, b"x")
    mesh.send(0, b"x")
    mesh.events.run_until(60)
    assert rec.nodes() == set()
    mesh.set_up(1, True)
    mesh.send(0, b"y")
    mesh.events.run_until(120)
    assert rec.nodes() == {1, 2}
    # a node switched off loses its queue
    assert mesh.send(1, b"z") and mesh.send(1, b"w")
    mesh.set_up(1, False)
    assert mesh.queue_len(1) == 0 and mesh.stats.queue_dropped_on_down == 2


def test_power_cut_mid_transmission() -> None:
    mesh, rec = make(line(2))
    mesh.send(0, bytes(200), hop_limit=0)
    while not mesh.is_transmitting(0):
        mesh.events.step()
    mesh.events.run_until(mesh.now + 0.5)
    mesh.set_up(0, False)
    mesh.events.run_until(30)
    assert rec.got == [] and mesh.stats.aborted_rx == 1
    (_start, dur), = mesh.transmissions(0)
    assert dur == pytest.approx(0.5, abs=0.01)


def test_set_link_and_partition() -> None:
    mesh, rec = make(line(3))
    mesh.set_link(1, 2, False)
    assert not mesh.link_up(2, 1)
    mesh.send(0, b"x")
    mesh.events.run_until(60)
    assert rec.nodes() == {1}
    mesh.set_link(1, 2, True)
    mesh.send(0, b"y")
    mesh.events.run_until(120)
    assert [n for n, p, _m in rec.got if p == b"y"] == [1, 2]
    assert mesh.partition([0]) == 1
    mesh.send(2, b"z")
    mesh.events.run_until(180)
    assert 0 not in {n for n, p, _m in rec.got if p == b"z"}
    mesh.heal()
    mesh.send(2, b"w")
    mesh.events.run_until(240)
    assert {n for n, p, _m in rec.got if p == b"w"} == {0, 1}


def test_radio_only_relay_has_no_app() -> None:
    mesh, rec = make(line(3), apps={0, 2})
    mesh.send(0, b"x")
    mesh.events.run_until(60)
    assert rec.nodes() == {2}


def test_channel_utilization_and_air_util_tx() -> None:
    mesh, _rec = make(line(2))
    mesh.send(0, bytes(231), hop_limit=0)
    mesh.events.run_until(5)
    toa = mesh.payload_airtime(231)
    assert mesh.channel_utilization(0) == pytest.approx(toa / 60 * 100)
    assert mesh.channel_utilization(1) == pytest.approx(toa / 60 * 100)
    assert mesh.air_util_tx(0) == pytest.approx(toa / 3600 * 100)
    assert mesh.air_util_tx(1) == 0.0
    mesh.events.run_until(70)
    assert mesh.channel_utilization(0) == 0.0
    assert mesh.air_util_tx(0) > 0.0
    mesh.events.run_until(3700)
    assert mesh.air_util_tx(0) == 0.0
    assert mesh.peak_channel_utilization(1) == pytest.approx(toa / 60 * 100)


def test_upgrade_replaces_queued_relay() -> None:
    # X (4) first hears the long way round (S-A-D-X, hop_limit 1) then B's copy (hop_limit 2).
    links = [(0, 1, 0.0), (0, 2, 10.0), (1, 3, 0.0), (3, 4, 10.0), (2, 4, 0.0)]
    total = 0
    for seed in range(30):
        mesh, _rec = make(from_links(5, links), seed=seed,
                          roles={1: Role.ROUTER, 3: Role.ROUTER})
        mesh.send(0, b"x", hop_limit=3)
        mesh.events.run_until(120)
        total += mesh.stats.upgrades
    assert total > 0


def _scenario(seed: int) -> tuple[dict[str, object], list[tuple[int, float]]]:
    rng = random.Random(seed)
    topo = random_geometric(30, 6, rng)
    log: list[tuple[int, float]] = []
    mesh = Mesh(topo, rng=rng, on_receive=lambda n, p, m: log.append((n, m.rx_time)),
                duty_cycle_pct=10.0)
    for i in range(60):
        send = functools.partial(mesh.send, rng.randrange(30), bytes(100), tag=f"t{i % 3}")
        mesh.events.schedule(rng.uniform(0, 600), send)
    mesh.events.run_until(900)
    return mesh.stats.as_dict(), log


def test_determinism() -> None:
    a = _scenario(5)
    assert a == _scenario(5)
    assert a != _scenario(6)


def test_rebroadcast_modes() -> None:
    mesh, rec = make(line(3), roles={1: Role.ROUTER})
    mesh.set_rebroadcast_mode(1, "CORE_PORTNUMS_ONLY")  # what the firmware installs for ROUTER
    mesh.send(0, b"x")
    mesh.events.run_until(60)
    assert rec.nodes() == set() and mesh.stats.dropped_core_only == 1
    mesh.set_rebroadcast_mode(1, "NONE")
    mesh.send(0, b"y")
    mesh.events.run_until(120)
    assert rec.nodes() == {1} and mesh.stats.relays == 0
    mesh.set_rebroadcast_mode(1, "ALL")
    mesh.send(0, b"z")
    mesh.events.run_until(180)
    assert [n for n, p, _m in rec.got if p == b"z"] == [1, 2]
    with pytest.raises(ValueError):
        mesh.set_rebroadcast_mode(1, "SOMETIMES")
