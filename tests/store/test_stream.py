"""Pipelined ingest (node/store/stream.py): one stream of many batches answers
exactly as records ingested one by one; the next batch's signature checks start
inside the current batch's transaction, before it commits; a record stored by
another process in between is a duplicate; an error from the source comes
after the batch before it is stored; stopping early leaves the store usable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ledger_helpers import NOW, Actor, Net, derived_state

from meshaid.node.store import Store
from meshaid.node.store import checks as checks_module


def forged(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])


def network() -> tuple[Net, list[bytes], Actor, Actor]:
    net = Net()
    anna, bo = Actor("anna", 2), Actor("bo", 3)
    setup = [net.charter, net.hello(net.founder), net.hello(anna), net.vouch(net.founder, anna)]
    return net, [rec.raw for rec in setup], anna, bo


def mixed(net: Net, anna: Actor, bo: Actor) -> list[bytes]:
    """Three batches of 100: bo's first records before his hello (held), his hello
    at the end of the first batch, so the second batch's checks, started in the
    first batch's transaction, know his key; forged signatures in every batch."""
    raws = [net.offer(bo, text=f"crane {i}").raw for i in range(3)]
    raws += [net.need(anna, qty=i + 1, text=f"water {i}").raw for i in range(96)]
    raws.append(net.hello(bo).raw)
    for i in range(200):
        raw = (net.need(bo, text=f"rope {i}") if i % 2 else net.need(anna, text=f"oil {i}")).raw
        raws.append(forged(raw) if i % 13 == 5 else raw)
    raws[40] = forged(raws[40])
    raws.append(raws[120])  # a duplicate within the stream
    return raws


def test_a_stream_of_batches_answers_as_one_by_one() -> None:
    net, setup, anna, bo = network()
    raws = mixed(net, anna, bo)
    single = net.store()
    single.ingest_many(setup, now=NOW)
    expected = [(o.status, o.reason) for o in (single.ingest(raw, now=NOW) for raw in raws)]
    streamed = net.store()
    streamed.ingest_many(setup, now=NOW)
    got = [(o.status, o.reason) for o in streamed.ingest_stream(iter(raws), NOW, batch=100)]
    assert got == expected
    assert ("held", "unknown-author") in got and ("rejected", "bad-signature") in got
    assert got[-1] == ("duplicate", "")
    assert derived_state(streamed) == derived_state(single)
    assert streamed.count("held") == 0  # bo's early records released by his hello


def test_the_next_batch_is_checked_before_the_current_one_commits(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    net, setup, anna, _bo = network()
    store = net.store()
    store.ingest_many(setup, now=NOW)
    raws = [net.need(anna, text=f"tarps {i}").raw for i in range(4 * checks_module.PARALLEL_MIN)]
    started: list[tuple[bool, int, int]] = []  # (in a transaction, records stored, jobs)
    submit = checks_module.Checks.submit

    def counting(self, network, chunk):  # type: ignore[no-untyped-def]
        started.append((store.db.conn.in_transaction, store.count("records"), len(chunk)))
        submit(self, network, chunk)

    monkeypatch.setattr(checks_module.Checks, "submit", counting)
    out = store.ingest_many(raws, now=NOW, batch=len(raws) // 2)
    assert {o.status for o in out} == {"accepted"}
    first = [s for s in started if not s[0]]
    ahead = [s for s in started if s[0]]
    assert sum(s[2] for s in first) == sum(s[2] for s in ahead) == len(raws) // 2
    # The second batch's jobs went out while the first batch's records were stored
    # but not committed, inside its transaction.
    assert {s[1] for s in ahead} == {len(setup) + len(raws) // 2}


def test_a_record_another_process_stores_between_batches_is_a_duplicate(
        tmp_path: Path) -> None:
    net, setup, anna, _bo = network()
    path = tmp_path / "ledger.db"
    mine = Store.open(path)
    mine.expect_network(net.code)
    mine.ingest_many(setup, now=NOW)
    other = Store.open(path)
    raws = [net.need(anna, text=f"soap {i}").raw for i in range(300)]
    sneaked = raws[250]  # in the second batch, looked up before the first committed
    statuses = []
    for k, outcome in enumerate(mine.ingest_stream(raws, NOW, batch=150)):
        if k == 0:  # the first batch committed; the second one's checks are running
            assert other.ingest(sneaked, now=NOW).status == "accepted"
        statuses.append(outcome.status)
    assert statuses == ["duplicate" if raw == sneaked else "accepted" for raw in raws]
    assert mine.count("records") == len(setup) + len(raws)
    assert derived_state(mine) == derived_state(other)


class Broken(Exception):
    pass


def test_an_error_from_the_source_comes_after_the_batch_before_it() -> None:
    net, setup, anna, _bo = network()
    store = net.store()
    store.ingest_many(setup, now=NOW)
    raws = [net.need(anna, text=f"salt {i}").raw for i in range(250)]

    def source() -> Iterator[bytes]:
        yield from raws
        raise Broken

    seen = []
    try:
        for outcome in store.ingest_stream(source(), NOW, batch=100):
            seen.append(outcome.status)
    except Broken:
        pass
    else:
        raise AssertionError("the source's error was swallowed")
    assert seen == ["accepted"] * 250
    assert store.count("records") == len(setup) + 250


def test_stopping_a_stream_early_keeps_what_committed_and_the_store_usable() -> None:
    net, setup, anna, _bo = network()
    store = net.store()
    store.ingest_many(setup, now=NOW)
    raws = [net.need(anna, text=f"rice {i}").raw for i in range(400)]
    stream = store.ingest_stream(raws, NOW, batch=100)
    got = [next(stream).status for _ in range(150)]
    stream.close()
    assert got == ["accepted"] * 150
    assert store.count("records") == len(setup) + 200  # two batches committed
    rest = store.ingest_many(raws, now=NOW)
    assert [o.status for o in rest] == ["duplicate"] * 200 + ["accepted"] * 200
    assert store.count("objects") == 400
