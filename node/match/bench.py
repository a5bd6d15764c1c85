"""Matching benchmark: how long one match takes with many open records.

    python -m meshaid.node.match.bench [--records 10000] [--samples 60] [--db PATH]

Builds a network of 200 members and signs N records, all open at the
benchmark's `now`: needs (a tenth of them for products that take a chain:
armour plate, tanks, brackets, splints), offers (stock with packs, capacity
with rates, inputs and windows) in the categories those need, and pledges,
a third of them drawing on their author's own offer. They go into a file
database in WAL mode like a real node. Then it times `match` for a sample of
needs (plain and chain) and offers: median, 95th percentile and maximum, in
milliseconds, as wall time and as this process's CPU time (the two differ
when other work shares the cores). Every clock is fixed (the records' own timestamps), so the
numbers never depend on today's date. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ..ledger import codec, hlc, identity
from ..ledger import records as r
from ..store import Store
from . import match

EPOCH = 60_000_000  # HLC seconds of the first record (late 2026; any fixed value)
WORDS = ["water", "rice", "diesel", "tarps", "blankets", "splints", "brackets", "PCB",
         "steel", "pipe", "valve", "cable", "bolts", "timber", "fabric", "pump"]
CHAIN_TEXTS = ["armour plate, 6 mm", "water tank, 1000 L", "M6 brackets", "splints, adult"]
NEED_CATS = [1, 2, 3, 4, 5, 6, 40, 255]
OFFER_CATS = [1, 2, 3, 4, 5, 32, 33, 35, 36, 43, 64, 65, 69]


def build(n: int, members: int = 200, seed: int = 11) -> tuple[list[bytes], list[bytes]]:
    """(setup records, n open needs, offers and pledges), one second apart."""
    rng = random.Random(seed)
    keys = [identity.key_from_seed(rng.randbytes(32)) for _ in range(members)]
    stamp = EPOCH << 16
    charter = codec.encode(r.Charter("Bench"), keys[0], 1, stamp, codec.NO_NETWORK)
    net = identity.network_id(charter.raw)
    seqs = dict.fromkeys(range(members), 1)

    def sign(i: int, body: r.Body) -> bytes:
        nonlocal stamp
        seqs[i] += 1
        stamp += 1 << 16
        return codec.encode(body, keys[i], seqs[i], stamp, net).raw

    setup = [charter.raw]
    for i in range(members):
        pos = r.Position.from_degrees(43.29 + rng.random() / 20, 5.36 + rng.random() / 20)
        setup.append(sign(i, r.Hello(f"site {i}", f"site {i}", 0, pos if i % 3 else None)))
    for i in range(1, members):
        setup.append(sign(0, r.Vouch(identity.public_bytes(keys[i]))))
    needs: list[tuple[int, int]] = []
    offers: dict[int, list[int]] = {i: [] for i in range(members)}
    out: list[bytes] = []
    week = 7 * 1440
    while len(out) < n:
        i = rng.randrange(members)
        roll = rng.random()
        k = len(out)
        if roll < 0.35 or not needs:
            text = (rng.choice(CHAIN_TEXTS) if rng.random() < 0.1 else
                    f"{rng.choice(WORDS)} {rng.choice(WORDS)} #{k}")
            body: r.Body = r.Need(rng.choice(NEED_CATS), text, rng.randint(1, 500),
                                  rng.choice([0, 1, 7, 4]), rng.randrange(4), 4 * week, "",
                                  needed_by_min=rng.choice([0, 1440, 2880]))
            out.append(sign(i, body))
            needs.append((i, seqs[i]))
        elif roll < 0.7:
            cat = rng.choice(OFFER_CATS)
            capacity = cat in (32, 33, 35, 36, 43) or rng.random() < 0.2
            text = f"{rng.choice(WORDS)} {'steel ' if cat == 64 else ''}offer #{k}"
            body = r.Offer(cat, text, rng.randint(1, 100), 9 if capacity else rng.choice([0, 1, 7]),
                           1 if capacity else 0, 2 if capacity else 0, 4 * week, "",
                           pack=r.Pack(2, 7) if cat == 64 else None,
                           inputs=(64,) if capacity and cat in (33, 43) else (),
                           windows=(r.Window(0, 600), r.Window(1440, 600)) if capacity else ())
            out.append(sign(i, body))
            offers[i].append(seqs[i])
        else:
            ni, ns = rng.choice(needs)
            own = offers[i][-1] if offers[i] and rng.random() < 0.33 else 0
            out.append(sign(i, r.Pledge(identity.short_id(identity.public_bytes(keys[ni])), ns,
                                        rng.randint(1, 20), 600, "", own)))
    return setup, out


def timed(store: Store, ids: list[str], now: float) -> tuple[list[float], list[float]]:
    """(wall ms, CPU ms of this process) of one match of each id."""
    wall, cpu = [], []
    for rid in ids:
        t0, c0 = time.perf_counter(), time.process_time()
        match(store, rid, now=now)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def summary(name: str, times: tuple[list[float], list[float]]) -> str:
    out = f"{name:<14} n={len(times[0]):<4}"
    for label, values in zip(("wall", "cpu"), times, strict=True):
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        out += (f"  {label} median {statistics.median(values):6.1f} p95 {p95:6.1f} "
                f"max {values[-1]:6.1f}")
    return out + "  (ms)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    args = parser.parse_args(argv)
    setup, recs = build(args.records)
    now = float(hlc.unix_of(codec.parse(recs[-1]).hlc)) + 60
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "ledger.db"
        store = Store.open(path, wall=lambda: now)
        store.expect_network(identity.network_code(identity.network_id(setup[0])))
        t0 = time.perf_counter()
        store.ingest_many(setup + recs, now=now)
        built = time.perf_counter() - t0
        rows = store.db.execute(
            "SELECT lower(hex(short)) || '-' || seq, kind, text FROM objects"
            " WHERE kind IN (2, 3) AND status = 0 ORDER BY author, seq").fetchall()
        rng = random.Random(5)
        plain = [rid for rid, kind, text in rows if kind == 2 and "#" in text]
        chain = [rid for rid, kind, text in rows if kind == 2 and "#" not in text]
        offers = [rid for rid, kind, _t in rows if kind == 3]
        live = store.db.execute("SELECT COUNT(*) FROM objects WHERE status = 0").fetchone()[0]
        sys.stdout.write(f"{args.records} records signed, {live} open objects "
                         f"({len(plain) + len(chain)} needs, {len(offers)} offers), "
                         f"ingested in {built:.1f} s; load average {os.getloadavg()[0]:.1f} "
                         f"on {os.cpu_count()} cores\n")
        timed(store, rng.sample(plain, min(5, len(plain))), now)  # warm the caches
        for name, pool in (("need (plain)", plain), ("need (chain)", chain), ("offer", offers)):
            sample = rng.sample(pool, min(args.samples, len(pool)))
            sys.stdout.write(summary(name, timed(store, sample, now)) + "\n")
        store.close()


if __name__ == "__main__":
    main()
