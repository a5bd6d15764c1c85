"""A record's story (node/store/history.py): its updates, oldest first, each
once even when the record was forked (two twins at its seq), and where it was
first heard; unknown ids give nothing."""

from __future__ import annotations

import hashlib

from ledger_helpers import NOW, World

from meshaid.node.ledger import records as r
from meshaid.node.store import history
from meshaid.node.store.store import record_id
from meshaid.node.sync.ports import RxMeta


def test_updates_and_first_heard_of_a_forked_record() -> None:
    w = World.build()
    net = w.net
    need = net.need(w.anna, 10, text="splints")
    twin = net.sign(w.anna, r.Need(1, "splints, twin", 5, 0, 2, 0, ""), seq=need.seq)
    u1, u2 = net.update(w.anna, need, qty=8), net.update(w.anna, need, qty=6)
    store = w.store(u1)  # an update before its record: stored, applies later
    store.ingest(twin.raw, now=NOW + 1, heard=RxMeta(sender=7, snr=4.5, rssi=-97.0, hops=2))
    store.ingest(need.raw, now=NOW + 2, heard=RxMeta(sender=9, snr=1.0, rssi=-110.0, hops=0))
    store.ingest(u2.raw, now=NOW + 3)
    rid = record_id(need.short_author, need.seq)
    assert [(u["seq"], u["qty"]) for u in history.updates_of(store, rid)] == [
        (u1.seq, 8), (u2.seq, 6)]
    heard = history.first_heard(store, rid)
    first = min((need, twin), key=lambda rec: hashlib.sha256(rec.raw).digest())
    assert heard is not None
    assert (heard["node"], heard["received_at"]) == ((7, NOW + 1) if first is twin else (9, NOW + 2))
    unknown = record_id(w.bo.short, 999)
    assert history.updates_of(store, unknown) == [] and history.first_heard(store, unknown) is None
