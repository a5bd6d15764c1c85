"""The engine's sending side: the send queue, packing records into packets,
and the air-time budget every packet passes.

Theory of operation
-------------------
Everything the engine wants to put on air as a record (a push of its own
post, a relay, a repair answering someone, an urgent recheck) is a `_Send`
in `sends`, keyed by record id: when it is due, its priority, and how many
copies heard from others cancel it (inbox.py counts them). `poll()` takes
the due sends in priority order and packs them into RECORDS packets up to
the payload cap; pushes due soon ride along, and under load relays known to
be needed too (fewer, fuller packets: a frame's fixed cost is large).

Every packet, records or control, goes through `_emit`, which asks the
budget (budget.py); what the budget refuses waits, and `next_timer()` then
reports the time the budget allows it instead of its own due time.
Answers to others travel at bulk priority (`schedule_repair`); in a crowd
only about `relay_fanout` neighbours stand ready to answer (`crowd_pick`).

This class is a part of `Engine` (engine.py) and holds no state of its own:
the attributes it names are the engine's.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import deafpay, riblt
from . import messages as m
from .budget import BULK, NORMAL, RESEND, URGENT, Budget
from .hops import Hops
from .inflight import Arrivals
from .ports import CLASS_BOARD, Ledger, Outgoing, RecordInfo, SyncConfig
from .ratelimit import AuthorLoad, AuthorRates
from .relays import Neighbourhood
from .trickle import Trickle
from .urgent import RECENT_S, UrgentWatch

if TYPE_CHECKING:
    from .answers import Answers
    from .reconcile import Reconciler

RAW_CACHE = 512  # record bytes kept in memory for sending
RELAY_FRAME = 120  # bytes of a typical relayed RECORDS packet, to space relay timers
SETTLE_PAUSE_S = 0.05
PACK_TRIES = 16  # records looked at (read from the ledger) to fill one packet
MAX_REPAIRS = 64  # answers to others waiting in the send queue
REPAIR_TTL_S = 600.0  # an answer not sent this long after it was due is dropped


@dataclass
class _Send:
    due: float
    priority: int
    suppress: int  # copies heard that cancel this send
    heard: int = 0
    tag: str = "push"
    covered: set[int] | None = None  # neighbours known to have it (None: unknown)
    waiting: set[int] | None = None  # a recheck: neighbours not yet heard with it
    carried: bool = False  # a relay of a packet the radios relay on anyway (hops left)
    far: bool = False  # a far relay's send: at our far scope, whatever copies are heard
    reach: int = 0  # a repair for a far voice not yet proven: at least this hop limit
    cover: dict[int, int] = field(default_factory=dict)  # a recheck: copies heard from
    # nodes listing each neighbour waited for (urgent.py COVERED_BY: then it has it)


@dataclass
class Stats:
    sent: Counter[str] = field(default_factory=Counter)
    airtime: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    dropped: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    duplicates: int = 0
    suppressed: int = 0
    deferred: int = 0
    rate_deferred: int = 0  # records past their author's rate, sent in the bulk band (not dropped)
    failed: int = 0  # packets the radio did not send (send_failed)


class Outbox(Hops):
    """Scheduling and sending for `Engine` (the attributes below are the engine's)."""

    ledger: Ledger
    cfg: SyncConfig
    node: int
    rng: random.Random
    budget: Budget
    stats: Stats
    infos: dict[bytes, RecordInfo]
    sketch: riblt.Sketch
    sends: dict[bytes, _Send]
    hood: Neighbourhood
    answers: Answers
    recon: Reconciler
    trickle: Trickle
    arrivals: Arrivals
    routers_near: int
    next_beacon: float | None
    started: bool
    started_at: float
    rates: AuthorRates
    load: AuthorLoad
    last_time: float
    clock: float
    watch: UrgentWatch
    _deferred_until: float | None
    _dirty: bool
    _raws: dict[bytes, bytes]
    _wake: float | None

    # ------------------------------------------------------------ scheduling

    def _priority(self, info: RecordInfo, fresh: bool) -> int:
        if not info.trusted:
            return BULK  # unadmitted or revoked authors: whatever budget is left
        if info.urgent:
            return URGENT
        if not self._rate_ok(info.author):
            return BULK
        return NORMAL if fresh or info.cls <= CLASS_BOARD else BULK

    def _rate_ok(self, author: bytes) -> bool:
        if self.rates.allow(author, self.last_time):
            return True
        self.stats.rate_deferred += 1
        return False

    def schedule_repair(self, info: RecordInfo, due: float, thin: bool = True,
                        band: int = BULK, reach: int = 0) -> None:
        """Send `info` to someone who lacks it at `due`, unless a copy is heard first.
        An answer to others: bulk priority whatever the record, or the catch-up
        band when a member's allowance paid for it (answers.py, budget.py).
        In a crowd (over twice `relay_fanout` neighbours), all of whom heard the same
        request or sketch, only about `relay_fanout` stand ready to answer, spread
        over as many frames, so the first answer is heard before the rest go; but
        not an answer to a REQUEST naming us (`thin` False): nobody else sends it."""
        now = self.clock
        fanout = self.cfg.relay_fanout
        if thin and self.hood.degree(now) > 2 * fanout and due > now:
            if not self.crowd_pick(now):
                return
            spread = 2.0 * self.cfg.airtime(RELAY_FRAME) * fanout / self.cfg.repair_window[1]
            due = now + (due - now) * max(1.0, spread)
        self._schedule(info.id, _Send(due, band, 1, 0, "repair", reach=reach))

    def crowd_pick(self, now: float) -> bool:
        """Whether to answer something every neighbour heard: always, except in a
        crowd (over twice `relay_fanout` neighbours), where about `relay_fanout` of
        them do (gossip), so an answer is not sent once per neighbour."""
        degree = self.hood.degree(now)
        fanout = self.cfg.relay_fanout
        return degree <= 2 * fanout or self.rng.random() * degree <= fanout

    def _schedule(self, rid: bytes, send: _Send) -> None:
        current = self.sends.get(rid)
        if current is not None and current.due <= send.due and current.priority <= send.priority:
            return
        self.sends[rid] = send

    def next_timer(self) -> float | None:
        """When poll() next has work, or None when there is none."""
        if not self._dirty:
            return self._wake
        times = self.answers.times() + self.watch.times()
        if self.started:
            times.append(self.trickle.next_time())
        if self.sends and self._deferred_until is None:  # (only the earliest counts)
            times.append(min(s.due for s in self.sends.values()))
        else:
            times += [s.due for s in self.sends.values()]
        if self.next_beacon is not None and self.routers_near > 0:
            times.append(self.next_beacon)
        if not self.sketch.ready:
            times.append(self.last_time + SETTLE_PAUSE_S)  # keep coding the sketch in
        if self._deferred_until is not None:
            # What the budget refused waits for it; what is not due yet keeps its time.
            times = [max(t, self._deferred_until) if t <= self.last_time else t for t in times]
        self._wake = min(times) if times else None
        self._dirty = False
        return self._wake

    # ------------------------------------------------------------ output

    def _affordable(self, cost: float, prio: int, now: float) -> bool:
        """Does the budget allow `cost` at `prio` now? If not, note when it will."""
        if self.budget.allowed(cost, prio, now):
            return True
        self.stats.deferred += 1
        retry = self.budget.next_allowed(cost, prio, now)
        self._deferred_until = retry if self._deferred_until is None else min(
            self._deferred_until, retry)
        return False

    def sent(self, out: Outgoing, now: float) -> None:
        """`out` went on air at `now` (it may have waited in the radio's queue
        since the engine charged it): its air time counts from then."""
        if self.budget.redate(out.airtime, out.at, now):
            self._dirty = True

    def send_failed(self, out: Outgoing, now: float) -> None:
        """The radio refused `out` or never sent it: refund its air time and send
        its records again."""
        self._dirty = True
        if self.budget.refund(out.airtime, out.at):
            self.stats.sent[out.tag] -= 1
            self.stats.airtime[out.tag] -= out.airtime
        self.stats.failed += 1
        push = out.tag == "push"
        for rid in out.records:
            info = self.infos.get(rid)
            if info is None:
                continue
            send = _Send(now + self.cfg.retry_delay, self._priority(info, fresh=push),
                         99 if push else 1, 0, "push" if push else "repair")
            self.sends.pop(rid, None)  # an urgent recheck scheduled on sending, say
            self._schedule(rid, send)

    def _emit(self, out: list[Outgoing], msg: m.Message, tag: str, prio: int, now: float,
              records: tuple[bytes, ...] = (), far: bool | None = None,
              hop_limit: int | None = None, reach: int = 0) -> bool:
        """Put `msg` on air if the budget allows, at `hop_limit` if given, else as
        far as hops.py `_hop_limit` says (`far`, `reach`), with our membership
        proof if a digest is due to show it (hops.py `_encode`)."""
        scope = self._hop_limit(msg, now, far, reach) if hop_limit is None else hop_limit
        payload, proof = self._encode(msg, scope, now)
        cost = self.cfg.airtime(len(payload))
        if not self._affordable(cost, prio, now):
            return False
        if proof:
            self._proof_shown(now, proof)
        self.budget.spend(cost, now)
        self.stats.sent[tag] += 1
        self.stats.airtime[tag] += cost
        out.append(Outgoing(payload, scope, tag, prio, records=records, airtime=cost,
                            at=now))
        return True

    def _poll_records(self, out: list[Outgoing], now: float) -> None:
        for rid in [r for r, s in self.sends.items()
                    if s.tag == "repair" and s.due < now - REPAIR_TTL_S]:
            del self.sends[rid]  # an answer the budget held back this long is stale
        due = sorted((s.priority, s.due, rid) for rid, s in self.sends.items() if s.due <= now)
        if not due:
            return
        # Pushes due soon may ride along; relays and repairs wait for their turn,
        # so that copies heard meanwhile can still cancel them.
        horizon = now + self.cfg.push_delay
        # Under load, fewer and fuller packets beat the chance that a copy heard
        # meanwhile cancels a relay: a frame's fixed cost is half a second on air.
        loaded = self.budget.used(now) > self.cfg.batch_when_used * self.budget.limit_s
        if loaded:
            horizon = now + self.cfg.forward_window[1]
        # A relay rides along only where it is known to be needed (some neighbour
        # known not to be covered): one whose need is unknown waits for its turn,
        # when copies heard meanwhile may have cancelled it.
        extra = sorted((s.priority, s.due, rid) for rid, s in self.sends.items()
                       if now < s.due <= horizon and (
                           s.tag == "push" or (loaded and (s.tag != "forward"
                                                           or s.covered is not None))))
        queue = [rid for _, _, rid in due] + [rid for _, _, rid in extra]
        smallest = self.cfg.airtime(m.RECORDS_ROOM + 1 + m.MIN_RECORD)
        while queue and any(self.sends[r].due <= now for r in queue if r in self.sends):
            room = self.cfg.payload_cap - m.RECORDS_ROOM
            packet: list[bytes] = []
            taken: list[bytes] = []
            rest: list[bytes] = []
            # The packet goes in the band of its most urgent record, and the others
            # ride in it: their bytes cost a little of that band's air, where a
            # packet of their own later would cost its whole frame. (Letting an
            # answer ride only where its own band could pay for the packet cost
            # town-40 12 % more air on a seed, and left a joiner of blockaded-port
            # short on more seeds.)
            prio = min(self.sends[r].priority for r in queue if r in self.sends)
            tag = self.sends[queue[0]].tag if queue[0] in self.sends else "push"
            if not self._affordable(smallest, prio, now):
                return  # not even the smallest packet: read no record for nothing
            for i, rid in enumerate(queue):
                if room < m.MIN_RECORD + 1 or i >= PACK_TRIES:
                    rest += queue[i:]  # full, or looked far enough: the rest waits
                    break
                raw = self.raw(rid) if rid in self.sends else None
                if raw is None:
                    self.sends.pop(rid, None)
                elif not self._recheck_paid(rid, raw, now):
                    del self.sends[rid]
                    self.stats.dropped["recheck-unpaid"] += 1
                elif len(raw) + 1 <= room:
                    packet.append(raw)
                    taken.append(rid)
                    room -= len(raw) + 1
                else:
                    rest.append(rid)
            far = self._records_far([self.sends[r] for r in taken], now)
            reach = max((self.sends[r].reach for r in taken), default=0)
            if not packet or not self._emit(out, m.Records(tuple(packet)), tag, prio, now,
                                            tuple(taken), far=far, reach=reach):
                return
            for rid in taken:
                self._recheck_charge(rid, now)
                self._sent(rid, now)
            queue = rest

    def _recheck_cost(self, raw: bytes) -> float:
        return self.cfg.airtime(m.RECORDS_ROOM + 1 + len(raw))

    def _recheck_paid(self, rid: bytes, raw: bytes, now: float) -> bool:
        """Whether `rid`'s send, if a recheck for neighbours (urgent.py), still has
        someone to wait for: deaf ones pay (deafpay.py)."""
        send = self.sends[rid]
        if send.waiting is None:
            return True
        send.waiting = deafpay.keep(send.waiting, self._recheck_cost(raw), self.watch.deaf,
                                    self.answers.credits, now)
        return bool(send.waiting)

    def _recheck_charge(self, rid: bytes, now: float) -> None:
        send = self.sends.get(rid)
        raw = self._raws.get(rid)
        if send is not None and send.waiting is not None and raw is not None:
            deafpay.charge(send.waiting, self._recheck_cost(raw), self.watch.deaf,
                           self.answers.credits, now)

    def raw(self, rid: bytes) -> bytes | None:
        """A record's bytes: recently seen ones from memory, others from the ledger."""
        raw = self._raws.get(rid)
        if raw is None:
            raw = self.ledger.sync_raw(rid)
            if raw is not None:
                self._remember(rid, raw)
        return raw

    def _remember(self, rid: bytes, raw: bytes) -> None:
        self._raws[rid] = raw
        if len(self._raws) > RAW_CACHE:
            del self._raws[next(iter(self._raws))]

    def _sent(self, rid: bytes, now: float) -> None:
        self.sends.pop(rid, None)
        self.arrivals.sent(int.from_bytes(rid, "big"), now)
        self.recon.got(rid)

    # ------------------------------------------------------------ urgent rechecks

    def _rechecks(self, now: float) -> None:
        """Send again the urgent records some neighbour was never heard with (urgent.py)."""
        # Only neighbours that sync with us are expected to relay (engine.py,
        # `active`): a number an attacker makes look like a neighbour with lying
        # digests never makes us send an urgent record again.
        if self.watch.any_due(now):
            recent = {n for n, p in self.hood.peers.items()  # (numbers heard once: made up)
                      if now - p.last_direct < RECENT_S and p.packets >= 2
                      and p.active} - {self.node}
            crowd = self.hood.degree(now) > 2 * self.cfg.relay_fanout
            for rid, missing in self.watch.due(now, recent, crowd, self.hood.listing):
                self._recheck(rid, missing, now)
        for rid, lacking in self.watch.owed_due(now):
            self._recheck(rid, lacking, now)

    def owed_rechecks(self, sender: int, now: float, named: set[bytes] | None = None) -> None:
        """`sender`'s digest shows a set smaller than ours (or ours less the `named`
        records): the urgent records (of those) it was never heard with after their
        last check go to it again (urgent.py, owed)."""
        for rid in self.watch.owed_to(sender, now, named):
            self._recheck(rid, {sender: 0}, now)

    def flooding(self, author: bytes, now: float) -> bool:
        """Whether more than a burst (`author_burst`) of `author`'s records
        reached us lately (pushed or relayed; fetched or pulled if less than an
        hour older than the newest we hold; half of each counts after an hour):
        a key flooding the ledger, a stolen one say. Its records are
        then not relayed (reconciliation carries them), its urgent ones neither
        urgent nor rechecked, and answers serve them after everyone else's
        (answers.py `_flood_last`). Past the first minutes, a thief posting as
        fast as it can thus costs honest nodes what their neighbours' credit
        and allowances pay for, in the bands below the urgent one.
        (ratelimit.py `AuthorLoad`; PROTOCOL.md §9.)"""
        return self.load.weight(author, now) > self.cfg.author_burst

    def _recheck(self, rid: bytes, missing: dict[int, int] | None, now: float) -> None:
        info = self.infos.get(rid)
        if info is None or (rid in self.sends and self.sends[rid].tag != "repair"):
            return  # (an answer to others waits in the bulk band: not for this)
        if self.flooding(info.author, now):
            self.stats.dropped["recheck-flooding"] += 1
            return
        delay = self.rng.uniform(*self.cfg.urgent_window)
        if missing is None:  # a crowd heard nobody with it: once more, to all
            self.sends[rid] = _Send(now + delay, self._priority(info, fresh=True), 1, 0,
                                    "recheck")
        else:
            self.sends[rid] = _Send(now + delay, RESEND if info.urgent else BULK, 99, 0, "recheck",
                                    waiting=set(missing), cover=dict(missing))
