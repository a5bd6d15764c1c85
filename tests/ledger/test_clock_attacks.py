"""The hybrid clock under attack and without a real-time clock (issues 9 and 6):
it never moves for a non-member's record nor for one member's far-future
record, across restarts too; a node whose wall clock is far behind follows mesh
time, so its needs do not arrive already expired elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_helpers import NOW, World

from meshaid.node.ledger import hlc
from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store import queries as q

DAY = 86400
YEARS_10 = 10 * 365 * DAY


@pytest.fixture
def w() -> World:
    return World.build()


def node(w: World, path: Path, wall: float) -> Store:
    store = Store.open(path, wall=lambda: wall)
    store.expect_network(w.net.code)
    for rec in w.base:
        store.ingest(rec.raw, now=wall)
    return store


def test_a_non_members_far_future_record_never_moves_the_clock(w: World, tmp_path: Path) -> None:
    store = node(w, tmp_path / "a.db", NOW)
    before = store.clock.last
    far = w.net.sign(w.cy, r.Need(1, "from the future", 1, 4), at=hlc.from_unix(NOW + YEARS_10))
    near = w.net.sign(w.cy, r.Need(1, "an hour ahead", 1, 4), at=hlc.from_unix(NOW + 3000))
    assert store.ingest(far.raw, now=NOW).status == "accepted"
    assert store.ingest(near.raw, now=NOW).status == "accepted"
    assert store.clock.last == before
    mine = store.author(r.Need(1, "mine", 1, 4), w.founder.key, now=NOW)
    assert hlc.unix_of(mine.hlc) == NOW
    store.close()
    again = Store.open(tmp_path / "a.db", wall=lambda: NOW)
    assert hlc.unix_of(again.clock.now(NOW)) == NOW  # nor after a restart


def test_one_members_far_future_record_is_flagged_and_not_followed(w: World,
                                                                   tmp_path: Path) -> None:
    store = node(w, tmp_path / "a.db", NOW)
    far = w.net.sign(w.anna, r.Need(1, "from the future", 1, 4, valid_for_min=60),
                     at=hlc.from_unix(NOW + YEARS_10))
    assert store.ingest(far.raw, now=NOW).status == "accepted"
    assert hlc.unix_of(store.clock.now(NOW)) <= NOW + hlc.AHEAD_S  # an hour at most, not 24 h
    shown = q.get_object(store, w.anna.rid(far.seq), now=NOW)
    assert shown["status"] == "future"
    store.close()
    again = Store.open(tmp_path / "a.db", wall=lambda: NOW)
    assert hlc.unix_of(again.clock.now(NOW)) <= NOW + hlc.AHEAD_S
    assert q.get_object(again, w.anna.rid(far.seq))["status"] == "future"
    assert again.clock_report()["wall_behind"] is False


def test_a_members_far_future_renewal_is_flagged_not_taken_as_is(w: World) -> None:
    """An update dated years ahead would keep a need open until then (its
    validity runs from the update's clock): the need shows as future, like a
    future-dated need, until the present reaches the update's date."""
    need = w.net.need(w.anna, qty=10, valid_for_min=60)
    renew = w.net.sign(w.anna, r.Update(need.seq, 0, 10, valid_for_min=60),
                       at=hlc.from_unix(NOW + YEARS_10))
    store = w.store(need, renew)
    assert q.get_object(store, w.anna.rid(need.seq), now=NOW)["status"] == "future"
    assert q.get_object(store, w.anna.rid(need.seq), now=NOW + YEARS_10)["status"] == "open"
    honest = w.net.sign(w.anna, r.Update(need.seq, 0, 10, valid_for_min=60),
                        at=hlc.from_unix(NOW - 60))
    assert q.get_object(w.store(need, honest), w.anna.rid(need.seq), now=NOW)["status"] == "open"


@pytest.mark.parametrize("wall", [NOW - 10 * DAY, 0.0], ids=["10-days-behind", "1970"])
def test_a_node_with_its_wall_clock_behind_posts_needs_that_are_not_expired_elsewhere(
        w: World, tmp_path: Path, wall: float) -> None:
    mesh = node(w, tmp_path / "mesh.db", NOW)
    talk = [w.net.need(w.anna, text="anna's need"), w.net.need(w.bo, text="bo's need")]
    for rec in talk:
        mesh.ingest(rec.raw, now=NOW)
    late = node(w, tmp_path / "late.db", wall)
    for rec in talk:
        late.ingest(rec.raw, now=wall)
    report = late.clock_report()
    assert report["wall_behind"] is True and report["behind_s"] > 9 * DAY
    newest = max(rec.hlc for rec in [*w.base, *talk])
    need = late.author(r.Need(1, "water for 40", 40, 4, urgency=3, valid_for_min=60),
                       w.bo.key)
    assert need.hlc > newest  # signed in mesh time, after what it heard, not in its wall time
    assert mesh.ingest(need.raw, now=NOW).status == "accepted"
    seen = q.get_object(mesh, w.bo.rid(need.seq), now=NOW)
    assert seen["status"] == "open"
    assert q.get_object(late, w.bo.rid(need.seq))["status"] == "open"  # shown in mesh time
    late.close()
    again = Store.open(tmp_path / "late.db", wall=lambda: wall)
    assert again.clock.now(wall) > need.hlc  # across a restart too
    assert again.clock_report()["wall_behind"] is True
