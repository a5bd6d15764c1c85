"""Per-node radio state of the simulated mesh (internal to ``radio``).

Theory of operation: a :class:`NodeState` is everything one Meshtastic
device keeps in RAM that matters for flooding -- power state, role, TX queue
and its single transmit timer, the frame it has on air and the receptions
that frame started, the frames it is currently receiving, the duplicate
history (an insertion-ordered dict used as an LRU of ``(from, id) -> highest
hop_limit``), the firmware AirTime counters, and an exact log of its
transmissions. A :class:`Reception` is one frame arriving at one receiver:
its power (mW), the summed power of every frame that overlapped it, whether
the radio locked onto it, and whether it was destroyed outright.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from typing import overload

from .events import EventQueue, Handle
from .firmware import AirMeter, Role
from .loss import LossModel
from .packets import Packet

__all__ = ["NodeState", "Reception", "TxLog"]


class Reception:
    """One frame arriving at one receiver."""

    __slots__ = ("dead", "interf", "locked", "node", "power", "start")

    def __init__(self, node: NodeState, power: float, start: float) -> None:
        """A reception at ``node`` of ``power`` mW that began at ``start``."""
        self.node = node
        self.power = power
        self.interf = 0.0
        self.locked = False
        self.dead = False
        self.start = start


class TxLog(Sequence[tuple[float, float]]):
    """An exact log of (start, duration) transmissions, 16 bytes each (a node of a
    day-long bench sends thousands: a tuple costs 72)."""

    __slots__ = ("_d", "_s")

    def __init__(self) -> None:
        """An empty log."""
        self._s = array("d")
        self._d = array("d")

    def append(self, entry: tuple[float, float]) -> None:
        """Log one transmission."""
        self._s.append(entry[0])
        self._d.append(entry[1])

    def __len__(self) -> int:
        return len(self._s)

    @overload
    def __getitem__(self, i: int) -> tuple[float, float]: ...

    @overload
    def __getitem__(self, i: slice) -> list[tuple[float, float]]: ...

    def __getitem__(self, i: int | slice) -> tuple[float, float] | list[tuple[float, float]]:
        if isinstance(i, slice):
            return list(zip(self._s[i], self._d[i]))
        return (self._s[i], self._d[i])

    def __setitem__(self, i: int, entry: tuple[float, float]) -> None:
        self._s[i], self._d[i] = entry

    def __iter__(self) -> Iterator[tuple[float, float]]:
        return zip(self._s, self._d)


# (receiver, power mW, reported SNR, RSSI, loss model of the link)
Neighbour = tuple["NodeState", float, float, float, LossModel | None]
# (reception, reported SNR, RSSI, loss model)
TxReception = tuple[Reception, float, float, LossModel | None]


class NodeState:
    """RAM state of one simulated device."""

    __slots__ = (
        "core_only",
        "has_app",
        "hist",
        "idx",
        "meter",
        "nbrs",
        "no_relay",
        "own_txlog",
        "queue",
        "role",
        "rx",
        "timer",
        "tx",
        "tx_pkt",
        "tx_rxs",
        "txlog",
        "up",
        "win",
        "win_sum",
    )

    def __init__(self, idx: int) -> None:
        """A powered CLIENT with an app, empty queue and fresh counters."""
        self.idx = idx
        self.up = True
        self.role = Role.CLIENT
        self.has_app = True
        self.no_relay = False  # rebroadcast_mode NONE
        self.core_only = False  # rebroadcast_mode CORE_PORTNUMS_ONLY: drops private ports
        self.queue: list[Packet] = []
        self.timer: Handle | None = None
        self.tx: Handle | None = None  # end-of-transmission event while on air
        self.tx_pkt: Packet | None = None
        self.tx_rxs: list[TxReception] = []
        self.rx: list[Reception] = []
        self.hist: dict[tuple[int, int], int] = {}
        self.meter = AirMeter(0.0)
        self.txlog = TxLog()
        self.own_txlog = TxLog()
        self.win: deque[tuple[float, float]] = deque()  # exact last hour of TX: (start, end)
        self.win_sum = 0.0
        self.nbrs: list[Neighbour] = []

    def remember(self, key: tuple[int, int], hop_limit: int, capacity: int) -> None:
        """Record a first copy in the duplicate history, evicting the LRU entry."""
        hist = self.hist
        if len(hist) >= capacity:
            del hist[next(iter(hist))]
        hist[key] = hop_limit

    def enqueue(self, pkt: Packet) -> None:
        """Insert into the TX queue: relays ahead of own packets, FIFO otherwise."""
        q = self.queue
        if pkt.own:
            q.append(pkt)
            return
        i = 0
        while i < len(q) and not q[i].own:
            i += 1
        q.insert(i, pkt)

    def find_relay(self, src: int, pid: int) -> int:
        """Index of the queued relay copy of (src, id), or -1."""
        for i, qp in enumerate(self.queue):
            if not qp.own and qp.id == pid and qp.src == src:
                return i
        return -1

    def strict_ok(self, now: float, dur: float, cap_pct: float, window: float = 3600.0) -> bool:
        """Would a TX of ``dur`` from ``now`` keep the exact rolling window under the cap?"""
        lo = now + dur - window
        win = self.win
        while win and win[0][1] <= lo:
            s, e = win.popleft()
            self.win_sum -= e - s
        used = self.win_sum
        if win and win[0][0] < lo:
            used -= lo - win[0][0]
        return used + dur <= cap_pct * window / 100.0 + 1e-9

    def log_tx(self, now: float, dur: float, own: bool = True) -> None:
        """Record a transmission in the exact logs (`own`: not a relay)."""
        self.txlog.append((now, dur))
        if own:
            self.own_txlog.append((now, dur))
        win = self.win
        while win and win[0][1] <= now - 3600.0:
            s, e = win.popleft()
            self.win_sum -= e - s
        win.append((now, now + dur))
        self.win_sum += dur

    def power_off(self, events: EventQueue) -> tuple[int, int]:
        """Lose everything in RAM and cut a frame on air short.

        Returns (packets dropped from the queue, receptions aborted).
        """
        now = events.now
        self.up = False
        events.cancel(self.timer)
        self.timer = None
        dropped = len(self.queue)
        self.queue.clear()
        aborted = 0
        if self.tx is not None:
            events.cancel(self.tx)
            self.tx = None
            for r, _snr, _rssi, _lm in self.tx_rxs:
                if not r.dead:
                    r.dead = True
                    r.node.rx.remove(r)
                    aborted += 1
            s0, _d = self.txlog[-1]
            self.txlog[-1] = (s0, now - s0)
            w0, w1 = self.win.pop()
            self.win.append((w0, now))
            self.win_sum -= w1 - now
            self.tx_rxs = []
            self.tx_pkt = None
        for r in self.rx:
            r.dead = True
        self.rx.clear()
        self.hist.clear()
        return dropped, aborted
