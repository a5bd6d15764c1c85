"""A member key that floods the ledger (stolen, say): its records stop costing
honest nodes their urgent band, their relays and their answers to others
(outbox.py `flooding`, answers.py `_flood_last`, PROTOCOL.md §9)."""

from __future__ import annotations

from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync.budget import BULK, NORMAL, URGENT

from .harness import HOUR, line, rid
from .meshes import flood, fresh_mesh, lone


def _sent_by(mesh, node: int, before: int, tags: tuple[str, ...]) -> dict[bytes, set[int]]:
    """Record -> the priorities `node` sent it at (packets tagged `tags`)."""
    out: dict[bytes, set[int]] = {}
    for s in mesh.sent[before:]:
        if s.node == node and s.out.tag in tags:
            for raw in m.decode(s.out.payload).records:
                out.setdefault(raw, set()).add(s.out.priority)
    return out


def test_a_flooding_key_loses_relays_urgency_and_rechecks_others_keep_them() -> None:
    """Node 2 posts more than a burst of records in minutes, then critical needs:
    node 1 relays none of its later records (reconciliation carries them, paced by
    the asker's credit), gives its critical needs neither the urgent band nor
    rechecks; node 0's critical need, posted meanwhile, is relayed urgent."""
    mesh = fresh_mesh(3, line(3), seed=4)
    mesh.run_for(2 * HOUR)
    cfg = mesh.engines[1].cfg
    before = len(mesh.sent)
    flood = []
    for k in range(2 * int(cfg.author_burst)):
        flood.append(mesh.need(2, f"flood {k}"))
        mesh.run_for(3.0)
    mesh.run_for(300.0)  # (its own pushes wait for its budget: all out by now)
    critical = [mesh.need(2, f"flood critical {k}", urgency=r.CRITICAL) for k in range(3)]
    mesh.run_for(5.0)
    engine = mesh.engines[1]
    assert engine.flooding(engine.infos[rid(flood[0])].author, mesh.now)
    honest = mesh.need(0, "insulin", urgency=r.CRITICAL)
    mesh.run_for(HOUR)
    relayed = _sent_by(mesh, 1, before, ("forward", "recheck"))
    assert len([raw for raw in flood if raw in relayed]) <= cfg.author_burst + 1
    assert not any(raw in relayed for raw in flood[-5:]), "relayed past the flood's start"
    assert not any(URGENT in relayed.get(raw, ()) for raw in critical)
    assert not any(s.node == 1 and s.out.tag == "recheck"
                   and set(m.decode(s.out.payload).records) & set(critical)
                   for s in mesh.sent[before:])
    assert relayed.get(honest) == {URGENT}
    mesh.run_for(4 * HOUR)
    assert all(0 in mesh.holders(raw) for raw in flood + critical), "reconciliation lost some"
    mesh.assert_within_budget()


def test_a_burst_of_critical_needs_under_a_flood_key_stays_urgent() -> None:
    """The flood counts per author: a site posting a dozen critical needs while
    another key floods keeps its own urgent relays (an author's allowance is
    `author_urgent_burst`, then `author_urgent_per_hour`)."""
    mesh = fresh_mesh(3, line(3), seed=5)
    mesh.run_for(2 * HOUR)
    cfg = mesh.engines[1].cfg
    before = len(mesh.sent)
    for k in range(2 * int(cfg.author_burst)):
        mesh.need(2, f"flood {k}")
        mesh.run_for(3.0)
    storm = []
    for k in range(int(cfg.author_urgent_burst)):
        storm.append(mesh.need(0, f"storm {k}", urgency=r.CRITICAL))
        mesh.run_for(20.0)
    mesh.run_for(HOUR)
    relayed = _sent_by(mesh, 1, before, ("forward",))
    assert all(URGENT in relayed.get(raw, ()) for raw in storm), [
        relayed.get(raw) for raw in storm]


def test_urgent_records_fetched_by_request_count_against_their_authors_allowance() -> None:
    """Records a node asked for after a sketch (not a pull: history) are news like
    relays: past their author's allowance they are normal records here, neither
    urgent nor watched. (Uncounted, a stolen key's critical needs fetched by
    reconciliation were rechecked by every node, without limit.)"""
    mesh = fresh_mesh(2, line(2), seed=3)
    mesh.run_for(2 * HOUR)
    cfg = mesh.engines[1].cfg
    mesh.partition({0})
    extra = int(cfg.author_urgent_burst) + 6
    posted = [mesh.need(0, f"while apart {k}", urgency=r.CRITICAL) for k in range(extra)]
    mesh.run_for(600.0)
    assert extra < cfg.boot_gap  # (reconciled by sketch and request, not pulled)
    mesh.heal()
    mesh.run_for(2 * HOUR)
    assert all(1 in mesh.holders(raw) for raw in posted)
    engine = mesh.engines[1]
    assert engine.stats.dropped["urgent-rate"] >= extra - cfg.author_urgent_burst - 1
    assert not any(engine.watch.entries.get(rid(raw)) for raw in posted)


