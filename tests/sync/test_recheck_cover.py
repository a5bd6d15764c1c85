"""Urgent rechecks (urgent.py) skip a neighbour that copies heard from two nodes
listing it have covered. A link counts only when both its ends list it: two
numbers whose digests announce a real neighbour of ours that does not hear
them (attackers with signals of their own, replaying an urgent record) must
not spare that neighbour our recheck."""

from __future__ import annotations

from meshaid.node.sync import messages as m
from meshaid.node.sync.relays import Neighbourhood


def _hood() -> Neighbourhood:
    """Node 100 hears 1 and 2 (who hear each other) and 5 and 6, whose lists
    claim node 1; node 1's own list names 100 and 2 only."""
    hood = Neighbourhood(100, ttl=3600.0, announce_every=3600.0, use_relays=True)
    lists = {1: (100, 2), 2: (100, 1), 5: (100, 1), 6: (100, 1)}
    for n, names in lists.items():
        for t in (0.0, 10.0):
            peer = hood.heard(n, 0, t, 3.0)
        hood.learn(peer, m.Digest(9, 1, False, names, True, ()))
    return hood


def test_copies_from_nodes_whose_link_both_ends_list_cover_the_neighbour() -> None:
    assert _hood().listing(1, {2}) == 1


def test_nodes_claiming_a_neighbour_that_does_not_list_them_cover_nothing() -> None:
    assert _hood().listing(1, {5, 6}) == 0


def test_nothing_covers_a_neighbour_whose_own_list_is_unknown() -> None:
    hood = _hood()
    hood.peers[1].neighbours = None
    assert hood.listing(1, {2, 5, 6}) == 0
