"""Urgent rechecks (urgent.py) skip a neighbour that copies heard from two nodes
listing it have covered. A link counts only when both its ends list it: two
numbers whose digests announce a real neighbour of ours that does not hear
them (attackers with signals of their own, replaying an urgent record) must
not spare that neighbour our recheck."""

from __future__ import annotations

from meshaid.node.sync import messages as m
from meshaid.node.sync.relays import Neighbourhood

from .meshes import lone, sent_after


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


def _rechecked(lists: dict[int, tuple[int, ...]]) -> bool:
    """Node 0 alone, neighbours played by hand: each of `lists` syncs with it
    (digests of its very set, with these neighbour lists), then node 0 posts a
    critical need and nodes 5 and 6 are heard relaying it; node 1 never is.
    Whether node 0 sent it again."""
    mesh, ledger = lone()
    eng = mesh.engines[0]
    tag = ledger.network[:2]
    mesh.run_for(600.0)
    for _ in range(2):
        for n, names in lists.items():
            digest = m.Digest(eng.count, eng.fingerprint, False, names, True, ())
            mesh.inject(0, m.encode(digest, tag), sender=n, snr=float(n))
        mesh.run_for(5.0)
    raw = mesh.need(0, "oxygen for the clinic", urgency=3)
    mesh.run_for(3.0)
    for n in (5, 6):
        mesh.inject(0, m.encode(m.Records((raw,)), tag), sender=n, snr=float(n))
    before = len(mesh.sent)
    mesh.run_for(40.0)
    return any(raw in msg.records for msg in sent_after(mesh, before, "recheck")
               if isinstance(msg, m.Records))


def test_copies_in_the_names_of_nodes_a_neighbour_does_not_hear_spare_it_no_recheck() -> None:
    # 5 and 6 (attackers with signals of their own) announce node 1, a real
    # neighbour that does not hear them, and replay the critical need: node 1,
    # never heard with it, still gets it again.
    assert _rechecked({1: (0,), 5: (0, 1), 6: (0, 1)})


def test_copies_from_nodes_a_neighbour_hears_spare_it_the_recheck() -> None:
    assert not _rechecked({1: (0, 5, 6), 5: (0, 1), 6: (0, 1)})
