"""A fake Meshtastic device: the firmware's phone API on top of the simulated air.

Theory of operation
-------------------
A `FakeDevice` is one node of a `RealtimeMesh`. Clients reach it through
`Session`s (a pseudo-terminal or a TCP connection, see `fake_ports`); each
session carries the stream framing and its own handshake state. Everything
here runs with the mesh's ``lock`` held, on the I/O thread (bytes from a
client) or the air thread (packets heard, timers).

* ``want_config_id`` -> the handshake of `fake_config.handshake`; the session
  is then active and receives packets.
* A ``packet`` -> the checks of `MeshService::handleToRadio` / `Router::send`:
  NO_CHANNEL for a disabled channel, TOO_LARGE when the encoded `Data` plus
  the 16-byte header (plus 12 for a PKI direct message) exceeds 255 bytes,
  DUTY_CYCLE_LIMIT while the last hour's transmit time exceeds the region's
  cap, and a full TX queue (error 32, ERRNO_UNKNOWN, with no NAK). The client
  gets a QueueStatus for every packet (res = the error, free = TX slots left)
  and, for routing errors, a NAK packet (a `Routing` with the error whose
  request_id is the packet id). An accepted packet goes on the air with the
  client's packet id.
* ``want_ack``: a broadcast is acknowledged when the device hears someone
  relay it (implicit ACK), a direct message when the destination's ACK comes
  back; otherwise it is sent again, three transmissions in all, then
  MAX_RETRANSMIT is NAKed.
* A ``heartbeat`` -> a QueueStatus.
* Packets heard go to one bounded queue towards the clients (32 by default);
  when it is full, text messages push out the oldest and everything else is
  dropped, as `MeshService::sendToPhone` does. Device metrics (channel
  utilisation and air_util_tx from the simulated radio) reach the client
  every minute of virtual time while a client is connected.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from meshtastic.protobuf import mesh_pb2, portnums_pb2, telemetry_pb2

from ..sim.firmware import CW_MAX, CW_MIN
from ..sim.packets import BROADCAST, RxMeta
from ..sim.realtime import RealtimeMesh
from .fake_config import DeviceConfig, device_metrics, handshake, wall_now
from .framing import Deframer, frame

ERRNO_UNKNOWN = 32  # what Router::send returns when the TX queue refuses a packet
HEADER = 16
MAX_LORA = 255
PKC_OVERHEAD = 12
RETX_TOTAL = 3  # transmissions of a want_ack packet before MAX_RETRANSMIT
PROCESSING_S = 4.5  # PROCESSING_TIME_MSEC in getRetransmissionMsec
TELEMETRY_S = 60.0
NODEINFO_S = 10800.0
_PORT = portnums_pb2.PortNum
_ERR = mesh_pb2.Routing.Error


@dataclass(eq=False)
class AirFrame:
    """One MeshPacket on the simulated air: addressing plus the encoded `Data`."""

    src: int
    dest: int
    pid: int
    data: bytes
    app_len: int
    want_ack: bool = False
    channel: int = 0

    def __len__(self) -> int:  # what `Mesh` charges air time for
        return self.app_len


@dataclass(eq=False)
class Session:
    """One client connection (pty or TCP): framing, state and bytes waiting to go out."""

    name: str
    deframer: Deframer = field(default_factory=Deframer)
    out: bytearray = field(default_factory=bytearray)
    active: bool = False  # handshake sent, packets flow

    def send(self, msg: mesh_pb2.FromRadio) -> None:
        """Queue one FromRadio for this client."""
        self.out += frame(msg.SerializeToString())


class FakeDevice:
    """One emulated node: its phone API, node database and radio on the shared air."""

    def __init__(self, air: RealtimeMesh, idx: int, cfg: DeviceConfig,
                 index_of: dict[int, int], wake: Callable[[], None]) -> None:
        """Node ``idx`` of ``air``; ``index_of`` maps node numbers to mesh indices."""
        self.air, self.idx, self.cfg = air, idx, cfg
        self.index_of = index_of
        self.wake = wake
        self.rng = random.Random(cfg.node_num)
        self.boot = air.now()
        self.sessions: list[Session] = []
        self.to_phone: deque[mesh_pb2.MeshPacket] = deque()
        self.nodedb: dict[int, mesh_pb2.NodeInfo] = {}
        self.pending: dict[int, tuple[AirFrame, int, int, object]] = {}  # pid -> (frame, hops, tries, timer)
        self.stats: dict[str, int] = {}
        self.stalled = False  # tests: a radio that stops answering
        self.queue_full = False  # tests: report no free TX slot (traffic the sim does not model)
        self._from_radio_id = 0
        air.attach(idx, self._on_air, self._on_heard_again)
        air.schedule_in(self.rng.uniform(1.0, 5.0), self._announce)
        air.schedule_in(TELEMETRY_S, self._telemetry)

    # ------------------------------------------------------------ helpers
    def count(self, what: str, n: int = 1) -> None:
        """Add to a counter (shown by `meshaid fake-radio` and used by tests)."""
        self.stats[what] = self.stats.get(what, 0) + n

    def _send(self, s: Session, msg: mesh_pb2.FromRadio) -> None:
        self._from_radio_id += 1
        msg.id = self._from_radio_id
        s.send(msg)

    def _metrics(self) -> telemetry_pb2.DeviceMetrics:
        m = self.air.mesh
        return device_metrics(m.channel_utilization(self.idx), m.air_util_tx(self.idx),
                              self.air.now() - self.boot)

    def own_node_info(self) -> mesh_pb2.NodeInfo:
        """This device's NodeInfo, with fresh device metrics."""
        return mesh_pb2.NodeInfo(num=self.cfg.node_num, user=self.cfg.user(),
                                 last_heard=wall_now(), device_metrics=self._metrics())

    def _free(self) -> int:
        return max(0, self.cfg.tx_queue_len - self.air.mesh.queue_len(self.idx))

    def _queue_status(self, s: Session, res: int, pid: int) -> None:
        self._send(s, mesh_pb2.FromRadio(queueStatus=mesh_pb2.QueueStatus(
            res=res, free=0 if self.queue_full else self._free(), maxlen=self.cfg.tx_queue_len, mesh_packet_id=pid)))

    # ------------------------------------------------------------ from the client
    def on_bytes(self, s: Session, data: bytes) -> None:
        """Bytes a client wrote: decode frames, handle each ToRadio, count the rest."""
        d = s.deframer
        skipped, oversized = d.skipped, d.oversized
        bodies = d.feed(data)
        if d.skipped > skipped:
            self.count("garbage_bytes", d.skipped - skipped)
        if d.oversized > oversized:
            self.count("oversized_frames", d.oversized - oversized)
        for body in bodies:
            msg = mesh_pb2.ToRadio()
            try:
                msg.ParseFromString(body)
            except DecodeError:
                self.count("bad_frames")
                continue
            self.handle(s, msg)

    def handle(self, s: Session, msg: mesh_pb2.ToRadio) -> None:
        """One ToRadio from a client."""
        which = msg.WhichOneof("payload_variant")
        if which == "want_config_id":
            self.count("handshakes")
            s.active = False
            others = [n for num, n in self.nodedb.items() if num != self.cfg.node_num]
            for m in handshake(self.cfg, msg.want_config_id, self.own_node_info(), others):
                self._send(s, m)
            s.active = True
        elif which == "heartbeat":
            self.count("heartbeats")
            self._queue_status(s, 0, 0)
        elif which == "disconnect":
            s.active = False
        elif which == "packet":
            self._from_phone(s, msg.packet)
        else:
            self.count("ignored_to_radio")
        self.wake()

    def _encoded_len(self, p: mesh_pb2.MeshPacket) -> int:
        data = mesh_pb2.Data()
        data.CopyFrom(p.decoded)
        data.bitfield = data.bitfield  # the firmware always sets the bitfield
        n = HEADER + len(data.SerializeToString())
        return n + PKC_OVERHEAD if p.to != BROADCAST else n

    def _refusal(self, p: mesh_pb2.MeshPacket) -> int:
        if p.channel != 0:
            return _ERR.NO_CHANNEL
        if self._encoded_len(p) > MAX_LORA:
            return _ERR.TOO_LARGE
        cap = self.cfg.duty_cycle_pct
        if cap is not None and self.air.mesh.air_util_tx(self.idx) > cap:
            return _ERR.DUTY_CYCLE_LIMIT
        if self._free() == 0:
            return ERRNO_UNKNOWN
        return 0

    def _from_phone(self, s: Session, p: mesh_pb2.MeshPacket) -> None:
        self.count("packets_from_client")
        if p.id == 0:
            p.id = self.rng.getrandbits(32) or 1
        if not p.HasField("decoded"):
            self._queue_status(s, _ERR.BAD_REQUEST, p.id)
            return
        if p.to == self.cfg.node_num:  # for the device itself (admin): nothing to transmit
            self._queue_status(s, 0, p.id)
            return
        self.air.sync()
        res = self._refusal(p)
        self._queue_status(s, res, p.id)
        if res:
            self.count(f"refused_{_ERR.Name(res) if res != ERRNO_UNKNOWN else 'QUEUE_FULL'}")
            if res != ERRNO_UNKNOWN:
                self._nak(p.id, res, p.channel)
            return
        hops = min(p.hop_limit, 7)
        f = AirFrame(self.cfg.node_num, p.to, p.id, p.decoded.SerializeToString(),
                     len(p.decoded.payload), p.want_ack)
        self._transmit(f, hops)
        if p.want_ack:
            self._arm_retx(f, hops, 1)

    def _transmit(self, f: AirFrame, hops: int) -> bool:
        to = self.index_of.get(f.dest, BROADCAST) if f.dest != BROADCAST else BROADCAST
        ok = self.air.mesh.send(self.idx, f, hop_limit=hops, to=to, tag="fake", pid=f.pid)
        self.air.kick()
        if not ok:
            self.count("refused_by_radio")
        return ok

    # ------------------------------------------------------------ reliability
    def _retx_delay(self, f: AirFrame) -> float:
        """RadioInterface::getRetransmissionMsec: room for the packet and a relay's answer."""
        m = self.air.mesh
        cw = CW_MIN + int(m.channel_utilization(self.idx) * (CW_MAX - CW_MIN) / 100)
        slots = 2 ** cw + 2 * CW_MAX + 2 ** ((CW_MAX + CW_MIN) // 2)
        return 2 * m.payload_airtime(f.app_len) + slots * m.slot_s + PROCESSING_S

    def _arm_retx(self, f: AirFrame, hops: int, tries: int) -> None:
        timer = self.air.schedule_in(self._retx_delay(f), self._retx, f.pid)
        self.pending[f.pid] = (f, hops, tries, timer)

    def _retx(self, pid: int) -> None:
        entry = self.pending.pop(pid, None)
        if entry is None:
            return
        f, hops, tries, _ = entry
        if tries >= RETX_TOTAL:
            self.count("max_retransmit")
            self._nak(pid, _ERR.MAX_RETRANSMIT, f.channel)
            return
        self.count("retransmissions")
        self._transmit(f, hops)
        self._arm_retx(f, hops, tries + 1)

    def _acked(self, pid: int, by: int) -> None:
        entry = self.pending.pop(pid, None)
        if entry is not None:
            self.air.events.cancel(entry[3])  # type: ignore[arg-type]
            self._routing_to_phone(pid, _ERR.NONE, by, entry[0].channel)

    def _on_heard_again(self, src: int, pid: int) -> None:
        if src == self.idx and pid in self.pending and self.pending[pid][0].dest == BROADCAST:
            self._acked(pid, self.cfg.node_num)  # implicit ACK: someone relayed our broadcast

    def _nak(self, pid: int, err: int, channel: int) -> None:
        self._routing_to_phone(pid, err, self.cfg.node_num, channel)

    def _routing_to_phone(self, pid: int, err: int, sender: int, channel: int) -> None:
        data = mesh_pb2.Data(portnum=_PORT.ROUTING_APP, request_id=pid,
                             payload=mesh_pb2.Routing(error_reason=err).SerializeToString())
        self._to_phone(mesh_pb2.MeshPacket(
            id=self.rng.getrandbits(32) or 1, to=self.cfg.node_num, channel=channel,
            decoded=data, rx_time=wall_now(), priority=mesh_pb2.MeshPacket.Priority.ACK,
            **{"from": sender}))

    # ------------------------------------------------------------ from the air
    def _on_air(self, f: AirFrame, meta: RxMeta) -> None:
        me = self.cfg.node_num
        if f.dest not in (BROADCAST, me):
            return
        data = mesh_pb2.Data()
        try:
            data.ParseFromString(f.data)
        except DecodeError:
            self.count("bad_air_frames")
            return
        self._heard_from(f.src, meta, data)
        if data.portnum == _PORT.ROUTING_APP and data.request_id in self.pending and f.dest == me:
            self._acked(data.request_id, f.src)
            return
        if f.dest == me and f.want_ack:  # the destination answers a reliable DM
            ack = mesh_pb2.Data(portnum=_PORT.ROUTING_APP, request_id=f.pid,
                                payload=mesh_pb2.Routing(error_reason=_ERR.NONE).SerializeToString())
            raw = ack.SerializeToString()
            self._transmit(AirFrame(me, f.src, self.rng.getrandbits(32) or 1, raw, len(raw)),
                           self.cfg.hop_limit)
        relay = self.index_of_num(meta.relay_node)
        self._to_phone(mesh_pb2.MeshPacket(
            id=f.pid, to=f.dest, channel=f.channel, decoded=data, rx_time=wall_now(),
            rx_snr=meta.snr, rx_rssi=int(meta.rssi), hop_limit=meta.hop_limit,
            hop_start=meta.hop_start, want_ack=f.want_ack, relay_node=relay & 0xFF,
            **{"from": f.src}))

    def index_of_num(self, idx: int) -> int:
        """The node number of mesh index ``idx`` (0 when unknown)."""
        for num, i in self.index_of.items():
            if i == idx:
                return num
        return 0

    def _heard_from(self, num: int, meta: RxMeta, data: mesh_pb2.Data) -> None:
        n = self.nodedb.get(num)
        if n is None:
            n = self.nodedb[num] = mesh_pb2.NodeInfo(num=num)
        n.snr = meta.snr
        n.last_heard = wall_now()
        n.hops_away = meta.hop_start - meta.hop_limit
        if data.portnum == _PORT.NODEINFO_APP:
            user = mesh_pb2.User()
            try:
                user.ParseFromString(data.payload)
            except DecodeError:
                return
            n.user.CopyFrom(user)

    # ------------------------------------------------------------ towards the client
    def _to_phone(self, p: mesh_pb2.MeshPacket) -> None:
        q = self.to_phone
        if len(q) >= self.cfg.to_phone_len:
            if p.decoded.portnum in (_PORT.TEXT_MESSAGE_APP, _PORT.RANGE_TEST_APP):
                q.popleft()
                self.count("to_client_dropped_oldest")
            else:
                self.count("to_client_dropped")
                return
        q.append(p)
        self.wake()

    def pump(self, budget: int = 2048) -> None:
        """Move queued packets to active sessions whose output is below ``budget`` bytes."""
        if self.stalled:
            return
        while self.to_phone:
            ready = [s for s in self.sessions if s.active and len(s.out) < budget]
            if not ready:
                return
            s = min(ready, key=lambda x: len(x.out))
            self._send(s, mesh_pb2.FromRadio(packet=self.to_phone.popleft()))

    # ------------------------------------------------------------ periodic
    def _announce(self) -> None:
        """Broadcast our NodeInfo (at boot, then every 3 hours), as the firmware does."""
        raw = self.cfg.user().SerializeToString()
        data = mesh_pb2.Data(portnum=_PORT.NODEINFO_APP, payload=raw)
        if self._free() > 0:
            self._transmit(AirFrame(self.cfg.node_num, BROADCAST, self.rng.getrandbits(32) or 1,
                                    data.SerializeToString(), len(raw)), self.cfg.hop_limit)
        self.air.schedule_in(NODEINFO_S, self._announce)

    def _telemetry(self) -> None:
        """Device metrics to the client once a minute (DeviceTelemetryModule, phone only)."""
        if any(s.active for s in self.sessions):
            t = telemetry_pb2.Telemetry(time=wall_now(), device_metrics=self._metrics())
            data = mesh_pb2.Data(portnum=_PORT.TELEMETRY_APP, payload=t.SerializeToString())
            self._to_phone(mesh_pb2.MeshPacket(
                id=self.rng.getrandbits(32) or 1, to=BROADCAST, decoded=data,
                rx_time=wall_now(), **{"from": self.cfg.node_num}))
        self.air.schedule_in(TELEMETRY_S, self._telemetry)
