"""More attacks for the suite (attacks.py), first written by a reviewer from
outside who had not read the engine's rules: a stolen member key that posts
(critical needs, vouches, needs) or proves made-up numbers far peers; made-up
neighbours that copy a node's digest (a fake crowd, fake watchers of urgent
records); genuine packets replayed later in their senders' names; slow lies
that stay under every pacer (a near-digest every two minutes, with or without
requests that look like take-up); junk behind a genuine record; MOREs for a
stream in progress; requests in far nodes' voices; ticket churn; overheard
digests re-sent with lists naming everyone. Each is a function of attack_kinds.py's
`Ctx` returning the next packet, as there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..ledger import records as r
from ..ledger.wire import DecodeError
from ..sync import messages as m
from ..sync import riblt
from ..sync import ticket as tk
from .attack_kinds import Ctx, Packet, _near_set

M = TypeVar("M", bound=m.Message)


def _fresh(ctx: Ctx) -> int:
    return ctx.rng.getrandbits(31) | 0x40000000


def _thief_needs(ctx: Ctx, category: int, urgency: int, tag: str) -> Packet | None:
    """Two genuine needs a packet, signed with the stolen key at its next seqs."""
    if ctx.sign is None:
        return None
    ctx.turn += 1
    recs = tuple(ctx.sign(r.Need(category, f"{tag}{ctx.turn}.{i}", 5, 0, urgency))
                 for i in range(2))
    return m.encode(m.Records(recs), ctx.tag), ctx.attacker


def stolen_critical(ctx: Ctx) -> Packet | None:
    """A thief holding one member's key posts genuine critical needs in its own
    number: an admitted author's urgent records were relayed by every node in the
    urgent band, whatever the author's rate, and rechecked (now only within the
    author's urgent allowance: ports.py `author_urgent_*`)."""
    return _thief_needs(ctx, 1, 3, "w")


def stolen_posts(ctx: Ctx) -> Packet | None:
    """The same thief posting normal needs: past the author's rate they were
    relayed as bulk (now left to reconciliation)."""
    return _thief_needs(ctx, 2, 1, "f")


def stolen_vouch(ctx: Ctx) -> Packet | None:
    """The thief (a plain member, no steward) vouching for fresh keys, two vouches
    a packet: a vouch is urgent whatever its effect (a member's vouch admits
    nobody)."""
    if ctx.sign is None:
        return None
    subjects = [bytes([0x11]) + ctx.rng.randbytes(31) for _ in range(2)]
    recs = []
    for sub in subjects:
        try:
            recs.append(ctx.sign(r.Vouch(sub)))
        except ValueError:
            continue
    if not recs:
        return None
    return m.encode(m.Records(tuple(recs)), ctx.tag), ctx.attacker


def stolen_far_proof(ctx: Ctx) -> Packet | None:
    """far-claims with genuine membership proofs: the stolen key signs a ticket
    (own number, ANYONE) for two made-up numbers (a key proves two), whose
    digests claim three relays, agree with the victim's set and do not say
    whom they chose as far relays: listeners take them as far peers and send at
    their far scope for the firmware of every radio to carry."""
    if ctx.stolen is None:
        return None
    if not ctx.names:
        ctx.names = [_fresh(ctx), _fresh(ctx)]
    src = ctx.names[ctx.turn % 2]
    ctx.turn += 1
    count, fingerprint = ctx.victim_set()
    proof = tk.make(ctx.stolen, ctx.tag, src, tk.ANYONE)
    return (m.encode(m.Digest(count, fingerprint, False, (), True, (), None, proof), ctx.tag),
            src, 3)


def stolen_far_sketch(ctx: Ctx) -> Packet | None:
    """stolen-far-proof, then sketches: two made-up numbers, proven far peers by
    the stolen key's tickets and claiming three relays, each in turn sends a
    digest of a made-up set holding hundreds of records its listeners lack,
    then that set's sketch from index 0 (vouched by the digest: the listeners
    decode it). The symbols say the sketcher holds many records the listener
    lacks: a listener then walks toward it with filters (filters.py), which
    toward a far peer go at hop 1, for the firmware of every radio around to
    repeat, unless only a house that hears no ledger node walks so, paid."""
    return _far_set(ctx, 300)


def stolen_far_behind(ctx: Ctx) -> Packet | None:
    """stolen-far-sketch with made-up sets 30 records smaller than the
    listeners' (a far peer behind them, which any of them may serve): every
    listener's sketch for it went at hop 3 (1.99 times the thief's air)."""
    return _far_set(ctx, -30)


