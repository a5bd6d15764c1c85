"""The urgent watch alone: who was heard, when checks fall due, what is missing."""

from __future__ import annotations

from meshaid.node.sync.urgent import COVERED_BY, DEAF_AFTER, RECHECKS, UrgentWatch


def test_a_check_names_the_neighbours_never_heard_with_the_record() -> None:
    w = UrgentWatch(20.0)
    w.watch(b"r" * 8, 1, 100.0)
    w.heard(b"r" * 8, 2)
    assert w.times() == [120.0]
    assert w.due(119.0, {1, 2, 3}, crowd=False) == []
    assert w.due(120.0, {1, 2, 3, 4}, crowd=False) == [(b"r" * 8, {3: 0, 4: 0})]
    # Checked again as long after: a node in a loss burst, or under its neighbours'
    # colliding first rechecks, waited 40 s more (lossy-30: critical needs at 75-93 s).
    assert w.times() == [140.0]
    w.heard(b"r" * 8, 3)
    assert w.due(140.0, {1, 2, 3, 4}, crowd=False) == [(b"r" * 8, {4: 0})]
    assert RECHECKS == 2 and w.times() == []  # then it is forgotten


def test_no_check_where_everyone_was_heard_or_in_a_crowd_where_anyone_was() -> None:
    w = UrgentWatch(20.0)
    w.watch(b"a" * 8, None, 0.0)
    w.watch(b"b" * 8, 5, 0.0)
    w.heard(b"a" * 8, 5)
    assert w.due(20.0, {5}, crowd=False) == []
    w.watch(b"c" * 8, None, 0.0)
    w.heard(b"c" * 8, 7)
    assert w.due(20.0, {5, 6}, crowd=True) == []
    assert w.times() == []


def test_in_a_crowd_a_record_nobody_was_heard_with_is_sent_once_more() -> None:
    w = UrgentWatch(20.0)
    w.watch(b"d" * 8, None, 0.0)  # urgent, ours
    w.watch(b"e" * 8, None, 0.0, urgent=False, after=30.0)  # a post of ours in a crowd
    assert w.times() == [20.0, 30.0]
    assert w.due(30.0, {5, 6}, crowd=True) == [(b"d" * 8, None), (b"e" * 8, None)]
    assert w.times() == []  # once only
    # A post of ours is watched outside crowds too (engine.local_record: when a
    # relay is to carry it on): nobody heard with it, it goes once more.
    w.watch(b"f" * 8, None, 0.0, urgent=False, after=30.0)
    w.watch(b"g" * 8, None, 0.0, urgent=False, after=30.0)
    w.heard(b"g" * 8, 5)
    assert w.due(30.0, {5, 6}, crowd=False) == [(b"f" * 8, None)]
    assert w.times() == []  # once only


def test_a_neighbour_covered_by_copies_from_nodes_listing_it_is_not_waited_for() -> None:
    # Copies heard from 2 and 3; 2 lists neighbours 4 and 5, 3 lists 4 only.
    lists = {2: {4, 5}, 3: {4}}

    def cover(n: int, senders: set[int]) -> int:
        return sum(1 for s in senders if n in lists.get(s, set()))

    w = UrgentWatch(20.0)
    w.watch(b"r" * 8, 2, 0.0)
    w.heard(b"r" * 8, 3)
    assert COVERED_BY == 2
    # 4 was reached twice (it has it, most likely), 5 once, 6 never: 5 and 6 are waited for.
    assert w.due(20.0, {2, 3, 4, 5, 6}, crowd=False, cover=cover) == [(b"r" * 8, {5: 1, 6: 0})]
    lists[3] = {4, 5, 6}
    lists[7] = {6}
    w.heard(b"r" * 8, 7)
    assert w.due(60.0, {2, 3, 4, 5, 6}, crowd=False, cover=cover) == []


def test_a_site_only_a_mast_joins_sends_its_urgent_record_again_if_nobody_was_heard() -> None:
    """Finding (town-40, critical p95 379.6 s): a site that hears other sites only
    through a ROUTER mast has no neighbour in direct range to wait for, so its
    critical need was never checked; its push collided at the mast and waited
    five minutes for reconciliation. Nobody heard with it at all: once more."""
    w = UrgentWatch(20.0)
    w.watch(b"f" * 8, None, 0.0)  # ours, nobody in direct range
    assert w.due(20.0, set(), crowd=False) == [(b"f" * 8, None)]
    assert w.times() == []  # once only
    w.watch(b"g" * 8, None, 0.0)
    w.heard(b"g" * 8, 0x4000_0007)  # a site beyond the mast relayed it: it went out
    assert w.due(20.0, set(), crowd=False) == []
    w.watch(b"h" * 8, 3, 0.0)  # someone else's: it came, so it went out
    assert w.due(20.0, set(), crowd=False) == []


