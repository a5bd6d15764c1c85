"""meshaid doctor: each radio setting that hurts meshaid is named with its fix,
checked on plain settings and through the official library against the fake
device configured wrongly, then rightly."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from meshaid.node.radio.doctor import ERROR, OK, WARN, RadioSettings, diagnose
from meshaid.node.radio.fake_host import FakeRadios

GOOD = RadioSettings(region="EU_868", preset="LONG_FAST", use_preset=True, hop_limit=3,
                     tx_enabled=True, role="CLIENT", rebroadcast_mode="ALL", channel_index=0,
                     channel_enabled=True, channel_psk=bytes(range(32)),
                     serial_takes_console=False)


def levels(settings: RadioSettings) -> dict[str, str]:
    return {f.setting: f.level for f in diagnose(settings)}


def test_a_well_set_radio_has_no_findings_beyond_ok() -> None:
    assert set(levels(GOOD).values()) == {OK}


@pytest.mark.parametrize(("change", "setting", "level", "fix"), [
    ({"region": "UNSET"}, "lora.region", ERROR, "lora.region"),
    ({"tx_enabled": False}, "lora.tx_enabled", ERROR, "tx_enabled true"),
    ({"role": "ROUTER", "rebroadcast_mode": "CORE_PORTNUMS_ONLY"}, "device.rebroadcast_mode",
     ERROR, "rebroadcast_mode ALL"),
    ({"rebroadcast_mode": "KNOWN_ONLY"}, "device.rebroadcast_mode", WARN, "ALL"),
    ({"channel_enabled": False}, "channel 0", ERROR, "--ch-enable"),
    ({"channel_psk": b"\x01"}, "channel 0", WARN, "psk random"),
    ({"channel_psk": b""}, "channel 0", WARN, "psk random"),
    ({"serial_takes_console": True}, "serial.override_console_serial_port", ERROR, "false"),
    ({"role": "TRACKER"}, "device.role", WARN, "device.role CLIENT"),
    ({"preset": "LONG_SLOW"}, "lora.modem_preset", WARN, "LONG_FAST"),
    ({"hop_limit": 6}, "lora.hop_limit", WARN, "hop_limit 3"),
])
def test_each_bad_setting_is_named_with_its_fix(change: dict, setting: str, level: str,
                                                fix: str) -> None:
    findings = diagnose(dataclasses.replace(GOOD, **change))
    (found,) = [f for f in findings if f.setting == setting]
    assert found.level == level and fix in found.fix
    assert findings[0].level == max((f.level for f in findings),
                                    key=[OK, WARN, ERROR].index)  # worst first


def doctor(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshaid.node.cli", "doctor", "--radio",
                           f"tcp:127.0.0.1:{port}", "--timeout", "20", "--json"],
                          capture_output=True, text=True, timeout=60, check=False)


def test_doctor_against_the_fake_radio_wrongly_then_rightly_set() -> None:
    wrong = FakeRadios(1, serial=False, speed=50, seed=5,
                       settings={"role": "ROUTER", "rebroadcast_mode": "CORE_PORTNUMS_ONLY"})
    right = FakeRadios(1, serial=False, speed=50, seed=6, names=["good"],
                       settings={"role": "ROUTER", "rebroadcast_mode": "ALL",
                                 "psk": bytes(range(1, 33))})
    wrong.start()
    right.start()
    try:
        bad = doctor(wrong.endpoints()[0].tcp_port)
        good = doctor(right.endpoints()[0].tcp_port)
    finally:
        wrong.stop()
        right.stop()
    assert bad.returncode == 1, bad.stderr
    report = json.loads(bad.stdout)
    assert report["settings"]["rebroadcast_mode"] == "CORE_PORTNUMS_ONLY"
    errors = {f["setting"] for f in report["findings"] if f["level"] == ERROR}
    assert errors == {"device.rebroadcast_mode"}
    warned = {f["setting"] for f in report["findings"] if f["level"] == WARN}
    assert "channel 0" in warned  # the fake's default channel key is the public one
    assert good.returncode == 0, good.stdout + good.stderr
    assert {f["level"] for f in json.loads(good.stdout)["findings"]} == {OK}


def test_doctor_without_a_radio_is_one_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "meshaid.node.cli", "doctor", "--radio",
                           "serial:/nonexistent/radio", "--timeout", "2"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and "cannot read" in proc.stderr
