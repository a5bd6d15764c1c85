"""A packet bridge like Meshtastic's MQTT gateway, in the simulator: the baseline
meshaid's bridge is compared with (bench.py).

Theory of operation
-------------------
What it copies from Meshtastic's gateway (firmware MQTT module, uplink and
downlink on the channel): a gateway node forwards *every packet* on our port
that its radio hears or sends to the broker, with QoS 0 on a clean session
(what is published while a gateway is away is lost to it); while its own link
is down it keeps at most `OUTBOX` packets and drops the rest. A gateway that
receives a packet from the broker hands it to its own application and puts it
on air as if from the original sender, with the hop limit it had, so the far
mesh's engines take the other town's nodes for neighbours and answer their
digests and sketches. Packets that came from the broker are never uplinked
again. The engines are the ordinary ones; nothing of meshaid's glue is used.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..sim.runner import Simulation
from ..sync.ports import Outgoing, RxMeta
from .fakebroker import FakeBroker
from .link import IpEvent, IpLinkState, IpReceived

OUTBOX = 16  # packets a gateway keeps while its broker link is down


@dataclass
class PacketBridgedSim(Simulation):
    """A `Simulation` whose `gateways` (node -> name) bridge packets over a broker."""

    gateways: dict[int, str] = field(default_factory=dict)
    broker: FakeBroker | None = None
    up: dict[int, bool] = field(default_factory=dict)
    outbox: dict[int, deque[tuple[bytes, int]]] = field(default_factory=dict)
    links: dict[int, Any] = field(default_factory=dict)
    downlinked: int = 0
    outbox_dropped: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.broker = FakeBroker(self.events, persistent=False)
        send = self.sender.send
        self.sender.send = self._sending(send)  # type: ignore[method-assign]
        for n, name in self.gateways.items():
            self.up[n] = False
            self.outbox[n] = deque()
            link = self.broker.client(name)
            self.links[n] = link
            link.start(functools.partial(self._ip_event, n))

    def _sending(self, send: Any) -> Any:
        def wrapped(n: int, out: Outgoing) -> bool:
            if n in self.gateways:
                self._uplink(n, out.payload, n, out.hop_limit)
            return bool(send(n, out))
        return wrapped

    def _on_receive(self, n: int, payload: bytes, meta: Any) -> None:
        super()._on_receive(n, payload, meta)
        if n in self.gateways:
            self._uplink(n, payload, meta.from_node, meta.hop_limit)

    def _uplink(self, n: int, payload: bytes, origin: int, hop_limit: int) -> None:
        frame = origin.to_bytes(2, "big") + bytes([hop_limit]) + payload
        if self.up[n]:
            self.links[n].publish(frame, "packet")
        elif len(self.outbox[n]) < OUTBOX:
            self.outbox[n].append((frame, 0))
        else:
            self.outbox_dropped += 1

    def _ip_event(self, n: int, event: IpEvent) -> None:
        if isinstance(event, IpLinkState):
            self.up[n] = event.up
            while event.up and self.outbox[n]:
                frame, _ = self.outbox[n].popleft()
                self.links[n].publish(frame, "packet")
            return
        if isinstance(event, IpReceived):
            self._downlink(n, event.payload)

    def _downlink(self, n: int, frame: bytes) -> None:
        origin, hop_limit, payload = int.from_bytes(frame[:2], "big"), frame[2], frame[3:]
        node = self.nodes.get(n)
        if node is None or not self.mesh.is_up(n):
            return
        self.downlinked += 1
        node.engine.receive(payload, RxMeta(sender=origin, hops=0), self.events.now)
        self.mesh.send(n, payload, hop_limit=hop_limit, tag="mqtt-downlink", src=origin)
        self.pump(n)
