"""Membership benchmark: how long `membership.derive` takes on a large ledger.

    python -m meshaid.node.ledger.membench [--members 2000] [--revokes 200] [--attack 0]
                                            [--chain 0 [--ring [--closed] [--chords] [--past]]]

Builds a network (founder, two co-stewards, admission 1) of `--members` members
admitted by 60 stewards in two layers, then `--revokes` revocations in
realistic proportions: stewards cutting members they admitted, the council
(two founding stewards) cutting members, stewards cutting stewards they
admitted whose keys then signed vouches past the cut. `--attack N` adds a
stolen steward key that makes 2N stewards and revokes each of them, is cut,
then signs N revokes of founding stewards and N vouches past its cut, while
its stewards revoke each other in N mutual pairs (conflicts the evaluation
settles one by one). `--chain N` adds another stolen steward key that makes
N stewards and revokes each of them, each of its stewards vouching for the
next one and revoking it (with a through that keeps its vouch and drops its
revoke), so that whether each is cut hangs on whether the one before it is:
a chain of N dependent revocations; with `--ring` the last of them also vouches
for the first, so that the chain is one strongly connected component; with
`--closed` too it also revokes the first, closing the loop of revokes as well
(membership.py, Cost). Two variants the shared walks around a ring do not
cover yet (PROTOCOL.md §4 Cost, open): `--chords`, each link also revokes the
link after next; `--past`, each link also vouches (for membership only) for the
link after next past its cut, so that cuts change whether vouches count.
Records are built unsigned (membership never reads signatures); the clock
values are fixed.
Prints the median and worst time of `--runs` derivations and the outcome;
asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import statistics
import time

from . import membership
from . import records as r


def key(i: int) -> bytes:
    return hashlib.sha256(b"membench" + i.to_bytes(4, "big")).digest()


class _Ledger:
    def __init__(self) -> None:
        self.seqs: dict[bytes, int] = {}
        self.events: list[r.Record] = []

    def sign(self, author: bytes, body: r.Body, seq: int | None = None) -> r.Record:
        if seq is None:
            seq = self.seqs.get(author, 0) + 1
        self.seqs[author] = max(seq, self.seqs.get(author, 0))
        raw = repr((author, seq, body)).encode()
        rec = r.Record(r.KIND_OF_BODY[type(body)], author, seq, 1 << 16, body, raw)
        self.events.append(rec)
        return rec


def build(members: int, revokes: int, attack: int, seed: int = 7,
          chain: int = 0, ring: bool = False, closed: bool = False,
          chords: bool = False, past: bool = False) -> tuple[r.Record, list[r.Record]]:
    """(charter, vouch and revoke records) of the benchmark ledger."""
    rng = random.Random(seed)
    founder, k1, k2 = key(0), key(1), key(2)
    founding = [founder, k1, k2]
    charter = r.Record(r.Kind.CHARTER, founder, 1, 1 << 16,
                       r.Charter("Bench", 1, (k1, k2)), b"charter")
    led = _Ledger()
    led.seqs[founder] = 1
    layer1 = [key(10 + i) for i in range(30)]
    layer2 = [key(100 + i) for i in range(30)]
    for i, s in enumerate(layer1):
        led.sign(founding[i % 3], r.Vouch(s, 1))
    for i, s in enumerate(layer2):
        led.sign(layer1[i], r.Vouch(s, 1))
    stewards = founding + layer1 + layer2
    admitted: dict[bytes, list[bytes]] = {}
    for i in range(members):
        m = key(1000 + i)
        for s in rng.sample(stewards, 2 if i % 5 == 0 else 1):
            led.sign(s, r.Vouch(m, 0))
            admitted.setdefault(s, []).append(m)
    # stewards cut by the steward that admitted them; their key then vouches on
    n_stewards = max(1, revokes // 10)
    for i in range(n_stewards):
        victim, voucher = layer2[i % len(layer2)], layer1[i % len(layer1)]
        led.sign(voucher, r.Revoke(victim, led.seqs.get(victim, 0)))
        led.sign(victim, r.Vouch(key(50_000 + i), 0))  # past its cut: never counts
    n_council = max(1, revokes // 5)
    for i in range(n_council):
        m = key(1000 + rng.randrange(members))
        led.sign(k1, r.Revoke(m, 0))
        led.sign(k2, r.Revoke(m, 0))
    while sum(isinstance(e.body, r.Revoke) for e in led.events) < revokes:
        s = rng.choice(stewards[3:])
        if admitted.get(s):
            led.sign(s, r.Revoke(rng.choice(admitted[s]), rng.randrange(3)))
    if attack:
        thief = layer1[-1]
        for i in range(attack):  # before its cut: two stewards, each revoked by the thief
            a, b = key(90_000 + i), key(91_000 + i)
            led.sign(thief, r.Vouch(a, 1))
            led.sign(thief, r.Vouch(b, 1))
            led.sign(thief, r.Revoke(a, 0))
            led.sign(thief, r.Revoke(b, 0))
        top = led.seqs[thief]
        led.sign(founder, r.Revoke(thief, top))
        led.sign(k1, r.Revoke(thief, top))
        for i in range(attack):  # after: counter-revokes and mutual revocations
            led.sign(thief, r.Revoke(founding[1 + i % 2], 0))
            led.sign(thief, r.Vouch(key(92_000 + i), 0))
            a, b = key(90_000 + i), key(91_000 + i)
            led.sign(a, r.Vouch(b, 1))
            led.sign(b, r.Vouch(a, 1))
            led.sign(a, r.Revoke(b, 0))
            led.sign(b, r.Revoke(a, 0))
    if chain:
        thief = layer1[-2]
        links = [key(95_000 + i) for i in range(chain)]
        for link in links:
            led.sign(thief, r.Vouch(link, 1))
        for link in links:
            led.sign(thief, r.Revoke(link, 1))
        for a, b in itertools.pairwise(links):
            led.sign(a, r.Vouch(b, 1), seq=1)  # kept by a's cut through 1
            led.sign(a, r.Revoke(b, 1), seq=2)  # dropped by it
        if ring and chain > 1:
            led.sign(links[-1], r.Vouch(links[0], 1), seq=1)
            if closed:
                led.sign(links[-1], r.Revoke(links[0], 1), seq=2)
            for i, link in enumerate(links):
                after_next = links[(i + 2) % chain]
                if chords:
                    led.sign(link, r.Revoke(after_next, 1), seq=3)
                if past:
                    led.sign(link, r.Vouch(after_next, 0), seq=4)
    return charter, led.events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--revokes", type=int, default=200)
    ap.add_argument("--attack", type=int, default=0, help="conflicts a stolen steward key signs")
    ap.add_argument("--chain", type=int, default=0, help="dependent revocations a stolen key chains")
    ap.add_argument("--ring", action="store_true", help="close the chain into a ring")
    ap.add_argument("--closed", action="store_true",
                    help="with --ring, the last link revokes the first too")
    ap.add_argument("--chords", action="store_true",
                    help="with --ring, each link also revokes the link after next")
    ap.add_argument("--past", action="store_true",
                    help="with --ring, each link also vouches for the link after next past its cut")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    charter, events = build(args.members, args.revokes, args.attack, chain=args.chain,
                            ring=args.ring, closed=args.closed, chords=args.chords,
                            past=args.past)
    n_rev = sum(isinstance(e.body, r.Revoke) for e in events)
    times = []
    out: dict[bytes, membership.Member] = {}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        out = membership.derive(charter, events)
        times.append(time.perf_counter() - t0)
    cut = sum(m.revoked_through is not None for m in out.values())
    stewards = sum(m.role == "steward" for m in out.values())
    print(f"records: {len(events)} ({n_rev} revokes); members: {len(out)} "
          f"({stewards} stewards, {cut} cut)")
    print(f"derive: median {statistics.median(times) * 1000:.1f} ms, "
          f"worst {max(times) * 1000:.1f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
