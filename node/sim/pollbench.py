"""How long one `Engine.poll()` takes on a large ledger under attack.

    python -m meshaid.node.sim.pollbench [--records 100000] [--seconds 1800]

Builds a store of N signed records (node/store/bench.py's generator, on a
temporary file database like a real node), starts one engine on it, and
feeds it hostile packets every 0.2 s of virtual time for `--seconds`:
padded and unpadded PULLs for every partition from many claimed senders and
cursors, MOREs, REQUESTs for random held and unknown ids, forged SKETCHes,
FILTERs of random windows, lying DIGESTs, junk and records of unadmitted keys.
After each packet the engine is polled (as the daemon does when its timer
fires), and the wall time of every poll() is recorded, and of every
receive(). Prints the count, mean, p99 and worst poll in milliseconds (wall
time, and the CPU time of the same polls: on a shared machine the wall time
also counts other processes holding the core), the worst receive, the
engine's start-up time and its table sizes at the end.
Clocks are virtual or fixed; the numbers are the machine's.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from ..ledger import codec, identity
from ..ledger import records as r
from ..store import Store
from ..store.bench import build_records, last_unix
from ..store.sync_port import SyncLedger
from ..sync import messages as m
from ..sync import riblt
from ..sync.engine import Engine
from ..sync.ports import RxMeta, SyncConfig


def airtime(n: int) -> float:
    """LONG_FAST-like air time of an n-byte payload."""
    return 0.4 + 0.0075 * n


def hostile(rng: random.Random, tag: bytes, me: int, ids: list[bytes], net: bytes,
            count: int, authors: list[bytes] | None = None) -> tuple[bytes, int]:
    """One hostile packet and the sender it claims (`authors`: keys a FILTER may
    name as left out, so that its answer passes over their records)."""
    sender = rng.choice([1, 2, 3]) if rng.random() < 0.3 else rng.getrandbits(31) | 1 << 30
    roll = rng.randrange(10)
    msg: m.Message
    if roll == 0:
        cursor = b"" if rng.random() < 0.3 else bytes([rng.randrange(3)]) + rng.randbytes(14)
        msg = m.Pull(me, rng.randrange(3), 3, cursor)
        if rng.random() < 0.5:
            msg = m.pad_to(msg, 228, tag)
    elif roll == 1:
        parts = rng.randrange(1, 17)
        msg = m.pad_to(m.Pull(me, rng.randrange(parts), parts, b""), 228, tag)
    elif roll == 2:
        msg = m.pad_to(m.More(me, 16 * rng.randrange(64)), 228, tag)
    elif roll == 3:
        chosen = tuple(rng.sample(ids, 13)) + tuple(rng.randbytes(8) for _ in range(13))
        msg = m.Request(chosen, me if rng.random() < 0.5 else None)
    elif roll == 4:
        fake = riblt.Sketch(1024, [int.from_bytes(rng.randbytes(8), "big") for _ in range(40)])
        msg = m.Sketch(count + rng.randrange(-5, 5), 0, fake.encode(0, 16))
    elif roll == 5:
        msg = m.Digest(count + rng.choice([1, 60, 5000]), rng.getrandbits(64))
    elif roll == 6:
        key = identity.key_from_seed(rng.randbytes(32))
        msg = m.Records((codec.encode(r.Hello("spam", "nowhere"), key, 1, 0, net).raw,))
    elif roll == 7:
        return bytes([0x13]) + tag + rng.randbytes(rng.randrange(1, 200)), sender
    elif roll == 8:
        until = rng.choice([m.HLC_MAX, rng.getrandbits(48)])
        skip = tuple(rng.sample(authors, min(len(authors), rng.randrange(m.MAX_SKIP + 1)))) \
            if authors else ()
        msg = m.Filter(me, rng.choice([0, until // 2, until]), until, rng.randrange(200), 7,
                       rng.randbytes(rng.randrange(1, 200)), b"", skip)
    else:
        msg = m.Digest(count, rng.getrandbits(64), False, (1, 2, 3), True, (1,))
    return m.encode(msg, tag), sender


def run(records: int, seconds: float, seed: int = 5) -> dict[str, float]:
    """Build, start, attack; the poll() timings in milliseconds."""
    setup, recs = build_records(records)
    net = identity.network_id(setup[0])
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(str(Path(tmp) / "ledger.db"))
        store.expect_network(identity.network_code(net))
        wall = last_unix(recs) + 60.0
        store.wall = lambda: wall
        store.ingest_many(setup + recs, wall)
        cfg = SyncConfig(network_tag=net[:2], airtime=airtime)
        t0 = time.perf_counter()
        engine = Engine(SyncLedger(store), cfg, node=0x100, seed=seed)
        startup = time.perf_counter() - t0
        rng = random.Random(seed)
        ids = list(engine.infos)
        authors = sorted({i.author for i in engine.infos.values()})
        times: list[float] = []
        heard: list[float] = []  # receive() wall times
        cpu: list[float] = []  # the same polls' CPU time: wall time on a shared machine
        # also counts the time other processes held the core
        now = 0.0
        engine.start(now)
        while now < seconds:
            now += 0.2
            payload, sender = hostile(rng, net[:2], 0x100, ids, net, engine.count, authors)
            t = time.perf_counter()
            engine.receive(payload, RxMeta(sender=sender, snr=rng.uniform(-10, 10)), now)
            heard.append(time.perf_counter() - t)
            due = engine.next_timer()
            if due is not None and due <= now:
                t, c = time.perf_counter(), time.process_time()
                engine.poll(now)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
        tables = engine.answers.table_sizes()
        store.close()
    times.sort()
    cpu.sort()
    out = {"records": float(engine.count), "startup_s": round(startup, 2),
           "polls": float(len(times)),
           "mean_ms": round(1000 * sum(times) / max(1, len(times)), 2),
           "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 2) if times else 0.0,
           "max_ms": round(1000 * times[-1], 2) if times else 0.0,
           "cpu_mean_ms": round(1000 * sum(cpu) / max(1, len(cpu)), 2),
           "cpu_p99_ms": round(1000 * cpu[int(0.99 * (len(cpu) - 1))], 2) if cpu else 0.0,
           "cpu_max_ms": round(1000 * cpu[-1], 2) if cpu else 0.0,
           "receive_max_ms": round(1000 * max(heard, default=0.0), 2)}
    out.update({f"table_{k}": float(v) for k, v in tables.items()})
    return out


def main(argv: list[str] | None = None) -> int:
    """Print poll() timings on a large ledger under attack."""
    ap = argparse.ArgumentParser(
        prog="python -m meshaid.node.sim.pollbench",
        description="Time Engine.poll() on a large ledger fed hostile packets. "
                    "Example: python -m meshaid.node.sim.pollbench --records 20000 --seconds 600")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=1800.0, help="virtual seconds of attack")
    args = ap.parse_args(argv)
    if args.records < 1 or args.seconds <= 0:
        print("--records and --seconds must be positive", file=sys.stderr)
        return 2
    for key, value in run(args.records, args.seconds).items():
        print(f"{key:24} {value:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
