"""Constants and formulas mirrored from the Meshtastic firmware (2.7.x).

Theory of operation: this module holds the pieces of firmware behaviour the
simulator copies, as plain functions, so they can be tested and cited on
their own (see firmware-notes/flooding.md for the source locations).

- Contention: a node never transmits right after a receive or transmit; it
  waits a random number of slots. For its own packets the window is
  ``2**CW`` slots with ``CW = map(channel_util%, 0, 100, CWmin=3, CWmax=8)``
  (``getTxDelayMsec``); for a relay, ``CW = map(snr, -20, 10, 3, 8)`` and a
  CLIENT waits ``2*CWmax`` slots plus ``random(0, 2**CW)`` slots while a ROUTER
  waits only ``random(0, 2*CW)`` slots (``getTxDelayMsecWeighted``), so routers
  go first and, among clients, low-SNR (far) receivers relay first. ``map`` is
  Arduino's integer map (arguments truncated to ``long``, C division, no
  clamping).
- AirTime: every finished TX and every RX interrupt logs the frame's air time
  into 6 buckets of 10 s (channel utilisation = sum / 60 s); TX air time also
  goes into 60 buckets of one minute (``utilizationTXPercent`` = sum / 1 h).
  The current bucket is zeroed when its period begins, so the windows cover
  the current partial bucket plus 5 (59) full ones. Buckets count from the
  node's boot, and a reboot clears them.
- Duty cycle: ``Router::send`` refuses any packet (own or relay) while
  ``utilizationTXPercent() > cap`` -- a check at enqueue time against the
  past, which can let the queue push a node slightly over the cap.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence

__all__ = [
    "CW_MAX",
    "CW_MIN",
    "HOP_LIMIT_DEFAULT",
    "HOP_MAX",
    "PACKET_HISTORY_LEN",
    "TX_QUEUE_LEN",
    "AirMeter",
    "Role",
    "arduino_map",
    "cw_size_snr",
    "cw_size_util",
    "max_rolling_duty_pct",
    "tx_delay_local",
    "tx_delay_relay",
    "tx_delay_relay_worst",
]

CW_MIN = 3  # RadioInterface.h
CW_MAX = 8
SNR_MIN = -20  # RadioInterface::getCWsize
SNR_MAX = 10
TX_QUEUE_LEN = 16  # MAX_TX_QUEUE
HOP_LIMIT_DEFAULT = 3  # config.lora.hop_limit default / HOP_RELIABLE
HOP_MAX = 7  # MeshTypes.h
PACKET_HISTORY_LEN = 200  # PacketHistory: 2 * MAX_NUM_NODES (100 on generic ESP32)
CU_BUCKET_S = 10.0  # airtime.cpp getPeriodUtilMinute: secSinceBoot / 10 % 6
CU_BUCKETS = 6
TXU_BUCKET_S = 60.0  # getPeriodUtilHour: secSinceBoot / 60 % 60
TXU_BUCKETS = 60


class Role(enum.Enum):
    """Device roles that matter for flooding."""

    CLIENT = "CLIENT"  # relays; cancels its relay on hearing someone else's
    CLIENT_MUTE = "CLIENT_MUTE"  # never relays
    ROUTER = "ROUTER"  # relays early (short window), never cancels


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def arduino_map(x: float, in_min: int, in_max: int, out_min: int, out_max: int) -> int:
    """Arduino ``long map(long, ...)``: x truncated toward zero, C division, unclamped."""
    xi = int(x)
    return _cdiv((xi - in_min) * (out_max - out_min), in_max - in_min) + out_min


def cw_size_snr(snr_db: float) -> int:
    """``RadioInterface::getCWsize``: map(snr, -20, 10, CWmin, CWmax), floored at 1."""
    return max(1, arduino_map(snr_db, SNR_MIN, SNR_MAX, CW_MIN, CW_MAX))


def cw_size_util(channel_util_pct: float) -> int:
    """CW for own packets: map(channel utilisation %, 0, 100, CWmin, CWmax)."""
    return max(1, arduino_map(channel_util_pct, 0, 100, CW_MIN, CW_MAX))


def tx_delay_local(rng: random.Random, slot_s: float, channel_util_pct: float) -> float:
    """``getTxDelayMsec``: random(0, 2**CW) slots, CW from channel utilisation."""
    return rng.randrange(1 << cw_size_util(channel_util_pct)) * slot_s


def tx_delay_relay(rng: random.Random, slot_s: float, snr_db: float, router: bool) -> float:
    """``getTxDelayMsecWeighted``: SNR-weighted relay delay.

    ROUTER: random(0, 2*CW) slots. Others: 2*CWmax slots + random(0, 2**CW) slots.
    """
    cw = cw_size_snr(snr_db)
    if router:
        return rng.randrange(2 * cw) * slot_s
    return (2 * CW_MAX + rng.randrange(1 << cw)) * slot_s


def tx_delay_relay_worst(slot_s: float, snr_db: float) -> float:
    """``getTxDelayMsecWeightedWorst``: 2*CWmax + 2**CW slots."""
    return (2 * CW_MAX + (1 << cw_size_snr(snr_db))) * slot_s


class AirMeter:
    """The firmware's AirTime counters for one node (bucketed, reset at boot)."""

    __slots__ = ("_cu", "_cu_at", "_open", "_peak", "_tx", "_tx_before", "boot")

    def __init__(self, boot: float = 0.0) -> None:
        """Counters that start empty at virtual time ``boot``."""
        self.boot = boot
        self._cu: list[list[float]] = []  # [bucket index, seconds], ascending
        self._tx: list[list[float]] = []
        self._peak = 0.0
        # The bucket logged into last, its utilisation not yet in the peak: within
        # one bucket each frame only adds, so the bucket's last frame gives its
        # highest (the same figure as computing it after every frame heard).
        self._open: int | None = None
        # (bucket index, utilisation) last computed, until the next log: the radio
        # asks on every frame it queues, between frames that change it
        self._cu_at: tuple[int, float] = (-1, 0.0)
        # (bucket index, the sum of the hour's buckets before it): frames only add
        # to the bucket at that index, so the hour is that sum plus the bucket,
        # the same additions in the same order as summing the hour again
        self._tx_before: tuple[int, float] = (-1, 0.0)

    @staticmethod
    def _add(buckets: list[list[float]], idx: int, secs: float, keep: int) -> None:
        if buckets and buckets[-1][0] == idx:
            buckets[-1][1] += secs
        else:
            buckets.append([idx, secs])
        lo = idx - keep + 1
        while buckets[0][0] < lo:
            del buckets[0]

    @staticmethod
    def _sum(buckets: list[list[float]], idx: int, keep: int) -> float:
        lo = idx - keep + 1
        total = 0.0
        for i, s in buckets:
            if lo <= i <= idx:
                total += s
        return total

    def _close(self) -> None:
        """Take the open bucket's utilisation into the peak."""
        if self._open is not None:
            cu = self._sum(self._cu, self._open, CU_BUCKETS) / (CU_BUCKETS * CU_BUCKET_S) * 100.0
            self._peak = max(self._peak, cu)
            self._open = None

    def log(self, t: float, secs: float, tx: bool) -> None:
        """Log ``secs`` of air time finished at ``t`` (TX_LOG if ``tx`` else RX)."""
        el = t - self.boot
        cu_idx = int(el // CU_BUCKET_S)
        if self._open is not None and self._open != cu_idx:
            self._close()
        self._add(self._cu, cu_idx, secs, CU_BUCKETS)
        self._open = cu_idx
        self._cu_at = (-1, 0.0)
        if tx:
            self._add(self._tx, int(el // TXU_BUCKET_S), secs, TXU_BUCKETS)

    @property
    def peak_cu(self) -> float:
        """The highest ``channelUtilizationPercent`` reached after any frame."""
        self._close()
        return self._peak

    def channel_util(self, t: float) -> float:
        """``channelUtilizationPercent`` at time ``t`` (percent of 60 s)."""
        idx = int((t - self.boot) // CU_BUCKET_S)
        at, cu = self._cu_at
        if at != idx:
            cu = self._sum(self._cu, idx, CU_BUCKETS) / (CU_BUCKETS * CU_BUCKET_S) * 100.0
            self._cu_at = (idx, cu)
        return cu

    def tx_util(self, t: float) -> float:
        """``utilizationTXPercent`` at time ``t`` (percent of one hour)."""
        idx = int((t - self.boot) // TXU_BUCKET_S)
        buckets = self._tx
        current = bool(buckets) and buckets[-1][0] == idx
        at, total = self._tx_before
        if at != idx:
            total = self._sum(buckets[:-1] if current else buckets, idx, TXU_BUCKETS)
            self._tx_before = (idx, total)
        if current:
            total += buckets[-1][1]
        return total / (TXU_BUCKETS * TXU_BUCKET_S) * 100.0


def max_rolling_duty_pct(intervals: Sequence[tuple[float, float]], window: float = 3600.0) -> float:
    """Worst duty cycle (percent) of ``(start, duration)`` transmissions over any window.

    Intervals must be sorted and non-overlapping (one radio). The maximum over
    all windows is reached by a window ending at some transmission's end, so
    only those are checked: O(n) with two pointers.
    """
    n = len(intervals)
    if n == 0:
        return 0.0
    ends = [s + d for s, d in intervals]
    prefix = [0.0]
    for _s, d in intervals:
        prefix.append(prefix[-1] + d)
    best = 0.0
    i = 0
    for j in range(n):
        lo = ends[j] - window
        while ends[i] <= lo:
            i += 1
        total = prefix[j + 1] - prefix[i]
        s_i = intervals[i][0]
        if s_i < lo:
            total -= lo - s_i
        best = max(best, total)
    return best / window * 100.0
