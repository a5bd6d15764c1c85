"""Digests in made-up numbers (strangers) buy few sketches and few digests:
one reaction at a time per counterpart, and only a real take-up ends a streak
of fruitless ones (pacing.py; the attack suite's slow-near-digest and
sketch-takeup, written from outside)."""

from __future__ import annotations

import random

import pytest

from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync.pacing import FRUIT_S, REST_S, STRANGERS, UNPROVEN, Pacer
from meshaid.node.sync.ports import RxMeta
from meshaid.node.sync.reconcile import Reconciler
from meshaid.node.sync.relays import Peer
from meshaid.node.sync.sketching import SKETCH_FRAME

from .harness import HOUR, Ledger, Mesh
from .meshes import fresh_mesh, lone


def test_a_reaction_waits_for_take_up_until_judged_fruitless() -> None:
    p = Pacer()
    assert not p.waiting(7, 0.0)
    p.reacted([7], 0.0)
    assert p.waiting(7, 60.0)  # digests.py holds strangers heard directly meanwhile
    p.took_up(7)
    assert not p.waiting(7, 61.0) and p.allowed(7, 61.0)
    p.reacted([7], 61.0)
    assert p.waiting(7, 60.0 + FRUIT_S)
    t = 62.0 + max(FRUIT_S, REST_S)
    assert not p.waiting(7, t) and p.allowed(7, t)  # fruitless, rested REST_S
    p.reacted([7], t)
    assert not p.allowed(7, t + max(FRUIT_S, REST_S) + 1.0)  # twice as long now
    assert p.allowed(7, t + max(FRUIT_S, 2 * REST_S) + 1.0)


def _near_digests(take_up: bool) -> tuple[int, int, float]:
    """Node 0 alone hears a digest close to its set from a fresh number every
    125 s for an hour (and, with `take_up`, a tiny REQUEST naming it for an id it
    does not hold, from another fresh number, after each of its sketches): its
    sketches, its digests, and the attacker's air."""
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    rng = random.Random(5)
    mesh.run_for(2 * HOUR)
    before = len(mesh.sent)
    air = ledger.config().airtime
    took = 0.0
    seen = before
    for k in range(29):
        digest = m.encode(m.Digest(engine.count + rng.randrange(-3, 4),
                                   rng.getrandbits(64)), tag)
        mesh.inject(0, digest, sender=0x5000 + 2 * k)
        took += air(len(digest))
        mesh.run_for(60.0)
        if take_up and any(s.out.tag == "sketch" for s in mesh.sent[seen:]):
            req = m.encode(m.Request((rng.randbytes(8),), engine.node), tag)
            mesh.inject(0, req, sender=0x5001 + 2 * k)
            took += air(len(req))
        seen = len(mesh.sent)
        mesh.run_for(65.0)
    sketches = sum(1 for s in mesh.sent[before:] if s.out.tag == "sketch")
    digests = sum(1 for s in mesh.sent[before:] if s.out.tag == "digest")
    return sketches, digests, took


def test_strangers_near_digests_buy_few_sketches_and_digests() -> None:
    """Finding (slow-near-digest: 4.1 times the attacker's air): a second
    stranger's digest within the first's five minutes was reacted to again, and
    every one reset our Trickle, so each listener sent a digest every 2 minutes."""
    sketches, digests, _took = _near_digests(take_up=False)
    # an hour: reactions at 0, 10, 20 and 40 minutes (REST_S doubling) at most
    assert sketches <= 4, sketches
    assert digests <= 12, digests


