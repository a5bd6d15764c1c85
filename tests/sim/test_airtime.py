"""Time on air, presets and frame sizes against radio-facts.md."""

import pytest

from meshaid.node.sim.airtime import (
    PRESETS,
    STANDARD_PRESETS,
    frame_bytes,
    max_app_payload,
    noise_floor_dbm,
    time_on_air,
)


@pytest.mark.parametrize(
    ("frame", "preset", "expected_s"),
    [
        (47, "LONG_FAST", 0.600),
        (110, "LONG_FAST", 1.051),
        (170, "LONG_FAST", 1.501),
        (255, "LONG_FAST", 2.157),
        (255, "MEDIUM_FAST", 0.640),
        (255, "SHORT_FAST", 0.200),
        (255, "LONG_SLOW", 14.3),
    ],
)
def test_time_on_air_matches_brief(frame: int, preset: str, expected_s: float) -> None:
    assert time_on_air(frame, preset) == pytest.approx(expected_s, rel=0.021)


def test_long_fast_per_byte_cost() -> None:
    # "about 436 ms fixed plus about 7.45 ms per byte"
    slope = (time_on_air(255, "LONG_FAST") - time_on_air(47, "LONG_FAST")) / (255 - 47)
    assert slope == pytest.approx(0.00745, rel=0.02)


def test_presets_cover_brief() -> None:
    brief = {
        "SHORT_TURBO": (7, 500, 5), "SHORT_FAST": (7, 250, 5), "SHORT_SLOW": (8, 250, 5),
        "MEDIUM_FAST": (9, 250, 5), "MEDIUM_SLOW": (10, 250, 5), "LONG_TURBO": (11, 500, 8),
        "LONG_FAST": (11, 250, 5), "LONG_MODERATE": (11, 125, 8), "LONG_SLOW": (12, 125, 8),
    }
    for name, (sf, bw, cr) in brief.items():
        p = STANDARD_PRESETS[name]
        assert (p.sf, p.bw_khz, p.cr) == (sf, bw, cr)
    assert PRESETS["LONG_SLOW"].ldro and not PRESETS["LONG_FAST"].ldro


def test_slot_time_long_fast() -> None:
    assert PRESETS["LONG_FAST"].slot_time == 0.028


def test_frame_bytes_and_limits() -> None:
    assert frame_bytes(231) == 255
    assert frame_bytes(24) == 47
    assert frame_bytes(232) == 256
    assert max_app_payload() == 231
    assert max_app_payload(want_response=True) == 229
    assert max_app_payload(request_id=True) == 226
    assert max_app_payload(pki=True) == 219


def test_noise_floor() -> None:
    assert noise_floor_dbm(250) == pytest.approx(-114.0, abs=0.05)
