"""Who hears whom: directed links with SNR and RSSI.

Theory of operation: a :class:`Topology` is ``n`` nodes (numbered 0..n-1)
and a map of directed links ``(a, b) -> Link(snr_db, rssi_dbm)`` meaning "b
decodes a with that SNR/RSSI". It is built either

- from explicit links (``from_links``, ``line``, ``grid``): the SNR is given,
  RSSI = noise floor + SNR unless given too; or
- from positions in metres (``from_positions``) with a log-distance path-loss
  model: ``PL(d) = PL(1 m) + 10 n log10(d) + X``, where ``X`` is an optional
  zero-mean Gaussian (lognormal) shadowing term drawn once per unordered pair
  from the caller's ``random.Random`` (so links are reciprocal unless tx
  powers differ). ``RSSI = P_tx - PL``; ``SNR = RSSI - N`` with the noise
  floor ``N = -174 + 10 log10(BW Hz) + NF``. A link exists when the SNR
  reaches the preset's demodulation floor (SF7 -7.5 dB ... SF12 -20 dB).

Only decodable links are modelled: a frame below the floor neither
interferes nor trips channel-activity detection. ``random_geometric`` picks
the area so the *realised* average degree hits the target exactly (it sorts
the pairwise link margins once), and redraws until the graph is connected
(a sparse mesh: it prunes the weakest links of the placement that connects
soonest).
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .airtime import Preset, get_preset

__all__ = [
    "Link",
    "PathLoss",
    "Topology",
    "from_links",
    "from_positions",
    "grid",
    "grid_positions",
    "line",
    "line_positions",
    "random_geometric",
]


@dataclass(frozen=True)
class Link:
    """A directed link as the receiver sees it."""

    snr_db: float
    rssi_dbm: float


@dataclass(frozen=True)
class PathLoss:
    """Log-distance path-loss model parameters.

    Defaults: 20 dBm into 0 dBi antennas, free-space 31.2 dB at 1 m (868 MHz),
    exponent 3.0 (suburban/light clutter), no shadowing, 6 dB receiver noise
    figure. On LONG_FAST that gives a range of about 10 km.
    """

    tx_power_dbm: float = 20.0
    exponent: float = 3.0
    ref_loss_db: float = 31.2
    shadowing_sigma_db: float = 0.0
    noise_figure_db: float = 6.0
    antenna_gains_db: float = 0.0  # sum of tx and rx antenna gains

    def loss_db(self, distance_m: float) -> float:
        """Mean path loss in dB at ``distance_m`` (clamped to >= 1 m)."""
        return self.ref_loss_db + 10.0 * self.exponent * math.log10(max(distance_m, 1.0))

    def range_m(self, preset: Preset | str = "LONG_FAST") -> float:
        """Distance at which the mean SNR equals the preset's floor (no shadowing)."""
        p = get_preset(preset)
        budget = self.tx_power_dbm + self.antenna_gains_db - p.sensitivity_dbm(self.noise_figure_db)
        return float(10.0 ** ((budget - self.ref_loss_db) / (10.0 * self.exponent)))


@dataclass
class Topology:
    """Nodes 0..n-1 and directed links; optional positions (metres)."""

    n: int
    links: dict[tuple[int, int], Link] = field(default_factory=dict)
    positions: list[tuple[float, float]] | None = None

    def link(self, a: int, b: int) -> Link | None:
        """The link a -> b (b hears a), or None."""
        return self.links.get((a, b))

    def neighbors(self, a: int) -> list[int]:
        """Nodes that hear ``a``, in ascending order."""
        return sorted(b for (x, b) in self.links if x == a)

    def adjacency(self) -> list[list[int]]:
        """Per node, the sorted list of nodes that hear it."""
        adj: list[list[int]] = [[] for _ in range(self.n)]
        for a, b in self.links:
            adj[a].append(b)
        for lst in adj:
            lst.sort()
        return adj

    def edges(self) -> list[tuple[int, int]]:
        """Undirected edges (a < b) where both directions exist."""
        return sorted((a, b) for (a, b) in self.links if a < b and (b, a) in self.links)

    def avg_degree(self) -> float:
        """Mean number of out-links per node."""
        return len(self.links) / self.n if self.n else 0.0

    def hops_from(self, src: int) -> list[int | None]:
        """BFS hop count from ``src`` along directed links (None = unreachable)."""
        adj = self.adjacency()
        dist: list[int | None] = [None] * self.n
        dist[src] = 0
        q = deque([src])
        while q:
            u = q.popleft()
            du = dist[u]
            assert du is not None
            for v in adj[u]:
                if dist[v] is None:
                    dist[v] = du + 1
                    q.append(v)
        return dist

    def is_connected(self) -> bool:
        """True if every node is reachable from node 0 (and n <= 1 trivially)."""
        return self.n <= 1 or all(d is not None for d in self.hops_from(0))

    def diameter(self) -> int | None:
        """Longest shortest path in hops, or None if disconnected."""
        best = 0
        for s in range(self.n):
            d = self.hops_from(s)
            if any(x is None for x in d):
                return None
            best = max(best, max(x for x in d if x is not None))
        return best


