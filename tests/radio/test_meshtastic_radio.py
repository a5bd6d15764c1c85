"""The Meshtastic adapter against fake devices, through real SerialInterface (pty) and
TCPInterface sessions of the official library."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from meshtastic.protobuf import mesh_pb2

from meshaid.node.radio.base import (
    Dropped,
    LinkState,
    Metrics,
    PayloadTooLarge,
    RadioEvent,
    Received,
    SendResult,
)
from meshaid.node.radio.fake_host import FakeRadios
from meshaid.node.radio.meshtastic_config import MeshtasticSettings, find_serial
from meshaid.node.radio.meshtastic_radio import MeshtasticRadio

from .helpers import eventually

FAST = {"connect_timeout": 3.0, "send_timeout": 2.0, "ack_timeout": 6.0, "liveness_s": 1.0,
        "probe_timeout": 1.0, "backoff_min": 0.2, "backoff_max": 0.5, "tick": 0.05}


class Events:
    """A thread-safe sink that tests can wait on."""

    def __init__(self) -> None:
        self.items: list[RadioEvent] = []
        self.cond = threading.Condition()

    def __call__(self, ev: RadioEvent) -> None:
        with self.cond:
            self.items.append(ev)
            self.cond.notify_all()

    def wait(self, pred: Callable[[RadioEvent], bool], timeout: float = 8.0) -> RadioEvent:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev in self.items:
                    if pred(ev):
                        self.items.remove(ev)
                        return ev
                left = deadline - time.monotonic()
                assert left > 0, f"no matching event in {self.items[-8:]}"
                self.cond.wait(left)

    def up(self, timeout: float = 8.0) -> LinkState:
        ev = self.wait(lambda e: isinstance(e, LinkState) and e.up, timeout)
        assert isinstance(ev, LinkState)
        return ev

    def down(self, timeout: float = 8.0) -> LinkState:
        ev = self.wait(lambda e: isinstance(e, LinkState) and not e.up, timeout)
        assert isinstance(ev, LinkState)
        return ev

    def result(self, token: int, timeout: float = 8.0) -> SendResult:
        ev = self.wait(lambda e: isinstance(e, SendResult) and e.token == token, timeout)
        assert isinstance(ev, SendResult)
        return ev


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[FakeRadios]:
    radios = FakeRadios(2, speed=20, seed=7, link_dir=tmp_path)
    radios.start()
    yield radios
    radios.stop()


@pytest.fixture
def pair(mesh: FakeRadios) -> Iterator[tuple[MeshtasticRadio, Events, MeshtasticRadio, Events]]:
    ep = mesh.endpoints()
    a = MeshtasticRadio(MeshtasticSettings(transport="serial", path=ep[0].serial, **FAST))
    b = MeshtasticRadio(MeshtasticSettings(transport="tcp", host="127.0.0.1",
                                           port=ep[1].tcp_port, **FAST))
    ea, eb = Events(), Events()
    a.start(ea)
    b.start(eb)
    try:
        yield a, ea, b, eb
    finally:
        a.close()
        b.close()


def test_handshake_reports_the_device(pair, mesh: FakeRadios) -> None:
    _a, ea, _b, eb = pair
    up = ea.up()
    assert up.device is not None
    dev = up.device
    assert dev.node_num == mesh.devices[0].cfg.node_num and dev.node_id == mesh.endpoints()[0].node_id
    assert (dev.region, dev.preset, dev.hop_limit, dev.role) == ("EU_868", "LONG_FAST", 3, "CLIENT")
    assert dev.firmware == "2.7.15.fake" and dev.duty_cycle_pct == 10.0
    assert dev.long_name == "fake0" and dev.hw_model == "PORTDUINO"
    assert eb.up().device.node_num == mesh.devices[1].cfg.node_num
    m = ea.wait(lambda e: isinstance(e, Metrics))
    assert isinstance(m, Metrics) and m.channel_util_pct >= 0 and m.air_util_tx_pct >= 0


def test_broadcast_between_two_devices_over_the_air(pair, mesh: FakeRadios) -> None:
    a, ea, b, eb = pair
    ea.up()
    eb.up()
    a.send(b"\x01record", hop_limit=2, priority=10, token=1)
    assert ea.result(1).ok
    rx = eb.wait(lambda e: isinstance(e, Received))
    assert isinstance(rx, Received)
    assert rx.payload == b"\x01record" and rx.dest is None
    assert rx.meta.sender == mesh.devices[0].cfg.node_num
    assert rx.meta.hops == 0 and rx.meta.snr == 6.0 and rx.meta.rssi < 0
    assert rx.meta.hop_limit == 2  # hops left: the radios that heard it carry it on
    # relay_node: the last byte of the radio it came from (here its sender)
    assert rx.meta.relay == (mesh.devices[0].cfg.node_num & 0xFF or None)
    b.send(b"\x02reply", hop_limit=3, priority=64, token=2)
    assert eb.result(2).ok
    rx = ea.wait(lambda e: isinstance(e, Received))
    assert isinstance(rx, Received) and rx.payload == b"\x02reply"


def test_direct_messages_wait_for_the_ack(pair, mesh: FakeRadios) -> None:
    a, ea, _b, eb = pair
    ea.up()
    eb.up()
    a.send(b"dm", hop_limit=3, priority=64, token=3, dest=mesh.devices[1].cfg.node_num)
    assert ea.result(3).ok
    rx = eb.wait(lambda e: isinstance(e, Received))
    assert isinstance(rx, Received) and rx.dest == mesh.devices[1].cfg.node_num
    a.send(b"dm", hop_limit=3, priority=64, token=4, dest=0x0BADBEEF)  # nobody answers
    res = ea.result(4, timeout=10)
    assert (res.ok, res.reason) == (False, "MAX_RETRANSMIT")


def test_payload_over_the_cap_is_refused_before_the_radio(pair, mesh: FakeRadios) -> None:
    a, ea, _, _ = pair
    ea.up()
    before = mesh.stats()[0].get("packets_from_client", 0)
    with pytest.raises(PayloadTooLarge):
        a.send(b"x" * 232, hop_limit=3, priority=64, token=5)
    with pytest.raises(PayloadTooLarge):
        a.send(b"x" * 220, hop_limit=3, priority=64, token=6, dest=mesh.devices[1].cfg.node_num)
    a.send(b"x" * 231, hop_limit=3, priority=64, token=7)
    assert ea.result(7).ok
    assert mesh.stats()[0]["packets_from_client"] == before + 1


def test_duty_cycle_nak_is_reported(pair, mesh: FakeRadios) -> None:
    a, ea, _, _ = pair
    ea.up()
    with mesh.air.lock:
        mesh.air.sync()
        mesh.air.mesh.nodes[0].meter.log(mesh.air.events.now, 400.0, True)
    a.send(b"one more", hop_limit=3, priority=64, token=8)
    res = ea.result(8)
    assert (res.ok, res.reason) == (False, "DUTY_CYCLE_LIMIT")
    assert a.counters["send_failed_DUTY_CYCLE_LIMIT"] == 1


def test_serial_unplug_and_replug(pair, mesh: FakeRadios) -> None:
    a, ea, _b, eb = pair
    ea.up()
    eb.up()
    mesh.unplug(0, tcp=False)
    assert "connection lost" in ea.down().detail or True
    a.send(b"while down", hop_limit=3, priority=64, token=9)
    assert ea.result(9).reason == "disconnected"
    time.sleep(0.5)  # a few failed attempts while the cable is out
    mesh.replug(0, tcp=False)
    ea.up()
    a.send(b"after replug", hop_limit=3, priority=64, token=10)
    assert ea.result(10).ok
    rx = eb.wait(lambda e: isinstance(e, Received) and e.payload == b"after replug")
    assert rx is not None


def test_tcp_server_drop_and_return(pair, mesh: FakeRadios) -> None:
    _a, ea, b, eb = pair
    ea.up()
    eb.up()
    mesh.unplug(1, serial=False)
    eb.down()
    mesh.replug(1, serial=False)
    eb.up()
    b.send(b"back", hop_limit=3, priority=64, token=11)
    assert eb.result(11).ok
    ea.wait(lambda e: isinstance(e, Received) and e.payload == b"back")
    assert b.counters["link_down"] >= 1


def test_radio_that_stops_answering_mid_send(pair, mesh: FakeRadios) -> None:
    a, ea, _, _ = pair
    ea.up()
    mesh.stall(0)
    a.send(b"into the void", hop_limit=3, priority=64, token=12)
    res = ea.result(12, timeout=10)
    assert (res.ok, res.reason) == (False, "timeout")
    detail = ea.down().detail
    assert "stopped answering" in detail or "silent" in detail
    mesh.stall(0, False)
    ea.up(timeout=15)
    a.send(b"later", hop_limit=3, priority=64, token=13)
    assert ea.result(13).ok


def test_silent_radio_is_noticed_by_the_liveness_watchdog(pair, mesh: FakeRadios) -> None:
    _a, ea, __, __ = pair
    ea.up()
    mesh.stall(0)
    assert "silent" in ea.down(timeout=10).detail
    mesh.stall(0, False)
    ea.up(timeout=15)


def test_garbage_malformed_oversized_and_other_ports_are_counted(pair, mesh: FakeRadios) -> None:
    a, ea, _, _ = pair
    ea.up()
    dev, other = mesh.devices[0], mesh.devices[1].cfg.node_num
    with mesh.air.lock:
        pty = mesh.ptys[0]
        assert pty is not None and pty.session is not None
        pty.session.out += b"\x00\x13garbage on the line\r\n"
        for p in (
            mesh_pb2.MeshPacket(id=1, to=0xFFFFFFFF, decoded=mesh_pb2.Data(portnum=288,
                                                                      payload=b"x" * 300)),
            mesh_pb2.MeshPacket(id=2, to=0xFFFFFFFF, decoded=mesh_pb2.Data(portnum=1,
                                                                      payload=b"text")),
            mesh_pb2.MeshPacket(id=3, to=0xFFFFFFFF, encrypted=b"\x01\x02\x03"),
            mesh_pb2.MeshPacket(id=4, to=0xFFFFFFFF, decoded=mesh_pb2.Data(portnum=288)),
            mesh_pb2.MeshPacket(id=5, to=0xFFFFFFFF, via_mqtt=True,
                                decoded=mesh_pb2.Data(portnum=288, payload=b"\x12ab" * 5)),
        ):
            setattr(p, "from", other)
            dev._to_phone(p)
    mesh.io.wake()
    for reason in ("serial_noise", "oversized", "other_port", "undecoded", "empty", "via_mqtt"):
        ea.wait(lambda e, r=reason: isinstance(e, Dropped) and e.reason == r)
    a.send(b"still fine", hop_limit=3, priority=64, token=14)
    assert ea.result(14).ok
    assert a.counters["oversized"] == 1
    assert a.counters["via_mqtt"] == 1


def test_no_device_keeps_retrying_with_backoff(tmp_path: Path) -> None:
    r = MeshtasticRadio(MeshtasticSettings(transport="serial", path=str(tmp_path / "none"),
                                           **FAST))
    ev = Events()
    r.start(ev)
    try:
        first = ev.down()
        ev.down()
        assert "FileNotFoundError" in first.detail or "No such file" in first.detail
        r.send(b"x", hop_limit=3, priority=64, token=15)
        assert ev.result(15).reason == "disconnected"
    finally:
        r.close()
    assert r.counters["connect_failures"] >= 2


def test_serial_discovery_prefers_an_explicit_path() -> None:
    assert find_serial("/dev/ttyFAKE9") == "/dev/ttyFAKE9"


@pytest.fixture
def quiet(mesh: FakeRadios) -> Iterator[tuple[MeshtasticRadio, Events]]:
    """An adapter whose liveness probes stay out of the way (no heartbeat for 30 s)."""
    r = MeshtasticRadio(MeshtasticSettings(transport="serial", path=mesh.endpoints()[0].serial,
                                           **{**FAST, "liveness_s": 30.0}))
    ev = Events()
    r.start(ev)
    try:
        ev.up()
        # the library heartbeats once on connect: let that QueueStatus land first
        eventually(lambda: r._conn is not None and r._conn.iface.queueStatus is not None)
        yield r, ev
    finally:
        r.close()


def test_full_radio_queue_is_probed_and_the_send_proceeds(quiet, mesh: FakeRadios) -> None:
    a, ea = quiet
    with mesh.air.lock:
        mesh.devices[0].queue_full = True
    a.send(b"first", hop_limit=3, priority=64, token=20)  # its QueueStatus: no slot left,
    a.send(b"second", hop_limit=3, priority=64, token=21)  # so sendData busy-waits
    time.sleep(0.3)
    with mesh.air.lock:
        mesh.devices[0].queue_full = False  # the radio drained, but says so only when asked
    assert ea.result(20).ok
    assert ea.result(21).ok  # the watchdog's heartbeat probe got a fresh QueueStatus
    assert a.counters.get("link_down", 0) == 0
    assert mesh.stats()[0]["heartbeats"] >= 2


def test_radio_queue_full_for_good_fails_the_send_and_rebuilds(quiet, mesh: FakeRadios) -> None:
    a, ea = quiet
    with mesh.air.lock:
        mesh.devices[0].queue_full = True
    a.send(b"first", hop_limit=3, priority=64, token=22)
    a.send(b"second", hop_limit=3, priority=64, token=23)
    # the radio took "first" (QueueStatus res 0) but reports no slot: sendData never
    # returns, so "second" never reaches the radio
    assert ea.result(22, timeout=10).ok
    res = ea.result(23, timeout=10)
    assert (res.ok, res.reason) == (False, "timeout")
    assert "send stalled" in ea.down().detail
    assert mesh.stats()[0]["packets_from_client"] == 1
    with mesh.air.lock:
        mesh.devices[0].queue_full = False
    ea.up(timeout=15)
    a.send(b"third", hop_limit=3, priority=64, token=24)
    assert ea.result(24).ok
