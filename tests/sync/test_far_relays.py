"""Far relays: who sends records at hop 1 for the ledger nodes behind a firmware
router (farpeers.py `far_choice`, inbox.py `_plan_relay`). Every relay of a node
hearing far peers went at hop 1, and the masts and the client radios around
carried each again: on town-40 about ten hop-1 relays a record. Now a node
chooses, among its far peers with ledger neighbours of their own, a few to
send records at hop 1 for it; they do, the others relay at hop 0."""

from __future__ import annotations

from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync.ports import RxMeta
from meshaid.node.sync.relays import Neighbourhood, short

from .harness import Ledger, Mesh
from .meshes import lone, proof

FAR = 0x0777  # a ledger node heard only through a router


def _hood(far: dict[int, tuple[int, ...] | None]) -> Neighbourhood:
    """Node 1 hearing each of `far` twice through a router, with the neighbour
    list each announced (None: never heard)."""
    hood = Neighbourhood(1, ttl=4 * 3600.0, announce_every=3 * 3600.0, use_relays=True)
    for t in (10.0, 20.0):
        for node, lists in far.items():
            peer = hood.heard(node, 1, t)
            hood.proven(peer, node.to_bytes(4, "big") + bytes(64), t)  # (checked by Members)
            if lists is not None:
                hood.learn(peer, m.Digest(5, 0, False, lists, True, ()))
    return hood


def test_a_node_chooses_far_peers_that_have_ledger_neighbours_of_their_own() -> None:
    hood = _hood({0x100: (0x200, 0x201), 0x101: (), 0x102: None})
    # 0x101 is a lone house (only its own records to give: its pushes go far anyway),
    # 0x102's list was never heard: neither is chosen.
    assert hood.far_choice(30.0) == (0x100,)
    assert _hood({0x101: ()}).far_choice(30.0) == ()  # said: chose none
    assert _hood({}).far_choice(30.0) is None  # no far peer: nothing to say


def test_who_must_relay_at_hop_one() -> None:
    def duty(said: tuple[int, ...] | None) -> bool:
        hood = _hood({FAR: (0x200,)})
        if said is not None:
            hood.learn(hood.peers[FAR], m.Digest(5, 0, far_relays=said))
        return hood.far_chosen(30.0)

    assert duty((short(1), 0x300))  # chosen
    assert not duty(())  # it chose nobody: our relays go at hop 0
    assert not duty((0x300,))  # it chose another
    # It has not said: at hop 0 too (made-up far numbers saying nothing had every
    # listener relay at the hops they claimed: stolen-far-proof-600s).
    assert not duty(None)
    assert not _hood({}).far_chosen(30.0)  # no far peer at all


def _hearing(said: tuple[int, ...] | None, neighbours: tuple[int, ...]) -> tuple[Mesh, Ledger]:
    """Node 0 hears a far peer (through a router) that chose `said` as its far
    relays (None: not said), and `neighbours` directly (each hearing only node 0)."""
    mesh, ledger = lone(seed=5)
    eng = mesh.engines[0]
    tag = eng.cfg.network_tag
    for _ in range(2):  # (a number heard once is not counted: made up, likely)
        digest = m.Digest(eng.count, eng.fingerprint, False, (0x0555,), True, (), said,
                          proof(ledger, 1, FAR))
        eng.receive(m.encode(digest, tag), RxMeta(sender=FAR, hops=1), mesh.now)
        for n in neighbours:
            mine = m.Digest(eng.count, eng.fingerprint, False, (0,), True, ())
            eng.receive(m.encode(mine, tag), RxMeta(sender=n, snr=5.0), mesh.now)
        mesh.run_for(5.0)
    return mesh, ledger


def _forwards(said: tuple[int, ...] | None, neighbours: tuple[int, ...] = (2,),
              urgency: int = 1) -> list[int]:
    """Node 0 hears a far peer that chose `said` and `neighbours` (`_hearing`), then
    gets a new record from neighbour 2: the hop limits of its relays of it."""
    mesh, ledger = _hearing(said, neighbours)
    eng = mesh.engines[0]
    tag = eng.cfg.network_tag
    before = len(mesh.sent)
    raw = ledger.sign(1, r.Need(1, "copper pipe, 15 mm", 10, 4, urgency))
    eng.receive(m.encode(m.Records((raw,)), tag), RxMeta(sender=2, snr=5.0), mesh.now)
    mesh.run_for(60.0)
    return [s.out.hop_limit for s in mesh.sent[before:] if s.out.tag == "forward"]


