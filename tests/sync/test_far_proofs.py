"""Far peers prove membership (farpeers.py, members.py `prove`): a ledger node
heard only through relays widens our hop limit only once its digest showed a
member's ticket for its own number (ticket.py ANYONE). A Meshtastic header's hop
count and sender are anyone's to claim: digests in made-up numbers claiming
three relays had every listener send every packet at hop 3, for every radio
around to carry (the attack suite's `far-claims`: 51 times the attacker's air
at 0.1 % duty on the small bench mesh)."""

from __future__ import annotations

import itertools

from meshaid.node.ledger import identity
from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync import ticket as tk
from meshaid.node.sync.engine import Engine
from meshaid.node.sync.farpeers import FAR_PER_KEY, PROOF_EVERY_S, PROOF_NEW_S, PROOF_SOON_S
from meshaid.node.sync.ports import RxMeta
from meshaid.node.sync.relays import short

from .harness import Mesh
from .meshes import lone, proof

FAR = 0x0777


def _hear(eng: Engine, sender: int, hops: int, t: float, ticket: bytes = b"",
          far_relays: tuple[int, ...] | None = None) -> None:
    """A digest of `eng`'s own set from `sender`, heard through `hops` relays, naming
    `far_relays` as the far relays it chose (None: not said)."""
    digest = m.Digest(eng.count, eng.fingerprint, False, (), True, (), far_relays, ticket)
    eng.receive(m.encode(digest, eng.cfg.network_tag), RxMeta(sender=sender, hops=hops), t)


def _scope(mesh: Mesh, eng: Engine) -> int:
    eng.poll(mesh.now)  # far_scope looks again
    return eng.scope


def test_made_up_numbers_claiming_three_relays_do_not_widen_the_scope() -> None:
    mesh, _ledger = lone(seed=3)
    eng = mesh.engines[0]
    for k in range(8):
        _hear(eng, 0x40000000 + k, 3, mesh.now)
        _hear(eng, 0x40000000 + k, 3, mesh.now + 1)
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 0
    assert not eng.hood._far_nodes


def test_a_members_proof_makes_a_far_peer_at_the_fewest_hops_heard() -> None:
    mesh, ledger = lone(seed=3)
    eng = mesh.engines[0]
    t = mesh.now
    _hear(eng, FAR, 1, t, proof(ledger, 1, FAR))
    _hear(eng, FAR, 1, t + 1)  # a number heard once does not count
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 1
    # An attacker in its name claiming three relays cannot raise it while the
    # peer itself is heard at one.
    for k in range(4):
        _hear(eng, FAR, 3, mesh.now + k)
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 1


def test_a_proof_for_another_number_or_from_an_unadmitted_key_counts_nothing() -> None:
    mesh, ledger = lone(seed=3)
    eng = mesh.engines[0]
    stranger = identity.key_from_seed(b"not a member of this network!!!!")
    forged = tk.make(identity.signer(stranger), ledger.network[:2], FAR, tk.ANYONE)
    for k in range(2):
        _hear(eng, FAR, 1, mesh.now + k, forged)
        _hear(eng, FAR + 1, 1, mesh.now + k, proof(ledger, 1, FAR))  # FAR's, replayed
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 0
    assert eng.stats.dropped["bad-ticket"] == 2  # each checked once, then remembered


def test_one_key_proves_at_most_a_few_far_peers() -> None:
    """A stolen key signs proofs for any number it likes: its numbers count as far
    peers FAR_PER_KEY at a time, the most recently heard."""
    mesh, ledger = lone(seed=3)
    eng = mesh.engines[0]
    numbers = [FAR + k for k in range(FAR_PER_KEY + 3)]
    for k in range(2):
        for n in numbers:
            _hear(eng, n, 1, mesh.now + k, proof(ledger, 2, n))
    mesh.run_for(120.0)
    _scope(mesh, eng)
    assert len(eng.hood._far_nodes) == FAR_PER_KEY


