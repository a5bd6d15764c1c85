"""The echo attack (issue 9, PROTOCOL.md §9): an attacker on a hill hears a line
of nodes and re-sends each RECORDS packet in the names of nodes two and three
hops away, heard by one node only. Its copies collide with the author's next
post there, and the node hearing them announces those far nodes as neighbours,
so its real neighbour took them as covered and relayed nothing on."""

from __future__ import annotations

from meshaid.node.sync import messages as m

from .harness import HOUR, Mesh, line
from .meshes import fresh_mesh, spread


def _warm(n: int, seed: int) -> Mesh:
    mesh = fresh_mesh(n, line(n), seed=seed)
    for i in range(n):
        mesh.need(i, f"warm-up {i}")
    mesh.run_for(HOUR)
    return mesh


def test_a_link_only_one_end_lists_does_not_cover_the_other_end() -> None:
    """0 - 1 - 2 - 3 in a line; copies of records in node 3's name reach node 1
    (at another signal than any of its neighbours'), so node 1 counts 3 as a
    neighbour and announces it. Node 2 knows from node 3's own list that 3 does
    not hear 1: a post of node 0 must still be relayed on by 2 and reach node 3
    in seconds, not minutes later by reconciliation."""
    mesh = _warm(4, seed=2)
    tag = mesh.ledger.network[:2]
    for k in range(6):  # a post every 5 minutes, echoed a minute later (digests follow)
        # (An echo of a record that reached node 1 long ago shows no relay: it
        # would not make node 1 take 3 as a neighbour at all, inbox.py `_heard`.)
        post = mesh.need(k % 4, f"news {k}")
        mesh.run_for(60)
        mesh.inject(1, m.encode(m.Records((post,), relay=True), tag), sender=3, snr=11.0)
        mesh.run_for(240)
    listed = mesh.engines[2].hood.peers[1].neighbours
    assert listed is not None and 3 in listed, "node 1 never announced the echoed number"
    raw = mesh.need(0, "a normal post")
    got = spread(mesh, raw, 600.0)
    assert got.get(3, 1e9) <= 60.0, got


def test_a_link_both_ends_list_still_covers() -> None:
    """The rule's other side: in a plain line 0 - 1 - 2 - 3, where every link is
    listed by both its ends, a node covered by the sender's list does not relay
    to it again (node 1 relays node 0's post, node 0 does not relay node 1's)."""
    mesh = _warm(4, seed=3)
    hood = mesh.engines[2].hood
    assert hood.denied(1, mesh.now) == set()
    assert hood.coverage(1, mesh.now) == {0, 1, 2}
    before = len(mesh.sent)
    raw = mesh.need(3, "a normal post")
    got = spread(mesh, raw, 300.0)
    assert len(got) == 4
    forwards = [s.node for s in mesh.sent[before:]
                if s.out.tag == "forward" and raw in m.decode(s.out.payload).records]  # type: ignore[union-attr]
    assert sorted(forwards) == [1, 2], forwards  # node 0 is the line's end: nobody to reach


def test_an_own_post_nobody_relayed_is_sent_once_more() -> None:
    """0 - 1 - 2: node 0's push of a normal post is lost at node 1 (a collision, a
    jammer). Node 1 is the relay node 0 counts on; hearing nobody with the post
    once the relays are done, node 0 sends it once more, and node 1 has it within
    about 40 s, not after the minutes reconciliation takes."""
    mesh = _warm(3, seed=4)
    mesh.partition([0])
    raw = mesh.need(0, "a normal post")
    mesh.run_for(10.0)
    assert mesh.holders(raw) == [0]
    mesh.heal()
    got = spread(mesh, raw, 600.0)
    assert got.get(1, 1e9) <= 40.0, got
    assert any(s.out.tag == "recheck" and s.node == 0 for s in mesh.sent)


def test_an_own_post_a_relay_carried_is_not_sent_again() -> None:
    """The other side: when node 1 is heard relaying the post, node 0 sends it once."""
    mesh = _warm(3, seed=5)
    before = len(mesh.sent)
    raw = mesh.need(0, "a normal post")
    got = spread(mesh, raw, 300.0)
    assert len(got) == 3
    mesh.run_for(120.0)
    mine = [s.out.tag for s in mesh.sent[before:] if s.node == 0
            and isinstance(m.decode(s.out.payload), m.Records)
            and raw in m.decode(s.out.payload).records]  # type: ignore[union-attr]
    assert mine == ["push"], mine


def test_numbers_heard_only_in_pulls_are_not_announced() -> None:
    """0 - 1 - 2 - 3 in a line; an attacker heard by nodes 1 and 3 sends pulls in
    node 3's name to node 1 and in node 1's name to node 3 (on the attack suite's
    mesh such pulls made the victim announce eight far nodes). Neither may list
    the other, or node 2 would take 3 as covered by 1 and relay nothing on."""
    mesh = _warm(4, seed=6)
    tag = mesh.ledger.network[:2]
    for k in range(6):
        mesh.inject(1, m.encode(m.Pull(0, k % 3, 3, b""), tag), sender=3, snr=9.0)
        mesh.inject(3, m.encode(m.Pull(0, k % 3, 3, b""), tag), sender=1, snr=9.0)
        if k % 2:
            mesh.need(k % 4, f"news {k}")
        mesh.run_for(300)
    assert 3 not in mesh.engines[1].hood.known(mesh.now)
    assert 1 not in mesh.engines[3].hood.known(mesh.now)
    raw = mesh.need(0, "a normal post")
    got = spread(mesh, raw, 600.0)
    assert got.get(3, 1e9) <= 60.0, got


def test_a_relay_choice_older_than_our_new_neighbour_does_not_stop_the_post() -> None:
    """0 - 1, and node 2 comes into node 1's range later. Node 0 chose no relay
    while node 1 had no other neighbour, and its list goes out again only with a
    digest. Node 1 knows that node 2, by 2's own list, hears none of the relays
    node 0 chose: it relays node 0's post to it all the same."""
    mesh = _warm(3, seed=7)
    mesh.partition([2])
    mesh.run_for(5 * HOUR)  # node 2 forgotten on both sides
    mesh.heal()
    mesh.need(2, "node 2 is back")
    mesh.run_for(240.0)
    one = mesh.engines[1].hood
    relays = one.peers[0].relays
    assert relays is not None and 1 not in relays, "node 0 chose node 1 already"
    assert 2 in one.known(mesh.now) and one.peers[2].neighbours is not None
    raw = mesh.need(0, "a normal post")
    got = spread(mesh, raw, 600.0)
    assert got.get(2, 1e9) <= 40.0, got


def test_a_neighbour_a_chosen_relay_reaches_is_left_to_it() -> None:
    """The other side: 0 hears 1 and 2, both hear 3. Node 0 chose one of them as
    its relay; the other, whose neighbour 3 hears that relay, stays quiet."""
    mesh = fresh_mesh(4, [(0, 1), (0, 2), (1, 3), (2, 3)], seed=8)
    for i in range(4):
        mesh.need(i, f"warm-up {i}")
    mesh.run_for(2 * HOUR)
    before = len(mesh.sent)
    raw = mesh.need(0, "a normal post")
    got = spread(mesh, raw, 300.0)
    assert len(got) == 4
    forwards = [s.node for s in mesh.sent[before:]
                if s.out.tag == "forward" and raw in m.decode(s.out.payload).records]  # type: ignore[union-attr]
    assert len(forwards) == 1, forwards
