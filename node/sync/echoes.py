"""How many copies of a record a node hears from others: whether its neighbours
hear one another.

The crowd rule (inbox.py `_plan_relay`) takes a node with many neighbours for
one of a crowd that all heard the same packet, so that a few stand ready to
relay and the rest cancel on the copies they hear. A hub over sites that hear
only it has as many neighbours and no crowd: nobody else relays what it
hears, and as a crowd it relayed one record in five (a star of 30 leaves,
written from outside). So a node counts, for each of the last records new to
it from the air, the copies it heard from other numbers within a minute; a
crowd is one whose records come with copies (at least one on average).
"""

from __future__ import annotations

WINDOW_S = 60.0  # copies of a record counted this long after it first came
TRACKED = 64  # records followed at once
WEIGHT = 0.1  # each record's share of the running mean


class Echoes:
    def __init__(self) -> None:
        self.open: dict[bytes, tuple[float, int, set[int]]] = {}  # rid -> (at, sender, copiers)
        self.mean = 2.0  # copies per record (a crowd until shown otherwise)

    def first(self, rid: bytes, sender: int, now: float) -> None:
        """`rid` reached us first from `sender`."""
        self._close(now)
        self.open[rid] = (now, sender, set())
        while len(self.open) > TRACKED:
            self._settle(next(iter(self.open)))

    def copy(self, rid: bytes, sender: int, now: float) -> None:
        """A copy of `rid` came from `sender` (plausibly its own voice)."""
        entry = self.open.get(rid)
        if entry is not None and now - entry[0] <= WINDOW_S and sender != entry[1]:
            entry[2].add(sender)

    def crowded(self, now: float) -> bool:
        """Whether our records lately came with copies from others."""
        self._close(now)
        return self.mean >= 1.0

    def _close(self, now: float) -> None:
        for rid in [r for r, (at, _s, _c) in self.open.items() if now - at > WINDOW_S]:
            self._settle(rid)

    def _settle(self, rid: bytes) -> None:
        _at, _sender, copiers = self.open.pop(rid)
        self.mean += WEIGHT * (min(len(copiers), 6) - self.mean)