def test_answers_serve_a_flooding_keys_records_last() -> None:
    """A request whose air pays for a record or two, naming a flooding key's records
    before another member's: the other member's is answered, the flood's wait."""
    mesh, ledger = lone()
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    heavy = [ledger.sign(1, r.Need(2, f"flood {k}", 5)) for k in range(40)]
    for k in range(0, len(heavy), 2):
        mesh.inject(0, m.encode(m.Records(tuple(heavy[k:k + 2])), tag), sender=0x10)
        mesh.run_for(2.0)
    light = ledger.sign(2, r.Need(1, "insulin for the clinic", 1, 0, r.CRITICAL))
    mesh.inject(0, m.encode(m.Records((light,), relay=False), tag), sender=0x11)
    mesh.run_for(600.0)
    assert engine.flooding(engine.infos[rid(heavy[0])].author, mesh.now)
    assert not engine.flooding(engine.infos[rid(light)].author, mesh.now)
    before = len(mesh.sent)
    ids = tuple(rid(raw) for raw in heavy[:6]) + (rid(light),)
    mesh.inject(0, m.encode(m.Request(ids, target=engine.node, pad=64), tag), sender=0x20)
    mesh.run_for(120.0)
    answered = [raw for s in mesh.sent[before:] if s.out.tag == "repair"
                for raw in m.decode(s.out.payload).records]
    assert light in answered
    assert len(answered) < len(ids), "the request's air paid for every record: no test"


def test_history_fetched_after_a_heal_marks_no_author_flooding() -> None:
    """A site that posted more than a burst while cut off, hours ago, is no flood
    when a neighbour fetches those records after the heal: only news (records
    less than an hour older than the newest held) counts."""
    mesh = fresh_mesh(2, line(2), seed=6)
    mesh.run_for(2 * HOUR)
    cfg = mesh.engines[1].cfg
    mesh.partition({0})
    posted = []
    for k in range(int(cfg.author_burst) + 5):
        posted.append(mesh.need(0, f"stock {k}"))
        mesh.run_for(60.0)
    assert len(posted) < cfg.boot_gap  # (reconciled by sketch and request, not pulled)
    mesh.run_for(2 * HOUR)
    mesh.need(1, "news on this side")
    mesh.heal()
    t0 = mesh.now
    while not all(1 in mesh.holders(raw) for raw in posted):
        assert mesh.now < t0 + HOUR, "the heal did not bring them"
        mesh.run_for(10.0)
    engine = mesh.engines[1]
    assert not engine.flooding(engine.infos[rid(posted[0])].author, mesh.now)


def test_only_records_of_keys_not_flooding_take_our_sketch_up() -> None:
    """A neighbour whose answers to our sketch bring or ask only a flooding key's
    records leaves it untaken: its digests keep prompting our sketches only as
    the pacing allows (pacing.py). Counted as fruit, a stolen key's flood kept
    every node near it sketching at its shortest interval: 30 sketches, 60 s
    of a node's 180 s an hour, and its relays of a neighbour's critical needs
    waited for the rest of the hour (stolen-critical, full size)."""
    mesh, ledger = lone(history=40)
    engine, tag = mesh.engines[0], ledger.network[:2]
    mesh.run_for(HOUR)
    heavy = flood(mesh, ledger)
    mesh.run_for(600.0)  # (the flood's first burst, relayed)
    for _ in range(2):  # a known neighbour that brought records before
        mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint), tag), sender=0x77)
        mesh.run_for(5.0)
    engine.watch.relayed(0x77)
    mesh.inject(0, m.encode(m.Digest(engine.count + 1, 0x1234), tag), sender=0x77)
    mesh.run_for(90.0)
    assert engine.answers.prompters.waiting(0x77, mesh.now)  # our sketch, for it
    more = [ledger.sign(1, r.Need(2, f"flood more {k}", 5)) for k in range(2)]
    mesh.inject(0, m.encode(m.Records(tuple(more)), tag), sender=0x77)
    ids = tuple(rid(raw) for raw in heavy[:4])
    mesh.inject(0, m.encode(m.Request(ids, engine.node, pad=64), tag), sender=0x77)
    assert all(rid(raw) in engine.infos for raw in more)
    assert engine.answers.prompters.waiting(0x77, mesh.now), "a flood's records took it up"
    news = ledger.sign(2, r.Need(1, "insulin for the clinic", 1))
    mesh.inject(0, m.encode(m.Records((news,)), tag), sender=0x77)
    assert not engine.answers.prompters.waiting(0x77, mesh.now)


