"""Radios without hardware: the simulator's air in process, and a shared-directory
air between processes on one machine.

Theory of operation
-------------------
`SimAir` wraps one simulated `Mesh` (node/sim/radio.py) and its `EventQueue`;
`SimAir.radio(i)` is a `Radio` for mesh node i. Everything happens in the
queue's virtual time: the link comes up a moment after `start`, received
packets and send results are delivered to the sink from queued events (never
from inside `send`), and device metrics (the mesh's channel utilisation and
air_util_tx) arrive every `metrics_every` seconds. A send is reported `ok`
once the node's TX queue accepted it, as the firmware's QueueStatus does; a
refusal carries the firmware's reason (TOO_LARGE, DUTY_CYCLE_LIMIT,
QUEUE_FULL) or "disconnected". The mesh has no priorities in its queue, so
`priority` is accepted and ignored. `unplug()` / `replug()` power the node
off and on, as pulling a USB radio would. Node numbers are `NODE_BASE + i`.

`DirRadio` is the air of `meshaid daemon --radio sim:DIR`: every daemon binds
a Unix datagram socket in DIR and sends each packet to every other socket
there, so all of them hear each other, losslessly and at once. It is for
trying daemons side by side without radios, not a model of LoRa; its reader
thread hands events to the sink (which must be thread-safe, as for real
radios).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..sim.events import EventQueue, Handle
from ..sim.packets import BROADCAST
from ..sim.radio import Mesh
from ..sim.topology import Topology
from ..sync.ports import RxMeta
from .base import (
    DeviceInfo,
    LinkState,
    Metrics,
    PayloadTooLarge,
    RadioEvent,
    Received,
    SendResult,
    Sink,
    check_payload,
)

NODE_BASE = 0x5EED0000
CONNECT_DELAY_S = 0.2  # from start() (or replug) to the link being up
_REASONS = {"too_large": "TOO_LARGE", "duty_cycle": "DUTY_CYCLE_LIMIT",
            "queue_full": "QUEUE_FULL", "node_down": "disconnected"}


class SimAir:
    """One simulated channel shared by in-process `SimRadio`s, in virtual time."""

    def __init__(self, mesh: Mesh, *, metrics_every: float = 60.0, region: str = "EU_868",
                 duty_cycle_pct: float | None = None) -> None:
        self.mesh = mesh
        self.events: EventQueue = mesh.events
        self.metrics_every = metrics_every
        self.region = region
        self.duty_cycle_pct = duty_cycle_pct if duty_cycle_pct is not None else \
            mesh.duty_cycle_pct
        self.radios: dict[int, SimRadio] = {}
        mesh.on_receive = self._on_receive

    @classmethod
    def build(cls, topology: Topology, *, preset: str = "LONG_FAST", seed: int = 0,
              duty_cycle_pct: float | None = 10.0, **kwargs: Any) -> SimAir:
        """A lossless mesh on `topology` with a fresh event queue (time 0)."""
        import random

        mesh = Mesh(topology, preset=preset, rng=random.Random(seed), events=EventQueue(),
                    duty_cycle_pct=duty_cycle_pct)
        return cls(mesh, **kwargs)

    @property
    def now(self) -> float:
        return self.events.now

    def radio(self, idx: int) -> SimRadio:
        """The radio of mesh node `idx` (one object per node)."""
        if idx not in self.radios:
            self.radios[idx] = SimRadio(self, idx)
        return self.radios[idx]

    def _on_receive(self, idx: int, payload: Any, meta: Any) -> None:
        radio = self.radios.get(idx)
        if radio is None:
            return
        rx = RxMeta(sender=NODE_BASE + meta.from_node, snr=meta.snr, rssi=meta.rssi,
                    hops=meta.hops_away, hop_limit=meta.hop_limit,
                    relay=(NODE_BASE + meta.relay_node) & 0xFF)
        dest = None if meta.to == BROADCAST else NODE_BASE + meta.to
        radio.deliver(Received(bytes(payload), rx, self.events.now, dest))


class SimRadio:
    """A `Radio` on mesh node `idx` of a `SimAir`."""

    def __init__(self, air: SimAir, idx: int) -> None:
        self.air = air
        self.idx = idx
        self.node_num = NODE_BASE + idx
        self.sink: Sink | None = None
        self.up = False
        self.sent: list[tuple[bytes, int, int]] = []  # (payload, hop_limit, priority) accepted
        self._timer: Handle | None = None

    def device(self) -> DeviceInfo:
        mesh = self.air.mesh
        return DeviceInfo(self.node_num, f"!{self.node_num:08x}", f"sim node {self.idx}",
                          f"s{self.idx % 1000:03d}", "SIMULATOR", "sim", self.air.region,
                          mesh.preset.name, "CLIENT", 3, self.air.duty_cycle_pct)

    def deliver(self, event: RadioEvent) -> None:
        if self.sink is not None and (self.up or not isinstance(event, Received)):
            self.sink(event)

    def start(self, sink: Sink) -> None:
        """Begin: the link comes up CONNECT_DELAY_S later (virtual time)."""
        self.sink = sink
        self._later(CONNECT_DELAY_S, self._connect)

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> Handle:
        return self.air.events.schedule(self.air.now + delay, fn, *args)

    def _connect(self) -> None:
        if self.sink is None or not self.air.mesh.is_up(self.idx):
            return
        self.up = True
        self.deliver(LinkState(True, "simulated", self.device(), self.air.now))
        self._metrics()

    def _metrics(self) -> None:
        if not self.up:
            return
        mesh = self.air.mesh
        self.deliver(Metrics(mesh.channel_utilization(self.idx), mesh.air_util_tx(self.idx),
                             self.air.now, mesh.routers_near(self.idx)))
        self._timer = self._later(self.air.metrics_every, self._metrics)

    def send(self, payload: bytes, *, hop_limit: int, priority: int, token: int,
             dest: int | None = None) -> None:
        """Queue on the mesh; the result follows from the event queue."""
        check_payload(payload, dest)
        if not self.up:
            self._later(0.0, self.deliver, SendResult(token, False, "disconnected", self.air.now))
            return
        mesh = self.air.mesh
        before = dict(mesh.stats.refused)
        to = BROADCAST if dest is None else dest - NODE_BASE
        ok = mesh.send(self.idx, bytes(payload), hop_limit=hop_limit, to=to, tag="sim-radio")
        reason = ""
        if ok:
            self.sent.append((bytes(payload), hop_limit, priority))
        else:
            changed = [k for k, v in mesh.stats.refused.items() if v != before.get(k, 0)]
            reason = _REASONS.get(changed[0], changed[0]) if changed else "refused"
        self._later(0.0, self.deliver, SendResult(token, ok, reason, self.air.now))

    def unplug(self) -> None:
        """Power the node off (its TX queue is lost); the link goes down."""
        self.air.mesh.set_up(self.idx, False)
        self.air.events.cancel(self._timer)
        if self.up:
            self.up = False
            self.deliver(LinkState(False, "unplugged", None, self.air.now))

    def replug(self) -> None:
        """Power the node on again; the link comes back CONNECT_DELAY_S later."""
        self.air.mesh.set_up(self.idx, True)
        self._later(CONNECT_DELAY_S, self._connect)

    def close(self) -> None:
        self.air.events.cancel(self._timer)
        self.up = False
        self.sink = None


# ---------------------------------------------------------------- shared directory


class DirRadio:
    """A `Radio` whose air is a directory of Unix datagram sockets (see module doc)."""

    def __init__(self, directory: str | Path, node_num: int, *, region: str = "EU_868",
                 preset: str = "LONG_FAST") -> None:
        self.dir = Path(directory)
        self.node_num = node_num & 0xFFFFFFFF
        self.path = self.dir / f"{self.node_num:08x}.sock"
        self.region, self.preset = region, preset
        self.sink: Sink | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def device(self) -> DeviceInfo:
        return DeviceInfo(self.node_num, f"!{self.node_num:08x}", f"dir node {self.node_num:08x}",
                          f"{self.node_num & 0xFFFF:04x}", "SIMULATOR", "sim", self.region,
                          self.preset, "CLIENT", 3, 10.0)

    def start(self, sink: Sink) -> None:
        """Bind our socket in the directory and start the reader thread."""
        self.sink = sink
        self.dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a daemon that was killed
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(self.path))
        sock.settimeout(0.5)
        self._sock = sock
        self._thread = threading.Thread(target=self._read, name="meshaid-dir-radio", daemon=True)
        self._thread.start()
        sink(LinkState(True, f"air directory {self.dir}", self.device(), time.monotonic()))

    def _read(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._closed.is_set():
            try:
                data = sock.recv(1024)
            except TimeoutError:
                continue
            except OSError:
                break
            if len(data) < 4 or self.sink is None:
                continue
            sender = int.from_bytes(data[:4], "big")
            self.sink(Received(data[4:], RxMeta(sender=sender, snr=10.0, rssi=-60.0, hops=0),
                               time.monotonic()))

    def send(self, payload: bytes, *, hop_limit: int, priority: int, token: int,
             dest: int | None = None) -> None:
        """Send to every other socket in the directory (never blocks)."""
        check_payload(payload, dest)
        sock = self._sock
        ok = sock is not None
        if sock is not None:
            frame = self.node_num.to_bytes(4, "big") + bytes(payload)
            for peer in sorted(self.dir.glob("*.sock")):
                if peer == self.path or (dest is not None and peer.name != f"{dest:08x}.sock"):
                    continue
                with contextlib.suppress(OSError):  # a dead peer, or one not reading: lost
                    sock.sendto(frame, socket.MSG_DONTWAIT, str(peer))
        if self.sink is not None:
            self.sink(SendResult(token, ok, "" if ok else "disconnected", time.monotonic()))

    def close(self) -> None:
        """Stop the reader and remove our socket."""
        self._closed.set()
        self.sink = None
        if self._sock is not None:
            self._sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


__all__ = ["NODE_BASE", "DirRadio", "PayloadTooLarge", "SimAir", "SimRadio"]
