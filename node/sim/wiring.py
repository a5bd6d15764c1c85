"""Which directed links are live, and with what loss model (internal to ``radio``).

Theory of operation: the static :class:`~meshaid.node.sim.topology.Topology`
says who could hear whom. :class:`Wiring` overlays the run-time changes --
links cut for a partition (always both directions, keyed by the unordered
pair) and a loss model per directed link -- and turns them into the flat
per-transmitter neighbour lists the mesh iterates on every transmission:
``(receiver, power in mW, reported SNR, RSSI, loss model)`` in ascending
receiver order, so iteration order (and thus the run) is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .loss import LossModel
from .state import Neighbour, NodeState
from .topology import Topology

__all__ = ["LossSpec", "Wiring"]

LossSpec = LossModel | Callable[[int, int], LossModel | None] | None


class Wiring:
    """Cut links and per-link loss models over a static topology."""

    def __init__(self, topology: Topology, loss: LossSpec = None) -> None:
        """``loss``: a prototype (cloned per link with ``fresh()``) or ``f(a, b) -> model``."""
        self.topology = topology
        self.cut: set[tuple[int, int]] = set()
        self.loss: dict[tuple[int, int], LossModel] = {}
        if loss is not None:
            for a, b in sorted(topology.links):
                m = loss.fresh() if isinstance(loss, LossModel) else loss(a, b)
                if m is not None:
                    self.loss[(a, b)] = m
        self.out: list[list[tuple[int, float, float]]] = [[] for _ in range(topology.n)]
        for (a, b), ln in sorted(topology.links.items()):
            self.out[a].append((b, ln.snr_db, ln.rssi_dbm))

    def neighbours(self, a: int, nodes: Sequence[NodeState], snr_max: float) -> list[Neighbour]:
        """Live receivers of ``a`` with power (mW), reported SNR, RSSI and loss model."""
        cut = self.cut
        return [(nodes[b], 10.0 ** (rssi / 10.0), min(snr, snr_max), rssi, self.loss.get((a, b)))
                for b, snr, rssi in self.out[a] if (min(a, b), max(a, b)) not in cut]

    def is_up(self, a: int, b: int) -> bool:
        """True if the topology has a -> b and it is not cut."""
        return (a, b) in self.topology.links and (min(a, b), max(a, b)) not in self.cut

    def set_link(self, a: int, b: int, up: bool) -> None:
        """Cut or restore the pair."""
        key = (min(a, b), max(a, b))
        if up:
            self.cut.discard(key)
        else:
            self.cut.add(key)

    def partition(self, side: Iterable[int]) -> int:
        """Cut every pair with exactly one end in ``side``; return how many."""
        s = set(side)
        pairs = {(min(a, b), max(a, b)) for a, b in self.topology.links if (a in s) != (b in s)}
        self.cut |= pairs
        return len(pairs)