def test_under_a_flood_our_asks_wait_in_the_bulk_band() -> None:
    """While some key floods the ledger here, what we ask for (requests, pulls,
    filters) goes in the bulk band (60 % of the budget), not the normal one
    (85 %): a flood fetched by reconciliation leaves our own news and urgent
    relays their share (engine.py `ASKS`)."""
    bands = {}
    for flooded in (False, True):
        mesh, ledger = lone(history=40)
        engine = mesh.engines[0]
        mesh.run_for(HOUR)
        if flooded:
            flood(mesh, ledger)
        mesh.run_for(600.0)
        engine.recon.wants.want(bytes(8), 0x77, mesh.now, lambda: 0.0)
        engine._dirty = True  # (wanted by hand: polled at once)
        bands[flooded] = {o.priority for o in engine.poll(mesh.now) if o.tag == "request"}
    assert bands == {False: {NORMAL}, True: {BULK}}


def test_under_a_flood_we_walk_now_and_then_toward_a_neighbour_far_behind() -> None:
    """A neighbour that fell far behind us (it pulls from us) while a key floods
    the ledger may hold posts we lack, and sketches do not run between a puller
    and us: now and then (filters.py `BEHIND_GAP`) we walk toward it, our
    filters asking for what it holds in our newest windows, if its account
    pays for the first (a number made up to send such digests buys nothing).
    Without a flood a node far behind is only served by its pulls."""
    walks = {}
    for flooded, paid in ((False, True), (True, False), (True, True)):
        mesh, ledger = lone(history=120)
        engine, tag = mesh.engines[0], ledger.network[:2]
        mesh.run_for(HOUR)
        if flooded:
            flood(mesh, ledger)
            mesh.run_for(600.0)
        behind = m.Digest(engine.count - 60, 0x5151, True)
        assert behind.count > engine.cfg.boot_gap  # (it holds a ledger: no newcomer)
        before = len(mesh.sent)
        for _ in range(6):  # its digests for half an hour (and its pulls' air, if `paid`)
            mesh.inject(0, m.encode(behind, tag), sender=0x77)
            if paid:
                engine.answers.credits.earn(0x77, engine.cfg.airtime(200), mesh.now)
            mesh.run_for(300.0)
        walks[flooded, paid] = [s.t for s in mesh.sent[before:] if s.out.tag == "filter"
                                and m.decode(s.out.payload).target == 0x77]
    assert walks[False, True] == []
    assert walks[True, False] == []
    assert walks[True, True], "no walk toward the node far behind"
    # Each walk ends after two windows that brought nothing; the next waits its gap.
    assert len(walks[True, True]) <= 2 * 2, walks[True, True]


def test_under_a_flood_a_relay_that_went_unheard_goes_again_in_the_bulk_band() -> None:
    """While a key floods the ledger here, reconciliation finds a neighbour's
    post among hundreds of the flood's records only slowly: a node that got an
    admitted author's normal record watches, as for urgent ones, that every
    neighbour was heard with it, and sends it again where one was not (tag
    "recheck", bulk band; its silence makes no neighbour deaf). Without a
    flood, a normal record is not watched."""
    got = {}
    for flooded in (False, True):
        mesh = fresh_mesh(3, line(3), seed=6)
        mesh.run_for(2 * HOUR)
        if flooded:
            for k in range(2 * int(mesh.engines[1].cfg.author_burst)):
                mesh.need(2, f"flood {k}")
                mesh.run_for(3.0)
            mesh.run_for(300.0)
        mesh.cut.add(frozenset((1, 2)))  # node 1's relay is lost at node 2
        before = len(mesh.sent)
        post = mesh.need(0, "water for the school")
        while not any(s.node == 1 and post in m.decode(s.out.payload).records
                      for s in mesh.sent[before:] if s.out.tag == "forward"):
            mesh.run_for(1.0)
        mesh.heal()
        t0 = mesh.now
        while 2 not in mesh.holders(post) and mesh.now < t0 + HOUR:
            mesh.run_for(1.0)
        again = _sent_by(mesh, 1, before, ("recheck",))
        got[flooded] = (mesh.now - t0, again.get(post))
        assert not mesh.engines[1].watch.silent
    assert got[False][1] is None
    assert got[True][1] == {BULK} and got[True][0] < 60.0, got
