"""The real radio: a Meshtastic device through the official `meshtastic` library.

Theory of operation
-------------------
`MeshtasticRadio` implements `Radio` over `HookedSerial` (USB) or `HookedTCP`
(meshtasticd, port 4403). Three kinds of threads touch it:

* the **link supervisor** (one per adapter) builds an interface, always with
  an explicit serial path (the library may `sys.exit` or half-build without
  one), watches it, tears it down and rebuilds it with exponential back-off,
  forever, until `close`. It is also the watchdog: a send stuck in the
  library (sendData busy-waits while the radio reports no free slot, and the
  firmware reports slots only in answer to a packet or heartbeat) gets a
  heartbeat probe after half of ``send_timeout``; one stuck longer than
  ``send_timeout``, a packet without a QueueStatus in that time, or a
  radio silent for ``liveness_s`` that does not answer a heartbeat within
  ``probe_timeout`` kills the link; the sends involved are reported failed.
* the **send worker** (one per connection) is the only caller of `sendData`.
  `send` only queues. Broadcasts go without want_ack and without onResponse
  (the library never removes that handler); a direct message asks for an ACK.
* the library's **reader thread and global pubsub thread** deliver frames.
  The QueueStatus hook settles a send: res 0 means queued in the radio (ok for
  a broadcast), anything else fails it with the firmware's reason. Routing
  NAKs (TOO_LARGE, DUTY_CYCLE_LIMIT, NO_CHANNEL, MAX_RETRANSMIT...) and ACKs
  are matched by packet id. The pubsub listener is a bound method the adapter
  keeps alive (pubsub holds it weakly), and it only converts and hands the
  event to the sink.

Packets that came through Meshtastic's MQTT downlink (`via_mqtt`) are
dropped and counted: meshaid bridges meshes itself (node/bridge).

Hops are ``hopStart - hopLimit``: a lower bound, because favourite routers do
not decrement the hop limit. Device metrics (channel utilisation, airUtilTx)
come from the node info at connect and from the radio's own telemetry, about
once a minute.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import replace
from typing import Any

from meshtastic import BROADCAST_NUM
from meshtastic.protobuf import mesh_pb2, portnums_pb2
from pubsub import pub

from ..sync.ports import RxMeta
from .base import (
    DeviceInfo,
    Dropped,
    LinkState,
    Metrics,
    RadioEvent,
    Received,
    SendResult,
    Sink,
    check_payload,
)
from .meshtastic_config import (
    NO_METRICS,
    MeshtasticSettings,
    device_info,
    device_metrics,
    error_name,
    node_info_metrics,
    routers_near,
)
from .meshtastic_iface import Hooks, open_interface
from .meshtastic_link import Link, SendJob, remember

log = logging.getLogger(__name__)
_ROUTING = portnums_pb2.PortNum.ROUTING_APP
_TELEMETRY = portnums_pb2.PortNum.TELEMETRY_APP

class MeshtasticRadio:
    """`Radio` over a Meshtastic device (serial or TCP) with the official library."""

    def __init__(self, settings: MeshtasticSettings | None = None) -> None:
        """Configure; nothing opens before `start`."""
        self.settings = settings or MeshtasticSettings()
        if self.settings.transport not in ("serial", "tcp"):
            raise ValueError("transport must be 'serial' or 'tcp'")
        self._sink: Sink | None = None
        self._lock = threading.Lock()
        self._conn: Link | None = None
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.counters: dict[str, int] = {}
        self.device: DeviceInfo | None = None

    # ------------------------------------------------------------ port
    def start(self, sink: Sink) -> None:
        """Begin connecting (and reconnecting forever); events go to ``sink``."""
        self._sink = sink
        pub.subscribe(self._on_receive, "meshtastic.receive")  # bound method: kept alive by us
        self._thread = threading.Thread(target=self._supervise, name="meshtastic-link",
                                        daemon=True)
        self._thread.start()

    def send(self, payload: bytes, *, hop_limit: int, priority: int, token: int,
             dest: int | None = None) -> None:
        """Queue one packet for the send worker; the result comes as a `SendResult`."""
        check_payload(payload, dest)
        job = SendJob(bytes(payload), max(0, min(hop_limit, self.settings.hop_limit)), priority,
                   token, dest)
        with self._lock:
            conn = self._conn
            if conn is not None and not conn.dead.is_set():
                conn.jobs.put(job)
                return
        self._result(job, False, "disconnected")

    def close(self) -> None:
        """Stop reconnecting, close the device; no events after this returns."""
        self._closing.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.kill("closed")
        if self._thread is not None:
            self._thread.join(timeout=self.settings.send_timeout + 10)
        with contextlib.suppress(Exception):
            pub.unsubscribe(self._on_receive, "meshtastic.receive")
        self._sink = None

    # ------------------------------------------------------------ events
    def _emit(self, ev: RadioEvent) -> None:
        sink = self._sink
        if sink is not None and not (self._closing.is_set() and not isinstance(ev, SendResult)):
            sink(ev)

    def _count(self, what: str) -> None:
        with self._lock:
            self.counters[what] = self.counters.get(what, 0) + 1

    def _drop(self, reason: str) -> None:
        self._count(reason)
        self._emit(Dropped(reason, time.monotonic()))

    def _result(self, job: SendJob, ok: bool, reason: str = "") -> None:
        self._count("sent" if ok else f"send_failed_{reason}")
        self._emit(SendResult(job.token, ok, reason, time.monotonic()))

    # ------------------------------------------------------------ supervisor
    def _supervise(self) -> None:
        s = self.settings
        delay = s.backoff_min
        while not self._closing.is_set():
            began = time.monotonic()
            try:
                conn = self._connect()
            except (Exception, SystemExit) as exc:  # the library may raise anything, even exit
                log.debug("radio connect failed", exc_info=True)
                detail = f"{s.describe()}: {type(exc).__name__}: {exc}".strip(": ")
                self._count("connect_failures")
                self._emit(LinkState(False, detail, None, time.monotonic()))
                self._closing.wait(delay)
                delay = min(delay * 2, s.backoff_max)
                continue
            self._link_up(conn)
            reason = self._watch(conn)
            self._teardown(conn, reason)
            if time.monotonic() - began > s.backoff_max:
                delay = s.backoff_min
            self._closing.wait(delay)
            delay = min(delay * 2, s.backoff_max)

    def _connect(self) -> Link:
        s = self.settings
        holder: list[Link] = []

        def dead(reason: str) -> None:
            if holder:
                holder[0].kill(reason)

        def qs(status: Any) -> None:
            if holder:
                self._on_queue_status(holder[0], status)

        hooks = Hooks(dead, qs, lambda _line: self._drop("serial_noise"), s.connect_timeout)
        iface = open_interface(s, hooks)
        conn = Link(iface, hooks, iface.myInfo.my_node_num)
        holder.append(conn)
        return conn

    def _link_up(self, conn: Link) -> None:
        self.device = device_info(conn.iface)
        with self._lock:
            self._conn = conn
        now = time.monotonic()
        self._emit(LinkState(True, self.settings.describe(), self.device, now))
        metrics = node_info_metrics(conn.iface.getMyNodeInfo(), now)
        if metrics is not None:
            self._emit(self._with_routers(metrics, conn))
        threading.Thread(target=self._work, args=(conn,), name="meshtastic-send",
                         daemon=True).start()

    def _watch(self, conn: Link) -> str:
        s = self.settings
        while not conn.dead.wait(s.tick):
            if self._closing.is_set():
                return "closed"
            now = time.monotonic()
            stuck = conn.busy
            if stuck is not None:
                waited = now - conn.busy_since
                if waited > s.send_timeout:
                    return "radio stopped answering (send stalled)"
                if waited > s.send_timeout / 2 and conn.probe_at < conn.busy_since:
                    # sendData busy-waits for a free slot and the firmware only reports
                    # slots in answer to something: a heartbeat gets a fresh QueueStatus
                    conn.probe_at = now
                    threading.Thread(target=self._probe, args=(conn,), daemon=True).start()
            with self._lock:
                late = [pid for pid, (_, t) in conn.waiting_qs.items() if now - t > s.send_timeout]
                no_ack = [pid for pid, (_, t) in conn.waiting_ack.items()
                          if now - t > s.ack_timeout]
                expired = [conn.waiting_ack.pop(pid)[0] for pid in no_ack]
            for job in expired:
                self._result(job, False, "no_ack")
            if late:
                return "radio stopped answering (no queue status)"
            silent = now - conn.hooks.last_rx
            if silent > s.liveness_s:
                if conn.probe_at <= conn.hooks.last_rx:
                    conn.probe_at = now
                    threading.Thread(target=self._probe, args=(conn,), daemon=True).start()
                elif now - conn.probe_at > s.probe_timeout:
                    return "radio silent (no answer to a heartbeat)"
        return conn.reason or "connection lost"

    @staticmethod
    def _probe(conn: Link) -> None:
        """A heartbeat written directly (not through the library's queue, which may block)."""
        with contextlib.suppress(Exception):
            conn.iface._sendToRadioImpl(mesh_pb2.ToRadio(heartbeat=mesh_pb2.Heartbeat()))

    def _teardown(self, conn: Link, reason: str) -> None:
        conn.kill(reason)
        with self._lock:
            if self._conn is conn:
                self._conn = None
            failed, settled = conn.settle_all()
        for job, outcome in settled:
            self._result(job, *outcome)
        failed += conn.unsent()
        why = "timeout" if reason.startswith("radio s") else "disconnected"  # stopped / silent
        for job in failed:
            self._result(job, False, why)
        conn.iface.queueStatus = None  # frees a sendData busy-waiting for a slot
        closer = threading.Thread(target=self._close_iface, args=(conn.iface,), daemon=True)
        closer.start()
        closer.join(timeout=5.0)
        self._count("link_down")
        self._emit(LinkState(False, f"{self.settings.describe()}: {reason}", None,
                             time.monotonic()))

    @staticmethod
    def _close_iface(iface: Any) -> None:
        with contextlib.suppress(Exception, SystemExit):
            iface.close()

    # ------------------------------------------------------------ sending
    def _work(self, conn: Link) -> None:
        s = self.settings
        while not conn.dead.is_set():
            try:
                job = conn.jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            if conn.dead.is_set():
                self._result(job, False, "disconnected")
                break
            conn.busy, conn.busy_since = job, time.monotonic()
            try:
                pkt = conn.iface.sendData(
                    job.payload, destinationId=BROADCAST_NUM if job.dest is None else job.dest,
                    portNum=s.app_port, wantAck=job.dest is not None, channelIndex=s.channel_index,
                    hopLimit=job.hop_limit, priority=job.priority)
            except (Exception, SystemExit) as exc:  # whatever the library raises, even exit
                log.debug("sendData failed", exc_info=True)
                with self._lock:
                    mine = conn.busy is job  # not already failed by the watchdog
                    conn.busy = None
                if mine:
                    self._result(job, False, "disconnected")
                conn.kill(f"send failed: {type(exc).__name__}: {exc}")
                break
            with self._lock:
                if conn.busy is not job:  # the watchdog gave up on it meanwhile
                    break
                conn.busy = None
                conn.early_qs_at.pop(pkt.id, None)
                outcome = conn.decide(job, pkt.id, conn.early_qs.pop(pkt.id, None),
                                      conn.early_routing.pop(pkt.id, None))
            if outcome is not None:
                self._result(job, *outcome)

    def _on_queue_status(self, conn: Link, status: Any) -> None:
        pid = status.mesh_packet_id
        if not pid:
            return
        with self._lock:
            entry = conn.waiting_qs.pop(pid, None)
            if entry is None:
                remember(conn.early_qs, pid, status.res)
                remember(conn.early_qs_at, pid, time.monotonic())
                return
            outcome = conn.decide(entry[0], pid, status.res, None)
        if outcome is not None:
            self._result(entry[0], *outcome)

    # ------------------------------------------------------------ receiving
    def _on_receive(self, packet: dict[str, Any], interface: Any) -> None:
        """pubsub listener (the library's publishing thread): convert, hand over, return."""
        conn = self._conn
        if conn is None or interface is not conn.iface:
            return
        raw = packet.get("raw")
        if raw is None or not raw.HasField("decoded"):
            self._drop("undecoded")
            return
        sender = getattr(raw, "from")
        port = raw.decoded.portnum
        if port == _ROUTING:
            self._on_routing(conn, raw)
        elif sender == conn.me:
            if port == _TELEMETRY:
                self._on_telemetry(raw.decoded.payload, conn)
        elif port != self.settings.app_port:
            self._drop("other_port")
        elif raw.via_mqtt:
            # Meshtastic's MQTT downlink bridges packets, not records: digests and
            # sketches of a far mesh would pose as neighbours. meshaid bridges over
            # IP itself (node/bridge); such packets are counted and dropped.
            self._drop("via_mqtt")
        elif not raw.decoded.payload:
            self._drop("empty")
        elif len(raw.decoded.payload) > mesh_pb2.Constants.DATA_PAYLOAD_LEN:
            self._drop("oversized")
        else:
            hops = max(0, raw.hop_start - raw.hop_limit) if raw.hop_start else 0
            # relay_node: the last byte of the radio it came from (firmware 2.6+; 0: not said)
            relay = raw.relay_node & 0xFF or None
            meta = RxMeta(sender, raw.rx_snr, float(raw.rx_rssi), hops, raw.hop_limit, relay)
            dest = None if raw.to == BROADCAST_NUM else raw.to
            self._count("received")
            self._emit(Received(bytes(raw.decoded.payload), meta, time.monotonic(), dest))

    def _on_routing(self, conn: Link, raw: Any) -> None:
        rid = raw.decoded.request_id
        routing = mesh_pb2.Routing()
        with contextlib.suppress(Exception):
            routing.ParseFromString(raw.decoded.payload)
        err = routing.error_reason
        with self._lock:
            entry = conn.waiting_ack.pop(rid, None) or conn.waiting_qs.pop(rid, None)
            if entry is None:
                remember(conn.early_routing, rid, err)
                return
        self._result(entry[0], err == 0, error_name(err) if err else "")

    def _on_telemetry(self, payload: bytes, conn: Link) -> None:
        metrics = device_metrics(payload, time.monotonic())
        if metrics is None:  # a malformed or non-device telemetry frame is only counted
            self._drop("bad_telemetry")
        elif metrics is not NO_METRICS:
            self._emit(self._with_routers(metrics, conn))

    @staticmethod
    def _with_routers(metrics: Metrics, conn: Link) -> Metrics:
        """`metrics` with the firmware routers the radio's node list has in range."""
        try:
            near = routers_near(dict(conn.iface.nodes or {}), conn.me, time.time())
        except (AttributeError, RuntimeError, TypeError):  # a library without a node list
            near = 0
        return replace(metrics, routers_near=near)
