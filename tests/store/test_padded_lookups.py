"""Batch look-ups pad their value lists to a few lengths (so SQLite compiles each
shape once); the padding repeats a value, which must change no answer."""

from __future__ import annotations

import hashlib

import pytest
from ledger_helpers import NOW, World

from meshaid.node.store import derive
from meshaid.node.store.sqlconst import PAD_SIZES, padded


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 33, 128, 129, 400, 512])
def test_padded_lengths(n: int) -> None:
    values = list(range(n))
    out = padded(values)
    assert len(out) in PAD_SIZES and len(out) >= n
    assert out[:n] == values and set(out) == set(values)


def test_lookups_of_every_size_find_exactly_what_is_stored() -> None:
    w = World.build()
    needs = [w.net.need(w.anna, qty=i + 1, text=f"rice {i}") for i in range(150)]
    store = w.store()
    store.ingest_many([rec.raw for rec in needs], now=NOW)
    store.ingest(w.net.update(w.anna, needs[3], qty=7).raw, now=NOW)
    stored = {(bytes(a), s) for a, s in store.db.execute("SELECT author, seq FROM records")}
    assert {(rec.author, rec.seq) for rec in needs} <= stored
    for n in (1, 8, 9, 129, 300):
        # Half the pairs are stored records, half are not.
        pairs = {(w.anna.pub, seq) for seq in range(1, n + 1)} | {(w.bo.pub, 9000 + n)}
        batch = derive.Batch(store.db)
        batch.prefetch(pairs, pairs)
        assert batch.looked == pairs
        assert batch.taken == pairs & stored
        assert batch.updated == ({(w.anna.pub, needs[3].seq)} & pairs)
    digests = [hashlib.sha256(rec.raw).digest() for rec in needs[:130]]
    absent = [hashlib.sha256(bytes([i])).digest() for i in range(5)]
    with store.write():
        assert store._lookup_present(absent + digests) == set(digests)
        assert store._lookup_present(absent[:1]) == set()