def test_a_chosen_far_relay_sends_each_record_at_hop_one_whatever_its_lists_say() -> None:
    # Its only neighbour sent the record: by the lists nobody needs a relay of it.
    assert _forwards((short(0),)) == [1]


def test_a_node_no_far_peer_chose_relays_at_hop_zero() -> None:
    # Neighbour 3 does not hear neighbour 2: the record is relayed, at hop 0 (it
    # went at hop 1, for the far peer, which the router carried to it again).
    assert _forwards((), neighbours=(2, 3)) == [0]
    assert _forwards((0x0999,), neighbours=(2, 3)) == [0]


def _pushes(said: tuple[int, ...] | None) -> list[int]:
    """Node 0 hears a far peer that chose `said` and neighbour 2 (`_hearing`), then
    posts a record: the hop limits of its pushes of it."""
    mesh, ledger = _hearing(said, (2,))
    eng = mesh.engines[0]
    before = len(mesh.sent)
    eng.local_record(ledger.sign(0, r.Need(1, "copper pipe, 15 mm", 10, 4, 1)), mesh.now)
    mesh.run_for(60.0)
    return [s.out.hop_limit for s in mesh.sent[before:] if s.out.tag == "push"]


def test_our_own_records_go_at_hop_one_only_where_no_far_relay_hears_them_at_hop_zero() -> None:
    assert _pushes((short(0),)) == [1]  # we are its far relay
    assert _pushes((0x0999,)) == [1]  # its far relays are none of our neighbours
    # Its far relay is our neighbour: it hears ours at hop 0 and sends it across.
    assert _pushes((short(2),)) == [0]
    assert _pushes(None) == [0]  # not said: it hears our proof, then chooses


def test_an_urgent_relay_goes_far_only_where_no_far_relay_hears_it_at_hop_zero() -> None:
    # (Every node relays an urgent record once; the far peer's relays at hop 1.)
    assert _forwards((0x0999,), urgency=r.CRITICAL) == [1]  # its relays do not hear us
    assert _forwards((short(2),), urgency=r.CRITICAL) == [0]  # its relay is our neighbour
    assert _forwards(None, urgency=r.CRITICAL) == [0]  # not said: asks nothing


def _lone_house_sends(copy_heard: bool) -> list[tuple[str, int]]:
    """Node 0 hears no ledger node directly, only a far peer through a mast (that
    chose far relays it does not hear), and posts a plain record: (tag, hop limit)
    of each send of it within a minute, a far relay's copy of it heard through the
    mast after its push if `copy_heard`."""
    mesh, ledger = _hearing((0x0999,), ())
    eng = mesh.engines[0]
    raw = ledger.sign(0, r.Need(1, "copper pipe, 15 mm", 10, 4, 1))
    before = len(mesh.sent)
    eng.local_record(raw, mesh.now)
    mesh.run_for(5.0)
    if copy_heard:
        eng.receive(m.encode(m.Records((raw,)), eng.cfg.network_tag),
                    RxMeta(sender=0x0999, hops=1), mesh.now)
    mesh.run_for(60.0)
    return [(s.out.tag, s.out.hop_limit) for s in mesh.sent[before:]
            if s.out.tag in ("push", "recheck")]


def test_a_lone_house_behind_a_mast_sends_a_post_once_more_if_no_copy_comes_back() -> None:
    """A site only a mast joins to the rest pushes at hop 1; when nobody is heard
    with the record once the far relays are done, the push was lost on the mast's
    busy link: once more (town-40's lone house lost one so, and nothing sent it
    again for five hours)."""
    assert _lone_house_sends(copy_heard=False) == [("push", 1), ("recheck", 1)]
    assert _lone_house_sends(copy_heard=True) == [("push", 1)]
