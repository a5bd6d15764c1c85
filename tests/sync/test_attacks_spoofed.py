"""Numbers an attacker makes look like neighbours (issue 9, PROTOCOL.md §9):
digests in names nobody uses there, lies in a real neighbour's name, and
replayed RECORDS in far nodes' names (an echo). None of them may make honest
engines send what they would not send without the attacker."""

from __future__ import annotations

import pytest

from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m

from .harness import HOUR, Mesh
from .meshes import pair

FAKE = 0x4242  # a node number nobody uses


def assert_no_rechecks_for_fake(mesh: Mesh) -> None:
    """FAKE was heard more than once (it counts as a neighbour); node 0's next
    critical needs must not be sent again waiting for it to relay them."""
    assert mesh.engines[0].hood.peers[FAKE].packets >= 2
    before = len(mesh.sent)
    for k in range(3):
        mesh.author(0, r.Need(1, f"critical {k}", 5, 0, 3, 0, ""))
        mesh.run_for(300)
    rechecks = [s for s in mesh.sent[before:] if s.out.tag == "recheck"]
    assert not rechecks, f"{len(rechecks)} urgent sends waited for a made-up neighbour"


def test_a_number_heard_only_in_digests_never_makes_urgent_records_go_again() -> None:
    """At 1 % duty on the small mesh, lying digests cost 2.6 times their air: each
    urgent record was sent twice more by every node that heard a made-up
    neighbour, waiting for it to relay. A neighbour is now expected to relay only
    once heard with a digest of our own set or with more than digests."""
    mesh, ledger = pair(seed=4)
    tag = ledger.network[:2]
    victim = mesh.engines[0]
    for k in range(3):  # heard more than once: it counts as a neighbour
        mesh.inject(0, m.encode(m.Digest(victim.count + 5000, 0x5EED + k), tag),
                    sender=FAKE, snr=5.0)
        mesh.run_for(30)
    assert_no_rechecks_for_fake(mesh)


@pytest.mark.parametrize("kind", ["more", "pull", "request"])
def test_a_number_heard_only_in_cheap_requests_never_makes_urgent_records_go_again(
        kind: str) -> None:
    """At 1 % duty on the small mesh, MOREs, pulls and requests in the names of
    real nodes (heard where those nodes are out of range) cost 1.42, 1.13 and 1.01
    times their air: each made the number a neighbour that syncs with us, and
    every urgent record was sent twice more waiting for it to relay. They cost
    nothing to say in a far node's name, so they no longer count."""
    mesh, ledger = pair(seed=6)
    tag = ledger.network[:2]
    victim = mesh.engines[0]
    held = next(iter(victim.infos))
    for k in range(3):
        msg: m.Message = {"more": m.More(victim.node, 16 * (k + 1)),
                          "pull": m.Pull(victim.node, 0, 1, b""),
                          "request": m.Request((held,))}[kind]
        mesh.inject(0, m.encode(msg, tag), sender=FAKE, snr=5.0)
        mesh.run_for(30)
    assert_no_rechecks_for_fake(mesh)


def test_a_neighbour_heard_sending_records_is_still_waited_for() -> None:
    """The guard's other side: a neighbour heard sending records that stays silent
    about an urgent record still gets it sent again (and so does one whose digest
    was our own set: tests/sync/test_urgent_watch.py and the lossy scenarios)."""
    mesh, ledger = pair(seed=5)
    tag = ledger.network[:2]
    post = mesh.need(1, "a post it relays")  # (a copy of an old record shows no relay)
    mesh.run_for(30)
    packet = m.encode(m.Records((post,)), tag)
    for _ in range(2):
        mesh.inject(0, packet, sender=FAKE, snr=5.0)  # it sends records (a replay here)
        mesh.run_for(30)
    before = len(mesh.sent)
    mesh.author(0, r.Need(1, "critical", 5, 0, 3, 0, ""))
    mesh.run_for(300)
    assert any(s.out.tag == "recheck" and s.node == 0 for s in mesh.sent[before:])


def test_a_pull_from_a_node_that_is_not_behind_is_not_answered() -> None:
    """A lie in node 1's name (a huge count) makes node 0 probe node 1; node 1
    knows from node 0's own digests that it is not behind, and sends none of its
    ledger (it answered up to two packets before); its digest then tells node 0
    the claim was not its own, and node 0 stops probing (at the latest after
    bootstrap.SWITCH unanswered pulls)."""
    mesh, ledger = pair(seed=3)
    tag = ledger.network[:2]
    victim = mesh.engines[0]
    mesh.inject(0, m.encode(m.Digest(victim.count + 5000, 0x5EED), tag), sender=1,
                snr=mesh.links[0][1])
    before = len(mesh.sent)
    mesh.run_for(2 * HOUR)
    assert any(s.out.tag == "pull" for s in mesh.sent[before:]), "no probe: shows nothing"
    assert not [s for s in mesh.sent[before:] if s.out.tag == "pull-records"]
    assert mesh.engines[1].stats.dropped["pull-not-behind"] >= 1
    assert victim.boot.doubts(1, mesh.now - HOUR)  # doubted, no longer pulled from
    assert len([s for s in mesh.sent[before:] if s.out.tag == "pull"]) <= 3  # SWITCH