def test_a_strangers_digest_buys_a_sketch_only_as_far_as_strangers_air_paid() -> None:
    """Finding (slow-near-digest, small size: 1.8 times the attacker's air): every
    listener sketched for a near-digest in a fresh number. Our sketch for a
    stranger heard directly is paid for by what strangers' broadcasts earned
    here (their air shared among our listeners), pooled, since each packet
    may come in a fresh number."""
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    mesh.run_for(2 * HOUR)
    near = m.encode(m.Digest(engine.count + 2, 0x5A5A), tag)
    before = len(mesh.sent)
    mesh.inject(0, near, sender=0x5000)
    mesh.run_for(120.0)
    assert not any(s.out.tag == "sketch" for s in mesh.sent[before:])
    assert engine.stats.dropped["stranger-prompt"] == 1
    # A reaction is our sketch and our digest soon (Trickle's reset): the pool
    # pays for both (copy-watchers: 1.64 times the attacker's air with the
    # sketch alone paid, 1.46 so).
    pool = engine.answers.pool
    sketch = engine.cfg.airtime(SKETCH_FRAME)
    digest = engine.cfg.airtime(len(m.encode(m.Digest(engine.count, engine.fingerprint), tag)))
    assert pool.balance(STRANGERS, mesh.now) < sketch
    # just short of a sketch frame: the next near-digest's own air tops it up
    pool.earn(STRANGERS, sketch - 0.05 - pool.balance(STRANGERS, mesh.now), mesh.now)
    mesh.inject(0, near, sender=0x5002)
    mesh.run_for(120.0)
    assert not any(s.out.tag == "sketch" for s in mesh.sent[before:])
    assert engine.stats.dropped["stranger-prompt"] == 2
    pool.earn(STRANGERS, digest, mesh.now)  # strangers' air heard since
    mesh.inject(0, near, sender=0x5004)
    mesh.run_for(120.0)
    assert any(s.out.tag == "sketch" for s in mesh.sent[before:])
    assert pool.balance(STRANGERS, mesh.now) < sketch  # spent


def _known(mesh: Mesh, numbers: list[int]) -> None:
    """Make `numbers` known neighbours of node 0: each sends our very set twice."""
    engine, tag = mesh.engines[0], mesh.ledger.network[:2]
    for n in numbers:
        for _ in range(2):
            mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint), tag), sender=n)
            mesh.run_for(5.0)


def test_known_numbers_that_never_brought_a_record_share_one_pacing_entry() -> None:
    """Finding (fake-watchers, full size: 1.0 times the attacker's air, mostly
    sketches): six made-up numbers, each made a known neighbour by copying our
    digest twice, then claiming a set two records short in turn every 40 s,
    each had a pacing entry of its own, and took turns prompting a sketch (13
    in the hour). Until it brings us a trusted record, a known neighbour
    prompts under the name all such share."""
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    mesh.run_for(2 * HOUR)
    fakes = [0x4000_0001 + k for k in range(6)]
    _known(mesh, fakes)
    assert {engine.answers.prompter(n, mesh.now) for n in fakes} == {UNPROVEN}
    before, rng = len(mesh.sent), random.Random(3)
    for k in range(90):
        short = m.Digest(engine.count - 2, rng.getrandbits(64))
        mesh.inject(0, m.encode(short, tag), sender=fakes[k % 6])
        mesh.run_for(40.0)
    # reactions at 0, 10, 20 and 40 minutes (REST_S doubling), and one more
    assert sum(1 for s in mesh.sent[before:] if s.out.tag == "sketch") <= 5
    engine.watch.relayed(fakes[0])  # once it brings a trusted record: its own entry
    assert engine.answers.prompter(fakes[0], mesh.now) == fakes[0]


def test_records_that_answer_our_sketch_count_as_take_up_under_the_shared_name() -> None:
    """(Review: a known neighbour's first trusted record made it proven before the
    take-up was counted, so the take-up went to its own number, which had no
    entry, and the shared entry was judged fruitless.)"""
    mesh, ledger = lone(history=40)
    engine, tag = mesh.engines[0], ledger.network[:2]
    mesh.run_for(HOUR)
    _known(mesh, [0x77])
    mesh.inject(0, m.encode(m.Digest(engine.count + 1, 0x1234), tag), sender=0x77)
    mesh.run_for(90.0)
    assert engine.answers.prompters.waiting(UNPROVEN, mesh.now)  # our sketch, for it
    raw = ledger.sign(1, r.Need(1, "sent as our sketch asked", 3))
    mesh.inject(0, m.encode(m.Records((raw,)), tag), sender=0x77)
    assert not engine.answers.prompters.waiting(UNPROVEN, mesh.now)  # taken up
    assert 0x77 in engine.watch.relayers  # and it brought a record


def test_a_copy_replayed_in_a_number_made_up_for_it_proves_nothing() -> None:
    """(Review: any plausible copy of a record we hold, even in a fresh number,
    made that number one that brings records, out of the shared pacing entry
    and the one-watch deafness, and 512 of them pushed honest ones out.)"""
    mesh, ledger = lone(history=40)
    engine, tag = mesh.engines[0], ledger.network[:2]
    held = m.encode(m.Records((mesh.need(0, "held already"),)), tag)
    mesh.run_for(60.0)
    mesh.inject(0, held, sender=0x4444)
    assert 0x4444 not in engine.watch.relayers  # heard once: a number made up
    _known(mesh, [0x77])
    mesh.inject(0, held, sender=0x77)
    assert 0x77 in engine.watch.relayers  # a known neighbour relaying it


