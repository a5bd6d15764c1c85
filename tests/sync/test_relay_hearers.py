"""A broadcast heard through relays is shared among the hearers of the radio it
came from (node/sync/hearers.py): the last relay's, by its digest's neighbour
list, when the header's relay byte names a ledger peer we hear, else our
two-hop neighbourhood. Before, each listener shared it among its own direct
peers only, and an attacker at the best-connected site claiming one relay had
its listeners credit a real node's number with 3.97 times its air
(`python -m meshaid.node.sim.attacks --size full --seeds 3 --attack
phantom-lack-hop1`)."""

from __future__ import annotations

import random

from meshaid.node.sync import messages as m
from meshaid.node.sync.hearers import Hearers
from meshaid.node.sync.ports import RxMeta
from meshaid.node.sync.relays import Neighbourhood

from .meshes import lone

TTL = 1200.0


def _hood(me: int, lists: dict[int, list[int]], now: float = 10.0) -> Neighbourhood:
    """`me`'s view: it hears each key of `lists` directly, and each said its list."""
    hood = Neighbourhood(me, TTL, 600.0, True)
    for peer, heard in lists.items():
        hood.learn(hood.heard(peer, 0, now, 5.0), m.Digest(1, 1, neighbours=tuple(heard), has_neighbours=True))
    return hood


def test_a_relay_we_hear_shares_the_air_among_its_listed_hearers() -> None:
    hood = _hood(1, {2: [1, 3, 4, 5, 6, 7, 9], 3: [1, 2]})
    assert Hearers(hood).relayed(9, 1, 2, 10.0) == 7


def test_a_relay_whose_list_does_not_name_the_sender_did_not_relay_it() -> None:
    hood = _hood(1, {2: [1, 3, 4, 5, 6, 7], 3: [1, 2, 8]})
    # Node 2 does not hear node 9: the packet came from some radio we cannot
    # count, so it is shared among our two-hop neighbourhood (1-8).
    assert Hearers(hood).relayed(9, 1, 2, 10.0) == 8
    # Two relays on, the last relay need not hear the sender itself.
    assert Hearers(hood).relayed(9, 2, 2, 10.0) == 6


def test_an_unknown_relay_byte_shares_the_air_among_our_two_hop_neighbourhood() -> None:
    hood = _hood(1, {2: [1, 3, 4], 3: [1, 2, 5]})
    hearers = Hearers(hood)
    assert hearers.relayed(9, 1, 0x77, 10.0) == 5  # 1-5
    assert hearers.relayed(9, 1, None, 10.0) == 5
    assert hearers.relayed(9, 1, 9, 10.0) == 5  # the sender is not its own relay


def test_a_peer_unheard_for_a_ttl_is_no_relay_and_not_in_the_count() -> None:
    hood = _hood(1, {2: [1, 3, 4, 5, 6, 9]})
    hood.learn(hood.heard(7, 0, 2000.0, 5.0), m.Digest(1, 1, neighbours=(1,), has_neighbours=True))
    # At 2000 s node 2 was last heard 1990 s ago: neither its byte nor its list
    # counts; only node 7 and us remain.
    assert Hearers(hood).relayed(9, 1, 2, 2000.0) == 2


def test_relayed_credit_summed_over_a_relays_hearers_is_at_most_its_air() -> None:
    """Random meshes whose lists tell the truth: for every ledger radio T and
    every packet it relays, the shares its listeners credit (the air over the
    larger of their own direct peers and T's hearers) sum to at most the air."""
    rng = random.Random(7)
    for _ in range(40):
        n = rng.randint(4, 40)
        adj: dict[int, set[int]] = {i: set() for i in range(1, n + 1)}
        for a in range(1, n + 1):
            for b in range(a + 1, n + 1):
                if rng.random() < rng.choice((0.1, 0.3, 0.8)):
                    adj[a].add(b)
                    adj[b].add(a)
        hoods = {i: _hood(i, {j: sorted(adj[j]) for j in heard}) for i, heard in adj.items()}
        for relay, hearers in adj.items():
            for sender in hearers:
                total = 0.0
                for listener in hearers - {sender}:
                    own = hoods[listener].heard_directly(10.0)
                    share = Hearers(hoods[listener]).relayed(sender, 1, relay & 0xFF, 10.0)
                    total += 1.0 / max(1, own, share)
                assert total <= 1.0 + 1e-9


def test_the_engine_credits_a_relayed_broadcast_by_its_relays_hearers() -> None:
    mesh, ledger = lone()
    eng = mesh.engines[0]
    tag = ledger.network[:2]
    now = mesh.now
    # Neighbour 7 hears node 0 and ten others, neighbour 8 only node 0.
    for peer, heard in ((7, (0, *range(20, 30))), (8, (0,))):
        eng.receive(m.encode(m.Digest(eng.count, eng.fingerprint, neighbours=heard, has_neighbours=True), tag),
                    RxMeta(sender=peer, snr=5.0), now)
    sketch = m.encode(m.Sketch(3, 0, bytes(13)), tag)
    air = eng.cfg.airtime(len(sketch))
    eng.receive(sketch, RxMeta(sender=20, snr=1.0, hops=1, relay=7), now)
    assert abs(eng.answers.credits.balance(20, now) - air / 11) < 1e-9
    # The same through a relay we cannot count: our two-hop neighbourhood
    # (us, 7, 8 and 20-29: 13 nodes).
    eng.receive(sketch, RxMeta(sender=21, snr=1.0, hops=1, relay=0x99), now)
    assert abs(eng.answers.credits.balance(21, now) - air / 13) < 1e-9
    # At hop 0 a broadcast is shared among our own direct peers, as before.
    eng.receive(sketch, RxMeta(sender=22, snr=1.0), now)
    assert abs(eng.answers.credits.balance(22, now) - air / 3) < 1e-9

