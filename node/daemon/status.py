"""The daemon's status row: what `meshaid status` and the TUI show about the radio side.

Theory of operation
-------------------
The daemon keeps a `StatusBoard` in memory (link state, device, peers heard,
counters) and writes it as one JSON object to the meta table under
`daemon.status`. A write happens at most every `WRITE_EVERY_S` seconds and
only when something shown changed (SD cards wear), plus a heartbeat every
`HEARTBEAT_S` (`updated_at` is wall time). `read_status` returns the object
with `state` added: "running", "stopped" (the daemon wrote its last row on a
clean exit) or "stale": its pid is gone on this machine (killed, crashed,
power cut), at once, or no write for `STALE_S` (a hung daemon, which the
systemd watchdog restarts).

Fields: updated_at, pid, link ("up" | "down" | "connecting"), link_detail,
device (DeviceInfo as a dict, or null), peers (list of {node, snr,
hops_at_least, last_heard, count, holds}), outbox, airtime_used_s,
airtime_budget_s, last_sync, rejected ({reason: n}), send_failed
({reason: n}), sent ({message type: [packets, air seconds]} since the daemon
started), stopped (bool), and with a bridge (node/bridge/ipside.py) bridge
({name, link, detail, last_exchange, to_ip, to_radio, backlog, bridges,
ip_bytes_out, ip_bytes_in}). `hops_at_least` is hopStart - hopLimit, a
lower bound: favourite routers do not decrement the hop limit.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ..radio.base import DeviceInfo
from ..store import Store

META_KEY = "daemon.status"
WRITE_EVERY_S = 5.0
SOON_S = 1.0  # a link change is written this soon
HEARTBEAT_S = 300.0
STALE_S = 900.0
MAX_PEERS = 64  # the most recently heard


@dataclass
class PeerSeen:
    snr: float
    hops_at_least: int
    last_heard: float  # wall
    count: int = 0
    holds: int | None = None  # records it holds, from its last digest


@dataclass
class StatusBoard:
    """What the daemon knows about its radio side, kept up to date by the daemon."""

    pid: int = field(default_factory=os.getpid)
    link: str = "connecting"
    link_detail: str = ""
    device: DeviceInfo | None = None
    peers: dict[int, PeerSeen] = field(default_factory=dict)
    outbox: int = 0
    airtime_used_s: float = 0.0
    airtime_budget_s: float = 0.0
    last_sync: float | None = None
    rejected: Counter[str] = field(default_factory=Counter)
    send_failed: Counter[str] = field(default_factory=Counter)
    sent: dict[str, tuple[int, float]] = field(default_factory=dict)
    stopped: bool = False
    bridge: dict[str, Any] | None = None  # the IP bridge, when the daemon runs one (node/bridge)

    def heard(self, node: int, snr: float, hops: int, wall: float) -> None:
        peer = self.peers.get(node)
        if peer is None:
            peer = self.peers[node] = PeerSeen(snr, hops, wall)
            if len(self.peers) > MAX_PEERS:
                oldest = min(self.peers, key=lambda n: self.peers[n].last_heard)
                del self.peers[oldest]
        peer.snr, peer.hops_at_least, peer.last_heard = snr, hops, wall
        peer.count += 1

    def snapshot(self) -> dict[str, Any]:
        """The status as a JSON-ready dict (without updated_at)."""
        return {
            "pid": self.pid,
            "link": self.link,
            "link_detail": self.link_detail,
            "device": asdict(self.device) if self.device is not None else None,
            "peers": [
                {"node": f"!{node:08x}", "snr": round(p.snr, 1), "hops_at_least": p.hops_at_least,
                 "last_heard": round(p.last_heard, 1), "count": p.count, "holds": p.holds}
                for node, p in sorted(self.peers.items(), key=lambda kv: -kv[1].last_heard)
            ],
            "outbox": self.outbox,
            "airtime_used_s": round(self.airtime_used_s, 1),
            "airtime_budget_s": round(self.airtime_budget_s, 1),
            "last_sync": None if self.last_sync is None else round(self.last_sync, 1),
            "rejected": dict(sorted(self.rejected.items())),
            "send_failed": dict(sorted(self.send_failed.items())),
            "sent": {tag: [n, round(air, 1)] for tag, (n, air) in sorted(self.sent.items())},
            "stopped": self.stopped,
            **({"bridge": self.bridge} if self.bridge is not None else {}),
        }


class StatusWriter:
    """Writes a board's snapshot to the store: when changed, at most every
    WRITE_EVERY_S, and every HEARTBEAT_S regardless."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.last: dict[str, Any] | None = None
        self.written_at = -1e18  # monotonic

    def maybe_write(self, board: StatusBoard, now: float, wall: float, *,
                    force: bool = False) -> bool:
        """Write if due; returns whether it wrote. `now` is monotonic, `wall` wall time.
        A change of link state waits only SOON_S, other changes WRITE_EVERY_S."""
        snap = board.snapshot()
        since = now - self.written_at
        last = self.last or {}
        changed = snap != last
        wait = SOON_S if snap["link"] != last.get("link") else WRITE_EVERY_S
        if not force and (since < wait or not changed) and since < HEARTBEAT_S:
            return False
        self.store.set_meta(META_KEY, json.dumps({"updated_at": round(wall, 1), **snap},
                                                 separators=(",", ":")))
        self.last, self.written_at = snap, now
        return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(store: Store, *, wall: float | None = None) -> dict[str, Any] | None:
    """The daemon's last status row, with `state` ("running" | "stopped" | "stale")
    added, or None if no daemon ever ran on this node. `wall` is now (default:
    the current time); a pid that no longer exists makes a row stale at once."""
    import time

    text = store.meta(META_KEY)
    if not text:
        return None
    try:
        status = json.loads(text)
    except ValueError:
        return None
    if not isinstance(status, dict):
        return None
    now = time.time() if wall is None else wall
    if status.get("stopped"):
        state = "stopped"
    elif now - float(status.get("updated_at", 0)) > STALE_S or isinstance(status.get("pid"), int) and not _pid_alive(status["pid"]):
        state = "stale"
    else:
        state = "running"
    status["state"] = state
    return status
