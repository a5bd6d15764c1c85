"""Answering others: what the engine does on hearing DIGEST, SKETCH, REQUEST,
MORE and PULL, and the state those answers keep.

Theory of operation
-------------------
Every one of these packets is unauthenticated: anyone holding the channel
key can send it under any sender number. The engine's own traffic (push,
relay, its digest) lives in engine.py; everything sent *because someone
asked* is decided here.

* DIGEST: a neighbour's count and fingerprint. Equal to ours: Trickle hears
  consistency. Far ahead of us: bootstrap (bootstrap.py). Far behind us:
  our digest goes out soon, so that it can pull. Otherwise, unless our own
  backlog explains the difference, the reconciler plans a SKETCH.
* SKETCH: the reconciler (reconcile.py) peels it against our own sketch;
  what the sketcher lacks is queued as repairs (RECORDS), what we lack is
  requested.
* REQUEST: the ids we hold are queued as repairs; the ones we wanted too are
  taken off our own request list (the answer serves us).
* MORE: the next symbols of our sketch (reconcile.py).
* PULL: a batch of one bootstrap partition after a cursor (bootstrap.py).

Repairs ride in the engine's send queue with tag "repair", so a copy heard
before they are due cancels them, like relays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import messages as m
from .bootstrap import Bootstrap
from .reconcile import Reconciler
from .relays import Peer

if TYPE_CHECKING:
    from .engine import Engine

Emit = Callable[[m.Message, str, int], bool]


class Answers:
    """The answering side of one engine: reconciliation and bootstrap state."""

    def __init__(self, engine: Engine) -> None:
        self.eng = engine
        cfg = engine.cfg
        self.recon = Reconciler(cfg, engine.rng, engine.node, engine.sketch)
        self.boot = Bootstrap(cfg, engine.rng, engine.node)

    def on_digest(self, msg: m.Digest, peer: Peer, now: float) -> None:
        """A neighbour's digest: note it, and plan a sketch, a pull or our digest."""
        eng, cfg = self.eng, self.eng.cfg
        peer.count, peer.fingerprint, peer.boot = msg.count, msg.fingerprint, msg.boot
        if msg.count == eng.count and msg.fingerprint == eng.fingerprint:
            eng.trickle.consistent()
            return
        if msg.count > eng.count + cfg.boot_gap:
            self.boot.behind(eng.hood.peers, eng.count, now)
            return  # far behind: pulling, not reconciling (a sketch would not decode)
        if msg.boot or eng.count > msg.count + cfg.boot_gap:
            # A node far behind: let it hear our digest soon, so it can pull from us.
            eng.trickle.reset(now, cfg.news_interval)
            return
        if cfg.mismatch_interval:
            eng.trickle.reset(now, cfg.mismatch_interval)
        if any(s.tag != "repair" for s in eng.sends.values()):
            return  # our own backlog explains the difference: send it before sketching
        self.recon.mismatch(msg.count, eng.count, eng.last_news, now)

    def on_sketch(self, msg: m.Sketch, sender: int, now: float) -> None:
        """Symbols of a neighbour's sketch: once decoded, repair and request."""
        eng = self.eng
        try:
            result = self.recon.on_sketch(msg, sender, now, eng.count)
        except ValueError:
            eng.stats.dropped["bad-sketch"] += 1
            return
        if result is None:
            return
        if result.ours or result.theirs:
            eng.trickle.reset(now)  # a real gap: check again soon
        lo, hi = eng.cfg.repair_window
        for x in result.ours:
            info = eng.infos.get(x.to_bytes(8, "big"))
            if info is not None:
                eng.schedule_repair(info, now + eng.rng.uniform(lo, hi))
        for x in result.theirs:
            self.recon.want(x.to_bytes(8, "big"), now)

    def on_request(self, msg: m.Request, now: float) -> None:
        """Ids someone asked for: queue the ones we hold as repairs."""
        eng = self.eng
        lo, hi = eng.cfg.repair_window
        for rid in msg.ids:
            self.recon.got(rid)  # someone asked already: the answer serves us too
            info = eng.infos.get(rid)
            if info is not None and rid not in eng.sends:
                eng.schedule_repair(info, now + eng.rng.uniform(lo, hi))

    def on_more(self, msg: m.More, now: float) -> None:
        """A request for more symbols of a sketch (ours, or one we wait for too)."""
        self.recon.on_more(msg, now)

    def on_pull(self, msg: m.Pull, now: float) -> None:
        """A bootstrap pull (answered only when it names us)."""
        self.boot.on_pull(msg, now)

    def times(self) -> list[float]:
        """When the answering side next has work."""
        return self.recon.times() + self.boot.times()

    def poll(self, emit: Emit, now: float) -> None:
        """Send what is due: sketches, MOREs, requests, pulls and pull answers."""
        eng = self.eng
        self.recon.poll(emit, now, eng.count)
        self.boot.poll(emit, now, eng.hood.peers, eng.count)
        self.boot.poll_answers(emit, now, eng.infos, eng.ledger.sync_raw)

    def table_sizes(self) -> dict[str, int]:
        """Entries in every table the engine keeps, for the attack suite."""
        eng, recon, boot = self.eng, self.recon, self.boot
        return {
            "sends": len(eng.sends),
            "peers": len(eng.hood.peers),
            "author_rates": len(eng.rates.buckets),
            "wanted": len(recon.requests),
            "sketch_streams": len(recon.remote) + len(recon.remote_count),
            "more_pending": len(recon.more_due),
            "pull_answers": len(boot.answers),
            "sort_orders": len(boot._order_cache),
        }
