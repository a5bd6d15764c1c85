"""node/PROTOCOL.md §9's signal rule is the one node/sync/relays.py applies: a
packet is a neighbour's when its SNR is within the larger of 4 dB and three
times the neighbour's usual deviation (3 dB at first) of its usual SNR. The
section said "more than 4 dB away", which rejects packets the code accepts."""

from __future__ import annotations

import re
from pathlib import Path

from meshaid.node.sync import relays

SPEC = (Path(__file__).resolve().parents[2] / "node" / "PROTOCOL.md").read_text("utf-8")


def test_the_spec_states_the_tolerance_the_code_uses() -> None:
    text = " ".join(SPEC.split())
    start = float(re.search(r"\|SNR − usual\|, starting at (\d+) dB", text)[1])  # type: ignore[index]
    floor, factor, first = re.search(  # type: ignore[union-attr]
        r"larger of (\d+) dB and (\w+) times the deviation \((\d+) dB at first", text).groups()
    assert start == relays.Peer().snr_dev
    assert float(floor) == relays.SNR_TOLERANCE_DB
    assert float(first) == max(relays.SNR_TOLERANCE_DB, 3.0 * relays.Peer().snr_dev)
    assert factor == "three"


def test_the_first_tolerance_is_nine_db_not_four() -> None:
    near = relays.Neighbourhood(1, 3600.0, 1800.0, True)
    near.heard(7, 0, 0.0, snr=-5.0)
    assert near.heard(7, 0, 1.0, snr=-5.0 + 8.5).plausible  # "more than 4 dB" would refuse it
    far = relays.Neighbourhood(1, 3600.0, 1800.0, True)
    far.heard(7, 0, 0.0, snr=-5.0)
    assert not far.heard(7, 0, 1.0, snr=-5.0 + 9.5).plausible
