"""Formulas mirrored from the firmware."""

from __future__ import annotations

import random

import pytest

from meshaid.node.sim.firmware import (
    AirMeter,
    arduino_map,
    cw_size_snr,
    cw_size_util,
    tx_delay_local,
    tx_delay_relay,
    tx_delay_relay_worst,
)


def test_arduino_map_truncates_like_c() -> None:
    assert arduino_map(-20, -20, 10, 3, 8) == 3
    assert arduino_map(10, -20, 10, 3, 8) == 8
    assert arduino_map(-7.75, -20, 10, 3, 8) == 5  # -7 -> 13*5/30 = 2
    assert arduino_map(-26, -20, 10, 3, 8) == 2  # -6*5/30 = -1 (toward zero)
    assert arduino_map(16, -20, 10, 3, 8) == 9  # unclamped


def test_cw_sizes() -> None:
    assert [cw_size_snr(s) for s in (-20, -14, -8, -2, 4, 10)] == [3, 4, 5, 6, 7, 8]
    assert cw_size_util(0) == 3 and cw_size_util(100) == 8 and cw_size_util(59.9) == 5


def test_delay_ranges_long_fast() -> None:
    rng = random.Random(0)
    slot = 0.028
    client = [tx_delay_relay(rng, slot, 10.0, False) for _ in range(5000)]
    router = [tx_delay_relay(rng, slot, 10.0, True) for _ in range(5000)]
    assert min(client) == 16 * slot and max(client) <= (16 + 255) * slot
    assert abs(max(client) - 7.588) < 0.03  # radio-facts: 0.45 to 7.6 s per hop
    assert max(router) <= 15 * slot < min(client)
    assert max(tx_delay_local(rng, slot, 0.0) for _ in range(1000)) == 7 * slot
    assert tx_delay_relay_worst(slot, 10.0) == (16 + 256) * slot


def test_air_meter_buckets() -> None:
    m = AirMeter(boot=0.0)
    m.log(5.0, 6.0, tx=True)
    assert m.channel_util(5.0) == 10.0
    assert m.channel_util(59.0) == 10.0  # still inside the six 10 s buckets
    assert m.channel_util(60.0) == 0.0  # bucket 0 reused for period 6
    assert m.tx_util(3599.0) == pytest.approx(6.0 / 36.0)
    assert m.tx_util(3600.0) == 0.0
    m.log(100.0, 3.0, tx=False)
    assert m.tx_util(100.0) == pytest.approx(6.0 / 36.0) and m.channel_util(100.0) == 5.0


def test_air_meter_peak_and_utilisation_as_after_every_frame() -> None:
    """The meter takes a bucket into its peak at the bucket's last frame and keeps
    the utilisation it last computed until a frame changes it: the same figures,
    to the bit, as computing both after every frame (the firmware's way)."""
    rng = random.Random(7)
    for _ in range(50):
        m = AirMeter(boot=rng.uniform(0.0, 30.0))
        t, peak = m.boot, 0.0
        cu: list[list[float]] = []  # the firmware's buckets, kept by hand
        txb: list[list[float]] = []

        def logged(buckets: list[list[float]], idx: int, secs: float) -> None:
            if buckets and buckets[-1][0] == idx:
                buckets[-1][1] += secs
            else:
                buckets.append([idx, secs])

        def summed(buckets: list[list[float]], idx: int, keep: int) -> float:
            total = 0.0
            for i, s in buckets:
                if idx - keep < i <= idx:
                    total += s
            return total

        for _ in range(rng.randrange(1, 200)):
            t += rng.choice([0.0, rng.uniform(0.0, 3.0), rng.uniform(0.0, 40.0),
                             rng.uniform(0.0, 400.0)])
            secs = rng.uniform(0.01, 2.5)
            tx = rng.random() < 0.3
            if rng.random() < 0.5:  # asked before the frame, as the radio does
                assert m.tx_util(t) == summed(txb, int((t - m.boot) // 60.0), 60) / 3600.0 * 100.0
            m.log(t, secs, tx=tx)
            idx = int((t - m.boot) // 10.0)
            logged(cu, idx, secs)
            if tx:
                logged(txb, int((t - m.boot) // 60.0), secs)
            total = summed(cu, idx, 6)
            peak = max(peak, total / 60.0 * 100.0)
            assert m.channel_util(t) == total / 60.0 * 100.0
            assert m.tx_util(t) == summed(txb, int((t - m.boot) // 60.0), 60) / 3600.0 * 100.0
            if rng.random() < 0.2:
                assert m.peak_cu == peak
        assert m.peak_cu == peak