def test_a_revoked_members_proof_stops_counting() -> None:
    mesh, ledger = lone(seed=3)
    eng = mesh.engines[0]
    for k in range(2):
        _hear(eng, FAR, 1, mesh.now + k, proof(ledger, 1, FAR))
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 1
    revoke = ledger.sign(0, r.Revoke(identity.public_bytes(ledger.keys[1]), 0, "radio stolen"))
    eng.receive(m.encode(m.Records((revoke,)), eng.cfg.network_tag), RxMeta(sender=5, snr=3.0),
                mesh.now)
    mesh.run_for(120.0)
    _hear(eng, FAR, 1, mesh.now)  # its next digest: the proof it holds is checked again
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 0


def _far_digests(chosen: bool) -> list[tuple[float, bool]]:
    """Node 0 hears a far peer (proven, through one relay) that chose it as a far
    relay or has not said whom it chose: (time, shows our proof) of each digest
    node 0 sends beyond hop 0 over three hours."""
    mesh, _ledger = lone(seed=4)
    eng = mesh.engines[0]
    eng.signer = identity.signer(mesh.ledger.keys[0])
    for k in range(2):
        _hear(eng, FAR, 1, mesh.now + k, proof(mesh.ledger, 1, FAR),
              (short(eng.node),) if chosen else None)
    before = len(mesh.sent)
    mesh.run_for(3 * 3600.0)
    digests = [(s.t, m.decode(s.out.payload)) for s in mesh.sent[before:]
               if s.out.tag == "digest" and s.out.hop_limit > 0]
    return [(t, isinstance(d, m.Digest) and bool(d.ticket)) for t, d in digests]


def test_digests_beyond_hop_zero_show_our_proof_now_and_then() -> None:
    """Our first digest beyond hop 0 shows our proof; later ones do so every five
    minutes for half an hour (a proof lost on a mast's busy link would leave us
    unknown behind it), then every half hour (or every five minutes while a
    candidate for far peers shows none: not here). A far relay the far peer chose
    sends its digests beyond hop 0 in between as well, without the proof; a node
    not chosen sends only those that show it (a far peer that has not said whom it
    chose asks no more of it: stolen-far-proof-600s)."""
    for chosen in (True, False):
        digests = _far_digests(chosen)
        shown = [t for t, proof_shown in digests if proof_shown]
        assert digests and shown and shown[0] == digests[0][0]
        assert (len(shown) < len(digests)) == chosen
        first = shown[0]
        early = [t for t in shown if t - first < PROOF_NEW_S]
        assert len(early) >= 2  # shown again within the first half hour
        for a, b in itertools.pairwise(shown):
            assert b - a >= (PROOF_SOON_S if b - first < PROOF_NEW_S else PROOF_EVERY_S) - 1.0


def test_a_digest_that_shows_our_proof_beyond_hop_zero_carries_our_list() -> None:
    """Far peers choose their far relays among those whose neighbour lists they
    heard (farpeers.py `far_choice`), and our lists went only on the digests that
    changed or aged ones: those stay at hop 0 unless a far peer needs our set. So
    a list rides every digest that shows our proof beyond hop 0 (on villages-27,
    seeds 1-24, a village's far peers were left unchosen for hours: three seeds
    short of full delivery, two with lists on proofs)."""
    mesh, _ledger = lone(seed=4)
    eng = mesh.engines[0]
    eng.signer = identity.signer(mesh.ledger.keys[0])
    for k in range(2):
        _hear(eng, FAR, 1, mesh.now + k, proof(mesh.ledger, 1, FAR))
        _hear(eng, 2, 0, mesh.now + k)  # a neighbour heard directly
    before = len(mesh.sent)
    mesh.run_for(3 * 3600.0)
    far = [m.decode(s.out.payload) for s in mesh.sent[before:]
           if s.out.tag == "digest" and s.out.hop_limit > 0]
    shown = [d for d in far if isinstance(d, m.Digest) and d.ticket]
    assert len(shown) >= 3
    assert all(d.has_neighbours and d.neighbours == (2,) for d in shown), shown


