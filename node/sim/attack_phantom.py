"""Attacks from a second outside review (stop 44), with the channel key only:
sketches coding a listener's set plus ids that exist nowhere (`phantom-symbol`,
and `phantom-far` with a header claiming three relays), a made-up number's
digest one old record short followed by that set's sketch (`lack-fresh`),
made-up numbers saying they boot (`boot-ping`), a made-up number kept looking
like a relaying neighbour with copies of old records (`copy-watchers`), and
digests through relays in other nodes' numbers claiming far more records, or
a few more or less (`hop1-ahead`, `hop1-near`), and sketches through relays in
real neighbours' numbers (`nbr-phantom-hop1`, `phantom-lack-hop1`, stop 47),
and three of those at one packet (or pair) in 10 minutes (`-600s`, stop 59).
The slow ones send a packet a
minute or less: what one packet makes every listener do, not what a flood
jams. Each is a function of attack_kinds.py's `Ctx` returning the next packet,
as there; PROTOCOL.md §9 says what each now costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ledger.wire import DecodeError
from ..sync import messages as m
from ..sync import riblt
from ..sync import ticket as tk
from ..sync.engine import record_id
from . import attack_outside as ao
from .attack_kinds import Ctx, Packet

_fresh = ao._fresh  # a made-up node number


def _every(ctx: Ctx, gap: float) -> bool:
    """True at most once every `gap` seconds."""
    now = ctx.now()
    if now - ctx.scratch.get("last", -1e9) < gap:
        return False
    ctx.scratch["last"] = now
    return True


def _overheard_ids(ctx: Ctx) -> list[tuple[float, bytes]]:
    """Records overheard since the last call, new to the attacker: (time, id)."""
    seen: set[bytes] = ctx.scratch.setdefault("seen", set(ctx.records))
    out = []
    for t, payload, _src in ctx.heard:
        if t <= ctx.scratch.get("scanned", -1.0) or m.peek(payload)[0] != m.RECORDS:
            continue
        try:
            msg = m.decode(payload)
        except DecodeError:
            continue
        if not isinstance(msg, m.Records):
            continue
        for raw in msg.records:
            rid = record_id(raw)
            if rid not in seen:
                seen.add(rid)
                out.append((t, rid))
    if ctx.heard:
        ctx.scratch["scanned"] = ctx.heard[-1][0]
    return out


def _victim_ids(ctx: Ctx) -> set[int] | None:
    """The ids the victim holds, as the attacker works them out (every record it
    knew at the start and every one overheard since, checked against the
    victim's last digest; one missing id is the fingerprints' difference), or
    None while they do not add up."""
    ids: set[int] = ctx.scratch.setdefault("ids", {int.from_bytes(i, "big") for i in ctx.records})
    ids.update(int.from_bytes(rid, "big") for _t, rid in _overheard_ids(ctx))
    count, fingerprint = ctx.victim_set()
    x = 0
    for i in ids:
        x ^= i
    if len(ids) + 1 == count and fingerprint ^ x not in ids:
        ids.add(fingerprint ^ x)
        x = fingerprint
    return ids if (len(ids), x) == (count, fingerprint) else None


def _symbol0(ids: set[int]) -> bytes:
    """Symbol 0 of a set's sketch (it codes every id), as it travels."""
    x = c = 0
    for i in ids:
        x ^= i
        c ^= riblt.checksum(i)
    return x.to_bytes(8, "big") + c.to_bytes(4, "big") + bytes([len(ids) % 256])


def _near(ctx: Ctx) -> int:
    """The number of a real node that the attacker's hearers hear directly."""
    near = sorted({x for n in ctx.neighbours for x in ctx.adj.get(n, [])} - {ctx.attacker})
    return ctx.rng.choice(near or ctx.neighbours)


def phantom_symbol(ctx: Ctx, gap: float = 0.0, hops: int = 0, near: bool = False,
                   ) -> Packet | None:
    """A one-symbol SKETCH in a fresh number coding the victim's set plus one id
    that exists nowhere: every listener decodes it at once ("it holds one record
    we lack") and asks for that id. With `hops`, the header claims that many
    relays and each goes twice (a number heard twice through relays is a far
    voice, answered at hop 1 until it proves membership). With `near`, once,
    at hop 1, in the number of a real node the listeners hear directly (only
    direct packets have a signal to check): each asks that node
    (`nbr-phantom-hop1`)."""
    if ctx.queued:
        return ctx.queued.pop(0)
    if gap and not _every(ctx, gap):
        return None
    ids = _victim_ids(ctx)
    if ids is None:
        return None
    fake = ctx.rng.getrandbits(64) | 1
    packet = m.encode(m.Sketch(len(ids) + 1, 0, _symbol0(ids | {fake})), ctx.tag)
    if near:
        return packet, _near(ctx), 1
    src = _fresh(ctx)
    if hops:
        ctx.queued.append((packet, src, hops))
        return packet, src, hops
    return packet, src


def lack_fresh(ctx: Ctx, gap: float = 60.0, near: bool = False) -> Packet | None:
    """In a fresh number, once a minute: a digest of the victim's set less one old
    record, then a one-symbol sketch of that very set (which the digest vouches
    for): listeners repair it as far as the newcomer's air paid and offer a
    sketch of their own for the rest. With `near`, less its newest record, at
    hop 1 in the number of a real node the listeners hear directly: each
    repairs it from that node's account (`phantom-lack-hop1`)."""
    if ctx.queued:
        return ctx.queued.pop(0)
    if not _every(ctx, gap):
        return None
    ids = _victim_ids(ctx)
    if ids is None:
        return None
    lacking = ids - {max(ids) if near else ctx.rng.choice(sorted(ids))}
    x = 0
    for i in lacking:
        x ^= i
    src, hops = (_near(ctx), 1) if near else (_fresh(ctx), 0)
    ctx.queued.append((m.encode(m.Sketch(len(lacking), 0, _symbol0(lacking)), ctx.tag), src, hops))
    return m.encode(m.Digest(len(lacking), x), ctx.tag), src, hops


