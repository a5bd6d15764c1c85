"""Store benchmark: ingest throughput and board-query latency at scale.

    python -m meshaid.node.store.bench [--records 100000] [--db PATH]

Builds a network of 200 members, signs N records (needs, offers, pledges and
updates in realistic proportions) up front, then times `Store.ingest_many`
(decode + verify + store + derive) in batches of 500, on a file database in
WAL mode like a real node. Then times the "open needs by urgency" board query.
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from ..ledger import codec, identity
from ..ledger import records as r
from .queries import open_needs
from .store import Store


def build_records(n: int, members: int = 200, seed: int = 7) -> tuple[list[bytes], list[bytes]]:
    """(setup records: charter, hellos, vouches) and n signed ledger records."""
    rng = random.Random(seed)
    keys = [identity.key_from_seed(rng.randbytes(32)) for _ in range(members)]
    founder = keys[0]
    stamp = 60_000_000 << 16
    charter = codec.encode(r.Charter("Bench"), founder, 1, stamp, codec.NO_NETWORK)
    net = identity.network_id(charter.raw)
    seqs = {i: 1 for i in range(members)}
    seqs[0] = 1

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
    needs: list[tuple[int, int]] = []
    own: dict[int, list[int]] = {i: [] for i in range(members)}
    out: list[bytes] = []
    words = ["water", "splints", "M6 brackets", "diesel", "rice", "PCB rev B", "tarps"]
    while len(out) < n:
        i = rng.randrange(members)
        roll = rng.random()
        if roll < 0.35 or not needs:
            body: r.Body = r.Need(rng.choice([1, 2, 3, 5, 35, 37]), f"{rng.choice(words)} #{len(out)}",
                                  rng.randint(1, 500), 0, rng.randrange(4), 2880, "")
            raw = sign(i, body)
            needs.append((i, seqs[i]))
            own[i].append(seqs[i])
        elif roll < 0.55:
            raw = sign(i, r.Offer(rng.choice([32, 33, 36, 39]), f"capacity {len(out)}",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="database file (default: a temp file)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    setup, recs = build_records(args.records)
    print(f"signed {len(recs)} records in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        store = Store.open(path)
        store.expect_network(identity.network_code(identity.network_id(setup[0])))
        store.ingest_many(setup)
        t0 = time.perf_counter()
        accepted = 0
        for start in range(0, len(recs), 500):
            outcomes = store.ingest_many(recs[start : start + 500])
            accepted += sum(o.status == "accepted" for o in outcomes)
        elapsed = time.perf_counter() - t0
        print(f"ingest: {accepted}/{len(recs)} accepted in {elapsed:.1f} s = "
              f"{len(recs) / elapsed:,.0f} records/s (decode + verify + store + derive)")
        now = time.time()
        times = []
        for _ in range(50):
            t0 = time.perf_counter()
            rows = open_needs(store, now, limit=100)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"open needs by urgency (100 rows of {store.count('objects')} objects): "
              f"median {statistics.median(times):.2f} ms, max {max(times):.2f} ms, rows {len(rows)}")
        store.close()


if __name__ == "__main__":
    main()
