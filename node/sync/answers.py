"""Answering others: what the engine does on hearing DIGEST, SKETCH, REQUEST,
MORE and PULL, and the state those answers keep.

Theory of operation
-------------------
Every one of these packets is unauthenticated: anyone with the channel key can
send it under any number. The engine's own traffic (push, relay, digest) lives in
engine.py, inbox.py and outbox.py; all sent *because someone asked*, here.

* DIGEST (digests.py): a neighbour's count and fingerprint. Equal to ours:
  Trickle hears consistency. Far ahead of us: bootstrap (bootstrap.py). Far
  behind us: our digest goes out soon, so that it can pull. Ours less exactly
  one record we hold (not one still in flight): that record is sent, as its
  account pays. Otherwise, unless our own backlog explains the difference, the
  reconciler plans a SKETCH.
* SKETCH: the reconciler (reconcile.py) peels it against our own sketch;
  what the sketcher lacks is queued as repairs (RECORDS) as its account
  pays (a believed member lacking more than `SMALL_GAP`: its allowance, as
  for its REQUESTs), the rest offered in a sketch of ours; what we lack is
  requested. A gap found resets Trickle: to Imin if it is large, to the
  news interval if a few records (`SMALL_GAP`) close it.
* REQUEST: the ids we hold are queued as repairs; the ones we wanted too are
  taken off our own request list (the answer serves us).
* MORE: the next symbols of our sketch (reconcile.py).
* PULL: a batch of one bootstrap partition after a cursor (bootstrap.py).

Nothing here may cost more air than the packet that caused it (credit.py): each
sender has an air-time account, credited by the air of what it sends (in full
when addressed to us, shared among the listeners when broadcast) and debited by
every answer to it: repairs for its REQUEST or SKETCH, the symbols its MORE
asked for, the packets of a pull answer. A REQUEST that names another node, and
a PULL or MORE for another node, is not ours to answer. Answers travel at bulk
priority, whatever they carry, so the urgent reserve and the normal share stay
with the node's own records; those a member's allowance pays for (members.py),
in the catch-up band above it (budget.py), but never a flooding key's records
(ratelimit.py `any_flooding`). Only what goes on air is paid (`send_paid`): an
answer an allowance pays for waits while the budget holds it back; one only an
account pays for is dropped then, the account kept for the asker's next ask.
Repairs ride in the send queue (tag "repair"): a copy heard first cancels them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from . import messages as m
from . import riblt, vouch
from .bootstrap import Bootstrap
from .budget import BULK, CATCH_UP
from .credit import ALLOWANCE, CREDIT, HELD, Credits
from .digests import DigestAnswers
from .filters import Filters
from .members import Members
from .outbox import MAX_REPAIRS, record_id
from .pacing import STRANGERS, Pacer
from .ports import RecordInfo
from .ratelimit import any_flooding, flood_last
from .reconcile import Reconciler

if TYPE_CHECKING:
    from .engine import Engine

Emit = Callable[[m.Message, str, int], bool]
CREDIT_HOLD = 900.0  # seconds an account is kept after its last credit
CREDIT_ACCOUNTS = 64  # accounts kept (the least recently credited go first)
UNVOUCHED = 64  # sketchers remembered as unvouched
SMALL_GAP = 4  # a decoded gap of at most this many records is closed by its own
# repairs and requests: their records are news, checked after `news_interval`


class Answers(DigestAnswers):
    """The answering side of one engine: reconciliation and bootstrap state."""

    def __init__(self, engine: Engine) -> None:
        self.eng = engine
        cfg = engine.cfg
        self.recon = Reconciler(cfg, engine.rng, engine.node, engine.sketch)
        self.recon.more_rank = lambda sketcher: vouch.more_rank(
            engine.hood.peers, engine.node, sketcher, self.unvouched) \
            if self._may_ask(sketcher, engine.clock) else None
        self.recon.differs = self._differs
        self.recon.degree = lambda: engine.hood.degree(engine.clock)
        self.recon.far_peer = lambda peer: engine.hood.is_far_peer(peer, engine.last_time)
        self.recon.far_node = lambda node: engine.hood.is_far(node, engine.last_time)
        self.recon.reach_peer = lambda peer: engine.hood.reaches_peer(peer, engine.last_time)
        self.recon.reach_node = lambda node: engine.hood.reach(node, engine.last_time) > 0
        self.boot = Bootstrap(cfg, engine.rng, engine.node)
        self.boot.may_pull = lambda node, now: not engine.hood.far_but_near_others(node, now)
        self.unvouched: dict[int, None] = {}  # sketchers whose last sketch was unlike their digest
        # An account holds twice what a full request pays for; strangers share one (digests.py).
        self.credits = Credits(2 * cfg.airtime(cfg.payload_cap), CREDIT_HOLD, CREDIT_ACCOUNTS)
        self.pool = Credits(self.credits.cap, float("inf"), 1)
        # Members' asks (members.py): answered beyond their own air, from an allowance.
        self.members = Members(engine, self._differs)
        self.recon.ticket = self.recon.wants.ticket = self.members.ask
        # Whose differing digests may make us sketch, whom we ask MORE (pacing.py).
        self.prompters, self.sketchers = Pacer(), Pacer()
        self.recon.sketched_for = self.prompters.reacted
        self.recon.more_sent = lambda sketcher, now: self.sketchers.reacted(
            [self.prompter(sketcher, now, shared=False)], now)
        self.recon.more_answered = lambda sketcher: self.sketchers.took_up(
            self.prompter(sketcher, engine.clock, shared=False))
        self.filters = Filters(engine, self)  # large differences (filters.py)
        # A stream far ahead: no more symbols if we walk toward it, or if a far peer's
        # while we hear ledger nodes (farpeers.py `far_but_near_others`).
        self.recon.large = lambda sketcher, now: self.filters.start(sketcher, now) \
            or engine.hood.far_but_near_others(sketcher, now)

    def heard(self, msg: m.Message, sender: int, size: int, now: float) -> None:
        """Credit `sender` with the air of a packet heard from it (`size` bytes)."""
        eng = self.eng
        air = eng.cfg.airtime(size)
        if eng.plausible and (isinstance(msg, m.Records)
                              or (isinstance(msg, m.Pull) and msg.target != eng.node)):
            self.members.overheard(msg, sender, size, now)  # (answers to a member elsewhere)
        if isinstance(msg, m.Records):
            for raw in msg.records:  # how large records are: what our requests ask for
                self.recon.record_size += (len(raw) - self.recon.record_size) / 32
            self.members.heard_answer(msg, sender, self.recon.wants.ids)
            if not msg.relay:
                return  # a pull answer: paid for by its puller, it pays for nothing more
        elif isinstance(msg, m.Sketch):
            self.members.heard_answer(msg, sender, self.recon.wants.ids)
        if isinstance(msg, (m.Pull, m.More, m.Request, m.Filter)) and \
                getattr(msg, "target", None) == eng.node:
            self.credits.earn(sender, air, now)
            if isinstance(msg, m.More) or isinstance(msg, m.Request) and any(
                    not eng.flooding(i.author, now) for i in map(eng.infos.get, msg.ids) if i):
                # A sketch of ours taken up, decoded or not. (A REQUEST for ids we
                # do not hold decoded nothing of ours: tiny ones in made-up numbers
                # otherwise kept strangers' digests unpaced, sketch-takeup. Nor
                # does one for a flooding key's records: ratelimit.py.)
                self.took_up(sender, now)
            return
        if getattr(msg, "target", None) is not None:
            peer = eng.hood.peers.get(sender)
            if peer is None or not peer.active:
                # Addressed to another node, which credits its whole air, from a
                # voice that never synced with us: no share here as well.
                return
        listeners = max(1, eng.hood.heard_directly(now))
        self.credits.earn(sender, air / listeners, now)
        if self.prompter(sender, now) == STRANGERS:
            self.pool.earn(STRANGERS, air / listeners, now)

    def _may_ask(self, sketcher: int, now: float) -> bool:
        """May we ask `sketcher` MORE now? Paced (pacing.py), except a far peer: its
        MOREs and answers cross a mast and are often lost, and pacing them starved
        the islands behind a router in town-40 (records missing for hours)."""
        key = self.prompter(sketcher, now, shared=False)
        return (key != STRANGERS and self.eng.hood.is_far(sketcher, now)) \
            or self.sketchers.allowed(key, now)

    def took_up(self, who: int, now: float) -> None:
        """`who` acted on what our sketch told it (pacing.py)."""
        self.prompters.took_up(self.prompter(who, now))

    def send_paid(self, emit: Emit, who: int, msg: m.Message, tag: str,
                  allowance: Callable[[int, float, float], bool] | None = None) -> str | None:
        """Put `msg`, an answer to `who`, on air: paid by `who`'s account, in the
        bulk band; or by `allowance` (a member's, debiting `(who, air, now)`:
        members.py), in the catch-up band, when its account falls short or the
        bulk band is full. Only what goes on air is paid. Returns what paid
        (CREDIT, ALLOWANCE); HELD when our budget held back what an allowance
        would pay for (nothing paid: it waits); None when nothing pays for it, or
        only an account our bulk band has no room for: the answer is dropped, the
        account kept for the asker's next ask (an answer that waited went out a
        packet at a time as the budget freed, each a change to the asker's set
        in the middle of its sketch rounds: partition-heal took 12 % more air)."""
        eng = self.eng
        now = eng.last_time
        air = eng.cfg.airtime(len(m.encode(msg, eng.cfg.network_tag)))
        if self.credits.balance(who, now) + 1e-9 >= air and emit(msg, tag, BULK):
            self.credits.spend(who, air, now)
            return CREDIT
        if allowance is not None and allowance(who, air, now):
            if emit(msg, tag, CATCH_UP):
                return ALLOWANCE
            self.members.allow.refund(who, air)
            return HELD
        return None

    def afford_probe(self, who: int, pull: m.Message) -> bool:
        """Debit a probe of `who`'s claim: our pull and the answer it asks for (as
        large: the pull is padded to it), both caused by the claim, so the
        claimant's air must cover twice the pull's."""
        eng = self.eng
        air = eng.cfg.airtime(len(m.encode(pull, eng.cfg.network_tag)))
        return self.credits.spend(who, 2 * air, eng.last_time)

    def _repair(self, info: RecordInfo, who: int, now: float, thin: bool = True,
                member: bool = False) -> bool:
        """Queue `info` for `who` if its account covers a packet of it alone (or,
        `member`: a member asking us, its allowance does: members.py `allowed`)."""
        eng = self.eng
        if info.id in eng.sends:
            return True
        if len(eng.sends) >= MAX_REPAIRS and sum(
                1 for s in eng.sends.values() if s.tag == "repair") >= MAX_REPAIRS:
            return False  # enough answers wait already: this one is not taken (nor paid)
        cheapest = eng.cfg.airtime(m.RECORDS_ROOM + 1 + m.MIN_RECORD)
        if self.credits.balance(who, now) < cheapest and not member:
            return False
        raw = eng.raw(info.id)
        if raw is None:
            return False
        air = eng.cfg.airtime(m.RECORDS_ROOM + 1 + len(raw))
        # (Credit first, even with the bulk band full: the repair waits there. Paid
        # from a member's allowance in the catch-up band instead, two-towns ended 2
        # of 11 seeds short of full delivery.)
        if self.credits.spend(who, air, now):
            band = BULK
        elif member and not eng.flooding(info.author, now) \
                and self.members.allowed(who, air, now):
            band = CATCH_UP  # a member's allowance pays: the catch-up band (budget.py)
        else:
            return False
        lo, hi = eng.cfg.repair_window
        eng.schedule_repair(info, now + eng.rng.uniform(lo, hi), thin, band,
                            eng.hood.reach(who, now))
        return True

    def pay_asked(self, emit: Emit, who: int, msg: m.Message, tag: str) -> str | None:
        """Send symbols a MORE of `who` asked for, paid by its account or, for a
        member asking us, its allowance (`send_paid`)."""
        return self.send_paid(emit, who, msg, tag, self.members.allowed)

    def pay_pull(self, emit: Emit, who: int, msg: m.Message, tag: str,
                 batch: bool) -> str | None:
        """Send a packet of a pull answer to `who`, paid by its account or, for a
        member with a believed ticket and `batch` left, its allowance."""
        eng = self.eng
        allow = batch and not (isinstance(msg, m.Records) and any_flooding(
            eng.infos, map(record_id, msg.records), lambda a: eng.flooding(a, eng.clock)))
        return self.send_paid(emit, who, msg, tag, self.members.allow.spend if allow else None)

    def on_sketch(self, msg: m.Sketch, sender: int, now: float, payer: int | None = None,
                  ) -> None:
        """Symbols of a neighbour's sketch: once decoded, repair and request (the
        repairs paid from `payer`'s account: the sender's, unless the packet did
        not sound like it)."""
        payer = sender if payer is None else payer
        eng = self.eng
        if msg.start == 0:
            self.unvouched.pop(sender, None)
            self._said(msg, sender)
            if not vouch.vouched(eng.hood.peers, msg, sender):
                # Unlike what its sender last said of itself: read it (what decodes
                # in these symbols is still requested and repaired, as paid), but
                # ask no MORE for it, sketch nothing for it, cancel nothing for it.
                eng.stats.dropped["unvouched-sketch"] += 1
                self.unvouched[sender] = None
                while len(self.unvouched) > UNVOUCHED:
                    del self.unvouched[next(iter(self.unvouched))]
        try:
            # It stands for our own planned sketch if its sender vouched for it, or if
            # it codes our very set (then ours would say nothing more).
            result = self.recon.on_sketch(msg, sender, now, eng.count,
                                          serves=sender not in self.unvouched
                                          or vouch.codes(msg, eng.count, eng.fingerprint))
        except ValueError:
            eng.stats.dropped["bad-sketch"] += 1
            return
        if result is None:
            return
        gap = len(result.ours) + len(result.theirs)
        if gap:
            # A real gap: check again soon. A small one (a record or a few lost on
            # the way) is closed by the repairs and requests planned below, and
            # what they bring is news (a digest after `news_interval`); a digest
            # at Imin would go out while they are still on the way, differ again
            # and start another round. A large gap (a heal) is checked at Imin.
            eng.trickle.reset(now, eng.cfg.news_interval if gap <= SMALL_GAP else None)
        # A member whose ticket we believe (it asked us with it within the hour),
        # lacking more than a few records, is repaired from its allowance too, as
        # its requests would be: what its own vouched sketch, heard in its own
        # voice, says it lacks, while its digest differs from our set. Else our
        # sketch would offer it the same difference a second time: after a heal,
        # a stream of hundreds of symbols, both ways, from the one node that
        # bridges a group (partition-heal, seed 24). A spoof in its voice draws
        # on the same allowance as its REQUESTs replayed would (ticket.py).
        member = len(result.ours) > SMALL_GAP and payer == sender \
            and sender not in self.unvouched and self.members.believe(sender, b"", now)
        unpaid = 0
        for info in self._flood_last(x.to_bytes(8, "big") for x in sorted(result.ours)):
            if unpaid or not self._repair(info, payer, now, member=member):
                unpaid += 1  # its sketch paid for no more: it may ask for the rest
        if unpaid and sender not in self.unvouched:
            self.recon.offer(unpaid, sender, now)
        for x in result.theirs:
            rid = x.to_bytes(8, "big")
            if rid not in eng.outside and rid not in eng.gone:  # held, or superseded here
                self.recon.want(rid, sender, now)

    def _said(self, msg: m.Sketch, sender: int) -> None:
        """A sketch from index 0 heard directly in its sender's own voice (its
        usual signal known, this packet plausible) says what its digest would:
        its count, and symbol 0's ids as the fingerprint. Outside a crowd, take
        it as the sender's latest word on its set, within a reconcilable gap of
        ours (never a claim of being far ahead). Across a weak link few digests
        arrive while sets move, and sketches unlike the last digest heard went
        unbelieved: two towns joined by one stopped reconciling (two-towns). So
        too from a far peer (farpeers.py: proven, heard only through relays),
        crowd or not: few of its digests cross a mast, and a lone house's
        sketches were all taken as unvouched (town-40)."""
        eng = self.eng
        peer = eng.hood.peers.get(sender)
        if not eng.plausible or peer is None or peer.count <= 0 \
                or abs(msg.count - eng.count) > eng.cfg.boot_gap \
                or len(msg.symbols) < riblt.SYMBOL_BYTES:
            return
        if peer.hops:
            if not eng.hood.is_far(sender, eng.clock):
                return
        elif peer.snr is None or eng.hood.degree(eng.clock) > 2 * eng.cfg.relay_fanout:
            return  # (in a crowd, where digests are many, it waits for one)
        first = riblt.parse_symbols(msg.symbols[:riblt.SYMBOL_BYTES])[0]
        if first.count % 256 == msg.count % 256:
            peer.count, peer.fingerprint = msg.count, first.ids

    def on_request(self, msg: m.Request, sender: int, now: float) -> None:
        """Ids someone asked for: queue the ones we hold as repairs, as far as its
        account covers them (a request naming another node is that node's)."""
        eng = self.eng
        for rid in msg.ids:
            self.recon.got(rid)  # someone asked already: the answer serves us too
        if msg.target is not None and msg.target != eng.node:
            return
        # A member naming us (its ticket in this request, or believed within the
        # hour) is answered beyond its own air, from its allowance.
        member = msg.target is not None and self.members.believe(sender, msg.ticket, now)
        for info in self._flood_last(msg.ids):
            if not self._repair(info, sender, now, msg.target is None, member):
                break

    def _flood_last(self, rids: Iterable[bytes]) -> list[RecordInfo]:
        return flood_last(self.eng.infos, rids, lambda a: self.eng.flooding(a, self.eng.clock))

    def on_more(self, msg: m.More, sender: int, now: float) -> None:
        """A request for more symbols of a sketch (ours, or one we wait for too)."""
        if msg.target == self.eng.node and msg.ticket:
            self.members.believe(sender, msg.ticket, now)  # its answer: pay_asked
        self.recon.on_more(msg, sender, now)

    def on_pull(self, msg: m.Pull, sender: int, now: float) -> None:
        """A bootstrap pull (answered only when it names us, and only when its
        sender is behind us as far as its own last digest says)."""
        eng, cfg = self.eng, self.eng.cfg
        if msg.target != eng.node:
            return
        peer = eng.hood.peers.get(sender)
        if peer is not None and peer.count > 0 and not peer.boot \
                and peer.count + cfg.boot_gap // 2 >= eng.count:
            # Not behind us: it pulls on a claim of being ahead we never made (a lie
            # in our name). No answer, nor anything else: our next digest says where
            # we stand.
            eng.stats.dropped["pull-not-behind"] += 1
            return
        if not self.boot.on_pull(msg, sender, now):
            eng.stats.dropped["pull-parts"] += 1
            return
        if msg.ticket:
            self.members.believe(sender, msg.ticket, now)  # if not: answered as paid
        # (A pull without a ticket from a puller whose ticket we checked within the
        # hour draws on its allowance too: tickets go once per half hour.)

    def times(self) -> list[float]:
        """When the answering side next has work."""
        return self.recon.times() + self.boot.times() + self.filters.times()

    def poll(self, emit: Emit, now: float) -> None:
        """Send what is due: sketches, MOREs, requests, pulls and pull answers."""
        eng = self.eng
        self.recon.poll(emit, now, eng.count, self.pay_asked)
        self.filters.poll(emit, now)
        self.boot.poll(emit, now, eng.hood.peers, eng.count, self.recon.record_size,
                       self.afford_probe,
                       self.members.ticket if eng.signer is not None else None,
                       self.members.hopeful)
        self.boot.poll_answers(emit, now, eng.infos, eng.raw, self.pay_pull,
                               busy=not eng.sketch.ready)

    def table_sizes(self) -> dict[str, int]:
        """Entries in every table the engine keeps, for the attack suite."""
        eng, recon, boot = self.eng, self.recon, self.boot
        return {
            "sends": len(eng.sends),
            "peers": len(eng.hood.peers),
            "author_rates": len(eng.rates.buckets),
            "wanted": len(recon.requests),
            "sketch_streams": len(recon.remote) + len(recon.remote_count),
            "more_pending": len(recon.more_due),
            "pull_answers": len(boot.answers),
            "sort_orders": boot.orders.parts if boot.orders.ready else 0,
            "doubted": len(boot.doubted),
            "credit_accounts": len(self.credits),
            "member_allowances": len(self.members.allow),
            "filter_walks": len(self.filters.walks) + len(self.filters.replied),
        }