def test_an_unproven_far_voice_is_answered_at_hop_one_and_widens_nothing_else() -> None:
    """While its proof is on the way (lost, on a mast's busy link), a far voice's
    own request is answered through the mast: at hop 1, whatever hops its header
    claims. Our other packets stay at hop 0, the repair is paid by its request,
    and the voice counts as no far peer (farpeers.py `reach`)."""
    mesh, _ledger = lone(seed=3)
    eng = mesh.engines[0]
    near = 0x0555
    t = mesh.now
    for k in range(2):
        _hear(eng, near, 0, t + k)  # a neighbour in range: we send no probe at hop 1
        _hear(eng, FAR, 3, t + k)  # a far voice claiming three relays, showing no proof
    held = min(eng.infos)
    request = m.pad_to(m.Request((held,), eng.node), 200, eng.cfg.network_tag)
    before = len(mesh.sent)
    eng.receive(m.encode(request, eng.cfg.network_tag), RxMeta(sender=FAR, hops=3), t + 2)
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 0 and not eng.hood._far_nodes
    out = mesh.sent[before:]
    repairs = [s.out for s in out if s.out.tag == "repair"]
    assert repairs and all(o.hop_limit == 1 for o in repairs)
    assert held in repairs[0].records
    assert all(s.out.hop_limit == 0 for s in out if s.out.tag != "repair")
    # A request in the name of a number never heard through relays: hop 0.
    before = len(mesh.sent)
    other = sorted(eng.infos)[1]
    eng.receive(m.encode(m.pad_to(m.Request((other,), eng.node), 200, eng.cfg.network_tag),
                         eng.cfg.network_tag), RxMeta(sender=near, hops=0), mesh.now)
    mesh.run_for(120.0)
    repairs = [s.out for s in mesh.sent[before:] if s.out.tag == "repair"]
    assert repairs and all(o.hop_limit == 0 for o in repairs)


def test_a_far_peers_sketch_says_what_its_digest_would() -> None:
    """Few of a far peer's digests cross a mast while sets move: a sketch from
    index 0 it sends later codes a newer set, and was taken as unvouched (no MORE
    asked, nothing cancelled). From a proven far peer it is its latest word."""
    mesh, ledger = lone(seed=3, history=6)
    eng = mesh.engines[0]
    for k in range(2):
        _hear(eng, FAR, 1, mesh.now + k, proof(ledger, 1, FAR))
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 1
    # Its set now: ours less one record (its digest said ours).
    lacking = min(eng.infos)
    ids = [x for x in eng.infos if x != lacking]
    sk = riblt.Sketch(eng.sketch.size, [int.from_bytes(x, "big") for x in ids])
    msg = m.Sketch(len(ids), 0, sk.encode(0, 8))
    eng.receive(m.encode(msg, eng.cfg.network_tag), RxMeta(sender=FAR, hops=1), mesh.now)
    assert eng.stats.dropped["unvouched-sketch"] == 0
    peer = eng.hood.peers[FAR]
    assert peer.count == len(ids)


def test_a_strangers_digest_copying_a_known_neighbours_set_plans_no_sketch() -> None:
    """A digest in a made-up number that claims the set a known neighbour's own
    digest claimed says nothing new: the neighbour's digest was met already.
    Copies of the victim's set in made-up numbers cost every listener a sketch
    (far-claims at 0.1 % duty). A stranger claiming a set of its own still
    prompts one."""
    mesh, _ledger = lone(seed=3)
    eng = mesh.engines[0]
    near, tag = 0x0555, eng.cfg.network_tag
    for k in range(2):
        _hear(eng, near, 0, mesh.now + k)  # a known neighbour: syncs with us
    mesh.run_for(30.0)
    assert eng.hood.is_known(near, mesh.now)
    theirs = m.Digest(eng.count + 1, eng.fingerprint ^ 0x1234, False, (), True, ())
    eng.receive(m.encode(theirs, tag), RxMeta(sender=near, hops=0), mesh.now)
    for k in range(3):
        eng.receive(m.encode(theirs, tag), RxMeta(sender=0x40000000 + k, hops=0), mesh.now + k)
    assert eng.stats.dropped["known-set"] == 3
    other = m.Digest(eng.count + 1, eng.fingerprint ^ 0x4321, False, (), True, ())
    eng.receive(m.encode(other, tag), RxMeta(sender=0x40000009, hops=0), mesh.now + 4)
    assert eng.stats.dropped["known-set"] == 3


