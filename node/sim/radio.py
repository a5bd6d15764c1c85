"""The simulated Meshtastic mesh: managed flooding over half-duplex LoRa radios.

Theory of operation (firmware 2.7.x; sources in firmware-notes/flooding.md):

* **TX queue, one timer.** 16-slot queue per node, relays ahead of own
  packets. Queuing arms the node's single "transmit delay" timer only if none
  is pending, with a delay drawn for the front packet: own packets
  ``random(0, 2**CW)`` slots (CW from channel utilisation), relays the
  SNR-weighted window (ROUTER short; CLIENT ``2*CWmax`` + ``random(0, 2**CW)``
  slots, low SNR = short). Every RX interrupt and TX completion re-draws it.
* **CAD.** When the timer fires the node sends the front packet unless it is
  transmitting or hears a frame that began at least ``cad_blind_s`` (one slot)
  ago; otherwise it re-draws. Same-slot starts therefore collide.
* **Reception.** Up neighbours over live links start receiving at TX start.
  A transmitting node hears nothing, and keying up kills what it was hearing.
  A frame survives overlap only if ``capture_db`` above the summed power of
  everything that overlapped it, then faces the link loss model. Frames the
  radio locked onto (first of a busy period, or survivors) raise an RX
  interrupt and count toward channel utilisation.
* **Routing.** Duplicate detection on (from, id) with a 200-entry LRU. A first
  copy is relayed with ``hop_limit - 1`` (if > 0, not for/from us, role not
  CLIENT_MUTE) and then handed to the app if broadcast or for us. A duplicate
  makes a CLIENT drop its queued relay (ROUTER never does), or replaces it
  when it carries more hops ("upgrade").
* **Duty cycle.** ``firmware``: any packet, relays included, is refused at
  queue time while the one-minute TX buckets of the last hour exceed the cap
  (may overshoot by what is queued). ``strict``: refused at TX time if the
  exact rolling hour ending with it would exceed the cap.

Reception and routing, the hot path, are in ``flooding.py`` (a mixin of
:class:`Mesh`).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .airtime import MAX_DATA_PAYLOAD, MAX_FRAME_BYTES, Preset, frame_bytes, get_preset, time_on_air
from .events import EventQueue
from .firmware import (
    HOP_MAX,
    PACKET_HISTORY_LEN,
    TX_QUEUE_LEN,
    AirMeter,
    Role,
    max_rolling_duty_pct,
    tx_delay_local,
    tx_delay_relay,
)
from .flooding import Flooding, OnHeardAgain, OnReceive, OnTxDone
from .loss import LossModel
from .packets import BROADCAST, MeshStats, Packet, RxMeta
from .state import NodeState
from .topology import Topology
from .wiring import LossSpec, Wiring

__all__ = ["BROADCAST", "Mesh", "MeshStats", "Role", "RxMeta"]


class Mesh(Flooding):
    """A set of simulated Meshtastic nodes sharing one LoRa channel."""

    def __init__(self, topology: Topology, *, preset: Preset | str = "LONG_FAST",
                 rng: random.Random | None = None, events: EventQueue | None = None,
                 on_receive: OnReceive | None = None, on_tx_done: OnTxDone | None = None,
                 roles: Mapping[int, Role] | None = None, apps: Collection[int] | None = None,
                 capture_db: float = 6.0, loss: LossSpec = None,
                 duty_cycle_pct: float | None = None, duty_mode: str = "firmware",
                 tx_queue_len: int = TX_QUEUE_LEN, history_len: int = PACKET_HISTORY_LEN,
                 cad_blind_s: float | None = None, snr_report_max: float = 15.0,
                 pki_dm: bool = True, on_heard_again: OnHeardAgain | None = None) -> None:
        """Build the mesh. ``apps``: nodes with an application (default: all).

        ``on_heard_again(node, src, packet_id)``: a node decoded a copy of a packet it
        already had (the firmware's implicit ACK of a broadcast is its originator
        hearing such a relay).
        """
        if duty_mode not in ("firmware", "strict"):
            raise ValueError("duty_mode must be 'firmware' or 'strict'")
        self.topology = topology
        self.preset = get_preset(preset)
        self.rng = rng if rng is not None else random.Random(0)
        self.events = events if events is not None else EventQueue()
        self.on_receive = on_receive
        self.on_tx_done = on_tx_done
        self.on_heard_again = on_heard_again
        self.capture_ratio = 10.0 ** (capture_db / 10.0)
        self.duty_cycle_pct = duty_cycle_pct
        self.duty_mode = duty_mode
        self.tx_queue_len = tx_queue_len
        self.history_len = history_len
        self.slot_s = self.preset.slot_time
        self.cad_blind_s = self.slot_s if cad_blind_s is None else cad_blind_s
        self.snr_report_max = snr_report_max
        self.pki_dm = pki_dm
        # Firmware 2.8 signs broadcasts that have room: this many bytes more on air.
        self.signature_bytes = 0
        # The optional Traffic Management module: a relay forwards at most this many
        # packets of one origin per `rate_window_s` (0: off); the rest are dropped.
        self.rate_limit = 0
        self.rate_window_s = 60.0
        self._rate_seen: dict[tuple[int, int], list[float]] = {}
        self.stats = MeshStats()
        self.nodes = [NodeState(i) for i in range(topology.n)]
        for i, role in (roles or {}).items():
            self.nodes[i].role = role
        if apps is not None:
            app_set = set(apps)
            for nd in self.nodes:
                nd.has_app = nd.idx in app_set
        self.wiring = Wiring(topology, loss)
        for nd in self.nodes:
            self._rebuild(nd.idx)

    # ------------------------------------------------------------------ config
    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def now(self) -> float:
        """Current virtual time."""
        return self.events.now

    def _rebuild(self, *nodes: int) -> None:
        for a in nodes or range(self.n):
            self.nodes[a].nbrs = self.wiring.neighbours(a, self.nodes, self.snr_report_max)

    def routers_near(self, node: int) -> int:
        """How many firmware routers `node` hears directly (as its node list says)."""
        return sum(1 for n in self.topology.neighbors(node)
                   if self.nodes[n].role is Role.ROUTER)

    def set_role(self, node: int, role: Role) -> None:
        """Change a node's role."""
        self.nodes[node].role = role

    def set_app(self, node: int, has_app: bool) -> None:
        """Give a node an application (ledger) or make it a radio-only relay."""
        self.nodes[node].has_app = has_app

    def set_rebroadcast_mode(self, node: int, mode: str) -> None:
        """Firmware ``rebroadcast_mode``: ALL (default), LOCAL_ONLY, KNOWN_ONLY, NONE, CORE_PORTNUMS_ONLY.

        With one shared channel LOCAL_ONLY/KNOWN_ONLY behave as ALL. NONE stops
        relaying. CORE_PORTNUMS_ONLY -- installed by the firmware when a node is
        made a ROUTER -- drops private-port packets: no relay, no app delivery.
        """
        if mode not in ("ALL", "LOCAL_ONLY", "KNOWN_ONLY", "NONE", "CORE_PORTNUMS_ONLY"):
            raise ValueError(f"unknown rebroadcast mode {mode!r}")
        nd = self.nodes[node]
        nd.no_relay = mode == "NONE"
        nd.core_only = mode == "CORE_PORTNUMS_ONLY"

    def set_loss(self, a: int, b: int, model: LossModel | None) -> None:
        """Set the loss model of the directed link a -> b (None: lossless)."""
        if model is None:
            self.wiring.loss.pop((a, b), None)
        else:
            self.wiring.loss[(a, b)] = model
        self._rebuild(a)

    def set_link(self, a: int, b: int, up: bool) -> None:
        """Cut or restore both directions between a and b (frames on air are unaffected)."""
        self.wiring.set_link(a, b, up)
        self._rebuild(a, b)

    def link_up(self, a: int, b: int) -> bool:
        """True if the topology has a -> b and it is not cut."""
        return self.wiring.is_up(a, b)

    def partition(self, side: Iterable[int]) -> int:
        """Cut every link between ``side`` and the other nodes; return how many pairs."""
        k = self.wiring.partition(side)
        self._rebuild()
        return k

    def heal(self) -> None:
        """Restore every cut link."""
        self.wiring.cut.clear()
        self._rebuild()

    def is_up(self, node: int) -> bool:
        """Whether the node is powered."""
        return self.nodes[node].up

    def set_up(self, node: int, up: bool) -> None:
        """Power a node off (loses queue, history, counters, frame on air) or on (reboot)."""
        nd = self.nodes[node]
        if up == nd.up:
            return
        if up:
            nd.up = True
            nd.meter = AirMeter(self.events.now)
        else:
            dropped, aborted = nd.power_off(self.events)
            self.stats.queue_dropped_on_down += dropped
            self.stats.aborted_rx += aborted

    # ------------------------------------------------------------------ sending
    def payload_airtime(self, payload_len: int, to: int = BROADCAST) -> float:
        """Seconds on air of one frame carrying ``payload_len`` application bytes."""
        return time_on_air(frame_bytes(payload_len, pki=self.pki_dm and to != BROADCAST),
                           self.preset)

    def send(self, node: int, payload: Any, *, hop_limit: int = 3, to: int = BROADCAST,
             tag: str = "", pid: int | None = None, src: int | None = None,
             hop_start: int | None = None, relay: int | None = None) -> bool:
        """Queue ``payload`` (bytes) from ``node``; False if refused (counted by reason).

        Refused when the node is down, the payload exceeds 233 bytes or the frame
        255 bytes (231 for a broadcast on a private port, 219 for a PKI DM), the
        duty cycle is exhausted, or the TX queue is full. ``pid``: the packet id
        (the client's, as the firmware keeps it; default: a random one). ``src``:
        the sender the packet claims (an attacker's spoof; default: ``node``).
        ``hop_start``: the hop count the header claims it started with (an
        attacker's spoof: receivers read ``hop_start - hop_limit`` relays it went
        through; default: ``hop_limit``, the truth). ``relay``: the node whose
        number's last byte the header gives as the radio it came from (an
        attacker's spoof; default: ``node``, the truth).
        """
        if not 0 <= hop_limit <= HOP_MAX:
            raise ValueError(f"hop_limit must be 0..{HOP_MAX}")
        if to == node or not (to == BROADCAST or 0 <= to < self.n):
            raise ValueError(f"bad destination {to}")
        nd = self.nodes[node]
        if not nd.up:
            self.stats.refuse("node_down")
            return False
        n = len(payload)
        fl = frame_bytes(n, pki=self.pki_dm and to != BROADCAST)
        if n > MAX_DATA_PAYLOAD or fl > MAX_FRAME_BYTES:
            self.stats.refuse("too_large")
            return False
        if to == BROADCAST and self.signature_bytes and \
                fl + self.signature_bytes <= MAX_FRAME_BYTES:
            fl += self.signature_bytes  # a full frame goes unsigned
        if pid is None:
            pid = self.rng.getrandbits(32) or 1
        origin = node if src is None else src
        start = hop_limit if hop_start is None else max(hop_limit, min(HOP_MAX, hop_start))
        pkt = Packet(pid, origin, to, start, hop_limit, payload, tag, fl,
                     time_on_air(fl, self.preset), True, node if relay is None else relay)
        nd.remember((origin, pid), hop_limit, self.history_len)
        return self._enqueue(nd, pkt)

    def _enqueue(self, nd: NodeState, pkt: Packet) -> bool:
        prefix = "" if pkt.own else "relay_"
        cap = self.duty_cycle_pct
        if cap is not None and self.duty_mode == "firmware" and \
                nd.meter.tx_util(self.events.now) > cap:
            self.stats.refuse(prefix + "duty_cycle")
            return False
        q = nd.queue
        if len(q) >= self.tx_queue_len:
            self.stats.refuse(prefix + "queue_full")
            return False
        nd.enqueue(pkt)
        if nd.timer is None:
            self._arm(nd)
        return True

    def _arm(self, nd: NodeState) -> None:
        p = nd.queue[0]
        if p.own:
            d = tx_delay_local(self.rng, self.slot_s, nd.meter.channel_util(self.events.now))
        else:
            d = tx_delay_relay(self.rng, self.slot_s, p.rx_snr, nd.role is Role.ROUTER)
        nd.timer = self.events.schedule(self.events.now + d, self._on_timer, nd)

    def _rearm(self, nd: NodeState) -> None:
        if nd.timer is not None:
            self.events.cancel(nd.timer)
            nd.timer = None
        if nd.queue:
            self._arm(nd)

    def _on_timer(self, nd: NodeState) -> None:
        nd.timer = None
        if not nd.queue:
            return
        now = self.events.now
        busy = nd.tx is not None
        if not busy:
            seen = now - self.cad_blind_s + 1e-9
            for r in nd.rx:
                if r.start <= seen:
                    busy = True
                    break
        if busy:
            self.stats.cad_backoffs += 1
            self._arm(nd)
            return
        pkt = nd.queue.pop(0)
        if self.duty_cycle_pct is not None and self.duty_mode == "strict" and \
                not nd.strict_ok(now, pkt.airtime, self.duty_cycle_pct):
            self.stats.refuse(("" if pkt.own else "relay_") + "duty_cycle")
            if nd.queue:
                self._arm(nd)
            return
        self._start_tx(nd, pkt)

    # ------------------------------------------------------------------ metrics
    def channel_utilization(self, node: int) -> float:
        """Firmware ``channel_utilization`` (percent busy over ~the last 60 s)."""
        return self.nodes[node].meter.channel_util(self.events.now)

    def air_util_tx(self, node: int) -> float:
        """Firmware ``air_util_tx`` (percent of the last ~hour spent transmitting)."""
        return self.nodes[node].meter.tx_util(self.events.now)

    def peak_channel_utilization(self, node: int) -> float:
        """Highest ``channel_utilization`` the node has reported since its last boot."""
        return self.nodes[node].meter.peak_cu

    def transmissions(self, node: int) -> list[tuple[float, float]]:
        """Every (start, duration) this node has transmitted, in order."""
        return list(self.nodes[node].txlog)

    def own_transmissions(self, node: int) -> list[tuple[float, float]]:
        """The (start, duration) of this node's own packets (relays left out)."""
        return list(self.nodes[node].own_txlog)

    def max_duty_cycle_pct(self, node: int, window: float = 3600.0) -> float:
        """Worst exact rolling-window duty cycle of ``node`` (percent)."""
        return max_rolling_duty_pct(self.nodes[node].txlog, window)

    def queue_len(self, node: int) -> int:
        """Packets waiting in the node's TX queue."""
        return len(self.nodes[node].queue)

    def is_transmitting(self, node: int) -> bool:
        """Whether the node is on air right now."""
        return self.nodes[node].tx is not None
