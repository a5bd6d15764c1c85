"""Records of keys nobody admitted expire (node/store/strangers.py, PROTOCOL.md
§9): by their own timestamp capped at receive time, keeping each key's newest
hello (a later vouch still admits it) and at most PER_KEY records per key;
members' records and our own never go."""

from __future__ import annotations

from typing import Any

from ledger_helpers import NOW, Actor, World

from meshaid.node.ledger import hlc
from meshaid.node.ledger import records as r
from meshaid.node.store import Store, strangers
from meshaid.node.store.sync_port import SyncLedger
from meshaid.node.sync.ports import RxMeta

DAY = 86400.0


def rows(store: Store, who: Actor) -> list[tuple[int, int]]:
    return [(k, s) for k, s in store.db.execute(
        "SELECT kind, seq FROM records WHERE author = ? ORDER BY seq", [who.pub])]


def objects(store: Store, who: Actor) -> int:
    return int(store.db.execute("SELECT COUNT(*) FROM objects WHERE author = ?",
                                [who.pub]).fetchone()[0])


def test_a_strangers_posts_expire_after_a_week_and_its_hello_stays() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.cy, text="cy's need")
    offer = net.offer(w.cy)
    pledge = net.pledge(w.cy, net.need(w.anna), 5)
    store = w.store(need, offer, pledge, net.need(w.bo))
    def others() -> tuple[list, list]:
        return (store.db.execute("SELECT * FROM objects WHERE author != ? ORDER BY author, seq",
                                 [w.cy.pub]).fetchall(),
                store.db.execute("SELECT * FROM members ORDER BY key").fetchall())

    before = others()
    store.wall = lambda: NOW + 6 * DAY
    assert strangers.expire(store).records == 0  # not a week old yet
    store.wall = lambda: NOW + 8 * DAY
    assert strangers.expire(store, dry_run=True).records == 3
    done = strangers.expire(store)
    assert done.records == 3 and len(done.ids) == 3
    assert rows(store, w.cy) == [(int(r.Kind.HELLO), 1)]  # its hello stays
    assert objects(store, w.cy) == 0
    assert store.db.execute("SELECT COUNT(*) FROM keys WHERE key = ?", [w.cy.pub]).fetchone()[0]
    # Members' records and everything derived from them are as they were (anna's
    # need's totals never counted cy's pledge).
    assert others() == before and before[0]
    # The kept hello still serves a later vouch: cy is admitted and posts again.
    store.ingest(net.vouch(w.founder, w.cy).raw, now=NOW + 8 * DAY)
    later = net.need(w.cy, text="cy again")
    assert store.ingest(later.raw, now=NOW + 8 * DAY).status == "accepted"
    assert store.db.execute("SELECT trust FROM objects WHERE author = ? AND seq = ?",
                            [w.cy.pub, later.seq]).fetchone()[0] == "trusted"


def test_a_record_dated_ahead_expires_a_week_after_it_arrived() -> None:
    w = World.build()
    ahead = w.net.sign(w.cy, r.Need(1, "from the future", 5, 4, 1),
                       at=hlc.from_unix(NOW + 60 * DAY))
    store = w.store(ahead, w.net.need(w.anna))  # (the newest row never goes: the feed's cursor)
    store.wall = lambda: NOW + 8 * DAY
    assert strangers.expire(store).records == 1
    assert rows(store, w.cy) == [(int(r.Kind.HELLO), 1)]


def test_at_most_per_key_records_of_a_stranger_stay_and_our_own_never_go() -> None:
    w = World.build()
    net = w.net
    posts = [net.need(w.cy, text=f"need {i}") for i in range(8)]
    store = w.store(*posts)
    assert len(rows(store, w.cy)) == 9
    store.wall = lambda: NOW
    strangers.expire(store)  # none is old: only the bound applies
    kept = rows(store, w.cy)
    assert len(kept) == strangers.PER_KEY
    assert kept[0] == (int(r.Kind.HELLO), 1) and kept[-1][1] == posts[-1].seq
    # A newcomer's own node: its records stay whatever their age.
    own = Store.open(":memory:", wall=lambda: NOW)
    own.expect_network(net.code)
    for rec in w.base:
        own.ingest(rec.raw, now=NOW)
    dana = Actor("dana", 9)
    own.author(r.Hello("dana", "Pier 9"), dana.key, NOW)
    own.author(r.Need(1, "our own", 5, 4, 1), dana.key, NOW)
    own.wall = lambda: NOW + 30 * DAY
    assert strangers.expire(own).records == 0
    assert len(rows(own, dana)) == 2


def test_beyond_hellos_max_the_oldest_keys_are_forgotten_whole(monkeypatch: Any) -> None:
    w = World.build()
    net = w.net
    extra = [Actor(f"x{i}", 20 + i) for i in range(3)]
    store = w.store(*(net.hello(a) for a in extra), net.need(w.anna))
    store.wall = lambda: NOW
    monkeypatch.setattr(strangers, "HELLOS_MAX", 2)
    done = strangers.expire(store)
    assert done.keys == 2 and done.records == 2  # cy and x0: the two oldest strangers
    for gone in (w.cy, extra[0]):
        assert rows(store, gone) == []
        assert store.db.execute("SELECT COUNT(*) FROM keys WHERE key = ?",
                                [gone.pub]).fetchone()[0] == 0
    assert rows(store, extra[2])


def test_the_radio_refuses_a_strangers_record_that_would_expire_at_once() -> None:
    w = World.build()
    store = w.store()
    port = SyncLedger(store)
    old = w.net.sign(w.cy, r.Need(1, "stale", 5, 4, 1), at=hlc.from_unix(NOW - 9 * DAY))
    store.wall = lambda: NOW
    got = port.sync_ingest(old.raw, 0.0, RxMeta(sender=5))
    assert got.status == "rejected" and got.reason == "nonmember-expired"
    fresh = w.net.need(w.cy, text="fresh")
    assert port.sync_ingest(fresh.raw, 0.0, RxMeta(sender=5)).status == "accepted"


def test_the_daemons_rounds_delete_in_slices_and_name_what_went() -> None:
    w = World.build()
    store = w.store(w.net.need(w.cy), w.net.offer(w.cy), w.net.need(w.anna))
    store.wall = lambda: NOW + 8 * DAY
    expiry = strangers.Expiry(every_s=3600.0, first_s=600.0)
    assert expiry.step(store, 0.0) == [] and expiry.step(store, 599.0) == []
    assert expiry.step(store, 600.0) == []  # the round lists its work
    gone = expiry.step(store, 602.0)
    assert len(gone) == 2 and all(len(i) == 8 for i in gone)
    assert rows(store, w.cy) == [(int(r.Kind.HELLO), 1)]
    assert expiry.step(store, 604.0) == [] and expiry.expired == 2