def boot_ping(ctx: Ctx, gap: float = 300.0) -> Packet | None:
    """Every 5 minutes, a digest in a fresh number: count 0, booting ("let me
    hear your digest soon, so that I can pull")."""
    if not _every(ctx, gap):
        return None
    return m.encode(m.Digest(0, 0, True), ctx.tag), _fresh(ctx)


def copy_watchers(ctx: Ctx, refresh: float = 600.0, short_after: float = 50.0) -> Packet | None:
    """One made-up number kept looking like a neighbour that relays: a copy of an
    old record every 10 minutes, and 50 s after each new record overheard a
    digest five records short of the victim's set (owed urgent records go to
    it again, and listeners sketch for it)."""
    s = ctx.scratch
    now = ctx.now()
    if "name" not in s:
        s["name"], s["copied"], s["shorts"], s["old"] = _fresh(ctx), -1e9, [], sorted(ctx.records)
    s["shorts"] += [t + short_after for t, _rid in _overheard_ids(ctx)]
    due = [t for t in s["shorts"] if t <= now]
    if due:
        s["shorts"].remove(due[0])
        count, _fp = ctx.victim_set()
        return m.encode(m.Digest(max(0, count - 5), ctx.rng.getrandbits(64)), ctx.tag), s["name"]
    if now - s["copied"] >= refresh:
        s["copied"] = now
        raw = ctx.records[ctx.rng.choice(s["old"])]
        return m.encode(m.Records((raw,)), ctx.tag), s["name"]
    return None


def hop1_claim(ctx: Ctx, ahead: bool, gap: float = 60.0) -> Packet | None:
    """Once a minute, a digest in the number of a node the attacker hears, its
    header claiming one relay (only direct packets have a signal to check):
    200 records ahead of the victim (`ahead`), or a set a couple of records off."""
    if not _every(ctx, gap):
        return None
    count, _fp = ctx.victim_set()
    claim = count + 200 if ahead else max(0, count + ctx.rng.choice((-2, -1, 1, 2)))
    return m.encode(m.Digest(claim, ctx.rng.getrandbits(64)), ctx.tag), \
        ctx.rng.choice(ctx.neighbours), 1


def far_chosen(ctx: Ctx, gap: float = 60.0) -> Packet | None:
    """Once every `gap` seconds, a digest in one of two made-up numbers that the
    stolen key proves far peers (claiming one relay), a couple of records off
    the victim's set, naming four of the attacker's listeners in turn as the
    far relays it chose: each named listener that hears a ledger node directly
    walks toward it with filters (filters.py `far`) instead of sketching."""
    if ctx.stolen is None or not ctx.neighbours or not _every(ctx, gap):
        return None
    if not ctx.names:
        ctx.names = [_fresh(ctx), _fresh(ctx)]
    src = ctx.names[ctx.turn % 2]
    at = 4 * (ctx.turn // 2) % len(ctx.neighbours)
    ctx.turn += 1
    named = tuple(sorted({n & 0xFFFF for n in (ctx.neighbours * 4)[at:at + 4]}))
    count, _fp = ctx.victim_set()
    digest = m.Digest(count + ctx.rng.choice((1, 2)), ctx.rng.getrandbits(64), False, (), True,
                      (), named, tk.make(ctx.stolen, ctx.tag, src, tk.ANYONE))
    return m.encode(digest, ctx.tag), src, 1


def slow_far_proof(ctx: Ctx) -> Packet | None:
    """stolen-far-proof (attack_outside.py), one digest every 10 minutes: a far
    number is counted for hours after it was heard, and while it is, every
    listener's packets go at its far scope for the radios around to repeat."""
    return ao.stolen_far_proof(ctx) if _every(ctx, 600.0) else None


# they hold a stolen member key
STOLEN = {"far-chosen", "far-chosen-fast", "far-chosen-600s", "stolen-far-proof-600s"}

PHANTOM: dict[str, Callable[[Ctx], Any]] = {
    "phantom-symbol": phantom_symbol,
    "phantom-far": lambda ctx: phantom_symbol(ctx, 60.0, hops=3),
    "lack-fresh": lack_fresh,
    "boot-ping": boot_ping,
    "copy-watchers": copy_watchers,
    "hop1-ahead": lambda ctx: hop1_claim(ctx, True),
    "hop1-near": lambda ctx: hop1_claim(ctx, False),
    "nbr-phantom-hop1": lambda ctx: phantom_symbol(ctx, near=True),
    "phantom-lack-hop1": lambda ctx: lack_fresh(ctx, near=True),
    "far-chosen": far_chosen,
    "far-chosen-fast": lambda ctx: far_chosen(ctx, 0.0),
    "far-chosen-600s": lambda ctx: far_chosen(ctx, 600.0),
    # The same one packet in 10 minutes (stop 59): what per-listener pacing lets
    # through when each prompt comes after the last reaction rested.
    "hop1-near-600s": lambda ctx: hop1_claim(ctx, False, 600.0),
    "lack-fresh-600s": lambda ctx: lack_fresh(ctx, 600.0),
    "phantom-lack-hop1-600s": lambda ctx: lack_fresh(ctx, 600.0, near=True),
    "stolen-far-proof-600s": slow_far_proof,
}