def test_a_request_for_ids_we_do_not_hold_is_no_take_up() -> None:
    """Finding (sketch-takeup: 3 times the attacker's air): a tiny REQUEST naming
    us, for a made-up id, in a made-up number, counted as taking our sketch up,
    and kept strangers' digests unpaced."""
    sketches, _digests, _took = _near_digests(take_up=True)
    assert sketches <= 4, sketches


def test_a_sketch_of_our_set_heard_first_paces_those_that_prompted_ours() -> None:
    """Finding (fake-watchers): six made-up numbers each copied our digest, then
    claimed sets a little smaller than ours, one every 40 s. Every listener
    planned a sketch; the first heard cancelled the rest, and the cancelled
    ones counted no reaction: each listener's pacer for those numbers stayed
    fresh, so they took turns sketching for every claim. A sketch of our very
    set heard first now counts as our reaction to those that prompted ours."""
    cfg = Ledger(3, seed=1).config()
    ids = [1, 2, 3, 4]
    recon = Reconciler(cfg, random.Random(1), 0, riblt.Sketch(1024, ids))
    reacted: list[tuple[list[int], float]] = []
    recon.sketched_for = lambda keys, now: reacted.append((keys, now))
    recon.mismatch(2, len(ids), -1e9, 0.0, Peer(count=2, fingerprint=9), 77)
    assert recon.sketch_due is not None
    other = riblt.Sketch(1024, ids)  # a neighbour holding our very set sketches it
    msg = m.Sketch(len(ids), 0, other.encode(0, 8))
    recon.on_sketch(msg, 5, 1.0, len(ids))
    assert recon.sketch_due is None  # it served the neighbourhood: ours is cancelled
    assert reacted == [([77], 1.0)]
    # A sketch of another set cancels ours too, but says nothing of the prompter's.
    recon.mismatch(2, len(ids), -1e9, 2.0, Peer(count=2, fingerprint=9), 78)
    other = riblt.Sketch(1024, [*ids, 5])
    recon.on_sketch(m.Sketch(len(ids) + 1, 0, other.encode(0, 8)), 6, 3.0, len(ids))
    assert recon.sketch_due is None and reacted == [([77], 1.0)]


def test_a_stranger_far_behind_gets_one_digest_a_joiner_that_pulls_the_reset() -> None:
    """A digest saying "booting" from a number we do not know buys one digest of
    ours, soon, from the strangers' pool, and leaves Trickle's interval as it
    was (a reset restarted the doubling: several digests for each made-up
    number, boot-ping 1.58 times the attacker's air at full size over seeds
    1-8, 0.41 now); once that number pulled from us (a joiner: a pull is as long
    as its answer), its next one resets Trickle as a known neighbour's does."""
    mesh, ledger = lone()
    eng = mesh.engines[0]
    tag = ledger.network[:2]
    mesh.run_for(4 * HOUR)  # quiet: the interval has grown long
    eng.answers.pool.earn(STRANGERS, 10.0, mesh.now)  # strangers' air heard meanwhile
    interval = eng.trickle.interval
    assert interval > 1000.0
    boot = m.encode(m.Digest(0, 0, True), tag)
    mesh.inject(0, boot, sender=0x40000001, snr=1.0)
    assert eng.trickle.interval == interval
    assert eng.trickle.next_time() <= mesh.now + eng.cfg.news_interval
    mesh.inject(0, m.encode(m.pad_to(m.Pull(0, 0, 3, b""), 60, tag), tag),
                sender=0x40000001, snr=1.0)
    assert 0x40000001 in eng.answers.pullers
    mesh.inject(0, boot, sender=0x40000001, snr=1.0)
    assert eng.trickle.interval == eng.cfg.news_interval


def test_strangers_heard_through_relays_get_one_reaction_at_a_time() -> None:
    """hop1-near (from outside): digests a record or two off our set in a
    neighbour's number, headers claiming one relay, drew a sketch from every
    listener that does not hear that neighbour, each time (full size, seeds
    1-8: 2.91 times the attacker's air; 2.49 now that a stranger heard through
    relays waits, as one heard directly does, for its last reaction to be
    taken up)."""
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    mesh.run_for(2 * HOUR)
    before = len(mesh.sent)
    for k in range(2):
        near = m.encode(m.Digest(engine.count + 1 + k, 0x5A5A + k), tag)
        engine.receive(near, RxMeta(sender=0x6000 + k, snr=1.0, hops=1), mesh.now)
        mesh.pump(0)
        mesh.run_for(60.0)
    sketches = [s for s in mesh.sent[before:] if s.out.tag == "sketch"]
    assert len(sketches) == 1  # the first was reacted to; the second waits its turn
    assert engine.stats.dropped["paced-prompt"] >= 1


