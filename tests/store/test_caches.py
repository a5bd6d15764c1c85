"""Two Store objects on one file (as daemon and CLI): what one commits, the
other's caches follow (PRAGMA data_version), and held records are not stranded."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from ledger_helpers import NOW, Actor, Net

from meshaid.node.ledger import hlc
from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store.sync_port import SyncLedger
from meshaid.node.sync.ports import RxMeta


def pair(tmp_path: Path, net: Net) -> tuple[Store, Store]:
    path = tmp_path / "ledger.db"
    a = Store.open(path, wall=lambda: NOW)
    a.expect_network(net.code)
    b = Store.open(path, wall=lambda: NOW)
    return a, b


def test_charter_keys_and_members_follow_the_other_connection(tmp_path: Path) -> None:
    net = Net()
    anna = Actor("anna", 2)
    a, b = pair(tmp_path, net)
    assert b.network is None
    a.ingest(net.charter.raw)
    assert b.network == net.id  # the charter another process stored
    a.ingest(net.hello(net.founder).raw)
    a.ingest(net.hello(anna).raw)
    # b verifies anna's record with the key a stored: accepted, not held
    need = net.need(anna)
    assert b.ingest(need.raw).status == "accepted"
    ledger = SyncLedger(b)
    (info,) = [i for i in ledger.sync_infos() if i.author == anna.short and i.cls == 1]
    assert not info.trusted
    a.ingest(net.vouch(net.founder, anna).raw)
    (info,) = [i for i in ledger.sync_infos() if i.author == anna.short and i.cls == 1]
    assert info.trusted  # the vouch another process stored
    a.close()
    b.close()


def test_a_hello_imported_elsewhere_releases_what_this_store_held(tmp_path: Path) -> None:
    net = Net()
    anna = Actor("anna", 2)
    daemon, cli = pair(tmp_path, net)
    daemon.ingest(net.charter.raw)
    hello = net.hello(anna)
    need = net.need(anna)
    assert daemon.ingest(need.raw).status == "held"
    assert cli.ingest_many([hello.raw])[0].status == "accepted"
    assert daemon.count("held") == 0 and cli.count("held") == 0
    assert daemon.ingest(need.raw).status == "duplicate"
    # and the same hello arriving over the air afterwards is a duplicate, harmlessly
    assert SyncLedger(daemon).sync_ingest(hello.raw, 5.0).status == "duplicate"
    daemon.close()
    cli.close()


def test_a_row_held_by_an_unaware_writer_is_retried_on_the_next_write(tmp_path: Path) -> None:
    """Defensive path: a held row whose author's key is already stored (written by
    a process that did not retry it) is retried when this store next writes."""
    net = Net()
    anna = Actor("anna", 2)
    a, b = pair(tmp_path, net)
    for rec in (net.charter, net.hello(net.founder), net.hello(anna)):
        a.ingest(rec.raw)
    need = net.need(anna)
    raw_conn = sqlite3.connect(tmp_path / "ledger.db")
    raw_conn.execute("INSERT INTO held (hash, raw, short, reason, received_at)"
                     " VALUES (?, ?, ?, 'unknown-author', 0)",
                     [hashlib.sha256(need.raw).digest(), need.raw, anna.short])
    raw_conn.commit()
    raw_conn.close()
    b.set_meta("anything", "1")  # any write follows the other commit
    assert b.count("held") == 0 and b.count() == 4
    assert [rec.raw for rec in b.take_released()] == [need.raw]
    a.close()
    b.close()


def test_the_clock_follows_records_stored_elsewhere(tmp_path: Path) -> None:
    net = Net()
    a, b = pair(tmp_path, net)
    for rec in (net.charter, net.hello(net.founder)):
        a.ingest(rec.raw)
    ahead = net.sign(net.founder, r.Need(1, "from a fast clock", 1, 4),
                     at=hlc.from_unix(NOW + 3600))
    a.ingest(ahead.raw)
    mine = b.author(r.Need(1, "after it", 1, 4), net.founder.key)
    assert mine.hlc > ahead.hlc
    a.close()
    b.close()


def test_radio_metadata_is_kept_for_the_first_copy(tmp_path: Path) -> None:
    net = Net()
    a, _ = pair(tmp_path, net)
    for rec in (net.charter, net.hello(net.founder)):
        a.ingest(rec.raw)
    need = net.need(net.founder)
    ledger = SyncLedger(a)
    assert ledger.sync_ingest(need.raw, 1.0, RxMeta(sender=0x1234, snr=-7.5, rssi=-110.0,
                                                    hops=2)).status == "accepted"
    ledger.sync_ingest(need.raw, 2.0, RxMeta(sender=0x9, snr=3.0, rssi=-80.0, hops=0))
    heard = a.heard(hashlib.sha256(need.raw).digest())
    assert heard is not None
    assert (heard.node, heard.snr, heard.rssi, heard.hops, heard.at) == (0x1234, -7.5, -110.0,
                                                                         2, NOW)
    assert a.heard(b"\x00" * 32) is None


def test_a_fork_across_processes_is_seen_although_the_slot_was_looked_at_empty(
        tmp_path: Path) -> None:
    """What a batch learnt about (author, seq) slots holds only in its transaction."""
    net = Net()
    anna = Actor("anna", 2)
    a, b = pair(tmp_path, net)
    for rec in (net.charter, net.hello(net.founder), net.hello(anna), net.vouch(net.founder, anna)):
        a.ingest(rec.raw)
    mine = net.need(anna, text="mine")
    twin = net.sign(anna, r.Need(1, "the thief's", 1, 4), seq=mine.seq)
    forged = twin.raw[:-1] + bytes([twin.raw[-1] ^ 1])  # b looks at the slot, then refuses
    assert b.ingest_many([forged])[0].status == "rejected"
    assert a.ingest(mine.raw).status == "accepted"
    assert b.ingest_many([twin.raw])[0].status == "accepted"
    assert b.db.execute("SELECT COUNT(*) FROM forks").fetchone()[0] == 1
