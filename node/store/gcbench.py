"""Benchmark of live garbage collection (node/store/gc.py): what a collected
record costs on disk before and after, and what collecting costs on air.

    python -m meshaid.node.store.gcbench [--objects 2000] [--updates 5] [--scenario ci-small]
                                         [--rate 10]
    python -m meshaid.node.store.gcbench --ledger 100000

Disk: a ledger of `--objects` needs with `--updates` updates each (and a new
hello per author every 50 records); SQLite's own page accounting (dbstat,
after VACUUM) of every table and index, before and after collecting.

Air: the scenario (`--rate` posts per node per hour, half of them updates)
simulated twice with the
same seed, once as it is and once with one node collecting every 10 minutes
of virtual time. Collection changes
nothing any node does, so both runs send the same packets; the bench prints
the air of each, the copies of collected records that reached the collecting
node (each a counted duplicate) and the records it asked for that it had
collected (re-fetches: zero).

Cost (`--ledger N`): CPU time of collecting and of membership changes on a
ledger of N records (`membership`).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from . import gc

EVERY_S = 600.0
UPDATE_HEAVY = {"need": 0.25, "offer": 0.1, "pledge": 0.15, "update": 0.5}


def _sizes(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")
    rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    conn.close()
    return {name: int(size) for name, size in rows}


def disk(objects: int, updates: int) -> dict[str, Any]:
    """Bytes on disk of a ledger before and after collecting."""
    from ..ledger import codec, identity
    from ..ledger import records as r
    from . import Store

    founder = identity.key_from_seed(bytes(range(32)))
    stamp = 1_800_000_000 << 16
    charter = codec.encode(r.Charter("Bench"), founder, 1, stamp, codec.NO_NETWORK)
    net = identity.network_id(charter.raw)
    seq = 1
    raws = [charter.raw]

    def sign(body: r.Body) -> None:
        nonlocal seq, stamp
        seq += 1
        stamp += 1 << 16
        raws.append(codec.encode(body, founder, seq, stamp, net).raw)

    sign(r.Hello("founder", "dock"))
    for i in range(objects):
        sign(r.Need(1, f"water for shelter {i}", 100 + i, 4, 1))
        need_seq = seq
        for k in range(updates):
            sign(r.Update(need_seq, 0, 99 + i - k))
        if i % 50 == 49:
            sign(r.Hello("founder", f"dock {i}"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.db"
        store = Store.open(path)
        store.expect_network(identity.network_code(net))
        store.ingest_many(raws, now=1_800_000_000.0)
        store.close()
        before = _sizes(path)
        store = Store.open(path)
        t0 = time.perf_counter()
        done = gc.collect(store)
        took = time.perf_counter() - t0
        store.close()
        after = _sizes(path)
    freed = sum(before.values()) - sum(after.values())
    tombs = after.get("collected", 0) + after.get("collected_slot", 0)
    n = max(1, done.records)
    return {"collected": done.records, "raw_bytes": done.bytes_before,
            "db_before": sum(before.values()), "db_after": sum(after.values()),
            "per_record_before": round((freed + tombs) / n, 1),
            "per_record_after": round(tombs / n, 1), "seconds": round(took, 2)}


def membership(records: int) -> dict[str, Any]:
    """What garbage collection adds on a ledger of `records` records
    (bench.build_records: 200 members; needs, offers, pledges, 15 % updates),
    in CPU seconds of this thread (wall time follows the machine's load): the
    sync port's start-up (the engine's whole set, superseded versions left
    out), a collection (the full pass over hellos and updates, then the moves),
    a pass that finds nothing, and membership changes through the sync port,
    which say what left or came back into the sync set: a newcomer's hello and
    its vouch, then a revocation of the member with most updates, cut below
    them (its versions count again; collected ones are stored again)."""
    from ..ledger import codec, identity
    from ..ledger import records as r
    from . import Store, synced
    from .bench import bench_keys, build_records, last_unix
    from .sync_port import SyncLedger

    setup, recs = build_records(records)
    keys = bench_keys()
    founder, newcomer = keys[0], identity.key_from_seed(bytes(range(1, 33)))
    net = identity.network_id(setup[0])
    out: dict[str, Any] = {}

    def timed(label: str, fn: Any) -> Any:
        c0 = time.thread_time()
        result = fn()
        out[label] = round(time.thread_time() - c0, 3)
        return result

    with tempfile.TemporaryDirectory() as tmp:
        last = last_unix(recs)
        store = Store.open(Path(tmp) / "ledger.db", wall=lambda: last)
        store.expect_network(identity.network_code(net))
        store.ingest_many(setup + recs)
        db = store.db
        out["records"] = store.count()
        out["updates_and_hellos"] = db.execute(
            "SELECT COUNT(*) FROM records WHERE kind IN (?, ?)",
            [int(r.Kind.UPDATE), int(r.Kind.HELLO)]).fetchone()[0]
        port = SyncLedger(store)
        out["sync_set"] = timed("port_start_s", lambda: sum(1 for _ in port.sync_infos()))
        timed("excluded_pass_s", lambda: gc.excluded(db))
        out["collected"] = timed("collect_s", lambda: gc.collect(store)).records
        timed("collect_nothing_s", lambda: gc.collect(store))
        stamp = codec.parse(recs[-1]).hlc

        def sign(key: Any, body: r.Body) -> bytes:
            nonlocal stamp
            stamp += 1 << 16
            pub = identity.public_bytes(key)
            top = db.execute("SELECT MAX(seq) FROM records WHERE author = ?", [pub]).fetchone()[0]
            return codec.encode(body, key, (top or 0) + 1, stamp, net).raw

        timed("hello_s", lambda: port.sync_ingest(sign(newcomer, r.Hello("new", "new")), 0.0))
        vouch = sign(founder, r.Vouch(identity.public_bytes(newcomer)))
        timed("vouch_s", lambda: port.sync_ingest(vouch, 0.0))
        victim, first = db.execute(
            "SELECT author, MIN(seq) FROM records WHERE kind = ? GROUP BY author"
            " ORDER BY COUNT(*) DESC LIMIT 1", [int(r.Kind.UPDATE)]).fetchone()
        revoke = sign(founder, r.Revoke(bytes(victim), int(first) - 1, "bench"))
        result = timed("revoke_s", lambda: port.sync_ingest(revoke, 0.0))
        out["revoke_returned"] = len(result.returned)
        timed("revoke_sync_change_s", lambda: synced.change(db, hashlib.sha256(revoke).digest()))
        timed("excluded_ids_s", lambda: synced.excluded_ids(db))
        store.close()
    return out


def air(scenario: str, rate: float) -> dict[str, Any]:
    """The scenario with and without one node collecting every EVERY_S."""
    from ..sim import scenario as scn
    from ..sim.runner import Simulation

    out: dict[str, Any] = {}
    for collecting in (False, True):
        sc = scn.load(scenario)
        # Updates often, so that versions are superseded (the default mix has 10 %).
        sc.workload["mix"] = UPDATE_HEAVY
        sc.workload["records_per_node_per_hour"] = rate
        sim = Simulation(sc)
        node = sim.world.ledger_nodes[0]
        target = sim.nodes[node]
        counts = {"collected": 0, "copies": 0, "refetched": 0}
        ledger = target.engine.ledger
        inner = ledger.sync_ingest

        def ingest(raw: bytes, now: float, meta: Any = None, _inner: Any = inner,
                   _db: Any = target.store.db, _counts: dict = counts,
                   _engine: Any = target.engine) -> Any:
            import hashlib

            digest = hashlib.sha256(raw).digest()
            if _db.execute("SELECT 1 FROM collected WHERE id = ?", [digest[:8]]).fetchone():
                _counts["copies"] += 1
                if digest[:8] in _engine.recon.requests or meta is None:
                    _counts["refetched"] += 1  # asked for (a request or a pull answer)
            return _inner(raw, now, meta)

        ledger.sync_ingest = ingest
        if collecting:
            def tick(_sim: Any = sim, _store: Any = target.store, _counts: dict = counts) -> None:
                _counts["collected"] += gc.collect(_store).records
                _sim.events.schedule(_sim.events.now + EVERY_S, tick)

            sim.events.schedule(EVERY_S, tick)
        result = sim.run()
        key = "with_gc" if collecting else "without_gc"
        out[key] = {"air_s": result["airtime_s"]["total"],
                    "delivered": result["delivered_fraction"], **counts}
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the disk and air figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--objects", type=int, default=2000)
    p.add_argument("--updates", type=int, default=5)
    p.add_argument("--scenario", default="ci-small")
    p.add_argument("--rate", type=float, default=10.0, help="records per node per hour")
    p.add_argument("--ledger", type=int, default=0,
                   help="records of a ledger to time collection and membership changes on "
                        "(0: skip; the disk and air parts are skipped when given)")
    args = p.parse_args(argv)
    if args.ledger:
        m = membership(args.ledger)
        print(f"ledger of {m['records']} records ({m['updates_and_hellos']} updates and hellos), "
              f"sync set {m['sync_set']}; CPU seconds: sync port start-up {m['port_start_s']}, "
              f"pass over superseded versions {m['excluded_pass_s']}, collection "
              f"{m['collect_s']} ({m['collected']} collected), a pass collecting nothing "
              f"{m['collect_nothing_s']}, through the sync port: a newcomer's hello "
              f"{m['hello_s']}, its vouch {m['vouch_s']}, a revocation {m['revoke_s']} "
              f"({m['revoke_returned']} versions back in the set; the sync-set part alone "
              f"{m['revoke_sync_change_s']}), every id outside the set {m['excluded_ids_s']}")
        return
    d = disk(args.objects, args.updates)
    print(f"disk: {d['collected']} records collected of {args.objects} needs x "
          f"{args.updates} updates in {d['seconds']} s; database {d['db_before']} -> "
          f"{d['db_after']} bytes; per collected record {d['per_record_before']} bytes "
          f"before (record row, indexes), {d['per_record_after']} after (tombstone); "
          f"raw records {d['raw_bytes'] / max(1, d['collected']):.1f} bytes each")
    a = air(args.scenario, args.rate)
    for key, row in a.items():
        print(f"air [{args.scenario}] {key}: {row['air_s']} s on air, delivered "
              f"{row['delivered']}, collected {row['collected']}, copies of collected records "
              f"arrived {row['copies']}, re-fetched {row['refetched']}")


if __name__ == "__main__":
    functools.partial(main)()