def from_links(n: int, links: Iterable[Sequence[float]], *, symmetric: bool = True,
               preset: Preset | str = "LONG_FAST", noise_figure_db: float = 6.0) -> Topology:
    """Topology from explicit ``(a, b, snr_db)`` or ``(a, b, snr_db, rssi_dbm)`` tuples.

    With ``symmetric`` each tuple also adds b -> a with the same numbers
    (unless that direction is listed explicitly). Missing RSSI is noise floor
    of ``preset`` + SNR.
    """
    nf = get_preset(preset).noise_floor_dbm(noise_figure_db)
    out: dict[tuple[int, int], Link] = {}
    explicit: set[tuple[int, int]] = set()
    for item in links:
        a, b, snr = int(item[0]), int(item[1]), float(item[2])
        rssi = float(item[3]) if len(item) > 3 else nf + snr
        if not (0 <= a < n and 0 <= b < n) or a == b:
            raise ValueError(f"bad link {a}->{b} for n={n}")
        out[(a, b)] = Link(snr, rssi)
        explicit.add((a, b))
        if symmetric and (b, a) not in explicit:
            out[(b, a)] = Link(snr, rssi)
    return Topology(n, out)


def _build(positions: Sequence[tuple[float, float]], p: Preset, env: PathLoss,
           shadow: dict[tuple[int, int], float],
           tx_power: Sequence[float] | None,
           gains: Sequence[float] | None = None) -> dict[tuple[int, int], Link]:
    nf = p.noise_floor_dbm(env.noise_figure_db)
    floor = p.demod_floor_db
    links: dict[tuple[int, int], Link] = {}
    n = len(positions)
    for i in range(n):
        xi, yi = positions[i]
        for j in range(i + 1, n):
            xj, yj = positions[j]
            pl = env.loss_db(math.hypot(xi - xj, yi - yj)) - shadow.get((i, j), 0.0)
            pl -= env.antenna_gains_db
            if gains is not None:
                pl -= gains[i] + gains[j]
            for a, b in ((i, j), (j, i)):
                ptx = env.tx_power_dbm if tx_power is None else tx_power[a]
                rssi = ptx - pl
                snr = rssi - nf
                if snr >= floor:
                    links[(a, b)] = Link(snr, rssi)
    return links


def _draw_shadowing(n: int, env: PathLoss, rng: random.Random | None) -> dict[tuple[int, int], float]:
    if env.shadowing_sigma_db <= 0.0:
        return {}
    if rng is None:
        raise ValueError("shadowing needs an rng")
    g = rng.gauss
    s = env.shadowing_sigma_db
    return {(i, j): g(0.0, s) for i in range(n) for j in range(i + 1, n)}


def from_positions(positions: Sequence[tuple[float, float]], preset: Preset | str = "LONG_FAST",
                   env: PathLoss | None = None, rng: random.Random | None = None, *,
                   tx_power_dbm: Sequence[float] | None = None,
                   gains_db: Sequence[float] | None = None) -> Topology:
    """Topology from (x, y) positions in metres with log-distance path loss.

    Shadowing (``env.shadowing_sigma_db`` > 0) is drawn from ``rng``, one value
    per unordered pair in (i, j) order. ``tx_power_dbm`` optionally gives each
    node its own power, making links asymmetric. ``gains_db`` gives each node
    extra antenna gain (a mast on a hill), counted on both ends of its links.
    """
    env = env or PathLoss()
    p = get_preset(preset)
    shadow = _draw_shadowing(len(positions), env, rng)
    pos = [(float(x), float(y)) for x, y in positions]
    return Topology(len(pos), _build(pos, p, env, shadow, tx_power_dbm, gains_db), pos)


def line(n: int, snr_db: float = 5.0, *, preset: Preset | str = "LONG_FAST") -> Topology:
    """A chain 0 - 1 - ... - n-1 where only adjacent nodes hear each other."""
    return from_links(n, [(i, i + 1, snr_db) for i in range(n - 1)], preset=preset)


def grid(rows: int, cols: int, snr_db: float = 5.0, *, diagonal: bool = False,
         preset: Preset | str = "LONG_FAST") -> Topology:
    """A rows x cols grid (node = r * cols + c), 4-neighbour (or 8 with ``diagonal``)."""
    links: list[tuple[int, int, float]] = []
    for r in range(rows):
        for c in range(cols):
            a = r * cols + c
            if c + 1 < cols:
                links.append((a, a + 1, snr_db))
            if r + 1 < rows:
                links.append((a, a + cols, snr_db))
            if diagonal and r + 1 < rows:
                if c + 1 < cols:
                    links.append((a, a + cols + 1, snr_db))
                if c > 0:
                    links.append((a, a + cols - 1, snr_db))
    return from_links(rows * cols, links, preset=preset)


def line_positions(n: int, spacing_m: float) -> list[tuple[float, float]]:
    """Positions of ``n`` nodes on the x axis, ``spacing_m`` apart."""
    return [(i * spacing_m, 0.0) for i in range(n)]


