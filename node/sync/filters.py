"""Filters: a large difference healed by what each side says it holds.

Theory of operation
-------------------
A sketch stream (reconcile.py) carries about 18 bytes per record in the
difference and waits a round trip for each burst: cheap for a record or two,
dear after a partition, when two neighbours each hold hundreds of records the
other lacks. On a 5x5 grid cut in two for 2 hours (about 250 records a side),
the boundary nodes spent most of their leftover air on streams that never
decoded, and nothing crossed for 30 minutes after the heal. A Bloom filter of
the ids we hold in a window of HLC costs about 1.25 bytes per id held,
lacking or not, and no round trip: a packet covers our newest 160 or so.

*The walk.* A listener whose symbols held from a neighbour's stream (8 or
more) do not decode, and suggest that the neighbour holds `LACKING` or more
records we lack (reconcile.py `_lacking`: half the difference riblt.py
`spread` reads in the symbols, plus half the difference of the counts), asks
it no MORE and sends it a FILTER instead: a window [since, until] of HLC (the
first: our newest ids, until the largest HLC, so anything newer counts as
lacking), how many of our ids lie in it, and the filter of them. Once the
answers have had `WAIT` s to come (`TRICKLE` s more after each packet from
it that brought something new), the next filter goes: the same window again
(re-based on our newest ids, those that came included) if its answers
brought anything, else the window just before it; two windows in a row that
bring nothing, the start of our history, or `MAX_STEPS` filters end the
walk. Reconciliation finishes what is left. Nobody walks while pulling, nor
toward a neighbour that pulls (bootstrap.py: a node far behind is served by
pulls), nor toward one not heard directly, unless it is a far peer
(farpeers.py: reached only through radio-only relays, its membership shown)
and we hear no ledger node directly (a house whose only link is a mast; the
far peer's account or allowance pays for the first filter, as for a reply:
a made-up far sketcher's symbols would otherwise have every node hearing it
walk, at hop 1, for the mast and the client radios to repeat), nor while it
holds `boot_gap` records or fewer (a newcomer: what it lacks may hang on a
hello it lacks, which no window of its newest ids asks for; the demo's late
joiner sat at one record). Filters go at hop 0, or toward a far peer at our
far scope (hops.py): a house whose only link is a mast otherwise had
sketches alone, each burst of symbols crossing the mast to a town whose sets
all differ, and on town-40 at seed 40 one such house still lacked 44
records, some 7 hours old, at the end.

*Across a mast between groups.* Where groups of ledger nodes hear one
another only through a mast (villages-27), a far peer's digest unlike our
set makes a node it chose among its far relays (farpeers.py), if it brought
us a trusted record new to us lately, walk toward it (`far`) instead of
sketching: at most one such walk per node every `FAR_GAP`, paced per
prompter as a sketch would be (digests.py), ended as any walk but for one
thing: a first filter that brought nothing while the far peer's digest
still differs was most likely lost (the mast carried a third of such
filters), so the same window goes once more. The filter crosses the mast
once, and its answers, the records we lack, go at the far peer's far scope
for our whole side to hear; the far peer walks back in reply when our
window holds records it lacks (`_reply`, paid by our filter's air). Streams
crossed the mast burst after burst, colliding with the other groups'
packets at it, and once a group lacked 24 records of another nobody asked
on: on villages-27 such records never came.

*Answering.* A node named by a filter reads its own ids in the window
(newest first, at most `SCAN_MAX`), and answers those not in the filter,
newest first, at most `ANSWER_MAX`, as repairs paid like any answer
(answers.py `_repair`): from the asker's air-time account, or from a member's
allowance when the filter carries (or the asker showed us within the hour) a
ticket. A false positive (about 1 %) hides a record from one window; the
next one, or a sketch, finds it.

*Replies.* The asker says how many of its ids lie in the window. More than
the ids of ours the filter holds means it holds records we lack there: we
walk toward it too, from the same window (once per `REPLY_GAP` per
neighbour, only for a neighbour heard directly in its own voice or a far
peer, and only if its account pays for our first filter, or its allowance
does: a filter in a made-up name costs us no more air than it took).

*Under a flood.* While a key floods the ledger here (outbox.py `flooding`),
a neighbour's post hides among hundreds of the flood's records: a window of
our newest 160 ids spans minutes, and the walk ends before it reaches the
post. So a walk's filters first leave the flooding keys' records out on both
sides (`_skip`: at most `MAX_SKIP`, never the key of the node we walk
toward, nor one whose records came to us mostly from it): one packet then
covers every other record back to the start. Once that pass ends (its
answers waited for `SKIP_WAIT` s), the walk goes on over every record, the
flood's included (a busy site's burst is no theft, and has to cross too);
a walk toward a neighbour far behind (`behind`) ends there instead, and
such walks never take the last free walk: a large difference in a sketch
must find room.

Bounds: at most `MAX_WALKS` walks at once, each at most `MAX_STEPS` filters;
an answer reads at most `SCAN_MAX` ids (passing over at most filterbits.py
`SKIP_MAX` of the keys its filter leaves out) and queues at most `ANSWER_MAX`
records (and no more than the repair queue takes); the reply table holds
`MAX_REPLIED` entries.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import messages as m
from .budget import NORMAL
from .filterbits import HlcIndex, holds, make_bits
from .sketching import Emit

if TYPE_CHECKING:
    from .answers import Answers
    from .engine import Engine

BITS_PER_ID = 10  # about 1 % false positives
HASHES = 7
HEAD = m.HEADER + 4 + 6 + 6 + 2 + 1  # target, since, until, held, flags
LACKING = 24.0  # records a sketcher holds that we lack, as its symbols suggest: many
SPREAD_FROM = 8  # symbols held before that suggestion is believed
ANSWER_MAX = 16  # records queued in answer to one filter
SCAN_MAX = 1024  # of our ids read for one filter
WAIT = 90.0  # seconds for a filter's answers before the next filter
SKIP_WAIT = 30.0  # the same for a filter leaving a flooding key's records out
TRICKLE = 30.0  # seconds more after each answer that brought something
MAX_WALKS = 2
MAX_STEPS = 16
WALK_S = 1800.0  # a walk whose filter our budget keeps refusing ends this long after it began
RETRY = 10.0  # seconds before a filter our budget refused is tried again
EMPTY_STEPS = 2  # windows in a row that brought nothing: the walk ends
REPLY_GAP = 300.0  # seconds between walks begun in reply to one neighbour's filters
MAX_REPLIED = 32
BEHIND_GAP = 900.0  # seconds between walks toward one neighbour far behind (`behind`)
FAR_GAP = 600.0  # seconds between the walks we begin on far peers' digests (`far`)
FAR_SETTLE = 30.0  # ... whose first filter waits this long or up to twice, for records in flight


@dataclass
class Walk:
    until: int  # the newest HLC of the next window
    due: float  # when the next filter goes, or the last one's answers are judged
    since: int = 0  # the oldest HLC of the last window sent
    steps: int = 0
    empty: int = 0  # windows in a row whose answers brought nothing
    got: int = 0  # records new to us its answers brought since the last filter
    sent: bool = False
    began: float = 0.0
    skipped: bool = False  # its last filter left a flooding key's records out
    whole: bool = False  # it walks every author's records again (`poll`)
    behind: bool = False  # toward a neighbour far behind (`behind`)
    far: bool = False  # begun on a far peer's digest (`far`)


class Filters:
    def __init__(self, eng: Engine, answers: Answers) -> None:
        self.eng = eng
        self.answers = answers
        self.index = HlcIndex(eng.infos.values())
        self.walks: OrderedDict[int, Walk] = OrderedDict()
        self.replied: OrderedDict[int, float] = OrderedDict()  # neighbour -> when
        self.behind_at: OrderedDict[int, float] = OrderedDict()  # likewise (`behind`)
        self.far_at = -1e9  # when we last began a walk on a far peer's digest (`far`)

    def start(self, target: int, now: float, until: int = m.HLC_MAX,
              pulling: bool = False, paid: bool = False, far: bool = False) -> bool:
        """Walk toward `target` (a neighbour heard directly, or a far peer if we
        hear none; `pulling`: even if it pulls); False if we cannot. A walk
        toward a far peer is paid (`_pay`) unless already `paid`."""
        if target in self.walks:
            return True
        if not self._may_walk(target, now, pulling, far):
            return False
        if not paid and self._far(target, now) and not self._pay(target, now, True):
            return False
        eng = self.eng
        lo = eng.cfg.repair_window[0]
        self.walks[target] = Walk(until, now + eng.rng.uniform(lo, 2 * lo), began=now,
                                  behind=pulling)
        eng._dirty = True
        return True

    def behind(self, target: int, now: float) -> None:
        """`target`, a neighbour heard directly and holding a ledger, is far behind
        us (it pulls from us) while a key floods the ledger here: walk toward it
        now and then (`BEHIND_GAP`), for what it holds in our newest windows
        that we lack. The flood makes it fall behind for good, and sketches do
        not run between a puller and us: a post that reached it past us on a
        lossy link otherwise never came (stolen-critical, full size: a
        neighbour's normal posts were hours late, or never came, beyond the
        nodes next to the thief). Its account or allowance pays for our first
        filter: digests in made-up numbers buy no walks."""
        self._paid_walk(target, now, self.behind_at, BEHIND_GAP, m.HLC_MAX, True, True)

    def far(self, target: int, now: float) -> bool:
        """A far peer that chose us among its far relays (farpeers.py) and
        brought us a trusted record new to us in the last `FAR_GAP` sent a
        digest unlike our set while we hear ledger nodes directly: walk toward
        it (at most once per `FAR_GAP`, whoever it is; the digest's prompter
        paced as for a sketch, digests.py). True if we walk: no sketch then.
        (Digests naming us in a far number a stolen key proves otherwise made
        each listener named walk: 7.2 times the thief's air, far-chosen.)"""
        if target in self.walks:
            return True
        if now - self.far_at < FAR_GAP or not self.eng.hood.chose_us(target, now) \
                or now - self.eng.hood.peers[target].brought_far > FAR_GAP \
                or not self.start(target, now, paid=True, far=True):
            return False
        walk = self.walks[target]
        walk.far, walk.due = True, now + self.eng.rng.uniform(FAR_SETTLE, 2 * FAR_SETTLE)
        self.far_at = now
        return True

    def _still_differs(self, target: int) -> bool:
        """Whether far peer `target`'s last digest still differs from our set."""
        peer = self.eng.hood.peers.get(target)
        return peer is not None and self.answers._differs(peer)

    def _may_walk(self, target: int, now: float, pulling: bool = False,
                  far: bool = False) -> bool:
        """Whether a walk toward `target` may begin: room for one, a neighbour
        heard directly in its own voice (or a far peer, if we hear none or
        `far`: `far`, `_reply`), neither side pulling (bootstrap.py: its pulls
        serve a node far behind), and we are no newcomer (one decodes streams:
        what it lacks may hang on a hello it lacks, which no window of its
        newest ids asks for)."""
        eng = self.eng
        peer = eng.hood.peers.get(target)
        room = MAX_WALKS - 1 if pulling else MAX_WALKS  # (the last for a sketch's difference)
        return len(self.walks) < room and not target >> 32 and peer is not None \
            and (now - peer.last_direct <= eng.hood.ttl or eng.hood.is_far(target, now)
                 and (far or not eng.hood.has_direct_peer(now))) \
            and (pulling or not peer.boot) \
            and not eng.boot.active and eng.count > eng.cfg.boot_gap

    def _far(self, target: int, now: float) -> bool:
        """Whether `target` is a far peer rather than a neighbour heard directly."""
        peer = self.eng.hood.peers.get(target)
        return peer is None or now - peer.last_direct > self.eng.hood.ttl

    def _pay(self, who: int, now: float, member: bool) -> bool:
        """Whether `who`'s account (or, a `member`'s, its allowance) pays for our
        first filter toward it."""
        air = self.eng.cfg.airtime(self.eng.cfg.payload_cap)
        return self.answers.credits.spend(who, air, now) \
            or (member and self.answers.members.allowed(who, air, now))

    def heard(self, msg: m.Records, sender: int) -> None:
        """Records from `sender`: count what they bring to our walk toward it."""
        walk = self.walks.get(sender)
        if walk is not None and walk.sent:
            eng = self.eng
            new = sum(rid not in eng.infos and rid not in eng.outside
                      for rid in msg.ids)
            if new:
                walk.got += new
                walk.due = max(walk.due, eng.clock + TRICKLE)  # the rest may follow
                if walk.far:  # (the digest that began it: digests.py `prompters`)
                    self.answers.prompters.took_up(self.answers.prompter(sender, eng.clock))

    def times(self) -> list[float]:
        return [w.due for w in self.walks.values()]

    def poll(self, emit: Emit, now: float) -> None:
        """Send the filters that are due (the walk: module docstring)."""
        for target, walk in list(self.walks.items()):
            if walk.due > now:
                continue
            if walk.far and not walk.steps and not self._still_differs(target):
                del self.walks[target]  # what it lacked was in flight, and came
                continue
            if walk.sent:
                if walk.got:
                    walk.empty = 0  # the same window again: what came moved it
                elif walk.far and walk.steps == 1 and self._still_differs(target):
                    walk.empty += 1  # lost on the mast, most likely: the same window once more
                else:
                    walk.empty += 1
                    walk.until = walk.since - 1  # the window before
                    if walk.empty >= EMPTY_STEPS or walk.since == 0:
                        if not walk.skipped or walk.behind:
                            del self.walks[target]
                            continue
                        # Others' records all came: now the flood's, from the top.
                        walk.whole, walk.until, walk.empty = True, m.HLC_MAX, 0
            walk.got, walk.sent = 0, False
            if walk.steps >= MAX_STEPS:
                del self.walks[target]
                continue
            skip = () if walk.whole else self._skip(target, now)
            msg = self._filter(target, walk.until, skip)
            if emit(msg, "filter", NORMAL):
                walk.sent, walk.since, walk.skipped = True, msg.since, bool(skip)
                walk.steps += 1
                walk.due = now + (SKIP_WAIT if skip else WAIT)
            elif now - walk.began > WALK_S:
                del self.walks[target]  # our budget never had room
            else:
                walk.due = now + RETRY

    def _skip(self, target: int, now: float) -> list[bytes]:
        """The keys flooding the ledger here whose records our filters to `target`
        leave out: all but its own (its ticket or membership proof names it)
        and those whose records came to us mostly from it: what it has to
        offer (a busy site's burst after a heal: test_filters,
        test_catchup_since)."""
        eng = self.eng
        peer = eng.hood.peers.get(target)
        own = {self.answers.members.allow.key(target, now), peer.proof[:4] if peer else None}
        return [a for a in eng.flooders(now, 2 * m.MAX_SKIP)
                if a not in own and eng.load.source(a) != target][:m.MAX_SKIP]

    def _filter(self, target: int, until: int, skip: Sequence[bytes] = ()) -> m.Filter:
        """Our FILTER to `target` of our newest ids at or before `until` (as many as
        one packet holds, a ticket included if we show one), those of the
        authors `skip` left out."""
        eng = self.eng
        ticket = self.answers.members.ticket(target)
        room = eng.cfg.payload_cap - HEAD - len(ticket) - (1 + 4 * len(skip) if skip else 0)
        cap = room * 8 // BITS_PER_ID
        mine, stop = self.index.window(eng.infos, until, 0, cap, skip)
        since = 0 if stop is None else stop
        size = max(1, math.ceil(len(mine) * BITS_PER_ID / 8))
        bits = make_bits([i.id for i in mine], size, HASHES)
        return m.Filter(target, since, until, len(mine), HASHES, bits, ticket, tuple(skip))

    def on_filter(self, msg: m.Filter, who: int, now: float) -> None:
        """A FILTER: answer the records of the window it lacks, as paid, and walk
        toward its sender if it holds records there that we lack."""
        eng = self.eng
        if msg.target != eng.node:
            return
        member = self.answers.members.believe(who, msg.ticket, now)
        window, stop = self.index.window(eng.infos, msg.until, msg.since, SCAN_MAX,
                                         frozenset(msg.skip))
        lacking = [i for i in window if not holds(msg.bits, msg.hashes, i.id)]
        if msg.held > len(window) - len(lacking) and stop is None:
            self._reply(msg, who, member, now)  # (a window we read whole)
        for info in self.answers._flood_last(i.id for i in lacking[:ANSWER_MAX]):
            if not self.answers._repair(info, who, now, False, member):
                break

    def _reply(self, msg: m.Filter, who: int, member: bool, now: float) -> None:
        """Walk toward `who` from its window, if it is a neighbour heard directly
        in its own voice or a far peer (its filter crossed a mast to us), and
        its account (or allowance) pays for our first filter."""
        if self.eng.plausible:
            self._paid_walk(who, now, self.replied, REPLY_GAP, msg.until, member, False, True)

    def _paid_walk(self, who: int, now: float, last: OrderedDict[int, float], gap: float,
                   until: int, member: bool, pulling: bool, far: bool = False) -> None:
        """Walk toward `who` from `until` if we may (`_may_walk`), not within `gap`
        of the last such walk (`last`, at most `MAX_REPLIED` remembered), and its
        account (or, a `member`'s, its allowance) pays for our first filter."""
        at = last.get(who)
        if who in self.walks or not self._may_walk(who, now, pulling, far) or (
                at is not None and now - at < gap):
            return  # (checked before anything is paid)
        if not self._pay(who, now, member):
            return
        if self.start(who, now, until, pulling, paid=True, far=far):
            last.pop(who, None)
            last[who] = now
            while len(last) > MAX_REPLIED:
                last.popitem(last=False)
