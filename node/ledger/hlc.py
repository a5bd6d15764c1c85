"""Hybrid logical clock (Kulkarni et al., 2014) at one-second resolution.

An HLC value packs 32 bits of seconds since the meshaid epoch (2025-01-01 UTC)
and a 16-bit counter into one 48-bit integer: `seconds << 16 | counter`. It
orders records across authors whatever their wall clocks say, never runs
backwards, and stays close to physical time when clocks are sane.

Mesh time (node/PROTOCOL.md §2). A node's clock moves for records heard from
others only through `mesh_time`: the newest value of any trusted author, but at
most AHEAD_S past the second newest author's (the only author's, when there is
one). So no single key, member or not, drags a node's clock more than an hour
ahead of what two members say, while a node whose wall clock is
far behind (no RTC, or 1970 after a power cut) still catches up with the mesh
as soon as it hears two members, and signs its records, with their validity
windows, in mesh time. Records more than `AHEAD_S` past a node's present
(the later of its wall clock and mesh time) are *future-dated*: shown as such,
never followed.
"""

from __future__ import annotations

from dataclasses import dataclass

EPOCH_UNIX = 1_735_689_600  # 2025-01-01T00:00:00Z
MAX_AHEAD_S = 24 * 3600  # Clock.observe's clamp (not used by the store)
AHEAD_S = 3600  # a record further ahead than this is future-dated
WALL_BEHIND_S = 600  # a wall clock this far behind mesh time is flagged
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


def mesh_time(newest_by_author: list[int]) -> int:
    """The newest of the authors' newest values, but at most AHEAD_S past the
    second newest (so one author leads by an hour at most); 0 with none."""
    values = sorted(newest_by_author, reverse=True)
    if not values:
        return 0
    if len(values) == 1:
        return values[0]
    return min(values[0], values[1] + pack(AHEAD_S))


def is_future(value: int, present_unix: float) -> bool:
    """Is `value` more than AHEAD_S past `present_unix`?"""
    return seconds_of(value) > int(present_unix) - EPOCH_UNIX + AHEAD_S


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

    def advance(self, value: int) -> None:
        """Never issue a value at or below `value` again (mesh time, a restart)."""
        self.last = max(self.last, value)

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
