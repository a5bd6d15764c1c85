"""Every statement the hot paths run (ingest and derive, membership changes, the
board, showing a record, the change feed, the sync engine's look-ups) searches
an index of `records` and `objects` instead of reading either table whole, with
the indexes the current schema has (m006 dropped records(kind, hlc)).

The statements are captured while the paths run, then asked for their plan
(EXPLAIN QUERY PLAN): a plan line 'SCAN x' on one of the two big tables fails
the test, unless the statement is one of the few that read every row by design.
"""

from __future__ import annotations

import re

from ledger_helpers import NOW, Actor, World

from meshaid.node.ledger import records as r
from meshaid.node.store import Store, derive, feed, gc, history, queries
from meshaid.node.store.sqlconst import PAD_SIZES
from meshaid.node.store.store import record_id
from meshaid.node.store.sync_port import SyncLedger
from meshaid.node.sync.ports import RxMeta

BIG = ("records", "objects")
# Statements that read every row on purpose, each with why.
WHOLE_READS = {
    r"SELECT COUNT\(\*\) FROM records": "a count",
    r"FROM records r LEFT JOIN members m ON m\.key = r\.author\s*$":
        "sync_infos: the engine's whole record set at start-up",
    r"GROUP BY r\.author": "meshclock.rebuild: newest record per member, after a membership change",
    r"WHERE m\.key IS NULL AND r\.kind != ": "the non-member quota's window, read once per port",
    r"AS held\s+FROM records WHERE kind IN":
        "gc.excluded: every superseded version, for sync_infos, a collection or a membership change",
}