def test_a_proof_rides_only_where_the_digest_still_fits_one_packet() -> None:
    """A node with 80 neighbours announces a list of 160 bytes: with a 68-byte
    proof its digest would not fit a packet, and the radio would refuse it. The
    proof waits for a digest without the list (lists go at most every 10
    minutes), and every digest fits."""
    mesh, ledger = lone(seed=3)
    eng = mesh.engines[0]
    eng.signer = identity.signer(ledger.keys[0])
    t = mesh.now
    for k in range(2):
        for n in range(80):
            _hear(eng, 0x0500 + n, 0, t + k)
        _hear(eng, FAR, 1, t + k, proof(ledger, 1, FAR))
    before = len(mesh.sent)
    mesh.run_for(2 * 3600.0)
    digests = [s.out for s in mesh.sent[before:] if s.out.tag == "digest" and s.out.hop_limit > 0]
    decoded = [m.decode(o.payload) for o in digests]
    assert all(len(o.payload) <= eng.cfg.payload_cap for o in digests)
    assert any(isinstance(d, m.Digest) and len(d.neighbours) >= 80 for d in decoded)
    assert any(isinstance(d, m.Digest) and d.ticket for d in decoded)


def test_a_walk_toward_a_far_peer_crosses_the_mast() -> None:
    """A house whose only link is a mast walks toward a far peer (filters.py):
    its filters go at the far scope, hop 1, for the mast to carry (on town-40 at
    its own seed such a house otherwise ended the run 44 records short), paid
    by the far peer's air heard here. A voice heard through relays that showed
    no proof is no far peer; and a node that hears a ledger node directly walks
    toward no far peer (made-up far sketchers would have every node in a town
    walk at hop 1, for the masts and client radios to repeat)."""
    mesh, ledger = lone(seed=3, history=60)
    eng = mesh.engines[0]
    assert eng.count > eng.cfg.boot_gap  # (a newcomer walks toward nobody)
    stranger, other = 0x0999, 0x0888
    t = mesh.now
    for k in range(2):
        for far in (FAR, other):
            _hear(eng, far, 1, t + k, proof(ledger, 1 + (far == other), far) if k == 0 else b"")
        _hear(eng, stranger, 1, t + k)
    walks = eng.answers.filters
    assert eng.hood.is_far(FAR, t + 2) and walks._may_walk(FAR, t + 2)
    assert not walks.start(FAR, t + 2)  # two short digests pay for no filter
    for k in range(8):
        _hear(eng, FAR, 1, t + 3 + k)
        _hear(eng, other, 1, t + 3 + k)
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 1
    assert not walks.start(stranger, mesh.now)
    before = len(mesh.sent)
    assert walks.start(FAR, mesh.now)
    mesh.run_for(30.0)
    filters = [s.out for s in mesh.sent[before:] if s.out.tag == "filter"]
    assert filters and all(o.hop_limit == 1 for o in filters)
    first = m.decode(filters[0].payload)
    assert isinstance(first, m.Filter) and first.target == FAR
    # Once a ledger node is heard directly, the house is no longer alone.
    _hear(eng, 0x0555, 0, mesh.now)
    _hear(eng, 0x0555, 0, mesh.now + 1)
    assert eng.hood.is_far(other, mesh.now + 2) and not walks._may_walk(other, mesh.now + 2)


