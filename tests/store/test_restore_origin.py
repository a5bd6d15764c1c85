"""A record stored again from its tombstone (node/store/gc.py: a cut or a fork
made a collected version count again) is what it was before collection: one
heard over the radio keeps its first hearing (node, SNR, RSSI, hops) and when
it was stored, one authored here stays this node's own (m009). Tombstones made
before m009 keep nothing of that and restore as received now, as before."""

from __future__ import annotations

import hashlib

from ledger_helpers import NOW, World

from meshaid.node.ledger import records as r
from meshaid.node.store import Store, gc
from meshaid.node.sync.ports import RxMeta


def row(store: Store, raw: bytes) -> tuple:
    return store.db.execute(
        "SELECT r.local, r.received_at, h.node, h.snr, h.rssi, h.hops, h.heard_at"
        " FROM records r LEFT JOIN heard h ON h.record = r.id WHERE r.hash = ?",
        [hashlib.sha256(raw).digest()]).fetchone()


def superseded() -> tuple[World, Store, r.Record]:
    """Anna's need with two updates: the first heard from node 7 (SNR 4.5, RSSI
    -97, 2 hops) at NOW + 5, then superseded by the second at NOW + 6."""
    w = World.build()
    need = w.net.need(w.anna, 10)
    u1 = w.net.update(w.anna, need, qty=9)
    u2 = w.net.update(w.anna, need, qty=1, status=2)
    store = w.store(need)
    store.ingest(u1.raw, now=NOW + 5, heard=RxMeta(sender=7, snr=4.5, rssi=-97.0, hops=2))
    store.ingest(u2.raw, now=NOW + 6)
    return w, store, u1


def test_a_restored_record_keeps_its_first_hearing() -> None:
    w, store, u1 = superseded()
    net = w.net
    before = row(store, u1.raw)
    assert before == (0, NOW + 5, 7, 4.5, -97.0, 2, NOW + 5)
    assert gc.collect(store).records == 1 and row(store, u1.raw) is None
    store.ingest(net.revoke(w.founder, w.anna, u1.seq).raw, now=NOW + 100)
    assert gc.count(store.db) == 0
    assert row(store, u1.raw) == before


def test_a_restored_record_of_ours_stays_ours_and_out_of_the_outbox() -> None:
    w = World.build()
    net = w.net
    store = w.store()
    need = store.author(r.Need(1, "water", 10, 4), w.anna.key, now=NOW + 1)
    w.anna.seq = need.seq
    u1 = store.author(r.Update(need.seq, 0, 9, 0, 0, ""), w.anna.key, now=NOW + 2)
    store.author(r.Update(need.seq, 2, 1, 0, 0, ""), w.anna.key, now=NOW + 3)
    assert row(store, u1.raw)[:2] == (1, NOW + 2)
    assert gc.collect(store).records == 1
    store.ingest(net.revoke(w.founder, w.anna, u1.seq).raw, now=NOW + 100)
    assert row(store, u1.raw)[:3] == (1, NOW + 2, None)
    assert u1.raw not in [bytes(raw) for raw in store.outbox()]


def test_a_tombstone_from_before_m009_restores_as_received_now() -> None:
    w, store, u1 = superseded()
    net = w.net
    assert gc.collect(store).records == 1
    store.db.execute("UPDATE collected SET local = NULL, received_at = NULL, heard_node = NULL,"
                     " heard_snr = NULL, heard_rssi = NULL, heard_hops = NULL, heard_at = NULL")
    store.ingest(net.revoke(w.founder, w.anna, u1.seq).raw, now=NOW + 100)
    assert row(store, u1.raw) == (0, NOW + 100, None, None, None, None, None)