def plans(store: Store, statements: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sql in dict.fromkeys(statements):
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if head not in ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT"):
            continue
        if not any(re.search(rf"\b{t}\b", sql) for t in BIG):
            continue
        out[sql] = [row[3] for row in store.db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
    return out


def aliases(sql: str) -> set[str]:
    """Names under which `sql` reads a big table (the table's or its alias)."""
    names = set()
    for table, alias in re.findall(r"(?:FROM|JOIN|UPDATE)\s+(records|objects)\b(?:\s+(?!ON\b|WHERE\b"
                                   r"|JOIN\b|LEFT\b|SET\b|ORDER\b|GROUP\b|LIMIT\b)(\w+))?", sql):
        names.add(alias or table)
        names.add(table)
    return names


def whole_reads(found: dict[str, list[str]]) -> list[tuple[str, str]]:
    bad = []
    for sql, lines in found.items():
        if any(re.search(pattern, sql) for pattern in WHOLE_READS):
            continue
        names = aliases(sql)
        for line in lines:
            m = re.match(r"(?:SCAN (\w+)|SEARCH (\w+) USING AUTOMATIC)", line)
            if m and (m.group(1) or m.group(2)) in names:  # an automatic index reads it whole
                bad.append((sql, line))
    return bad


def exercise() -> tuple[Store, list[str]]:
    w = World.build()
    store = w.store()
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    water = w.net.need(w.anna, qty=200, text="drinking water", urgency=3, site="Pier 3 clinic")
    store.ingest(water.raw, now=NOW, heard=RxMeta(sender=7, snr=5.0, rssi=-90.0, hops=1))
    batch = [w.net.need(w.bo, qty=10 + i, text=f"splints {i}") for i in range(40)]
    batch += [w.net.pledge(w.bo, water, 5 + i) for i in range(30)]
    batch += [w.net.offer(w.anna, qty=40, text="M6 brackets")]
    batch += [w.net.update(w.bo, batch[0], status=int(r.Status.FULFILLED))]
    store.ingest_many([rec.raw for rec in batch], now=NOW)
    store.ingest(w.net.update(w.anna, water, qty=150).raw, now=NOW)
    # Membership: a vouch for a new key, then a revocation cutting bo's later records.
    dee = Actor("dee", 5)
    store.ingest_many([w.net.hello(dee).raw, w.net.vouch(w.founder, dee).raw], now=NOW)
    store.ingest(w.net.revoke(w.founder, w.bo, through_seq=20).raw, now=NOW)
    # Reading: the board, one record with its pledges, the feed, the sync engine.
    queries.open_needs(store, NOW)
    queries.get_object(store, record_id(water.short_author, water.seq), now=NOW)
    queries.object_state(store, water.short_author, water.seq)
    history.updates_of(store, record_id(water.short_author, water.seq))
    history.first_heard(store, record_id(water.short_author, water.seq))
    queries.keys_by_short(store, w.anna.short)
    queries.seq_run(store, w.anna.pub)
    queries.stored_hashes(store, [bytes(32)])
    feed.changes(store.db, 0, 50)
    store.heard(bytes(32))
    store.outbox()
    port = SyncLedger(store)
    list(port.sync_infos())
    info = next(iter(port.sync_infos()))
    port.sync_raw(info.id)
    port.sync_ingest(w.net.need(w.anna, text="tarps").raw, NOW,
                     RxMeta(sender=9, snr=1.0, rssi=-100.0, hops=2))
    port.sync_ingest(water.raw, NOW)  # a duplicate: looked up by hash
    # An update through the port (its slot's superseded versions leave the sync
    # set: node/store/synced.py), then a garbage collection (node/store/gc.py).
    port.sync_ingest(w.net.update(w.anna, water, qty=120).raw, NOW)
    port.sync_ingest(w.net.hello(w.anna, "Anna, clinic").raw, NOW)
    gc.collect(store)
    store.ingest(w.net.update(w.anna, water, qty=110).raw, now=NOW)
    history.updates_of(store, record_id(water.short_author, water.seq))  # with a tombstone
    store.charter_raw()
    store.db.conn.set_trace_callback(None)
    return store, seen


def test_hot_paths_search_indexes_only() -> None:
    store, seen = exercise()
    found = plans(store, seen)
    # The paths ran: inserts, the derive look-ups, the board and the sync engine's.
    assert any("INSERT INTO records" in sql for sql in seen)
    assert any("FROM v CROSS JOIN records r ON r.author = v.a" in sql for sql in found)
    assert any("o.kind = " in sql and "o.valid_until" in sql for sql in found)
    assert any("WHERE hash >= " in sql for sql in found)
    assert any(sql.startswith("SELECT author, raw FROM records WHERE kind IN") for sql in found)
    assert any("AS held" in sql and "AND ref_seq = " in sql for sql in found)  # an update slot
    assert any("INSERT OR IGNORE INTO collected" in sql for sql in seen)
    assert any("CROSS JOIN records u" in sql for sql in found)  # history.updates_of
    assert any("CROSS JOIN records r ON r.author = o.author" in sql for sql in found)  # first_heard
    assert whole_reads(found) == []


def test_the_checker_sees_a_whole_table_read() -> None:
    store, _seen = exercise()
    values = "WITH v(a, s) AS (VALUES " + ", ".join(["(X'00', 1)"] * 300) + ") "
    automatic = (values + "SELECT r.author FROM v JOIN records r ON r.author = v.a"
                 f" AND r.ref_seq = v.s AND r.kind = {int(r.Kind.UPDATE)}")
    found = plans(store, ["SELECT raw FROM records WHERE hlc > 5",
                          "SELECT o.text FROM objects o WHERE o.note = 'x'",
                          "SELECT raw FROM records WHERE hash = X'00'", automatic])
    assert [sql for sql, _line in whole_reads(found)] == [
        "SELECT raw FROM records WHERE hlc > 5", "SELECT o.text FROM objects o WHERE o.note = 'x'",
        automatic]


def test_batch_look_ups_of_every_length_search_indexes() -> None:
    """The plan of a look-up over a list of values depends on its length: given a
    few hundred pairs, a plain join made SQLite index every update record anew."""
    w = World.build()
    store = w.store()
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    for n in PAD_SIZES:
        pairs = {(w.anna.pub, seq) for seq in range(1000, 1000 + n)}
        derive.Batch(store.db).prefetch(pairs, pairs)
        store.ingest_many([w.net.need(w.bo, text=f"rope {n} {i}").raw for i in range(n)], now=NOW)
    store.db.conn.set_trace_callback(None)
    found = plans(store, seen)
    assert sum("CROSS JOIN records r" in sql for sql in found) >= 2 * len(PAD_SIZES)
    assert whole_reads(found) == []
