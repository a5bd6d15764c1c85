"""The daemon's small parts: systemd notifications, journald-friendly logs,
--radio specs, and the radios without hardware."""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

import pytest

from meshaid.node.daemon import logs
from meshaid.node.daemon.notify import Notifier
from meshaid.node.daemon.radios import RadioSpec, RadioSpecError, parse
from meshaid.node.daemon.service import network_tag
from meshaid.node.ledger import identity
from meshaid.node.radio.base import (
    BROADCAST_MAX,
    LinkState,
    Metrics,
    PayloadTooLarge,
    RadioEvent,
    Received,
    SendResult,
)
from meshaid.node.radio.sim_radio import NODE_BASE, DirRadio, SimAir
from meshaid.node.sim.topology import from_links
from meshaid.node.store import Store


def test_notifier_sends_ready_status_watchdog_and_stopping_to_notify_socket(
        tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    note = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "120000000",
                     "WATCHDOG_PID": str(os.getpid())})
    assert note.enabled and note.watchdog_s == 60.0
    assert note.ready("started; radio connecting")
    assert server.recv(512) == b"READY=1\nSTATUS=started; radio connecting"
    assert note.watchdog() and server.recv(512) == b"WATCHDOG=1"
    assert note.status("radio up") and server.recv(512) == b"STATUS=radio up"
    assert note.stopping() and server.recv(512) == b"STOPPING=1"
    note.close()
    server.close()


def test_notifier_does_nothing_without_notify_socket_and_ignores_a_dead_one(
        tmp_path: Path) -> None:
    quiet = Notifier({"WATCHDOG_USEC": "1000000"})
    assert not quiet.enabled and not quiet.ready("x") and not quiet.watchdog()
    assert Notifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}).watchdog_s is None
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert gone.enabled and gone.ready("x") is False  # no exception either
    abstract = Notifier({"NOTIFY_SOCKET": "@meshaid-test-nobody"})
    assert abstract.address == b"\0meshaid-test-nobody"


