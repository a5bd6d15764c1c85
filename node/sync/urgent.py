"""Implicit acknowledgements of urgent records: resend to neighbours never heard with one.

Theory of operation
-------------------
Outside crowds, every node that gets an urgent record (a critical need, a
vouch, a revocation) relays it once. So each neighbour that has it is, sooner
or later, heard sending it: hearing a copy from a neighbour is its
acknowledgement. Bursty loss defeats relays that all go in the same few
seconds; digests would find the gap, but only after minutes.

So a node watches each urgent record it holds (authored or received): who
was heard sending it. `recheck_s` after it got it, and as long after that
(`RECHECKS` checks in all), every neighbour heard directly in the last
`RECENT_S` that was never heard with the record may lack it: the engine sends
it again (tag "recheck"), and cancels that send as soon as each of those
neighbours is heard with it.

A neighbour's own copy is not the only sign that it holds the record: the
copies we heard from nodes whose neighbour lists name it reached it too,
most likely. Waiting only for copies it sent made rechecks almost all waste:
on steady-50 (5 % loss, relays colliding) 98.6 % of them went when every
neighbour waited for held the record already (its own relay lost at us).
There, of the neighbours waited for, those that `COVERED_BY` copies heard
(from nodes listing them) covered lacked the record in 4 cases of 7,954,
those covered by fewer in 85 of 2,369. So a neighbour covered by
`COVERED_BY` copies is not waited for, and a pending recheck stops waiting
for one once copies heard meanwhile cover it that often (outbox.py).

In a crowd only a few relay by gossip, so one neighbour's silence says
nothing; but if *nobody* was heard sending a record by the time the crowd's
relays are done, the send itself was lost (a collision reaches almost no
one, and the few who heard it are rarely among those ready to relay). So in
a crowd the records this node authored are watched too, urgent or not, and
one that nobody was heard with is sent once more (cancelled by any copy heard
before it goes). So is an urgent record of ours where no neighbour is in direct
range to wait for (a site that only a mast joins to the rest) and nobody was
heard with it. Outside a crowd the same goes for a record we authored while
some neighbour was to relay it (we had relays to choose): if nobody was heard
with it once the relays are done, the push itself was lost (a collision at the
one neighbour that carries it on, a jammer there).

A neighbour still missing after the last check is owed the record for a
while (`OWED_S`): the checks went at fixed times, and a jammer near it, or a
run of collisions there, may have taken every copy. When its own digest (in
its own signal) then shows a set smaller than ours that is not ours less a few
records in flight, or names the record among the few it lacks (answers.py; a
sketch's count is not taken: it costs an attacker nothing to forge in a
neighbour's voice), the record goes to it once more, and again
`OWED_RETRY_S` later and twice that after (`OWED_RESENDS` sends in all) unless
a copy from it is heard or a digest of its own shows it holds the record. A
digest is the evidence of lack the watch's timers never had: minutes sooner
than reconciling, and under a jammer far surer (a sketch round needs several
packets to reach it, a resend one).

A neighbour heard with none of the last `DEAF_AFTER` urgent records it was
waited for (after their checks), and relaying no record we hold meanwhile,
relays nothing: a thief that only posts, a radio that only sends; so does a
number that never brought us a trusted record (new or a copy, as a known
neighbour in its own signal: `relayers`) after one such watch, a number made
up to copy our digest most likely. It is deaf: not waited for again until a
copy of a record we hold is heard from it (a digest showing it holds what it
was owed ends the debt, but the deafness only if paid for: numbers an
attacker makes up copy our digest for nothing). The check that makes a
neighbour deaf charges it for its own recheck too: in a quiet mesh an honest
neighbour that brought no record yet, silent through its first watch, gets
one recheck of two. (Not charging it: lossy-30's critical p95 57 -> 46 s on
the 4 seeds of 8 that moved, but stolen-critical's worst probe at full size
66 -> 373 s, and, for proven neighbours too, two-towns' critical p95 3.5 times.)
A stolen key posting next to a site otherwise cost that site two resends of
each of its critical needs, and each of its neighbours the same for every
urgent record they relayed. A deaf neighbour stays owed what it missed, but pays for each
owed send from its credit account, and for being waited for again on its
digest's word, on probation (deafpay.py).

State is one small entry per watched record for at most a minute or so, at
most `OWED_MAX` owed records, and at most `RELAYERS_MAX` numbers that brought
records (an attacker adds one only for a record's air, as a known neighbour);
only trusted urgent records and our own posts are watched, so unadmitted keys
cannot grow it; and, while a key floods the ledger here, admitted authors'
normal records (not the flood's), which reconciliation then finds only
slowly among the flood's: those are resent in the bulk band (outbox.py),
not judged (`judged`: their silence makes no neighbour deaf and leaves
nothing owed: most neighbours do not relay a normal record). Resends of urgent
records go in their own band (budget.py RESEND), below the first sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

RECHECKS = 2  # checks per urgent record: after recheck_s, then as long after that
RECENT_S = 1800.0  # neighbours heard this recently are expected to relay it
COVERED_BY = 2  # copies from nodes listing a neighbour that count as its own
OWED_S = 3600.0  # how long a neighbour missing after the last check is owed the record
OWED_RESENDS = 3  # sends of an owed record once a digest showed its lack
OWED_RETRY_S = 60.0  # then sent again this long after, and twice as long after that
OWED_MAX = 64  # owed records remembered (oldest dropped first)
DEAF_AFTER = 3  # watches in a row a neighbour ended never heard with: not waited for
RELAYERS_MAX = 512  # neighbours remembered as heard with a record we hold


@dataclass
class _Entry:
    due: float
    heard: set[int] = field(default_factory=set)
    done: int = 0
    urgent: bool = True  # False: a post of ours, watched only in a crowd
    since: float = 0.0  # when we got it
    judged: bool = True  # a neighbour's silence on it counts (deafness, owed)


@dataclass
class _Owed:
    until: float
    missing: set[int]  # neighbours never heard with it
    sent: int = 0
    retry: float | None = None  # when it goes again to `lacking`
    lacking: set[int] = field(default_factory=set)  # those whose digests showed its lack


class UrgentWatch:
    """Who was heard sending each urgent record we hold, and when to check."""

    def __init__(self, recheck_s: float) -> None:
        self.recheck_s = recheck_s
        self.entries: dict[bytes, _Entry] = {}
        self.owed: dict[bytes, _Owed] = {}  # neighbours never heard with it after the checks
        self.short: dict[int, float] = {}  # neighbour -> when its set last looked short of ours
        self.named: dict[int, tuple[float, set[bytes]]] = {}  # and the few it lacked, when
        self.silent: dict[int, int] = {}  # neighbour -> watches in a row it ended unheard
        self.relayers: dict[int, None] = {}  # heard with a record we hold (most recent last)

    def watch(self, rid: bytes, sender: int | None, now: float, urgent: bool = True,
              after: float | None = None, judged: bool = True) -> None:
        """We hold urgent record `rid` (from `sender`, or authored here if None); or,
        with `urgent` False, we posted `rid` in a crowd: check `after` seconds
        (default `recheck_s`) that someone was heard with it."""
        entry = self.entries.get(rid)
        if entry is None:
            entry = _Entry(now + (self.recheck_s if after is None else after), urgent=urgent,
                           since=now, judged=judged)
            self.entries[rid] = entry
        entry.urgent = entry.urgent or urgent
        if sender is not None:
            entry.heard.add(sender)

    def heard(self, rid: bytes, sender: int) -> None:
        """A copy of `rid`, a record we hold, was heard from `sender`: it is heard
        taking part, so it is waited for again (`DEAF_AFTER`)."""
        self.silent.pop(sender, None)
        entry = self.entries.get(rid)
        if entry is not None:
            entry.heard.add(sender)
        owed = self.owed.get(rid)
        if owed is not None:
            owed.missing.discard(sender)
            if not owed.missing:
                del self.owed[rid]

    def relayed(self, n: int) -> None:
        """`n` brought us a trusted record, or a copy of one we hold: a neighbour
        taking part (deafness still counts the watches it ends unheard)."""
        self.relayers.pop(n, None)
        self.relayers[n] = None
        if len(self.relayers) > RELAYERS_MAX:
            del self.relayers[next(iter(self.relayers))]

    def deaf(self, n: int) -> bool:
        """Whether `n` ended the last `DEAF_AFTER` watches it was waited for unheard,
        or, never heard with a trusted record (a number that only sends digests,
        made up for nothing: fake-watchers), the last one."""
        return self.silent.get(n, 0) >= (DEAF_AFTER if n in self.relayers else 1)

    def holds(self, n: int, lacks: set[bytes], paid: Callable[[], bool]) -> None:
        """Neighbour `n`'s digest shows it holds every record we hold but `lacks`.
        If that includes a record owed to it, the debt ends; and if `n` is deaf,
        it is waited for again, on probation (deaf again after one more silent
        watch), if it pays (`paid()`: a digest like ours costs nothing to copy
        in a made-up number)."""
        self.short.pop(n, None)
        if not lacks:
            self.named.pop(n, None)
        held = [r for r, o in self.owed.items() if r not in lacks and n in o.missing]
        if held and self.deaf(n) and paid():
            # on probation: deaf again after one more silent watch
            self.silent[n] = DEAF_AFTER - 1 if n in self.relayers else 0
        for rid in held:
            owed = self.owed[rid]
            owed.missing.discard(n)
            if not owed.missing:
                del self.owed[rid]

    def owed_to(self, n: int, now: float, named: set[bytes] | None = None) -> list[bytes]:
        """Neighbour `n`'s digest just showed a set smaller than ours (and not ours
        less a few records in flight), or ours less a few `named` records: the
        urgent records (of those named) it was never heard with after the last
        check, to send it now; each goes again later (`owed_due`) unless heard
        from it meanwhile."""
        if named is None:
            self.short.pop(n, None)
            self.short[n] = now
        else:
            self.named.pop(n, None)
            self.named[n] = (now, named)
        for seen in (self.short, self.named):
            while len(seen) > OWED_MAX:
                del seen[next(iter(seen))]
        out = []
        for rid, owed in list(self.owed.items()):
            if owed.until <= now:
                del self.owed[rid]
            elif named is not None and rid not in named:
                continue
            elif n in owed.missing and n not in owed.lacking and owed.sent < OWED_RESENDS:
                owed.lacking.add(n)
                out.append(rid)
                self._sent(owed, now)
        return out

    def _sent(self, owed: _Owed, now: float) -> None:
        owed.sent += 1
        owed.retry = now + OWED_RETRY_S * 2 ** (owed.sent - 1) \
            if owed.sent < OWED_RESENDS else None

    def any_due(self, now: float) -> bool:
        """Whether a check is due (`due` has work; its arguments cost a walk)."""
        return any(e.due <= now for e in self.entries.values())

    def owed_due(self, now: float) -> list[tuple[bytes, dict[int, int]]]:
        """Owed records whose follow-up send is due, each with the neighbours that
        showed their lack and were not heard with it since."""
        out = []
        for rid, owed in list(self.owed.items()):
            if owed.retry is None or owed.retry > now:
                continue
            lacking = owed.lacking & owed.missing
            if not lacking or owed.until <= now:
                owed.retry = None
                continue
            out.append((rid, dict.fromkeys(lacking, 0)))
            self._sent(owed, now)
        return out

    def _owe(self, rid: bytes, entry: _Entry, missing: set[int], now: float) -> None:
        """The last check of `rid` found `missing` silent (its recheck goes now)."""
        self.owed.pop(rid, None)
        owed = self.owed[rid] = _Owed(now + OWED_S, missing)
        # Those whose sets looked short of ours since our first copies should have
        # reached them lacked it, most likely: this recheck counts as a first send.
        due = entry.since + self.recheck_s
        owed.lacking = {n for n in missing if self.short.get(n, -1e18) > due
                        or (n in self.named and self.named[n][0] > due
                            and rid in self.named[n][1])}
        if owed.lacking:
            self._sent(owed, now)
        while len(self.owed) > OWED_MAX:
            del self.owed[next(iter(self.owed))]

    def times(self) -> list[float]:
        """When a check is next due."""
        return [e.due for e in self.entries.values()] + [
            o.retry for o in self.owed.values() if o.retry is not None]

    def due(self, now: float, recent: set[int], crowd: bool,
            cover: Callable[[int, set[int]], int] | None = None,
            ) -> list[tuple[bytes, dict[int, int] | None]]:
        """The records whose check is due, each with the neighbours (of `recent`)
        never heard with it, each with how many of the nodes heard with it list
        that neighbour (`cover(n, senders)`; 0 without `cover`), less those so
        covered COVERED_BY times or more (they have it, most likely); records
        with none left are left out. In a crowd: the
        records nobody was heard with, each with None (send it once more to all)."""
        out: list[tuple[bytes, dict[int, int] | None]] = []
        for rid, entry in list(self.entries.items()):
            if entry.due > now:
                continue
            del self.entries[rid]
            if crowd or not entry.urgent:
                # Gossip: one neighbour's silence says nothing there, everyone's does;
                # and a post of ours that a relay was to carry on went unheard.
                if not entry.heard:
                    out.append((rid, None))
                continue
            if not entry.heard and not recent:
                # Ours, and nobody heard with it, with no neighbour in direct range
                # to wait for (a site that only a mast joins to the rest): the push
                # itself was lost. Once more, to all.
                out.append((rid, None))
                continue
            counts = {n: cover(n, entry.heard) if cover is not None else 0
                      for n in recent - entry.heard}
            missing = {n: c for n, c in counts.items() if c < COVERED_BY}
            if not missing:
                continue
            # A neighbour heard with none of the last few urgent records it was
            # waited for, nor relaying any record we hold meanwhile, relays
            # nothing (a thief that only posts, a radio that only sends):
            # resending for it would cost every urgent record its rechecks. A
            # digest of its own showing a lack still gets it the record (owed,
            # below). (Waiting only for those also heard posting, lossy-30's
            # critical p95 was the same, stolen-critical's delays 1.5-2.5 times
            # longer: under a flood, rechecks for neighbours whose relays are
            # lost are what fills the urgent band.)
            ask = {n: c for n, c in missing.items() if not self.deaf(n)}
            if ask:
                out.append((rid, ask))
            if entry.done + 1 < RECHECKS:
                entry.due = now + self.recheck_s
                entry.done += 1
                self.entries[rid] = entry
            elif entry.judged:
                for n in missing:
                    self.silent[n] = self.silent.pop(n, 0) + 1
                while len(self.silent) > OWED_MAX:
                    del self.silent[next(iter(self.silent))]
                self._owe(rid, entry, set(missing), now)
        return out
