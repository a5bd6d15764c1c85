"""The attacks of the attack suite: what an attacker with the channel key sends
(and, for `stolen-pull`, with one member's stolen key as well).

Each attack is a function that returns the next packet as (payload, claimed
sender), or None to skip a turn. The attacker hears the whole mesh (it holds
the channel key), so it knows every record id, which neighbours are real and
what their counts are; it may claim to be any node. `Ctx` is what it knows.
The echo attack is reactive instead: `echo_copies` says how it answers each
RECORDS packet it hears. attacks.py runs them and measures the damage.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..ledger import codec
from ..ledger.wire import DecodeError
from ..sync import messages as m
from ..sync import riblt
from ..sync import ticket as tk
from ..sync.engine import record_id
from ..sync.ports import CLASS_BOARD, CLASS_MEMBERSHIP, CLASS_OF_KIND

# payload, the sender it claims[, the relays the header claims it went through]
Packet = tuple[bytes, int] | tuple[bytes, int, int]
Signer = tk.Signer


@dataclass
class Ctx:
    """What the attacker knows: the network tag, the honest nodes it hears,
    its victim, and every record (raw bytes by id) held by the mesh."""

    tag: bytes
    attacker: int
    victim: int
    neighbours: list[int]  # honest ledger nodes that hear the attacker
    records: dict[bytes, bytes]
    rng: random.Random
    fresh_keys: Callable[[int], list[bytes]]  # n signed hellos + needs from new keys
    adj: dict[int, list[int]] = field(default_factory=dict)  # who hears whom
    # an honest member's stolen key, signing: (bytes) -> (short id, signature)
    stolen: Signer | None = None
    # the victim's set as its last digest says it: (count, fingerprint)
    victim_set: Callable[[], tuple[int, int]] = lambda: (0, 0)
    turn: int = 0
    pending: list[bytes] = field(default_factory=list)
    queued: list[Packet] = field(default_factory=list)  # packets it will send next
    # the thief's member key signing a record body (a new
    # seq each call): the attacker node's own key, stolen; None unless the attack needs it
    sign: Callable[[object], bytes] | None = None
    now: Callable[[], float] = lambda: 0.0
    # packets the attacker overheard: (time, payload, claimed sender)
    heard: list[tuple[float, bytes, int]] = field(default_factory=list)
    names: list[int] = field(default_factory=list)  # made-up numbers it keeps using
    scratch: dict[str, Any] = field(default_factory=dict)  # an attack's own state

    def spoof(self) -> int:
        """A claimed sender: a real neighbour or a made-up node number, alternately."""
        if self.rng.random() < 0.5:
            return self.rng.choice(self.neighbours)
        return self.rng.getrandbits(31) | 0x40000000

    def ids_of(self, classes: set[int], urgent_only: bool = False) -> list[bytes]:
        out = []
        for rid, raw in self.records.items():
            p = codec.parse(raw)
            if CLASS_OF_KIND[p.kind] not in classes:
                continue
            if urgent_only and CLASS_OF_KIND[p.kind] != CLASS_MEMBERSHIP:
                continue
            out.append(rid)
        return sorted(out)


def _near_set(ctx: Ctx) -> tuple[int, riblt.Sketch]:
    """A set close to the mesh's: every id but the newest few, plus a few that
    exist nowhere (its count within a sketch's reach of every honest node's)."""
    ids = sorted(ctx.records)
    fakes = [ctx.rng.randbytes(8) for _ in range(6)]
    ints = [int.from_bytes(i, "big") for i in ids[:-8] + fakes]
    return len(ints), riblt.Sketch(1024, ints)


def spoofed_digest(ctx: Ctx) -> Packet:
    """A real neighbour's digest claiming a huge count: the victim thinks itself
    far behind and pulls everything from that neighbour."""
    src = ctx.rng.choice(ctx.neighbours)
    return m.encode(m.Digest(len(ctx.records) + 5000, ctx.rng.getrandbits(64)), ctx.tag), src


def forged_sketch(ctx: Ctx) -> Packet:
    """A sketch of (every id but the newest few) plus ids that exist nowhere: its
    listeners repair the first and ask for the second."""
    count, sketch = _near_set(ctx)
    return m.encode(m.Sketch(count, 0, sketch.encode(0, 16)), ctx.tag), ctx.spoof()


def near_digest(ctx: Ctx) -> Packet:
    """Digests of a set close to the mesh's, in real neighbours' names or made-up
    ones: each reads as a small difference, which listeners answer by sketching
    (the protocol's own reaction, not an answer paid by credit)."""
    count, sketch = _near_set(ctx)
    return m.encode(m.Digest(count + ctx.rng.randrange(-3, 4), sketch.ids[0]), ctx.tag), \
        ctx.spoof()


def near_sketch(ctx: Ctx) -> Packet:
    """A digest of a set close to the mesh's, then a sketch of that very set in
    the same name (so the sketch agrees with its sender's digest): listeners
    ask MORE of a node that never sketched, and while they drive its stream
    they reconcile with nobody."""
    if ctx.queued:
        return ctx.queued.pop()
    count, sketch = _near_set(ctx)
    src = ctx.spoof()
    ctx.queued.append((m.encode(m.Sketch(count, 0, sketch.encode(0, 16)), ctx.tag), src))
    return m.encode(m.Digest(count, sketch.ids[0]), ctx.tag), src


def _request(ctx: Ctx, ids: list[bytes]) -> Packet:
    per = (228 - m.HEADER) // m.ID_LEN
    start = ctx.rng.randrange(max(1, len(ids)))
    chunk = (ids[start:] + ids[:start])[:per]
    return m.encode(m.Request(tuple(chunk)), ctx.tag), ctx.spoof()


def request_urgent(ctx: Ctx) -> Packet:
    """Requests for membership records (charter, hellos, vouches: urgent ones)."""
    return _request(ctx, ctx.ids_of({CLASS_MEMBERSHIP}, urgent_only=True))


def request_board(ctx: Ctx) -> Packet:
    """Requests for needs and offers."""
    return _request(ctx, ctx.ids_of({CLASS_BOARD}))


def pull_flood(ctx: Ctx) -> Packet:
    """Bootstrap pulls from the start of a partition, aimed at the victim."""
    part = ctx.rng.randrange(3)
    return m.encode(m.Pull(ctx.victim, part, 3, b""), ctx.tag), ctx.spoof()


def more_flood(ctx: Ctx) -> Packet:
    """Requests for more symbols of the victim's sketch (it never sent one)."""
    start = 16 * ctx.rng.randrange(1, 60)
    return m.encode(m.More(ctx.victim, start), ctx.tag), ctx.spoof()


def filter_flood(ctx: Ctx) -> Packet:
    """FILTERs naming the victim, empty (lacking everything) and claiming a full
    window held: answered with its newest records, and walked toward in reply."""
    return m.encode(m.Filter(ctx.victim, 0, m.HLC_MAX, 160, 7, bytes(200)), ctx.tag), ctx.spoof()


def nonmember_flood(ctx: Ctx) -> Packet:
    """Validly signed hellos and needs from keys nobody admitted."""
    if not ctx.pending:
        ctx.pending = ctx.fresh_keys(1)  # a hello, then a need of the same key
    raw = ctx.pending.pop(0)
    return m.encode(m.Records((raw,)), ctx.tag), ctx.rng.getrandbits(31) | 0x40000000


def stolen_pull(ctx: Ctx) -> Packet | None:
    """A thief holding one member's key pulls, in its own node number, the start
    of every partition from each node that hears it, with a ticket signed by
    that key; every sixth packet is a digest saying it holds nothing (the
    answers wait for the puller's own digest to show it behind)."""
    if ctx.stolen is None:
        return None
    ctx.turn += 1
    if ctx.turn % 6 == 1:
        return m.encode(m.Digest(0, 0, True), ctx.tag), ctx.attacker
    pulls = ctx.turn - 1 - ctx.turn // 6  # pulls so far: every hearer, every partition
    target = ctx.neighbours[pulls % len(ctx.neighbours)]
    pass_ = tk.make(ctx.stolen, ctx.tag, ctx.attacker, target)
    pull = m.Pull(target, (pulls // len(ctx.neighbours)) % 3, 3, b"", ticket=pass_)
    return m.encode(pull, ctx.tag), ctx.attacker


def junk_digest(ctx: Ctx) -> Packet:
    """Digests from made-up senders (fills the peer table)."""
    src = ctx.rng.getrandbits(31) | 0x40000000
    return m.encode(m.Digest(ctx.rng.randrange(1, 40), ctx.rng.getrandbits(64)), ctx.tag), src


def lying_lists(ctx: Ctx) -> Packet:
    """Digests in the attacker's own number that agree with the victim's set (so
    its listeners count it a neighbour syncing with them) and name every honest
    node as its neighbour, choosing none as a relay: its listeners would take it
    as the one multipoint relay that covers everything, choose no other, and
    the relays they would have chosen would stand down."""
    count, fingerprint = ctx.victim_set()
    everyone = tuple(sorted({n & 0xFFFF for n in ctx.adj if n != ctx.attacker}))
    return m.encode(m.Digest(count, fingerprint, False, everyone[: m.MAX_NEIGHBOURS], True, ()),
                    ctx.tag), ctx.attacker


def far_claims(ctx: Ctx) -> Packet:
    """Digests in made-up numbers whose headers claim three relays (hop_start 3,
    hop limit 0: nobody relays them on), each number twice (a number heard once
    does not count), agreeing with the victim's set, naming no neighbour and
    not saying whom they chose as far relays: its listeners would take them
    as ledger peers behind radio-only relays and send every record and digest
    at hop 3 for them, for the firmware of every radio around to carry."""
    if ctx.queued:
        return ctx.queued.pop()
    count, fingerprint = ctx.victim_set()
    src = ctx.rng.getrandbits(31) | 0x40000000
    pkt = (m.encode(m.Digest(count, fingerprint, False, (), True, ()), ctx.tag), src, 3)
    ctx.queued.append(pkt)
    return pkt


def noise(ctx: Ctx) -> Packet:
    """Short frames that are no sync packet (a version byte nobody speaks, then
    random bytes, 16 to 32 in all) from made-up numbers: a jammer. Every
    listener drops them at the first byte; what they cost honest nodes is what
    the attacker's air alone does, colliding with their frames. At a given
    duty, the shorter the frames, the more of them, and the more honest frames
    each hour of it hits (one of 0.52 s every 5.2 s overlaps a 1.5 s frame
    about 2 times in 5): the floor under every other row's delays (a critical
    need's three tries in its first minute all lost where the attacker drowns
    the one node that carries it across)."""
    size = ctx.rng.randrange(16, 33)
    return bytes([0xF0]) + ctx.rng.randbytes(size - 1), ctx.rng.getrandbits(31) | 0x40000000


def echo_copies(ctx: Ctx, payload: bytes, sender: int) -> list[Packet]:
    """An echo of a RECORDS packet heard: copies claiming to come from the nodes
    around the sender (one and two hops away), so that the sender's neighbours
    believe their own neighbours covered and cancel their relays."""
    try:
        msg = m.decode(payload)
    except DecodeError:
        return []
    if not isinstance(msg, m.Records) or not msg.relay:
        return []
    near = list(ctx.adj.get(sender, []))
    near += [x for n in near for x in ctx.adj.get(n, [])]
    claims = [n for n in dict.fromkeys(near) if n != sender and n != ctx.attacker][:3]
    return [(payload, n) for n in claims]


PERIODIC: dict[str, Callable[[Ctx], Packet | None]] = {
    "spoofed-digest": spoofed_digest,
    "forged-sketch": forged_sketch,
    "near-digest": near_digest,
    "near-sketch": near_sketch,
    "request-urgent": request_urgent,
    "request-board": request_board,
    "pull-flood": pull_flood,
    "more-flood": more_flood,
    "filter-flood": filter_flood,
    "nonmember-flood": nonmember_flood,
    "junk-digest": junk_digest,
    "noise": noise,
    "stolen-pull": stolen_pull,
    "lying-lists": lying_lists,
    "far-claims": far_claims,
}
# attacks that hold a stolen member key (attacks.py run_one)
STOLEN = {"stolen-pull"}


def rid_of(raw: bytes) -> bytes:
    return record_id(raw)


def relay_for(ctx: Ctx, src: int, hops: int) -> int:
    """The relay a packet claiming `hops` relays names in its header (relay_node):
    the honest node that most of the attacker's hearers hear directly, and after
    one relay one that hears `src` (when `src` is a real node), so that as many
    listeners as can take it for a neighbour's relay (node/sync/hearers.py)."""
    hear = set(ctx.neighbours)
    real = src in ctx.adj
    best, most = ctx.attacker, -1
    for node, nbrs in sorted(ctx.adj.items()):
        if node in (ctx.attacker, src) or (hops == 1 and real and src not in nbrs):
            continue
        shared = len(hear.intersection(nbrs)) + (node in hear)
        if shared > most:
            best, most = node, shared
    return best
