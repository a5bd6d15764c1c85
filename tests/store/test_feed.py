"""Change feed, outbox and the persisted budget window."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from ledger_helpers import NOW, Actor, Net

from meshaid.node.ledger import records as r
from meshaid.node.store import Store, StoreError


def founded(tmp_path: Path, wall: list[float]) -> tuple[Net, Store]:
    net = Net()
    store = Store.open(tmp_path / "ledger.db", wall=lambda: wall[0])
    store.expect_network(net.code)
    for rec in (net.charter, net.hello(net.founder)):
        store.ingest(rec.raw)
    return net, store


def test_the_feed_lists_what_any_connection_stored_after_a_cursor(tmp_path: Path) -> None:
    net, store = founded(tmp_path, [NOW])
    other = Store.open(tmp_path / "ledger.db")
    cursor = store.last_cursor()
    assert store.changes(cursor) == (cursor, [])
    version = store.data_version()
    anna = Actor("anna", 2)
    hello, need = net.hello(anna), net.need(anna)
    other.ingest_many([hello.raw, need.raw])
    assert store.data_version() != version  # cheap "something changed"
    mine = store.author(r.Need(1, "mine", 3, 4), net.founder.key)
    nxt, listed = store.changes(cursor)
    assert [c.hash for c in listed] == [hashlib.sha256(x).digest()
                                       for x in (hello.raw, need.raw, mine.raw)]
    assert [c.local for c in listed] == [False, False, True]
    assert [(c.kind, c.author, c.seq) for c in listed][1] == (int(r.Kind.NEED), anna.pub, 2)
    assert nxt == listed[-1].cursor == store.last_cursor()
    # paging: limit, then continue from the cursor returned
    first, page = store.changes(cursor, limit=2)
    assert len(page) == 2 and store.changes(first)[1] == listed[2:]
    other.close()
    store.close()


def test_an_authored_record_waits_in_the_outbox_until_it_went_on_air(tmp_path: Path) -> None:
    net, store = founded(tmp_path, [NOW])
    assert store.outbox() == []  # ingested, not authored here
    one = store.author(r.Need(1, "one", 3, 4), net.founder.key)
    two = store.author(r.Offer(35, "two", 3), net.founder.key)
    assert store.outbox() == [one.raw, two.raw]
    reopened = Store.open(tmp_path / "ledger.db")  # durable: another process sees it
    assert reopened.outbox() == [one.raw, two.raw]
    reopened.outbox_done([hashlib.sha256(one.raw).digest()[:8], b"\x00" * 8])
    assert store.outbox() == [two.raw]
    store.outbox_done([])
    assert store.outbox() == [two.raw]
    reopened.close()
    store.close()


def test_a_refused_authored_record_leaves_no_outbox_entry(tmp_path: Path) -> None:
    _net, store = founded(tmp_path, [NOW])
    stranger = Actor("stranger", 9)  # no hello: its own record would be held
    with pytest.raises(StoreError, match="refused"):
        store.author(r.Need(1, "x", 1, 4), stranger.key)
    assert store.outbox() == [] and store.count("held") == 0


def test_the_budget_window_survives_a_restart_in_wall_time(tmp_path: Path) -> None:
    wall = [NOW]
    _net, store = founded(tmp_path, wall)
    store.save_budget([(10.0, 1.5), (3000.0, 2.0), (4000.0, 9.0)])
    wall[0] = NOW + 500.0  # down for 500 s
    assert store.load_budget() == [(510.0, 1.5), (3500.0, 2.0)]  # 4000 s: not in the hour
    wall[0] = NOW + 700.0
    assert store.load_budget() == [(710.0, 1.5)]
    wall[0] = NOW - 365 * 86400.0  # clock jumped back a year: ages clamp to 0, not negative
    assert store.load_budget() == [(0.0, 1.5), (0.0, 2.0)]
    wall[0] = NOW + 365 * 86400.0  # a year ahead: all older than the hour
    assert store.load_budget() == []
    store.set_meta("engine.budget", "not json")
    assert store.load_budget() == []
    store.close()


def test_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    net, store = founded(tmp_path, [NOW])
    store.close()
    ro = Store.open(tmp_path / "ledger.db", readonly=True)
    assert ro.network == net.id and ro.count() == 2
    with pytest.raises(StoreError, match="read-only"):
        ro.ingest(net.need(net.founder).raw)
    ro.close()


def test_migrating_an_older_database_backfills_critical_needs(tmp_path: Path) -> None:
    """A database from before m003: its critical needs are marked for the engine."""
    import sqlite3

    from sqlite_utils import Database

    from meshaid.node.store.schema import migrations
    from meshaid.node.store.sync_port import SyncLedger

    net = Net()
    old = Database(sqlite3.connect(tmp_path / "old.db", isolation_level=None))
    migrations.apply(old, stop_before="m003_feed_outbox_heard")
    critical = net.need(net.founder, text="insulin", urgency=3)
    calm = net.need(net.founder, text="tarps", urgency=1)
    for i, rec in enumerate((critical, calm)):
        old.execute("INSERT INTO records (hash, raw, kind, author, short, seq, hlc, received_at)"
                    " VALUES (?, ?, 2, ?, ?, ?, ?, 0)",
                    [hashlib.sha256(rec.raw).digest(), rec.raw, net.founder.pub,
                     net.founder.short, 10 + i, rec.hlc])
    old.conn.close()
    store = Store.open(tmp_path / "old.db")
    flags = dict(store.db.execute("SELECT seq, critical FROM records"))
    assert flags == {10: 1, 11: 0}
    assert store.outbox() == [] and store.changes(0)[0] == 2
    # the engine sees the stored flag (urgent only once the author is admitted)
    infos = list(SyncLedger(store).sync_infos())
    assert len(infos) == 2 and not any(i.urgent for i in infos)
    store.close()
