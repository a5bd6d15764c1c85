"""Store benchmark: ingest throughput, board-query latency, engine start-up and
memory, and two processes writing at once, at scale.

    python -m meshaid.node.store.bench [--records 100000] [--db PATH]

Builds a network of 200 members, signs N records (needs, offers, pledges and
updates in realistic proportions) up front, then times `Store.ingest_many`
(decode + verify + store + derive) as one stream committed in batches of 500
(`Store.ingest_stream`, as `meshaid import` hands a bundle over: the next
batch's signatures are checked while one is stored), on a file database in WAL mode like a real node; the last 500
records one at a time (`Store.ingest`, the radio's path). CPU is reported
beside wall time: the storing thread's, and the verification threads' (which
run in parallel with it: `cryptography` releases the GIL while it verifies), and
the machine's load average, since on a shared machine wall time follows it. Every clock is fixed or relative to the records'
own timestamps, so the numbers do not depend on today's date. Then:

* board query ("open needs by urgency", 100 rows) with the board full (every
  need still valid) and with few needs open (all but the newest expired);
* engine start-up on the database, and the resident memory of that process;
* two processes importing at once into one database (records/s together).

Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..ledger import codec, hlc, identity
from ..ledger import records as r
from .queries import open_needs
from .store import Store

EPOCH = 60_000_000  # HLC seconds of the first record (late 2026; any fixed value will do)
VALID_MIN = 2880  # needs are valid for two days
RADIO = 500  # the last records are ingested one at a time, as from the radio


def bench_keys(members: int = 200, rng: random.Random | None = None) -> list:
    """The members' keys of `build_records` (member 0 founded the network)."""
    rng = random.Random(7) if rng is None else rng
    return [identity.key_from_seed(rng.randbytes(32)) for _ in range(members)]


def build_records(n: int, members: int = 200, seed: int = 7,
                  first: int = 0) -> tuple[list[bytes], list[bytes]]:
    """(setup records: charter, hellos, vouches) and n signed ledger records, one
    second apart from EPOCH on. `first` numbers records (distinct texts for a
    second set signed by the same keys with later seqs)."""
    rng = random.Random(seed)
    keys = bench_keys(members, rng)
    founder = keys[0]
    stamp = EPOCH << 16
    charter = codec.encode(r.Charter("Bench"), founder, 1, stamp, codec.NO_NETWORK)
    net = identity.network_id(charter.raw)
    seqs = {i: 1 for i in range(members)}

    def sign(i: int, body: r.Body) -> bytes:
        nonlocal stamp
        seqs[i] += 1
        stamp += 1 << 16
        return codec.encode(body, keys[i], seqs[i], stamp, net).raw

    setup = [charter.raw]
    for i in range(members):
        setup.append(sign(i, r.Hello(f"site {i}", f"site {i}", 0)))
    for i in range(1, members):
        setup.append(sign(0, r.Vouch(identity.public_bytes(keys[i]))))
    if first:
        for i in range(members):
            seqs[i] += 10 * first  # well past the first set's seqs
    needs: list[tuple[int, int]] = []
    own: dict[int, list[int]] = {i: [] for i in range(members)}
    out: list[bytes] = []
    words = ["water", "splints", "M6 brackets", "diesel", "rice", "PCB rev B", "tarps"]
    while len(out) < n:
        i = rng.randrange(members)
        roll = rng.random()
        k = first + len(out)
        if roll < 0.35 or not needs:
            body: r.Body = r.Need(rng.choice([1, 2, 3, 5, 35, 37]), f"{rng.choice(words)} #{k}",
                                  rng.randint(1, 500), 0, rng.randrange(4), VALID_MIN, "")
            raw = sign(i, body)
            needs.append((i, seqs[i]))
            own[i].append(seqs[i])
        elif roll < 0.55:
            raw = sign(i, r.Offer(rng.choice([32, 33, 36, 39]), f"capacity {k}",
                                  rng.randint(1, 100), 0, 1, 2, 10080, ""))
            own[i].append(seqs[i])
        elif roll < 0.85:
            ni, ns = rng.choice(needs)
            raw = sign(i, r.Pledge(identity.short_id(identity.public_bytes(keys[ni])), ns,
                                   rng.randint(1, 50), 240, ""))
            own[i].append(seqs[i])
        else:
            if not own[i]:
                continue
            target = rng.choice(own[i])
            raw = sign(i, r.Update(target, rng.choice([0, 1, 3]), rng.randint(1, 500), 0, 0, ""))
        out.append(raw)
    return setup, out


def last_unix(recs: list[bytes]) -> float:
    return float(hlc.unix_of(codec.parse(recs[-1]).hlc))


def time_board(store: Store, now: float) -> tuple[float, float, float, float, int]:
    """(median ms, max ms, median CPU ms, max CPU ms, rows) of the first board
    screen at `now` (CPU time: what the query costs when the machine is shared)."""
    times, cpu = [], []
    rows: list = []
    for _ in range(30):
        t0, c0 = time.perf_counter(), time.thread_time()
        rows = open_needs(store, now, limit=100)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return statistics.median(times), max(times), statistics.median(cpu), max(cpu), len(rows)