def test_a_neighbour_silent_through_watches_in_a_row_is_no_longer_waited_for() -> None:
    """Finding (stolen-critical, full size): the thief posts and relays nothing, so
    each of its neighbours sent every urgent record twice more for it. After
    DEAF_AFTER watches ending with it never heard, it is not waited for (it is
    still owed the record: its own digest showing a lack gets it), until it is
    heard with a watched record."""
    w = UrgentWatch(20.0)
    w.relayed(9)  # it relayed records before (`test_a_number_never_heard_with_...`)
    t = 0.0
    for k in range(DEAF_AFTER):
        rid = bytes([k]) * 8
        w.watch(rid, 2, t)
        assert w.due(t + 20.0, {2, 9}, crowd=False) == [(rid, {9: 0})]
        assert w.due(t + 40.0, {2, 9}, crowd=False) == [(rid, {9: 0})]
        assert 9 in w.owed[rid].missing
        t += 100.0
    w.watch(b"x" * 8, 2, t)
    assert w.due(t + 20.0, {2, 9}, crowd=False) == []  # 9 is no longer waited for...
    assert w.due(t + 40.0, {2, 9}, crowd=False) == []
    assert 9 in w.owed[b"x" * 8].missing  # ...but owed the record still
    w.heard(b"x" * 8, 9)  # it relays again
    w.watch(b"y" * 8, 2, t + 100.0)
    assert w.due(t + 120.0, {2, 9}, crowd=False) == [(b"y" * 8, {9: 0})]


def test_a_number_never_heard_with_a_record_is_deaf_after_one_silent_watch() -> None:
    """Finding (fake-watchers, small size: 2.4 times the attacker's air): six
    made-up numbers that only copy our digest were waited for through the
    first DEAF_AFTER urgent records, two rechecks each, by every node hearing
    them. A number never heard with a trusted record is deaf after one watch
    it ends unheard; one that brought us a record gets DEAF_AFTER."""
    w = UrgentWatch(20.0)
    w.relayed(8)
    w.watch(b"a" * 8, 2, 0.0)
    assert w.due(20.0, {2, 8, 9}, crowd=False) == [(b"a" * 8, {8: 0, 9: 0})]
    assert w.due(40.0, {2, 8, 9}, crowd=False) == [(b"a" * 8, {8: 0, 9: 0})]
    assert w.deaf(9) and not w.deaf(8)
    w.watch(b"b" * 8, 2, 100.0)
    assert w.due(120.0, {2, 8, 9}, crowd=False) == [(b"b" * 8, {8: 0})]
    w.relayed(9)  # it brought us a trusted record: waited for again
    assert not w.deaf(9)


def _deaf_owing(w: UrgentWatch) -> float:
    """Node 9 silent through DEAF_AFTER watches (node 2 heard with each): deaf, and
    owed the last record. When done."""
    t = 0.0
    for k in range(DEAF_AFTER):
        w.watch(bytes([k]) * 8, 2, t)
        w.due(t + 20.0, {2, 9}, crowd=False)
        w.due(t + 40.0, {2, 9}, crowd=False)
        t += 100.0
    assert w.deaf(9) and all(9 in o.missing for o in w.owed.values())
    return t


def test_a_digest_like_ours_makes_a_deaf_neighbour_waited_for_again_only_if_it_pays() -> None:
    """Finding (fake-watchers, written from outside): numbers an attacker made up
    copied our digest (a set like ours: `holds`) between their claims of a set
    a little smaller. A digest showing it holds what it was owed made a deaf
    neighbour waited for again, for nothing, so every urgent record was
    rechecked for the made-up numbers by every node that heard them. It still
    ends the debt; the deafness ends if its account pays (deafpay.py
    `undeafen`), or once a copy of a record is heard from it."""
    w = UrgentWatch(20.0)
    t = _deaf_owing(w)
    w.holds(9, set(), lambda: False)  # its digest: our very set; its account: empty
    assert not w.owed  # it holds what it was owed...
    w.watch(b"y" * 8, 2, t)
    assert w.due(t + 20.0, {2, 9}, crowd=False) == []  # ...and is not waited for again
    w.heard(b"y" * 8, 9)
    assert not w.deaf(9)
    w = UrgentWatch(20.0)
    t = _deaf_owing(w)
    w.holds(9, set(), lambda: True)  # the same digest, paid for
    assert not w.deaf(9)
    # On probation: waited for once more, deaf again if silent through that watch
    # (what it paid for is one record's rechecks, not DEAF_AFTER records').
    w.watch(b"z" * 8, 2, t)
    assert w.due(t + 20.0, {2, 9}, crowd=False) == [(b"z" * 8, {9: 0})]
    w.due(t + 40.0, {2, 9}, crowd=False)
    assert w.deaf(9)
