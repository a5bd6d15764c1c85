"""Hybrid logical clock (Kulkarni et al., 2014) at one-second resolution.

An HLC value packs 32 bits of seconds since the meshaid epoch (2025-01-01 UTC)
and a 16-bit counter into one 48-bit integer: `seconds << 16 | counter`. It
orders records across authors whatever their wall clocks say, never runs
backwards, and stays close to physical time when clocks are sane.

Remote times far ahead of our own clock are clamped (`MAX_AHEAD_S`) so one node
with a clock set to next year cannot drag everyone's clock forward.
"""

from __future__ import annotations

from dataclasses import dataclass

EPOCH_UNIX = 1_735_689_600  # 2025-01-01T00:00:00Z
MAX_AHEAD_S = 24 * 3600
COUNTER_MAX = 0xFFFF
HLC_MAX = (1 << 48) - 1


def pack(seconds: int, counter: int = 0) -> int:
    return (seconds << 16) | counter


def seconds_of(hlc: int) -> int:
    return hlc >> 16


def unix_of(hlc: int) -> int:
    return (hlc >> 16) + EPOCH_UNIX


def from_unix(unix_s: float) -> int:
    return pack(max(0, int(unix_s) - EPOCH_UNIX))


@dataclass
class Clock:
    """An HLC. `last` is the latest value issued or observed."""

    last: int = 0

    def now(self, unix_s: float) -> int:
        """A fresh timestamp greater than every value issued or observed before."""
        phys = pack(max(0, int(unix_s) - EPOCH_UNIX))
        if phys > self.last:
            self.last = phys
        else:
            self.last = self._bump(self.last)
        return self.last

    def observe(self, remote: int, unix_s: float) -> None:
        """Merge a timestamp seen on a record, clamped to MAX_AHEAD_S past our clock."""
        limit = pack(max(0, int(unix_s) - EPOCH_UNIX) + MAX_AHEAD_S)
        remote = min(remote, limit)
        self.last = max(self.last, remote)

    @staticmethod
    def _bump(value: int) -> int:
        if value & COUNTER_MAX == COUNTER_MAX:
            return pack(seconds_of(value) + 1)
        return value + 1
