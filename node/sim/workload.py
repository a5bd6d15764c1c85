"""The scenario's workload: who posts what, when, from a random stream of its own.

Theory of operation
-------------------
A protocol comparison is only fair if every protocol carries the same
records. So the workload never looks at what a node has *received* (that
depends on the protocol): it draws post times, kinds and fields from its own
`random.Random` (seeded from the scenario seed and the label "workload"), and
keeps its own bookkeeping of what it has posted:

* the needs posted so far (and those of the initial history), which pledges
  name: the 20 most recent ones (a pledge to a need the pledger has not heard
  yet is still a valid record);
* each node's own open needs, offers and pledges, which updates name
  (an update that closes an object removes it from the open list).

A draw happens at every scheduled post even when the node is down (the post is
then lost, as it would be), so the stream never depends on the run. The result:
the same scenario and seed give the same (time, author, seq, body) under every
protocol; `log` lists them and a test compares it across protocols. Only the
HLC stamps (which follow what a node has heard) and so the signed bytes differ.

Rates: every ledger node posts as a Poisson process of
`records_per_node_per_hour` until `stop_fraction` of the run; `burst` and
`post` events without a node pick theirs from this stream too.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from ..ledger import codec, identity
from ..ledger import records as r
from ..ledger.wire import DecodeError
from .phrases import NEED_TEXT, OFFER_TEXT, PLEDGE_TEXT

if TYPE_CHECKING:
    from .runner import Simulation

DEFAULT_MIX = {"need": 0.4, "offer": 0.2, "pledge": 0.3, "update": 0.1}
RECENT_NEEDS = 20
OPEN_CHOICES = 10


class Workload:
    """Posts for one simulation, independent of the protocol under test."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.rng = random.Random(f"workload:{sim.sc.seed}")
        wl = sim.sc.workload
        self.rate = float(wl.get("records_per_node_per_hour", 0)) / 3600.0
        self.stop_at = sim.sc.duration_s * float(wl.get("stop_fraction", 0.75))
        self.mix: dict[str, float] = dict(wl.get("mix", DEFAULT_MIX))
        self.critical = float(wl.get("critical_fraction", 0.1))
        self.needs: list[tuple[bytes, int]] = []  # (author short id, seq), oldest first
        self.open: dict[int, dict[int, int]] = {n: {} for n in sim.world.ledger_nodes}
        self.log: list[tuple[float, int, int, r.Body]] = []  # (t, node, seq, body) posted
        by_key = {m.public: n for n, m in sim.world.members.items()}
        for raw in sim.world.history:
            self._learn_history(raw, by_key)

    def _learn_history(self, raw: bytes, by_key: dict[bytes, int]) -> None:
        try:
            p = codec.parse(raw)
        except DecodeError:
            return
        node = next((n for key, n in by_key.items()
                     if identity.short_id(key) == p.author_short), None)
        self._note(node, p.author_short, p.seq, p.body)

    def _note(self, node: int | None, short: bytes, seq: int, body: r.Body) -> None:
        if isinstance(body, r.Need):
            self.needs.append((short, seq))
        if node is None:
            return
        if isinstance(body, (r.Need, r.Offer, r.Pledge)):
            self.open.setdefault(node, {})[seq] = getattr(body, "qty", 0)
        elif isinstance(body, r.Update) and body.status != 0:
            self.open.setdefault(node, {}).pop(body.target_seq, None)

    # ------------------------------------------------------------ drawing

    def body(self, n: int) -> r.Body:
        """A random record body for node n, from the workload's own stream."""
        rng = self.rng
        kind = rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
        if kind == "pledge" and self.needs:
            short, seq = rng.choice(self.needs[-RECENT_NEEDS:])
            return r.Pledge(short, seq, rng.randint(1, 20), 240, rng.choice(PLEDGE_TEXT))
        own = self.open.get(n, {})
        if kind == "update" and own:
            seq = rng.choice(sorted(own)[:OPEN_CHOICES])
            return r.Update(seq, rng.choice([0, 1]), own[seq])
        if kind == "offer":
            return r.Offer(rng.choice([32, 33, 35, 36, 37, 39]), _text(rng, OFFER_TEXT, n),
                           rng.randint(1, 60), 0, 1, 2, 1440, "")
        urgency = 3 if rng.random() < self.critical else rng.choice([0, 1, 1, 2])
        return r.Need(rng.choice([1, 2, 3, 4, 5]), _text(rng, NEED_TEXT, n), rng.randint(1, 300),
                      4, urgency, 2880, "")

    def pick(self, pool: list[int] | None = None) -> int:
        """A node drawn from `pool` (default: every ledger node)."""
        return self.rng.choice(pool or self.sim.world.ledger_nodes)

    # ------------------------------------------------------------ posting

    def post(self, n: int, body: r.Body | None = None) -> bytes | None:
        """Post `body` (or a random one, drawn even if n is down) as node n."""
        if body is None:
            body = self.body(n)
        raw = self.sim.author(n, body)
        if raw is not None:
            seq = codec.parse(raw).seq
            self._note(n, identity.short_id(self.sim.world.members[n].public), seq, body)
            self.log.append((self.sim.events.now, n, seq, body))
        return raw

    def schedule(self) -> None:
        """Schedule every node's Poisson posts (call once, at the start of the run)."""
        if self.rate <= 0:
            return
        for n in self.sim.world.ledger_nodes:
            first = self.rng.expovariate(self.rate)
            if first < self.stop_at:  # the first post too: none after stop_fraction
                self.sim.events.schedule(first, self._poisson, n)

    def _poisson(self, n: int) -> None:
        self.post(n)
        nxt = self.sim.events.now + self.rng.expovariate(self.rate)
        if nxt < self.stop_at:
            self.sim.events.schedule(nxt, self._poisson, n)

    def burst(self, count: int, span_s: float, pool: list[int] | None,
              urgency: int | None = None) -> None:
        """`count` posts spread evenly over `span_s` seconds from now: random ones,
        or needs of `urgency` (3: critical)."""
        now = self.sim.events.now
        for i in range(count):
            node = self.pick(pool)
            at = now + span_s * i / max(1, count)
            if urgency is None:
                self.sim.events.schedule(at, self.post, node)
            else:
                self.sim.events.schedule(at, self._urgent, node, urgency)

    def _urgent(self, n: int, urgency: int) -> None:
        rng = self.rng
        self.post(n, r.Need(rng.choice([1, 2, 3, 4, 5]), "urgent: " + _text(rng, NEED_TEXT, n),
                            rng.randint(1, 300), 4, urgency, 2880, ""))

    def summary(self) -> dict[str, Any]:
        """How many records of each kind the workload posted."""
        kinds: dict[str, int] = {}
        for _t, _n, _s, body in self.log:
            name = type(body).__name__.lower()
            kinds[name] = kinds.get(name, 0) + 1
        return kinds


def _text(rng: random.Random, phrases: tuple[str, ...], n: int) -> str:
    return rng.choice(phrases).replace("{n}", str(n))