def _far_set(ctx: Ctx, ahead: int) -> Packet | None:
    """Two proven made-up far numbers in turn: a digest of a made-up set `ahead`
    records larger than the victim's (smaller if negative), then its sketch,
    both claiming three relays."""
    if ctx.stolen is None:
        return None
    if not ctx.names:
        ctx.names = [_fresh(ctx), _fresh(ctx)]
    src = ctx.names[(ctx.turn // 2) % 2]
    first = ctx.turn % 2 == 0
    ctx.turn += 1
    if first:
        count, _fingerprint = ctx.victim_set()
        ctx.pending = [ctx.rng.randbytes(8) for _ in range(max(1, count + ahead))]
    sketch = riblt.Sketch(1024, (int.from_bytes(i, "big") for i in ctx.pending))
    if first:
        proof = tk.make(ctx.stolen, ctx.tag, src, tk.ANYONE)
        digest = m.Digest(sketch.n, sketch.ids[0], False, (), True, (), None, proof)
        return m.encode(digest, ctx.tag), src, 3
    return m.encode(m.Sketch(sketch.n, 0, sketch.encode(0, 16)), ctx.tag), src, 3


def sketch_takeup(ctx: Ctx) -> Packet | None:
    """near-digest in a made-up number, every ~2 minutes (as often as a listener
    sketches its set again), then, for each honest node heard sketching since,
    one tiny unpadded REQUEST naming it (one made-up id) in another made-up
    number: a REQUEST naming us counts as take-up of our sketch (answers.py
    `heard`), and every made-up number shares the STRANGERS pacing entry, so the
    pacing of sketches for strangers' digests never starts. Idle otherwise."""
    if ctx.queued:
        return ctx.queued.pop(0)
    now = ctx.now()
    last = ctx.names[0] if ctx.names else -1e9
    sketchers = {src for t, p, src in ctx.heard
                 if t > last and m.peek(p)[0] == m.SKETCH and src in ctx.adj}
    for n in sorted(sketchers):
        ctx.queued.append((m.encode(m.Request((ctx.rng.randbytes(8),), n), ctx.tag),
                           _fresh(ctx)))
    if ctx.queued:
        ctx.names = [int(now)]
        return ctx.queued.pop(0)
    return slow_near_digest(ctx)


def slow_near_digest(ctx: Ctx) -> Packet | None:
    """The control for sketch-takeup: the same near-digest every ~2 minutes in
    a made-up number, without the take-up requests."""
    now = ctx.now()
    last = ctx.names[0] if ctx.names else -1e9
    if now - last < 125.0:
        return None
    ctx.names = [int(now)]
    count, sketch = _near_set(ctx)
    return m.encode(m.Digest(count + ctx.rng.randrange(-3, 4), sketch.ids[0]), ctx.tag), \
        _fresh(ctx)


def stolen_near_digest(ctx: Ctx) -> Packet | None:
    """slow-near-digest every minute, each digest showing a membership proof the
    stolen key signs for its fresh number: a proven neighbour heard directly is
    paced with the known ones, not paid from the strangers' pool (digests.py
    `prompter`)."""
    if ctx.stolen is None:
        return None
    now = ctx.now()
    if now - (ctx.names[0] if ctx.names else -1e9) < 60.0:
        return None
    ctx.names = [int(now)]
    count, sketch = _near_set(ctx)
    src = _fresh(ctx)
    digest = m.Digest(count + ctx.rng.randrange(-3, 4), sketch.ids[0],
                      ticket=tk.make(ctx.stolen, ctx.tag, src, tk.ANYONE))
    return m.encode(digest, ctx.tag), src


def replay(ctx: Ctx) -> Packet | None:
    """Genuine packets the attacker overheard (digests, sketches, requests, MOREs,
    pulls, records), replayed 2-10 minutes later at hop 0 in their real sender's
    number: plausible wherever that sender is not heard directly."""
    now = ctx.now()
    while ctx.heard and now - ctx.heard[0][0] > 600.0:
        ctx.heard.pop(0)
    old = [h for h in ctx.heard if now - h[0] >= 120.0]
    if not old:
        return None
    _t, payload, src = old[ctx.rng.randrange(len(old))]
    return payload, src


def replay_sketch(ctx: Ctx) -> Packet | None:
    """Only the overheard SKETCH and DIGEST packets, replayed 2-10 minutes later in
    their sender's number: old sets, decoded against the listeners' new ones."""
    now = ctx.now()
    while ctx.heard and now - ctx.heard[0][0] > 600.0:
        ctx.heard.pop(0)
    old = [h for h in ctx.heard if now - h[0] >= 120.0 and m.peek(h[1])[0] in (m.SKETCH, m.DIGEST)]
    if not old:
        return None
    _t, payload, src = old[ctx.rng.randrange(len(old))]
    return payload, src


def fake_crowd(ctx: Ctx) -> Packet | None:
    """Forty made-up numbers, each sending the victim's very set twice (a digest
    of our set, heard directly: `active`, a known neighbour for 4 hours), then
    quiet but for one refresh a minute: every hearer counts itself in a crowd
    (over 12 neighbours), ignores neighbour lists, relays with probability
    6/degree, and waits for forty silent neighbours in its urgent rechecks."""
    if not ctx.names:
        ctx.names = [_fresh(ctx) for _ in range(40)]
    ctx.turn += 1
    est = 2 * len(ctx.names)
    if ctx.turn > est and ctx.turn % 12:
        return None
    src = ctx.names[(ctx.turn // 2) % len(ctx.names)] if ctx.turn <= est \
        else ctx.rng.choice(ctx.names)
    count, fingerprint = ctx.victim_set()
    return m.encode(m.Digest(count, fingerprint), ctx.tag), src


def fake_watchers(ctx: Ctx) -> Packet | None:
    """Six made-up numbers made known neighbours (each sends the victim's very set
    twice: `active`, too few for a crowd), then every 40 s one of them claims a set
    two records smaller than the victim's (random fingerprint): every urgent
    record is rechecked for them twice and then owed (three more sends on each
    short digest), and each known number has its own pacing entry for sketches."""
    if not ctx.names:
        ctx.names = [_fresh(ctx) for _ in range(6)]
    ctx.turn += 1
    count, fingerprint = ctx.victim_set()
    est = 2 * len(ctx.names)
    if ctx.turn <= est:
        return m.encode(m.Digest(count, fingerprint), ctx.tag), ctx.names[(ctx.turn - 1) // 2]
    now = ctx.now()
    if ctx.pending and now - int.from_bytes(ctx.pending[0], "big") < 40.0:
        return None
    ctx.pending = [int(now).to_bytes(8, "big")]
    src = ctx.names[ctx.turn % len(ctx.names)]
    if ctx.turn % 3 == 0:  # keep them syncing with us now and then
        return m.encode(m.Digest(count, fingerprint), ctx.tag), src
    return m.encode(m.Digest(max(0, count - 2), ctx.rng.getrandbits(64)), ctx.tag), src


def list_bloat(ctx: Ctx) -> Packet:
    """Ten made-up numbers that agree with the victim's set (known neighbours),
    each announcing a full list of 96 made-up neighbour ids with a random relay
    bitmap: two-hop sets of hundreds of ids for relay choice and coverage
    (poll time), and uncovered neighbours nobody can cover."""
    if not ctx.names:
        ctx.names = [_fresh(ctx) for _ in range(10)]
    ctx.turn += 1
    src = ctx.names[ctx.turn % len(ctx.names)]
    count, fingerprint = ctx.victim_set()
    nbrs = tuple(sorted(ctx.rng.sample(range(1, 65536), m.MAX_NEIGHBOURS)))
    relays = tuple(x for x in nbrs if ctx.rng.random() < 0.3)
    return m.encode(m.Digest(count, fingerprint, False, nbrs, True, relays), ctx.tag), src


def records_junk(ctx: Ctx) -> Packet:
    """A RECORDS packet at exactly 228 bytes: a genuine record the mesh holds,
    then a record-shaped tail of junk (length byte valid, signature not), in a
    real neighbour's number or a made-up one."""
    raw = ctx.records[ctx.rng.choice(sorted(ctx.records))]
    room = 228 - m.RECORDS_ROOM - 1 - len(raw) - 1
    junk = bytes([0x12]) + ctx.rng.randbytes(max(65, min(200, room)) - 1)
    payload = m.encode(m.Records((raw,)), ctx.tag) + bytes([len(junk)]) + junk
    return payload[:228], ctx.spoof()


def _far_pairs(ctx: Ctx) -> list[tuple[int, int]]:
    """(hearer, honest node it does not hear): a voice plausible at that hearer,
    which never heard that node directly, so the attacker sets its usual SNR."""
    honest = [n for n in ctx.adj if n != ctx.attacker]
    return [(h, r) for h in ctx.neighbours for r in honest
            if r != h and r not in ctx.adj.get(h, [])]


def more_live(ctx: Ctx) -> Packet | None:
    """MOREs for genuine sketch streams in progress: on each overheard SKETCH from
    index 0, MOREs naming its sketcher for the next 16 symbols, unpadded, in
    made-up numbers and in the sketcher's neighbours' numbers."""
    if ctx.queued:
        return ctx.queued.pop(0)
    now = ctx.now()
    fresh = [h for h in ctx.heard if now - h[0] < 60.0 and m.peek(h[1])[0] == m.SKETCH]
    if not fresh:
        return None
    _t, payload, src = fresh[-1]
    ctx.heard.remove(fresh[-1])
    msg = _decoded(payload, m.Sketch)
    if msg is None:
        return None
    nxt = msg.start + len(msg.symbols) // riblt.SYMBOL_BYTES
    voices = [n for n in ctx.adj.get(src, []) if n != ctx.attacker][:3] + [_fresh(ctx)]
    for k, v in enumerate(voices):
        ctx.queued.append((m.encode(m.More(src, nxt + 16 * k), ctx.tag), v))
    return ctx.queued.pop(0)


def request_voice(ctx: Ctx) -> Packet | None:
    """REQUESTs naming a hearer, for genuine ids (the newest records), unpadded, in
    the voice of an honest node that hearer does not hear directly (plausible
    there): answered as far as that voice's account pays."""
    pairs = _far_pairs(ctx)
    if not pairs:
        return None
    h, v = pairs[ctx.turn % len(pairs)]
    ctx.turn += 1
    ids = sorted(ctx.records)[-8:]
    return m.encode(m.Request(tuple(ids), h), ctx.tag), v


def ticket_churn(ctx: Ctx) -> Packet | None:
    """A stolen key signing a fresh ticket for a fresh node number on every PULL
    (unpadded, a random partition, from the start) at each hearer in turn: the
    per-key allowance against numbers that come and go."""
    if ctx.stolen is None:
        return None
    target = ctx.neighbours[ctx.turn % len(ctx.neighbours)]
    ctx.turn += 1
    src = _fresh(ctx)
    pull = m.Pull(target, ctx.rng.randrange(3), 3, b"",
                  ticket=tk.make(ctx.stolen, ctx.tag, src, target))
    return m.encode(pull, ctx.tag), src


def _decoded(payload: bytes, kind: type[M]) -> M | None:
    """An overheard packet as a message of `kind`, or None."""
    try:
        msg = m.decode(payload)
    except DecodeError:
        return None
    return msg if isinstance(msg, kind) else None


def relay_all(ctx: Ctx) -> Packet | None:
    """A real node's latest overheard digest, replayed at once in its number with
    its neighbour list replaced: every honest node listed, and all of them
    chosen as its relays (choosing none did the same on the suite's meshes)."""
    digests = [h for h in ctx.heard if m.peek(h[1])[0] == m.DIGEST]
    if not digests:
        return None
    _t, payload, src = digests[ctx.rng.randrange(max(0, len(digests) - 8), len(digests))]
    msg = _decoded(payload, m.Digest)
    if msg is None:
        return None
    everyone = tuple(sorted({n & 0xFFFF for n in ctx.adj if n not in (ctx.attacker, src)}))
    lie = m.Digest(msg.count, msg.fingerprint, msg.boot, everyone, True, everyone)
    return m.encode(lie, ctx.tag), src


OUTSIDE: dict[str, Callable[[Ctx], Packet | None]] = {
    "stolen-critical": stolen_critical,
    "stolen-posts": stolen_posts,
    "stolen-vouch": stolen_vouch,
    "stolen-far-proof": stolen_far_proof,
    "stolen-far-sketch": stolen_far_sketch,
    "stolen-far-behind": stolen_far_behind,
    "sketch-takeup": sketch_takeup,
    "slow-near-digest": slow_near_digest,
    "stolen-near-digest": stolen_near_digest,
    "replay": replay,
    "replay-sketch": replay_sketch,
    "fake-crowd": fake_crowd,
    "fake-watchers": fake_watchers,
    "list-bloat": list_bloat,
    "records-junk": records_junk,
    "more-live": more_live,
    "request-voice": request_voice,
    "ticket-churn": ticket_churn,
    "relay-all": relay_all,
}
# they hold a stolen member key
STOLEN = {"stolen-far-proof", "stolen-far-sketch", "stolen-far-behind", "ticket-churn",
          "stolen-near-digest"}
THIEF_SIGNS = {"stolen-critical", "stolen-posts", "stolen-vouch"}  # it posts with it
