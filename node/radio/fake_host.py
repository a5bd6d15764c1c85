"""Several fake Meshtastic devices in one process, sharing simulated air.

Theory of operation
-------------------
`FakeRadios` builds a `RealtimeMesh` (every device hears every other at the
given SNR unless a topology is passed), one `FakeDevice` per node and, for
each, a pty (with an optional stable symlink) and a TCP port. One air thread
runs the mesh in real time (or ``speed`` times faster) and one I/O thread
serves every port, so N devices cost two threads. Separate daemon processes
each open one device's pty or port: their packets cross the simulated air
with its air time, collisions, loss and duty-cycle rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sim.loss import LossModel
from ..sim.realtime import RealtimeMesh, clique
from ..sim.topology import Topology
from .fake_config import DeviceConfig, node_id, node_num_for
from .fake_device import FakeDevice
from .fake_ports import IoLoop, PtyPort, TcpPort


@dataclass(frozen=True)
class Endpoint:
    """Where clients reach one fake device."""

    name: str
    node_id: str
    serial: str | None  # pty path or its stable symlink
    tcp_port: int | None


class FakeRadios:
    """N fake devices on one simulated channel, each with a pty and/or a TCP port."""

    def __init__(self, n: int = 1, *, names: list[str] | None = None, region: str = "EU_868",
                 preset: str = "LONG_FAST", hop_limit: int = 3, speed: float = 1.0,
                 snr_db: float = 6.0, topology: Topology | None = None,
                 loss: LossModel | None = None, serial: bool = True,
                 link_dir: str | Path | None = None, tcp: bool = True,
                 tcp_ports: list[int] | None = None, seed: int | None = None,
                 to_phone_len: int = 32, tx_queue_len: int = 16,
                 settings: dict[str, Any] | None = None) -> None:
        """Build (not start) the devices. ``link_dir``: publish stable symlinks
        ``radio0``, ``radio1``... there; ``tcp_ports``: fixed ports (default: free ones); ``settings``: other
        `DeviceConfig` fields for every device (role, rebroadcast_mode, psk, ...)."""
        if n < 1:
            raise ValueError("at least one device")
        names = names or [f"fake{i}" for i in range(n)]
        if len(names) != n:
            raise ValueError("one name per device")
        topo = topology if topology is not None else clique(n, snr_db, preset=preset)
        probe = DeviceConfig(0, "", "", region=region)
        self.air = RealtimeMesh(topo, speed=speed, preset=preset, seed=seed,
                                duty_cycle_pct=probe.duty_cycle_pct, loss=loss,
                                tx_queue_len=tx_queue_len)
        self.io = IoLoop(self.air.lock)
        self.index_of: dict[int, int] = {}
        self.devices: list[FakeDevice] = []
        self.ptys: list[PtyPort | None] = []
        self.tcps: list[TcpPort | None] = []
        with self.air.lock:
            for i, name in enumerate(names):
                num = node_num_for(name)
                self.index_of[num] = i
                cfg = DeviceConfig(num, name, name[:4], region=region, preset=preset,
                                   hop_limit=hop_limit, to_phone_len=to_phone_len,
                                   tx_queue_len=tx_queue_len, **(settings or {}))
                dev = FakeDevice(self.air, i, cfg, self.index_of, self.io.wake)
                self.devices.append(dev)
                link = str(Path(link_dir) / f"radio{i}") if (serial and link_dir) else None
                pty = PtyPort(dev, link) if serial else None
                port = tcp_ports[i] if tcp_ports else 0
                tcpp = TcpPort(dev, port) if tcp else None
                self.ptys.append(pty)
                self.tcps.append(tcpp)
                if pty is not None:
                    self.io.ptys.append(pty)
                if tcpp is not None:
                    self.io.tcps.append(tcpp)

    def start(self) -> list[Endpoint]:
        """Open every port, start the air and I/O threads; return the endpoints."""
        with self.air.lock:
            for p in self.ptys:
                if p is not None:
                    p.plug()
            for t in self.tcps:
                if t is not None:
                    t.plug()
        self.air.start()
        self.io.start()
        return self.endpoints()

    def endpoints(self) -> list[Endpoint]:
        """Where each device can be reached right now."""
        out = []
        for dev, p, t in zip(self.devices, self.ptys, self.tcps, strict=True):
            serial = (p.link or p.path) if p is not None and p.plugged else None
            port = t.port if t is not None and t.plugged else None
            out.append(Endpoint(dev.cfg.long_name, node_id(dev.cfg.node_num), serial, port))
        return out

    def stop(self) -> None:
        """Close every port and stop both threads."""
        self.io.stop()
        self.air.stop()

    def unplug(self, i: int, *, serial: bool = True, tcp: bool = True) -> None:
        """Pull device ``i``'s USB cable and/or stop its TCP server."""
        with self.air.lock:
            p, t = self.ptys[i], self.tcps[i]
            if serial and p is not None:
                p.unplug()
            if tcp and t is not None:
                t.unplug()
        self.io.wake()

    def replug(self, i: int, *, serial: bool = True, tcp: bool = True) -> None:
        """Plug device ``i`` back in (a new pty behind the same symlink; the same TCP port)."""
        with self.air.lock:
            p, t = self.ptys[i], self.tcps[i]
            if serial and p is not None and not p.plugged:
                p.plug()
            if tcp and t is not None and not t.plugged:
                t.plug()
        self.io.wake()

    def stall(self, i: int, stalled: bool = True) -> None:
        """Make device ``i`` stop answering its clients (or answer again)."""
        with self.air.lock:
            self.devices[i].stalled = stalled
        self.io.wake()

    def stats(self) -> list[dict[str, int]]:
        """Each device's counters."""
        with self.air.lock:
            return [dict(d.stats) for d in self.devices]