def grid_positions(rows: int, cols: int, spacing_m: float) -> list[tuple[float, float]]:
    """Positions of a rows x cols grid (node = r * cols + c)."""
    return [(c * spacing_m, r * spacing_m) for r in range(rows) for c in range(cols)]


def random_geometric(n: int, avg_degree: float, rng: random.Random, *,
                     preset: Preset | str = "LONG_FAST", env: PathLoss | None = None,
                     connected: bool = True, max_tries: int = 500) -> Topology:
    """Random connected geometric graph of ``n`` nodes with that mean degree.

    Nodes are uniform in a square; the square's side is chosen so that exactly
    ``round(n * avg_degree / 2)`` node pairs are in range (given the path-loss
    model and the shadowing drawn for this placement). Placements are redrawn
    (from ``rng``) until the graph is connected when ``connected`` is set.
    A sparse mesh (a mean degree of 2 to 4 for tens of nodes) is almost never
    connected so: after ``max_tries`` the placement that needed the fewest
    pairs in range to connect is scaled to that many, and its weakest links
    whose loss leaves the graph connected are taken out (terrain in the way)
    until the count is met. With per-node equal tx power, links are symmetric.
    Raises ValueError for a degree below a tree's (2 (n - 1) / n).
    """
    env = env or PathLoss()
    p = get_preset(preset)
    if n < 2:
        return Topology(n, {}, [(0.0, 0.0)] * n)
    pairs_wanted = max(1, min(n * (n - 1) // 2, round(n * avg_degree / 2)))
    if connected and pairs_wanted < n - 1:
        raise ValueError(f"a connected mesh of {n} nodes needs a mean degree of at least "
                         f"{2 * (n - 1) / n:.2f} (a tree), not {avg_degree}")
    k = 10.0 * env.exponent
    budget = env.tx_power_dbm + env.antenna_gains_db - p.sensitivity_dbm(env.noise_figure_db)
    # in range  <=>  log10(s * d) <= (budget - ref - ... + X) / k  (ignoring the 1 m clamp)
    best: tuple[int, list[tuple[float, float]], dict[tuple[int, int], float],
                list[float]] | None = None

    def place(unit: list[tuple[float, float]], shadow: dict[tuple[int, int], float],
              keys: list[float], pairs: int) -> Topology:
        lo = keys[pairs - 1]
        hi = keys[pairs] if pairs < len(keys) else lo + 1.0
        scale = 10.0 ** ((budget - env.ref_loss_db) / k - (lo + hi) / 2.0)
        pos = [(x * scale, y * scale) for x, y in unit]
        return Topology(n, _build(pos, p, env, shadow, None), pos)

    for _ in range(max_tries):
        unit = [(rng.random(), rng.random()) for _ in range(n)]
        shadow = _draw_shadowing(n, env, rng)
        pairs_by_key: list[tuple[float, int, int]] = []
        for i in range(n):
            xi, yi = unit[i]
            for j in range(i + 1, n):
                d = math.hypot(xi - unit[j][0], yi - unit[j][1]) or 1e-12
                pairs_by_key.append((math.log10(d) - shadow.get((i, j), 0.0) / k, i, j))
        pairs_by_key.sort()
        keys = [key for key, _i, _j in pairs_by_key]
        if not connected:
            return place(unit, shadow, keys, pairs_wanted)
        # The pairs in range are the nearest by key, so the graph connects only
        # if its first `pairs_wanted` pairs do: most sparse placements are not
        # built at all (a 200-node mesh of degree 3 took 40 s, building 500).
        need = _pairs_to_connect(n, pairs_by_key)
        if need <= pairs_wanted:
            topo = place(unit, shadow, keys, pairs_wanted)
            if topo.is_connected():
                return topo
        if best is None or need < best[0]:
            best = (need, unit, shadow, keys)
    assert best is not None
    need, unit, shadow, keys = best
    topo = place(unit, shadow, keys, need)
    _prune_weakest(topo, len(topo.edges()) - pairs_wanted)
    return topo


def _pairs_to_connect(n: int, pairs_by_key: list[tuple[float, int, int]]) -> int:
    """How many of the pairs, nearest first, connect all n nodes (union-find)."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    parts = n
    for count, (_key, i, j) in enumerate(pairs_by_key, 1):
        a, b = root(i), root(j)
        if a != b:
            parent[a] = b
            parts -= 1
            if parts == 1:
                return count
    return len(pairs_by_key)


def _prune_weakest(topo: Topology, excess: int) -> None:
    """Take out up to `excess` links, weakest first, each only if the graph stays
    connected without it."""
    for a, b in sorted(topo.edges(), key=lambda e: topo.links[e].snr_db):
        if excess <= 0:
            return
        ab, ba = topo.links.pop((a, b)), topo.links.pop((b, a))
        if topo.is_connected():
            excess -= 1
        else:
            topo.links[(a, b)], topo.links[(b, a)] = ab, ba
