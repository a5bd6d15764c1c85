"""The fake Meshtastic device: framing, handshake, queue status, NAKs, air, bounded queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from meshtastic.protobuf import mesh_pb2

from meshaid.node.radio.fake_config import NONCE_ONLY_CONFIG
from meshaid.node.radio.fake_host import FakeRadios
from meshaid.node.radio.framing import Deframer, frame

from .helpers import RawClient, eventually, packet, routing_of

ERR = mesh_pb2.Routing.Error


@pytest.fixture
def two() -> Iterator[FakeRadios]:
    radios = FakeRadios(2, speed=50, seed=1)
    radios.start()
    yield radios
    radios.stop()


def test_deframer_skips_noise_and_oversized_headers() -> None:
    d = Deframer()
    body = b"\x08\x01"
    stream = b"log line\n" + bytes([0x94, 0x00]) + bytes([0x94, 0xC3, 0x02, 0x01]) + frame(body)
    out = d.feed(stream[:7]) + d.feed(stream[7:12]) + d.feed(stream[12:])
    assert out == [body]
    assert d.oversized == 1
    assert d.skipped == len(b"log line\n") + 2 + 4
    with pytest.raises(ValueError):
        frame(b"x" * 513)


def test_handshake_in_firmware_order(two: FakeRadios) -> None:
    ep = two.endpoints()[0]
    c = RawClient(port=ep.tcp_port)
    try:
        # let the devices hear each other's NodeInfo first
        eventually(lambda: len(two.devices[0].nodedb) == 1, timeout=10)
        msgs = c.handshake(nonce=777)
    finally:
        c.close()
    kinds = [m.WhichOneof("payload_variant") for m in msgs]
    assert kinds[:3] == ["my_info", "node_info", "metadata"]
    assert kinds[3:11] == ["channel"] * 8
    assert kinds[11:19] == ["config"] * 8
    n_mod = kinds.count("moduleConfig")
    assert n_mod >= 10 and kinds[19:19 + n_mod] == ["moduleConfig"] * n_mod
    assert kinds[19 + n_mod:] == ["node_info", "config_complete_id"]
    assert msgs[-1].config_complete_id == 777
    assert msgs[0].my_info.my_node_num == two.devices[0].cfg.node_num
    assert msgs[1].node_info.num == two.devices[0].cfg.node_num
    assert msgs[-2].node_info.num == two.devices[1].cfg.node_num
    lora = next(m.config.lora for m in msgs if m.config.HasField("lora"))
    assert (lora.region, lora.modem_preset, lora.hop_limit) == (3, 0, 3)  # EU_868, LONG_FAST
    assert msgs[1].node_info.device_metrics.HasField("channel_utilization")
    assert len({m.id for m in msgs[:-1]}) == len(msgs) - 1  # FromRadio ids are distinct


def test_config_only_nonce_skips_other_nodes(two: FakeRadios) -> None:
    eventually(lambda: len(two.devices[0].nodedb) == 1, timeout=10)
    c = RawClient(port=two.endpoints()[0].tcp_port)
    try:
        kinds = [m.WhichOneof("payload_variant") for m in c.handshake(nonce=NONCE_ONLY_CONFIG)]
    finally:
        c.close()
    assert kinds.count("node_info") == 1


def test_queue_status_for_packets_and_heartbeats(two: FakeRadios) -> None:
    c = RawClient(path=two.endpoints()[0].serial)
    try:
        c.handshake()
        c.send(mesh_pb2.ToRadio(heartbeat=mesh_pb2.Heartbeat()))
        qs = c.wait_for(lambda m: m.HasField("queueStatus")).queueStatus
        assert (qs.res, qs.mesh_packet_id, qs.maxlen) == (0, 0, 16)
        c.send(packet(b"x" * 231, pid=41))
        qs = c.wait_for(lambda m: m.HasField("queueStatus")).queueStatus
        assert (qs.res, qs.mesh_packet_id) == (0, 41)
        assert qs.free < 16 or two.devices[0].stats.get("packets_from_client") == 1
    finally:
        c.close()


def test_too_large_and_no_channel_are_naked(two: FakeRadios) -> None:
    c = RawClient(port=two.endpoints()[0].tcp_port)
    try:
        c.handshake()
        c.send(packet(b"x" * 232, pid=42))
        qs = c.wait_for(lambda m: m.HasField("queueStatus")).queueStatus
        assert (qs.res, qs.mesh_packet_id) == (ERR.TOO_LARGE, 42)
        nak = c.wait_for(lambda m: routing_of(m) is not None)
        assert nak.packet.decoded.request_id == 42
        assert routing_of(nak).error_reason == ERR.TOO_LARGE
        # a direct message carries 12 bytes less (PKI)
        c.send(packet(b"x" * 220, pid=43, to=two.devices[1].cfg.node_num))
        assert routing_of(c.wait_for(lambda m: routing_of(m) is not None)).error_reason \
            == ERR.TOO_LARGE
        c.send(packet(b"x", pid=44, channel=3))
        nak = c.wait_for(lambda m: routing_of(m) is not None)
        assert (nak.packet.decoded.request_id, routing_of(nak).error_reason) == \
            (44, ERR.NO_CHANNEL)
    finally:
        c.close()
    assert two.devices[0].stats["refused_TOO_LARGE"] == 2


def test_duty_cycle_limit_past_the_rolling_hour(two: FakeRadios) -> None:
    dev = two.devices[0]
    with two.air.lock:
        two.air.sync()
        dev.air.mesh.nodes[0].meter.log(two.air.events.now, 400.0, True)  # 400 s on air already
    c = RawClient(port=two.endpoints()[0].tcp_port)
    try:
        c.handshake()
        c.send(packet(b"hello", pid=45))
        nak = c.wait_for(lambda m: routing_of(m) is not None)
        assert (nak.packet.decoded.request_id, routing_of(nak).error_reason) == \
            (45, ERR.DUTY_CYCLE_LIMIT)
    finally:
        c.close()


def test_want_ack_broadcast_alone_ends_in_max_retransmit() -> None:
    radios = FakeRadios(1, speed=100, seed=2)
    radios.start()
    c = RawClient(port=radios.endpoints()[0].tcp_port)
    try:
        c.handshake()
        c.send(packet(b"anyone?", pid=46, want_ack=True))
        nak = c.wait_for(lambda m: routing_of(m) is not None, timeout=10)
        assert (nak.packet.decoded.request_id, routing_of(nak).error_reason) == \
            (46, ERR.MAX_RETRANSMIT)
        assert radios.devices[0].stats["retransmissions"] == 2
    finally:
        c.close()
        radios.stop()


def test_broadcast_crosses_the_air_and_is_implicitly_acked(two: FakeRadios) -> None:
    # boot NodeInfo broadcasts first: a collision with them would need the firmware's
    # re-relay of repeated reliable packets, which the simulator does not model
    eventually(lambda: all(len(d.nodedb) == 1 for d in two.devices), timeout=10)
    a = RawClient(port=two.endpoints()[0].tcp_port)
    b = RawClient(path=two.endpoints()[1].serial)
    try:
        a.handshake()
        b.handshake()
        a.send(packet(b"need water", pid=47, want_ack=True))
        got = b.wait_for(lambda m: m.packet.decoded.payload == b"need water", timeout=10).packet
        assert getattr(got, "from") == two.devices[0].cfg.node_num
        assert got.id == 47 and got.to == 0xFFFFFFFF and got.decoded.portnum == 288
        assert (got.hop_start, got.hop_limit) == (3, 3)
        assert got.rx_snr == 6.0 and got.rx_rssi < 0
        ack = a.wait_for(lambda m: routing_of(m) is not None, timeout=10)
        assert (ack.packet.decoded.request_id, routing_of(ack).error_reason) == (47, ERR.NONE)
    finally:
        a.close()
        b.close()


def test_direct_message_is_acked_by_its_destination(two: FakeRadios) -> None:
    eventually(lambda: all(len(d.nodedb) == 1 for d in two.devices), timeout=10)
    a = RawClient(port=two.endpoints()[0].tcp_port)
    try:
        a.handshake()
        dest = two.devices[1].cfg.node_num
        a.send(packet(b"for you", pid=48, to=dest, want_ack=True))
        ack = a.wait_for(lambda m: routing_of(m) is not None, timeout=10)
        assert getattr(ack.packet, "from") == dest
        assert (ack.packet.decoded.request_id, routing_of(ack).error_reason) == (48, ERR.NONE)
    finally:
        a.close()


def test_queue_towards_a_missing_client_is_bounded() -> None:
    radios = FakeRadios(2, speed=100, seed=3, to_phone_len=4)
    radios.start()
    a = RawClient(port=radios.endpoints()[0].tcp_port)
    try:
        a.handshake()
        for i in range(8):  # device 1 has no client: what it hears piles up
            a.send(packet(bytes([i]) * 10, pid=100 + i))
            a.wait_for(lambda m: m.HasField("queueStatus"))
        eventually(lambda: radios.stats()[1].get("to_client_dropped", 0) >= 4, timeout=10)
        b = RawClient(port=radios.endpoints()[1].tcp_port)
        try:
            b.handshake()
            got = []
            for _ in range(4):
                got.append(b.wait_for(lambda m: m.HasField("packet")).packet)
            assert len(radios.devices[1].to_phone) == 0
        finally:
            b.close()
    finally:
        a.close()
        radios.stop()
    assert len(got) == 4


def test_garbage_and_undecodable_frames_are_counted(two: FakeRadios) -> None:
    c = RawClient(path=two.endpoints()[0].serial)
    try:
        c.write(b"\x00\xffgarbage\x94\x11" + frame(b"\xff\xff\xff\xff"))
        c.handshake()
    finally:
        c.close()
    st = two.stats()[0]
    assert st["garbage_bytes"] >= 11 and st["bad_frames"] == 1 and st["handshakes"] == 1


def test_telemetry_reports_channel_utilisation() -> None:
    radios = FakeRadios(2, speed=120, seed=4)
    radios.start()
    c = RawClient(port=radios.endpoints()[0].tcp_port)
    try:
        c.handshake()
        tm = c.wait_for(lambda m: m.packet.decoded.portnum == 67, timeout=5).packet
        from meshtastic.protobuf import telemetry_pb2
        t = telemetry_pb2.Telemetry()
        t.ParseFromString(tm.decoded.payload)
        assert t.HasField("device_metrics")
        assert t.device_metrics.channel_utilization > 0  # the other node's NodeInfo was heard
        assert t.device_metrics.HasField("air_util_tx")
    finally:
        c.close()
        radios.stop()


def test_a_new_tcp_client_kicks_the_old_one(two: FakeRadios) -> None:
    port = two.endpoints()[0].tcp_port
    a = RawClient(port=port)
    a.handshake()
    b = RawClient(port=port)
    try:
        b.handshake()
        assert a.sock is not None
        a.sock.settimeout(2)
        assert a.sock.recv(100) == b""
    finally:
        a.close()
        b.close()