def test_a_far_peers_digest_prompts_a_sketch_only_from_the_far_relays_it_chose() -> None:
    """While we hear a ledger node directly, a far peer's digest claiming records
    we lack prompts our sketch (which would go at its hops, for every radio
    around to repeat) only if it named us among its far relays: a thief's
    made-up far numbers had every listener sketch at hop 3 (stolen-far-sketch).
    Named, we sketch; a far peer behind us one mast away prompts one from
    anyone (two masts away, only from its far relays); a house hearing no
    ledger node directly sketches for any far peer."""
    mesh, ledger = lone(seed=3, history=6)
    eng = mesh.engines[0]
    tag, near, me = eng.cfg.network_tag, 0x0555, eng.node & 0xFFFF
    for k in range(2):
        _hear(eng, FAR, 1, mesh.now + k, proof(ledger, 1, FAR))
    mesh.run_for(120.0)
    assert _scope(mesh, eng) == 1

    def differing(relays: tuple[int, ...] | None, ahead: int = 2) -> None:
        digest = m.Digest(eng.count + ahead, eng.fingerprint ^ 0x5A5A, False, (), True, (),
                          far_relays=relays)
        eng.receive(m.encode(digest, tag), RxMeta(sender=FAR, hops=1), mesh.now)

    differing(None)  # alone behind the mast: the far peers are all we have
    assert eng.recon.sketch_due is not None and eng.stats.dropped["far-unchosen"] == 0
    eng.recon.sketch_due = None
    for k in range(2):
        _hear(eng, near, 0, mesh.now + k)  # now a ledger node in range
    assert eng.hood.far_but_near_others(FAR, mesh.now + 2)
    mesh.now += 2
    differing((0x0123,))  # it chose someone else
    assert eng.recon.sketch_due is None and eng.stats.dropped["far-unchosen"] == 1
    differing((0x0123,), ahead=-1)  # behind us: it lacks what we hold
    assert eng.recon.sketch_due is not None and eng.stats.dropped["far-unchosen"] == 1
    eng.recon.sketch_due = None
    differing((me,))
    assert eng.hood.chose_us(FAR, mesh.now)
    assert eng.recon.sketch_due is not None and eng.stats.dropped["far-unchosen"] == 1
    # Two masts away, behind us: every radio on the way would repeat our sketch;
    # only the far relays it chose answer.
    eng.recon.sketch_due = None
    far2 = 0x0778
    for k in range(2):
        _hear(eng, far2, 2, mesh.now + k, proof(ledger, 2, far2))
    mesh.run_for(120.0)
    assert eng.hood.far_but_near_others(far2, mesh.now)
    behind = m.Digest(eng.count - 1, eng.fingerprint ^ 0x5A5A, False, (), True, (),
                      far_relays=(0x0123,))
    eng.receive(m.encode(behind, tag), RxMeta(sender=far2, hops=2), mesh.now)
    assert eng.recon.sketch_due is None and eng.stats.dropped["far-unchosen"] == 2


def test_the_far_numbers_one_key_proves_share_one_pacing_entry() -> None:
    """Whose differing digests may make us sketch is paced per counterpart
    (pacing.py): a thief's two far numbers, both proven by the stolen key, took
    a sketch each in turn (made-up sets behind the listeners, one relay away:
    1.56 times the thief's air; 1.35 sharing). Far peers of their own keys
    keep entries of their own."""
    mesh, ledger = lone(seed=3)
    eng = mesh.engines[0]
    a, b, c = FAR, 0x0778, 0x0779
    for k in range(2):
        _hear(eng, a, 1, mesh.now + k, proof(ledger, 1, a))
        _hear(eng, b, 1, mesh.now + k, proof(ledger, 1, b))
        _hear(eng, c, 1, mesh.now + k, proof(ledger, 2, c))
    mesh.run_for(120.0)
    assert {a, b, c} <= eng.hood._far_nodes
    key = eng.answers.prompter
    assert key(a, mesh.now) == key(b, mesh.now) != key(c, mesh.now)
    assert key(a, mesh.now) < 0 and key(c, mesh.now) < 0  # no node's number
