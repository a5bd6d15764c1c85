"""Small helpers shared by the simulator tests."""

from __future__ import annotations

import random
from typing import Any

from meshaid.node.sim.radio import Mesh, RxMeta
from meshaid.node.sim.topology import Topology


class Recorder:
    """Collects on_receive calls."""

    def __init__(self) -> None:
        self.got: list[tuple[int, Any, RxMeta]] = []

    def __call__(self, node: int, payload: Any, meta: RxMeta) -> None:
        self.got.append((node, payload, meta))

    def nodes(self) -> set[int]:
        return {n for n, _p, _m in self.got}


def make(topo: Topology, seed: int = 1, **kw: Any) -> tuple[Mesh, Recorder]:
    rec = Recorder()
    return Mesh(topo, rng=random.Random(seed), on_receive=rec, **kw), rec
