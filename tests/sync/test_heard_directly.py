"""relays.py `heard_directly` keeps its count between packets: it must always
equal a fresh count of the peers heard directly within `ttl`, whatever order
peers are heard in, through relays or not, as they age out or are forgotten."""

from __future__ import annotations

import random

from meshaid.node.sync.relays import MAX_PEERS, Neighbourhood


def _fresh_count(hood: Neighbourhood, now: float) -> int:
    return sum(1 for p in hood.peers.values() if now - p.last_direct < hood.ttl)


def test_the_kept_count_is_always_a_fresh_count() -> None:
    rng = random.Random(11)
    hood = Neighbourhood(1, ttl=100.0, announce_every=3600.0, use_relays=True)
    now = 1_780_000_000.0
    for _ in range(5000):
        now += rng.choice((0.0, 1e-7, 0.5, 3.0, 40.0))
        if rng.random() < 0.6:
            hood.heard(rng.randrange(2, 2 + 2 * MAX_PEERS), rng.choice((0, 0, 1)), now,
                       rng.uniform(-10.0, 10.0))
        assert hood.heard_directly(now) == _fresh_count(hood, now)
    assert len(hood.peers) == MAX_PEERS  # numbers were forgotten on the way


def test_a_peer_counts_until_the_last_instant_of_its_ttl() -> None:
    hood = Neighbourhood(1, ttl=100.0, announce_every=3600.0, use_relays=True)
    t = 1_780_000_000.0
    hood.heard(7, 0, t, 3.0)
    hood.heard(8, 0, t + 10.0, 3.0)
    for now in (t + 99.9999999, t + 100.0 - 2e-7, t + 100.0, t + 100.0 + 1e-7, t + 109.999,
                t + 110.0, t + 111.0):
        assert hood.heard_directly(now) == _fresh_count(hood, now), now
    hood.heard(7, 0, t + 150.0, 3.0)  # heard again after its ttl ran out: counted again
    assert hood.heard_directly(t + 150.0) == 1