_ENGINE_PROBE = """
import json, resource, sys, time
from meshaid.node.store import Store
from meshaid.node.store.sync_port import SyncLedger
from meshaid.node.sync.engine import Engine
from meshaid.node.sync.ports import SyncConfig
t0, c0 = time.perf_counter(), time.process_time()
store = Store.open(sys.argv[1], wall=lambda: 0.0)
engine = Engine(SyncLedger(store), SyncConfig(network_tag=b"..", airtime=lambda n: 1.0), 1)
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
t0 = time.perf_counter()
engine.sketch.settle()  # what the first reconciliation adds
settle = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": elapsed, "cpu": cpu, "settle": settle, "count": engine.count,
                  "rss_mb": rss}))
"""

_WRITER = """
import sys, time
from meshaid.node.ledger import bundle
from meshaid.node.store import Store
path, src = sys.argv[1], sys.argv[2]
_net, lines = bundle.read(open(src).read())
raws = [line.raw for line in lines]
store = Store.open(path, wall=lambda: 0.0)
t0 = time.perf_counter()
out = store.ingest_many(raws, batch=500)
print(sum(o.status == "accepted" for o in out), time.perf_counter() - t0, time.perf_counter())
"""


def engine_startup(path: Path) -> dict:
    """Open a store and an engine on it in a fresh process: seconds and peak RSS."""
    proc = subprocess.run([sys.executable, "-c", _ENGINE_PROBE, str(path)], capture_output=True,
                          text=True, check=True)
    return dict(json.loads(proc.stdout))


def two_writers(path: Path, network: bytes, n: int, tmp: Path) -> tuple[int, float]:
    """Two processes import n/2 fresh records each into `path` at once: (records
    accepted, seconds from the first start to the last finish)."""
    from ..ledger import bundle

    _setup, extra = build_records(n, first=10 * n)
    halves = [extra[: n // 2], extra[n // 2 :]]
    files = []
    for k, half in enumerate(halves):
        f = tmp / f"half{k}.bundle"
        f.write_text(bundle.write(network, half))
        files.append(f)
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(f)],
                              stdout=subprocess.PIPE, text=True) for f in files]
    accepted = 0
    for p in procs:
        out, _ = p.communicate()
        accepted += int(out.split()[0])
    return accepted, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--concurrent", type=int, default=20_000,
                        help="records the two concurrent writers import together (0: skip)")
    parser.add_argument("--batch", type=int, default=500,
                        help="records per transaction (meshaid import: 500)")
    parser.add_argument("--db", type=Path, help="database file (default: a temp file)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    setup, recs = build_records(args.records)
    print(f"signed {len(recs)} records in {time.perf_counter() - t0:.1f} s")
    last = last_unix(recs)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        store = Store.open(path, wall=lambda: last)
        store.expect_network(identity.network_code(identity.network_id(setup[0])))
        store.ingest_many(setup)
        radio = recs[-RADIO:]  # kept for the one-at-a-time path below
        bulk = recs[:-RADIO]
        load = os.getloadavg()[0]
        t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
        accepted = sum(o.status == "accepted"  # as `meshaid import` calls it
                       for o in store.ingest_stream(bulk, batch=args.batch))
        elapsed = time.perf_counter() - t0
        cpu, main_cpu = time.process_time() - c0, time.thread_time() - m0
        print(f"ingest: {accepted}/{len(bulk)} accepted in {elapsed:.1f} s = "
              f"{len(bulk) / elapsed:,.0f} records/s (decode + verify + store + derive); "
              f"CPU {1e6 * cpu / len(bulk):.0f} us/record, of which "
              f"{1e6 * main_cpu / len(bulk):.0f} us in the storing thread and "
              f"{1e6 * (cpu - main_cpu) / len(bulk):.0f} us in the verification threads; "
              f"CPU/wall {cpu / elapsed:.2f}; load average {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after")
        t0, m0 = time.perf_counter(), time.thread_time()
        for raw in radio:  # one record per transaction, as from the radio: no thread pool
            store.ingest(raw)
        print(f"one at a time (radio path), {len(radio)} records: "
              f"{1e6 * (time.thread_time() - m0) / len(radio):.0f} us CPU and "
              f"{1e3 * (time.perf_counter() - t0) / len(radio):.2f} ms wall per record")
        objects = store.count("objects")
        for label, now in (("full board", last),
                           ("few open", last + VALID_MIN * 60 - len(recs) / 1000)):
            med, worst, cpu_med, cpu_worst, rows = time_board(store, now)
            print(f"open needs by urgency, {label} (100 rows of {objects} objects): "
                  f"median {med:.2f} ms, max {worst:.2f} ms (CPU median {cpu_med:.2f} ms, "
                  f"max {cpu_worst:.2f} ms), rows {rows}")
        network = store.network
        store.close()
        probe = engine_startup(path)
        print(f"engine start-up on {probe['count']} records: {probe['s']:.2f} s "
              f"(CPU {probe['cpu']:.2f} s; its sketch, built on first use, "
              f"{probe['settle']:.2f} s more); process RSS {probe['rss_mb']:.0f} MB")
        if args.concurrent and network is not None:
            n, seconds = two_writers(path, network, args.concurrent, Path(tmp))
            print(f"two processes importing at once: {n} records in {seconds:.1f} s = "
                  f"{n / seconds:,.0f} records/s together")


if __name__ == "__main__":
    main()
