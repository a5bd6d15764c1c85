"""Relay rules beyond the sparse mesh: a crowd relays by gossip with counters, an
urgent record is sent again to a neighbour never heard with it, and the hop limit
widens only for ledger peers that radio-only relays alone reach."""

from __future__ import annotations

from meshaid.node.ledger import identity
from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync.budget import NORMAL, URGENT
from meshaid.node.sync.engine import _Send
from meshaid.node.sync.ports import RxMeta

from .harness import HOUR, Mesh, Radio, clique, line, rid
from .meshes import fresh_mesh, proof, spread


def _copies(mesh: Mesh, raw: bytes, since: int, tags: tuple[str, ...]) -> int:
    n = 0
    for s in mesh.sent[since:]:
        msg = m.decode(s.out.payload)
        if s.out.tag in tags and isinstance(msg, m.Records) and raw in msg.records:
            n += 1
    return n


def test_a_crowd_relays_a_record_a_few_times_not_once_per_node() -> None:
    """24 nodes all in range, 10 % loss: neighbours that do not know who heard the
    push must not all relay it; a handful do, and everyone gets it by relays."""
    n = 24
    mesh = fresh_mesh(n, clique(n), seed=3, radio=Radio(loss=0.1))
    for i in range(n):  # everyone speaks once, so everyone knows its crowd
        mesh.need(i, f"warm-up {i}")
    mesh.run_for(HOUR)
    assert all(e.hood.degree(mesh.now) > 2 * e.cfg.relay_fanout for e in mesh.engines)
    relayed = []
    for k in range(5):
        before = len(mesh.sent)
        raw = mesh.need(k, f"tarps {k}")
        got = spread(mesh, raw, 600.0)
        assert len(got) == n
        relayed.append(_copies(mesh, raw, before, ("forward",)))
    assert sum(relayed) / len(relayed) <= 6, relayed  # the old rule: about 14 per record


def test_an_urgent_record_is_sent_again_to_a_neighbour_that_stayed_silent() -> None:
    """0 - 1 - 2 in a line; node 2 misses node 1's relay of a critical need (its link
    is down for a minute). Node 1 never hears 2 send it, so it sends it again: 2
    gets it within about a minute and a half of the heal."""
    mesh = fresh_mesh(3, line(3), seed=5)
    for i in range(3):
        mesh.need(i, f"warm-up {i}")
    mesh.run_for(HOUR)
    before = len(mesh.sent)
    mesh.partition([2])
    raw = mesh.need(0, "insulin for a child", urgency=3)
    mesh.run_for(30.0)
    assert 2 not in mesh.holders(raw)
    mesh.heal()
    got = spread(mesh, raw, 600.0)
    assert got.get(2, 1e9) <= 100.0, got
    assert _copies(mesh, raw, before, ("recheck",)) >= 1


def test_a_node_alone_among_radio_relays_probes_and_its_peers_follow() -> None:
    """A node that hears no ledger peer directly sends at hop 1 after a while, so a
    router can carry it; a peer that hears it only through a relay answers as far."""
    mesh = fresh_mesh(3, line(3), seed=7)
    lonely = mesh.engines[2]
    lonely.signer = identity.signer(mesh.ledger.keys[2])  # its probes show its proof
    mesh.partition([2])  # node 2 hears nobody directly (only a router could reach it)
    mesh.run_for(1200.0)
    probes = [s for s in mesh.sent if s.node == 2 and s.t > mesh.now - 600.0]
    assert probes and all(s.out.hop_limit == 1 for s in probes)
    first = [s for s in mesh.sent if s.node == 2 and s.t < lonely.started_at + 300.0]
    assert all(s.out.hop_limit == 0 for s in first)  # not before it had time to hear anyone
    peer = mesh.engines[1]
    assert peer.scope == 0
    for _ in range(2):  # heard twice: a number heard once could be made up
        peer.receive(probes[-1].out.payload, RxMeta(sender=2, snr=-5.0, hops=1), mesh.now)
    assert peer.scope == 1  # node 2 is reached through relays only: answer at hop 1
    shown = [d for s in probes if isinstance(d := m.decode(s.out.payload), m.Digest)]
    assert shown and shown[0].ticket  # its first probe showed its membership proof


def test_a_peer_our_relays_reach_does_not_widen_the_scope_an_island_does() -> None:
    """0 - 1 - 2 - 3 in a line, neighbour lists known. Node 1 hears node 3 through a
    router (hop 1): node 3 is reached by ledger relays (1 - 2 - 3), so node 1 keeps
    hop limit 0 (the old rule went to hop 1, and so did everyone who then heard node
    1 through a relay: the firmware relayed every packet of the town). A node heard
    only through a router whose list names nobody we reach is an island: hop 1."""
    mesh = fresh_mesh(4, line(4), seed=9)
    for i in range(4):
        mesh.need(i, f"warm-up {i}")
    mesh.run_for(3 * HOUR)
    eng = mesh.engines[1]
    assert all(p.neighbours is not None for n, p in eng.hood.peers.items() if n != 3)
    tag = eng.cfg.network_tag
    far = m.encode(m.Digest(eng.count, eng.fingerprint, False, (2,), True, (),
                            ticket=proof(mesh.ledger, 3, 3)), tag)
    for k in range(2):
        eng.receive(far, RxMeta(sender=3, snr=-5.0, hops=1), mesh.now + k)
    eng.poll(mesh.now + 2.0)
    assert eng.scope == 0
    island = m.encode(m.Digest(eng.count, eng.fingerprint, False, (), True, (),
                               ticket=proof(mesh.ledger, 0, 0x7777)), tag)
    for k in range(2):
        eng.receive(island, RxMeta(sender=0x7777, snr=-5.0, hops=1), mesh.now + 3 + k)
    eng.poll(mesh.now + 5.0)
    assert eng.scope == 1


