"""What the daemon needs from the engine: which records a packet carries, a
send the radio refused (requeue, refund), the budget window across a restart,
and records another process stored."""

from __future__ import annotations

from pathlib import Path

from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store.sync_port import SyncLedger
from meshaid.node.sync import messages as m
from meshaid.node.sync.engine import Engine

from .harness import T0, Ledger, Mesh, Radio, clone, line, rid


def two() -> Mesh:
    ledger = Ledger(2, seed=3)
    return Mesh(ledger, [clone(ledger.full) for _ in range(2)], line(2), Radio(), seed=3)


def test_a_records_packet_names_the_records_it_carries() -> None:
    mesh = two()
    mesh.run_for(60.0)
    before = len(mesh.sent)
    raws = [mesh.need(0, f"blankets {i}") for i in range(3)]
    mesh.run_for(5.0)
    pushes = [s.out for s in mesh.sent[before:] if s.out.tag == "push"]
    assert pushes
    for out in pushes:
        msg = m.decode(out.payload)
        assert isinstance(msg, m.Records)
        assert out.records == tuple(rid(raw) for raw in msg.records)
        assert out.airtime > 0 and out.at >= T0
    assert {x for out in pushes for x in out.records} == {rid(raw) for raw in raws}
    for s in mesh.sent:
        if s.out.tag == "digest":
            assert s.out.records == ()


def test_a_failed_send_is_refunded_and_its_records_go_again() -> None:
    mesh = two()
    mesh.run_for(60.0)
    engine = mesh.engines[0]
    rec = mesh.stores[0].author(r.Need(1, "insulin", 2, 4, 3), mesh.ledger.keys[0], mesh.now)
    used = engine.budget.used(mesh.now)
    engine.local_record(rec.raw, mesh.now)
    (out,) = [o for o in engine.poll(mesh.now) if o.tag == "push"]  # urgent: at once
    assert out.records == (rid(rec.raw),)
    assert engine.budget.used(mesh.now) > used
    engine.send_failed(out, mesh.now)  # the radio refused it: it never went on air
    assert abs(engine.budget.used(mesh.now) - used) < 1e-9
    assert engine.stats.failed == 1 and engine.stats.airtime["push"] == 0
    assert engine.next_timer() == mesh.now + engine.cfg.retry_delay
    mesh.timers[0] = engine.next_timer()
    mesh.run_for(engine.cfg.retry_delay + 5.0)
    assert mesh.holders(rec.raw) == [0, 1]  # the retry went on air and arrived


def test_the_budget_window_survives_a_restart(tmp_path: Path) -> None:
    mesh = two()
    mesh.run_for(600.0)
    for i in range(6):
        mesh.need(0, f"tarps {i}")
    mesh.run_for(120.0)
    engine = mesh.engines[0]
    used = engine.budget.used(mesh.now)
    assert used > 0
    wall = [1_900_000_000.0]
    store = Store.open(tmp_path / "ledger.db", wall=lambda: wall[0])
    store.save_budget(engine.budget_snapshot(mesh.now))
    wall[0] += 30.0  # the restart took 30 s of wall time; the new engine's clock starts at 0
    fresh = Engine(SyncLedger(mesh.stores[0]), mesh.ledger.config(), 0)
    fresh.restore_budget(store.load_budget(), 0.0)
    assert abs(fresh.budget.used(0.0) - used) < 1e-6
    # and it ages out an hour after the original sends, not an hour after restart
    last_send = max(s.t for s in mesh.sent if s.node == 0)
    assert fresh.budget.used(3600.0 - (mesh.now - last_send) - 30.0 + 1.0) == 0.0
    store.close()


def test_a_record_stored_by_another_process_is_counted_not_pushed(tmp_path: Path) -> None:
    ledger = Ledger(2, seed=4)
    path = tmp_path / "ledger.db"
    seed = Store.open(path)
    ledger.full.db.conn.backup(seed.db.conn)  # the ledger, as a file two connections share
    seed.close()
    mine = Store.open(path)
    other = Store.open(path)
    engine = Engine(SyncLedger(mine), ledger.config(), 0)
    engine.start(T0)
    count = engine.count
    raw = ledger.sign(1, r.Need(1, "from a bundle", 3, 4))
    assert other.ingest(raw).status == "accepted"
    engine.add_stored(raw, T0 + 1.0)
    engine.add_stored(raw, T0 + 2.0)  # twice: counted once
    assert engine.count == count + 1 and rid(raw) in engine.infos
    assert rid(raw) not in engine.sends
    mine.close()
    other.close()
