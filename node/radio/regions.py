"""LoRa regions whose law caps the transmit duty cycle (firmware `RadioInterface` region table).

Regions not listed have no cap. Checked against firmware 2.7.x; develop (2.8)
removes UA_868 and adds EU_866 (2.5 %) and EU_N_868 (see radio facts).
"""

from __future__ import annotations

DUTY_CYCLE_PCT: dict[str, float] = {
    "EU_433": 10.0,
    "EU_868": 10.0,
    "UA_433": 10.0,
    "UA_868": 1.0,
    "EU_866": 2.5,
    "EU_N_868": 10.0,
}


def duty_cycle_pct(region: str) -> float | None:
    """The region's legal transmit cap in percent, or None when it has none."""
    return DUTY_CYCLE_PCT.get(region)
