"""A digest at hop 1 beside a firmware router, so that ledger nodes behind it
learn of us (relays.py far peers); part of `Engine` (engine.py), holding no
state of its own: the attributes it names are the engine's."""

from __future__ import annotations

from . import messages as m
from .bootstrap import Bootstrap
from .budget import NORMAL
from .outbox import Outbox
from .ports import Outgoing

BEACON_S = 900.0  # beside a firmware router and no far peer known: a digest at hop 1 this often
BEACON_BACKOFF = 5  # doublings of that interval while beacons find nobody (up to 8 hours)


class Beacon(Outbox):
    """The router beacon of `Engine` (the attributes below are the engine's)."""

    boot: Bootstrap
    fingerprint: int
    beacons_unanswered: int

    def set_routers_near(self, count: int) -> None:
        """How many firmware routers (ROUTER, ROUTER_LATE, REPEATER roles) the radio
        hears directly: ledger peers may sit behind them (see `_beacon`)."""
        if (count > 0) != (self.routers_near > 0):
            self.next_beacon = None  # (re)planned at the next poll
            self.beacons_unanswered = 0
            self._dirty = True
        self.routers_near = count

    def _beacon(self, out: list[Outgoing], now: float) -> None:
        """Beside a firmware router, and while no ledger peer is known behind one
        (`far_scope` 0), send our digest at hop 1 every `BEACON_S` or so: the
        router carries it one hop further, and ledger nodes there, hearing us
        only through it, learn that we sit behind a router (relays.py) and send
        at hop 1 themselves. Without it, two islands that only a mast joins
        never hear each other: each sends at hop 0, since it hears ledger peers
        of its own. While beacons find nobody, each waits twice as long as the
        one before (15 minutes, then up to 8 hours): a router with no island
        behind it (or a node list an attacker filled with made-up routers)
        costs a few small packets a day."""
        if self.routers_near <= 0:
            return
        if self.next_beacon is None:
            self.next_beacon = now + BEACON_S * self.rng.uniform(0.1, 1.0)
            return
        if now < self.next_beacon:
            return
        if self.hood.far_scope(now, self.cfg.max_scope) > 0:
            self.beacons_unanswered = 0  # our digests travel through the router already
        else:
            # (Our far relays ride along: none, since we hear no far peer. Nodes that
            # hear us only through the router then know we need no record at hop 1.)
            self._emit(out, m.Digest(len(self.infos), self.fingerprint, self.boot.active,
                                     far_relays=()),
                       "beacon", NORMAL, now, hop_limit=1)
            self.beacons_unanswered += 1
        wait = BEACON_S * 2 ** min(max(0, self.beacons_unanswered - 1), BEACON_BACKOFF)
        self.next_beacon = now + wait * self.rng.uniform(0.75, 1.25)
