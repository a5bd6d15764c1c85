"""Duty-cycle enforcement: firmware-like (check at queue time) and strict."""

from __future__ import annotations

import functools
import random

import pytest

from meshaid.node.sim.firmware import max_rolling_duty_pct
from meshaid.node.sim.radio import Mesh
from meshaid.node.sim.topology import line, random_geometric


def _saturate(mode: str) -> Mesh:
    mesh = Mesh(line(2), rng=random.Random(1), duty_cycle_pct=10.0, duty_mode=mode)
    for k in range(1440):  # a full frame every 5 s for 2 h: ~43 % demand
        mesh.events.schedule(k * 5.0, functools.partial(mesh.send, 0, bytes(231), hop_limit=0))
    mesh.events.run_until(7300)
    return mesh


@pytest.mark.parametrize("mode", ["firmware", "strict"])
def test_single_sender_is_capped(mode: str) -> None:
    mesh = _saturate(mode)
    assert mesh.stats.refused["duty_cycle"] > 1000
    # 10 % of two hours of full LONG_FAST frames is about 2 * 166 frames
    assert 320 <= mesh.stats.own_tx <= 340
    worst = mesh.max_duty_cycle_pct(0)
    assert 9.5 < worst
    if mode == "strict":
        assert worst <= 10.0 + 1e-9
    else:  # the firmware checks the past at queue time, so it may overshoot by a frame or so
        assert worst <= 10.0 + 2 * 100 * mesh.payload_airtime(231) / 3600


def _busy_mesh(mode: str) -> Mesh:
    rng = random.Random(3)
    mesh = Mesh(random_geometric(15, 5, rng), rng=rng, duty_cycle_pct=1.0, duty_mode=mode)
    for _ in range(3000):
        send = functools.partial(mesh.send, rng.randrange(15), bytes(150))
        mesh.events.schedule(rng.uniform(0, 7200), send)
    mesh.events.run_until(7300)
    return mesh


def test_strict_never_exceeds_cap_relays_included() -> None:
    mesh = _busy_mesh("strict")
    assert mesh.stats.refused.get("relay_duty_cycle", 0) > 0
    for node in range(mesh.n):
        assert mesh.max_duty_cycle_pct(node) <= 1.0 + 1e-9


def test_firmware_mode_refuses_relays_too_and_overshoot_is_bounded() -> None:
    mesh = _busy_mesh("firmware")
    assert mesh.stats.refused["relay_duty_cycle"] > 0
    assert mesh.stats.refused["duty_cycle"] > 0
    frame = mesh.payload_airtime(150)
    for node in range(mesh.n):
        # at most a full TX queue beyond the cap
        assert mesh.max_duty_cycle_pct(node) <= 1.0 + 16 * frame / 36


def test_no_cap_no_refusal() -> None:
    mesh = Mesh(line(2), rng=random.Random(1))
    for k in range(100):
        mesh.events.schedule(k * 3.0, functools.partial(mesh.send, 0, bytes(231), hop_limit=0))
    mesh.events.run_until(400)
    assert mesh.stats.refused == {} and mesh.stats.own_tx == 100


def test_max_rolling_duty_pct() -> None:
    assert max_rolling_duty_pct([]) == 0.0
    assert max_rolling_duty_pct([(0.0, 36.0)]) == pytest.approx(1.0)
    # a window ending at the second burst's end still holds 1 s of the first
    assert max_rolling_duty_pct([(0.0, 36.0), (3599.0, 36.0)]) == pytest.approx(37.0 / 36.0)
    assert max_rolling_duty_pct([(0.0, 36.0), (3601.0, 36.0)]) == pytest.approx(1.0)
    # partial overlap of the oldest interval is clipped
    assert max_rolling_duty_pct([(0.0, 100.0), (3550.0, 100.0)]) == pytest.approx(150.0 / 36.0)
