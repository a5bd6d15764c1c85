"""Packets, receive metadata and counters of the simulated mesh.

Theory of operation: a :class:`Packet` is one copy of a Meshtastic
``MeshPacket`` sitting in a node's TX queue or on the air. The originator's
copy has ``own=True``; every relay makes its own copy with ``hop_limit - 1``
and remembers the SNR/RSSI it heard (the firmware's ``rx_snr``/``rx_rssi``,
which pick the relay's contention window). The payload object is shared, never
copied. :class:`RxMeta` is what the application callback sees, mirroring the
fields the Python library exposes (``from``, ``to``, ``rxSnr``, ``rxRssi``,
``hopStart``, ``hopLimit``, ``id``, ``rxTime``). :class:`MeshStats` holds the
counters; ``as_dict()`` gives a plain, comparable snapshot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

__all__ = ["BROADCAST", "CorePayload", "MeshStats", "Packet", "RxMeta"]

BROADCAST = 0xFFFFFFFF  # NODENUM_BROADCAST


class CorePayload(bytes):
    """A payload on one of Meshtastic's core ports (position, telemetry, nodeinfo):
    relayed even under CORE_PORTNUMS_ONLY, never handed to our application, and
    not counted as the node's own (application) air time."""


class Packet:
    """One copy of a packet (queued or on air)."""

    __slots__ = (
        "airtime",
        "frame_len",
        "hop_limit",
        "hop_start",
        "id",
        "own",
        "payload",
        "relay",
        "rx_rssi",
        "rx_snr",
        "src",
        "tag",
        "to",
    )

    def __init__(self, pid: int, src: int, to: int, hop_start: int, hop_limit: int, payload: Any,
                 tag: str, frame_len: int, airtime: float, own: bool, relay: int,
                 rx_snr: float = 0.0, rx_rssi: float = 0.0) -> None:
        """Build a packet copy; see the class attributes for meaning."""
        self.id = pid
        self.src = src
        self.to = to
        self.hop_start = hop_start
        self.hop_limit = hop_limit
        self.payload = payload
        self.tag = tag
        self.frame_len = frame_len
        self.airtime = airtime
        self.own = own
        self.rx_snr = rx_snr
        self.rx_rssi = rx_rssi
        self.relay = relay  # the node whose number its header's relay_node byte gives
        # (the node sending it, or relaying this copy; an attacker may set any)

    def relay_copy(self, snr: float, rssi: float, relay: int) -> Packet:
        """The copy `relay` queues: hop_limit - 1, remembering the SNR/RSSI heard."""
        return Packet(self.id, self.src, self.to, self.hop_start, self.hop_limit - 1, self.payload,
                      self.tag, self.frame_len, self.airtime, False, relay, snr, rssi)

    def __repr__(self) -> str:
        return (f"Packet(id={self.id:#010x}, src={self.src}, to={self.to}, "
                f"hop={self.hop_limit}/{self.hop_start}, tag={self.tag!r}, own={self.own})")


class RxMeta(NamedTuple):
    """Metadata of a packet handed to the application (a tuple: one is made for
    every packet every node decodes)."""

    from_node: int
    to: int
    snr: float
    rssi: float
    hop_start: int
    hop_limit: int
    packet_id: int
    rx_time: float
    relay_node: int  # who transmitted the copy we decoded (firmware only keeps its last byte)
    tag: str = ""  # the sender's accounting tag (the bench's, never on air)

    @property
    def hops_away(self) -> int:
        """``hop_start - hop_limit``: 0 when heard straight from the originator."""
        return self.hop_start - self.hop_limit


@dataclass
class MeshStats:
    """Counters of a run. Air time in seconds."""

    tx_count: int = 0  # frames put on air (own + relays)
    own_tx: int = 0
    relays: int = 0  # relay frames put on air
    tx_airtime: float = 0.0
    tx_payload_bytes: int = 0  # application payload bytes put on air (own + relays)
    airtime_by_tag: dict[str, float] = field(default_factory=dict)
    tx_by_tag: dict[str, int] = field(default_factory=dict)
    rx_ok: int = 0  # frames decoded (incl. duplicates)
    rx_unique: int = 0  # first copies (passed duplicate detection)
    dupes: int = 0
    delivered: int = 0  # handed to an application
    collisions: int = 0  # receptions destroyed by overlapping frames
    half_duplex: int = 0  # receptions missed because the receiver was transmitting
    link_losses: int = 0  # receptions dropped by the link loss model
    aborted_rx: int = 0  # receptions cut by the sender powering off
    cad_backoffs: int = 0  # TX attempts deferred because the channel was busy
    cancellations: int = 0  # queued relays cancelled on hearing another relay
    upgrades: int = 0  # queued relays replaced by a copy with more hops left
    queue_dropped_on_down: int = 0
    dropped_core_only: int = 0  # private-port packets ignored under CORE_PORTNUMS_ONLY
    refused: dict[str, int] = field(default_factory=dict)  # reason -> count

    def refuse(self, reason: str) -> None:
        """Count one refusal."""
        self.refused[reason] = self.refused.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """A deep, plain-dict snapshot (for comparison and reports)."""
        return asdict(self)