def test_a_strangers_air_is_spent_once_from_its_account_or_the_pool() -> None:
    """Each broadcast of a number we do not know earns its share of air twice
    here: into its own account (what answers to it may cost) and into the pool
    all strangers share (what our reactions to strangers may cost). Spent
    from one, it is gone from the other: otherwise one made-up number's air
    paid for our sketch and digest from the pool and again for the repairs
    its sketch showed it lacked from its account (credit.py's conservation
    would not hold: twice its air answered)."""
    mesh, _ledger = lone(history=40)
    engine = mesh.engines[0]
    answers = engine.answers
    mesh.run_for(2 * HOUR)
    now = mesh.now
    stranger = 0x5000
    assert answers.prompter(stranger, now) == STRANGERS
    pool_before = answers.pool.balance(STRANGERS, now)
    answers.credits.earn(stranger, 1.0, now)  # what `heard` credits for 1 s of its air
    answers.pool.earn(STRANGERS, 1.0, now)
    # its account pays an answer: the pool no longer holds that air
    assert answers.credits.spend(stranger, 0.75, now)
    assert answers.pool.balance(STRANGERS, now) == pytest.approx(pool_before + 0.25)
    # the pool pays a reaction it prompted: its account no longer holds that air
    answers.credits.earn(stranger, 1.0, now)
    answers.pool.earn(STRANGERS, 1.0, now)
    assert answers.pool_pays(stranger, 1.0, now)
    assert answers.credits.balance(stranger, now) == pytest.approx(0.25)
    # a known neighbour's account is its own: spending it leaves the pool alone
    pool_now = answers.pool.balance(STRANGERS, now)
    answers.credits.earn(0x6000, 1.0, now)
    engine.hood.peers.setdefault(0x6000, Peer())
    peer = engine.hood.peers[0x6000]
    peer.last_direct, peer.packets, peer.active = now, 2, True
    assert answers.prompter(0x6000, now) != STRANGERS
    assert answers.credits.spend(0x6000, 1.0, now)
    assert answers.pool.balance(STRANGERS, now) == pytest.approx(pool_now)


def test_a_strangers_air_fills_the_pool_as_shared_by_our_two_hop_neighbourhood() -> None:
    """copy-watchers (outside review): a made-up number at the best-connected
    site, heard at hop 0 by more nodes than each of its listeners hears, had
    each listener put its air divided by its own count of peers into the pool
    that pays for reactions to strangers: summed over the listeners, more than
    the air it spent. A stranger's hearers are unknown, so its air goes into
    the pool shared by the other nodes of our two-hop neighbourhood (its own
    account still earns our listeners' share: answers to it are its own)."""
    mesh = fresh_mesh(5, [(0, 1), (1, 2), (1, 3), (1, 4)], history=20)
    mesh.run_for(HOUR)  # lists heard: node 0 hears node 1 alone, and node 1 hears 2, 3, 4
    engine = mesh.engines[0]
    answers = engine.answers
    now = mesh.now
    assert engine.hood.heard_directly(now) == 1
    assert answers.hearers.two_hop(now) == 5  # node 0 and the four others
    stranger = 0x4343
    ours = m.encode(m.Digest(engine.count, engine.fingerprint), mesh.ledger.network[:2])
    pool, account = answers.pool.balance(STRANGERS, now), answers.credits.balance(stranger, now)
    engine.receive(ours, RxMeta(sender=stranger, snr=0.0), now)
    assert answers.prompter(stranger, now) == STRANGERS
    # heard directly now: node 1 and the stranger; our two-hop neighbourhood other
    # than us: nodes 1 to 4 (the stranger, heard once, is not counted: numbers
    # made up afresh would otherwise thin every stranger's share)
    assert engine.hood.heard_directly(now) == 2 and answers.hearers.others_kept(now) == 4
    air = engine.cfg.airtime(len(ours))
    assert answers.credits.balance(stranger, now) - account == pytest.approx(air / 2)
    assert answers.pool.balance(STRANGERS, now) - pool == pytest.approx(air / 4)
    engine.receive(ours, RxMeta(sender=0x4344, snr=0.0), now)  # another, once
    assert answers.hearers.others_kept(now) == 4