def test_behind_a_router_only_what_serves_the_far_peers_travels_far() -> None:
    """Node 1 of a line 0 - 1 - 2 - 3 hears an island only through a router, whose
    far relays are none of node 1's neighbours: node 1's own records travel at
    hop 1, as does its relay of a critical need; but a relay of a critical copy
    that still had a hop left goes at hop 0 (the radios carry it on), a request
    to a neighbour at hop 0, and one to the island as far as the island."""
    mesh = fresh_mesh(4, line(4), seed=9)
    for i in range(4):
        mesh.need(i, f"warm-up {i}")
    mesh.run_for(3 * HOUR)
    eng = mesh.engines[1]
    tag = eng.cfg.network_tag
    island = m.encode(m.Digest(eng.count, eng.fingerprint, False, (), True, (), (0x0999,),
                               ticket=proof(mesh.ledger, 0, 0x7777)), tag)
    t = mesh.now
    for k in range(2):
        eng.receive(island, RxMeta(sender=0x7777, snr=-5.0, hops=1), t + k)
    eng.poll(t + 2.0)
    assert eng.scope == 1
    ours = mesh.ledger.sign(1, r.Need(1, "posted here", 10, 4, 1))
    eng.local_record(ours, t + 3)
    sent = [o for k in range(60) for o in eng.poll(t + 4.0 + k)]
    assert [o.hop_limit for o in sent if rid(ours) in o.records][:1] == [1]
    near = mesh.ledger.sign(2, r.Need(1, "heard in range", 10, 4, r.CRITICAL))
    eng.receive(m.encode(m.Records((near,)), tag), RxMeta(sender=2, snr=mesh.links[1][2]), t + 64)
    sent = [o for k in range(60) for o in eng.poll(t + 65.0 + k)]
    assert [o.hop_limit for o in sent if rid(near) in o.records][:1] == [1]
    # A copy that still had a hop left is being carried on by the radios that heard
    # it (the firmware floods it): our relay of it goes at hop 0, not as far again.
    carried = mesh.ledger.sign(2, r.Need(1, "sent at hop 1", 10, 4, r.CRITICAL))
    eng.receive(m.encode(m.Records((carried,)), tag),
                RxMeta(sender=2, snr=mesh.links[1][2], hop_limit=1), t + 124)
    sent = [o for k in range(60) for o in eng.poll(t + 125.0 + k)]
    assert [o.hop_limit for o in sent if rid(carried) in o.records][:1] == [0]
    out: list = []
    ids = (rid(near),)
    assert eng._emit(out, m.Request(ids, 2), "request", NORMAL, t + 190.0)
    assert eng._emit(out, m.Request(ids, 0x7777), "request", NORMAL, t + 190.0)
    assert [o.hop_limit for o in out] == [0, 1]


def test_a_pending_recheck_stops_waiting_for_a_neighbour_two_copies_covered() -> None:
    """A recheck waits for a silent neighbour until it is heard with the record, or
    until copies from two nodes whose neighbour lists name it were heard (its own
    relay was lost at us, most likely: on steady-50 almost every recheck went to
    neighbours that held the record already). A copy from a node that does not
    list it covers nothing."""
    mesh = fresh_mesh(4, clique(4), seed=11)
    for i in range(4):
        mesh.need(i, f"warm-up {i}")
    mesh.run_for(HOUR)
    eng = mesh.engines[0]
    raw = mesh.need(1, "insulin for a child", urgency=3)
    mesh.run_for(5.0)
    key = rid(raw)
    assert key in eng.infos
    assert all(eng.hood.peers[n].neighbours for n in (1, 2))  # lists were heard
    eng.hood.peers[1].neighbours = frozenset({0, 2})  # 1 does not list 3
    eng.sends[key] = _Send(mesh.now + 30.0, URGENT, 99, 0, "recheck", waiting={3},
                           cover={3: 0})
    eng._heard(key, 1, mesh.now)
    assert eng.sends[key].waiting == {3}
    eng._heard(key, 2, mesh.now)  # 2 lists 3: once covered
    assert eng.sends[key].waiting == {3}
    eng.hood.peers[1].neighbours = frozenset({0, 2, 3})
    eng._heard(key, 1, mesh.now)  # twice: 3 has it, most likely
    assert key not in eng.sends