def test_logs_carry_a_syslog_priority_and_no_timestamp_under_systemd(
        capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        log = logs.setup(env={"JOURNAL_STREAM": "8:12345"})
        log.getChild("daemon").warning("radio link down: unplugged")
        log.getChild("daemon").info("radio link up")
        err = capsys.readouterr().err.splitlines()
        assert err == ["<4>radio link down: unplugged", "<6>radio link up"]
        log = logs.setup(env={})
        log.getChild("daemon").info("radio link up")
        line = capsys.readouterr().err.strip()
        assert line.endswith(" INFO radio link up") and line[:4].isdigit()  # 2026-...T...
        logging.getLogger("meshtastic.mesh_interface").info("chatter")  # libraries: warnings
        logging.getLogger("asyncio").error("Task exception was never retrieved")
        assert capsys.readouterr().err.strip().endswith(
            " ERROR Task exception was never retrieved")
        assert not logs.under_systemd({}) and logs.under_systemd({"INVOCATION_ID": "abc"})
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


@pytest.mark.parametrize(("text", "spec"), [
    ("serial", RadioSpec("serial")),
    ("serial:/dev/ttyACM0", RadioSpec("serial", path="/dev/ttyACM0")),
    ("tcp:localhost", RadioSpec("tcp", host="localhost", port=4403)),
    ("tcp:192.0.2.10:4404", RadioSpec("tcp", host="192.0.2.10", port=4404)),
    ("tcp:[::1]:4405", RadioSpec("tcp", host="::1", port=4405)),
    ("TCP:pi.local", RadioSpec("tcp", host="pi.local")),
    ("sim:/tmp/air", RadioSpec("sim", path="/tmp/air")),
])
def test_radio_specs(text: str, spec: RadioSpec) -> None:
    assert parse(text) == spec


@pytest.mark.parametrize("text", ["", "usb", "tcp:", "tcp:host:99999", "tcp:host:x", "sim:",
                                  "tcp::4403"])
def test_bad_radio_specs_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(RadioSpecError) as err:
        parse(text)
    assert "\n" not in str(err.value)


def test_network_tag_comes_from_the_charter_or_the_expected_network_code(
        tmp_path: Path) -> None:
    net = bytes(range(32))
    joiner = Store.open(tmp_path / "a.db")
    with pytest.raises(ValueError):
        network_tag(joiner)
    joiner.expect_network(identity.network_code(net))
    assert network_tag(joiner) == net[:2]
    joiner.close()


def test_sim_radio_delivers_link_metrics_packets_and_send_results() -> None:
    air = SimAir.build(from_links(2, [(0, 1, 4.0)]), seed=3, metrics_every=60.0)
    got: dict[int, list[RadioEvent]] = {0: [], 1: []}
    a, b = air.radio(0), air.radio(1)
    a.start(got[0].append)
    b.start(got[1].append)
    air.events.run_until(1.0)
    assert isinstance(got[0][0], LinkState) and got[0][0].up
    assert got[0][0].device is not None and got[0][0].device.node_num == NODE_BASE
    assert isinstance(got[0][1], Metrics)
    with pytest.raises(PayloadTooLarge):
        a.send(bytes(BROADCAST_MAX + 1), hop_limit=0, priority=64, token=1)
    a.send(b"hello mesh", hop_limit=0, priority=64, token=2)
    assert not any(isinstance(e, SendResult) for e in got[0])  # never from inside send()
    air.events.run_until(30.0)
    assert SendResult(2, True, "", 1.0) in got[0]
    heard = [e for e in got[1] if isinstance(e, Received)]
    assert [h.payload for h in heard] == [b"hello mesh"]
    assert heard[0].meta.sender == NODE_BASE and heard[0].meta.snr == 4.0
    a.unplug()
    a.send(b"lost", hop_limit=0, priority=64, token=3)
    air.events.run_until(31.0)
    assert got[0][-1] == SendResult(3, False, "disconnected", 30.0)
    assert any(isinstance(e, LinkState) and not e.up for e in got[0])
    a.replug()
    air.events.run_until(32.0)
    assert isinstance(got[0][-1], Metrics) and isinstance(got[0][-2], LinkState)


def test_dir_radios_hear_each_other_through_a_shared_directory(tmp_path: Path) -> None:
    air = tmp_path / "air"
    heard: list[RadioEvent] = []
    done = threading.Event()

    def sink_b(event: RadioEvent) -> None:
        heard.append(event)
        if isinstance(event, Received):
            done.set()

    sent: list[RadioEvent] = []
    a, b = DirRadio(air, 0xA), DirRadio(air, 0xB)
    a.start(sent.append)
    b.start(sink_b)
    a.send(b"over the air", hop_limit=0, priority=64, token=7)
    assert done.wait(5)
    rx = [e for e in heard if isinstance(e, Received)]
    assert rx[0].payload == b"over the air" and rx[0].meta.sender == 0xA
    assert isinstance(sent[-1], SendResult) and sent[-1].token == 7 and sent[-1].ok
    a.close()
    b.close()
    assert not list(air.glob("*.sock"))


def test_library_log_lines_are_held_to_a_few_a_minute_and_counted() -> None:
    """A radio sending junk frames made the meshtastic library log two tracebacks a
    frame; meshaid's own lines always pass, the libraries' 5 a minute, and the
    first one after says how many were held back."""
    now = [0.0]
    quota = logs.LibraryQuota(burst=5, window_s=60.0, clock=lambda: now[0])

    def line(name: str, msg: str = "junk %d", args: tuple[object, ...] = (1,)) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)

    passed = [quota.filter(line("meshtastic.mesh_interface")) for _ in range(100)]
    assert sum(passed) == 5
    assert all(quota.filter(line("meshaid.daemon")) for _ in range(50))
    now[0] = 61.0
    first = line("meshtastic.stream_interface")
    assert quota.filter(first)
    assert first.getMessage() == "(95 more lines from libraries were held back in 60 s) junk 1"
    plain = line("asyncio", "no args here: 100%", ())
    assert quota.filter(plain) and plain.getMessage() == "no args here: 100%"
