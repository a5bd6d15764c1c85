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
* SKETCH (sketchin.py): the reconciler (reconcile.py) peels it against our
  own sketch; what the sketcher lacks is queued as repairs (RECORDS) as its
  account pays (a believed member lacking more than `SMALL_GAP`: its
  allowance, as for its REQUESTs), the rest offered in a sketch of ours; what
  we lack is requested. Offers and requests are paced per sketcher, and a
  stranger's pay from the strangers' pool. A gap found resets Trickle: to
  Imin if it is large, to the news interval if a few records (`SMALL_GAP`)
  close it.
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

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import messages as m
from . import vouch
from .bootstrap import Bootstrap
from .budget import BULK, CATCH_UP
from .credit import ALLOWANCE, CREDIT, HELD, Credits
from .filters import Filters
from .hearers import Hearers
from .members import Members
from .outbox import MAX_REPAIRS
from .pacing import STRANGERS, Pacer
from .ports import RecordInfo, RxMeta
from .ratelimit import any_flooding
from .reconcile import Reconciler
from .sketchin import SketchAnswers

if TYPE_CHECKING:
    from .engine import Engine

Emit = Callable[[m.Message, str, int], bool]
CREDIT_HOLD = 900.0  # seconds an account is kept after its last credit
CREDIT_ACCOUNTS = 64  # accounts kept (the least recently credited go first)


class Answers(SketchAnswers):
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
        self.credits.spent = self._spent  # (a stranger's air pays once: `pool_pays`)
        self.hearers = Hearers(engine.hood)  # whom a relayed broadcast's air is shared among
        self.pullers: dict[int, float] = {}  # who pulled from us lately, and when (oldest first)
        # Members' asks (members.py): answered beyond their own air, from an allowance.
        self.members = Members(engine, self._differs)
        self.recon.ticket = self.recon.wants.ticket = self.members.ask
        # Whose differing digests may make us sketch, whom we ask MORE (pacing.py).
        self.prompters, self.sketchers = Pacer(), Pacer()
        self.recon.sketched_for = self.prompters.reacted
        self.recon.more_sent = self.more_sent
        self.recon.more_answered = lambda sketcher: self.sketchers.took_up_all(
            self.sketcher_keys(sketcher, engine.clock))
        self.filters = Filters(engine, self)  # large differences (filters.py)
        # A stream far ahead: no more symbols if we walk toward it, or if a far peer's
        # while we hear ledger nodes (farpeers.py `far_but_near_others`).
        self.recon.large = lambda sketcher, now: self.filters.start(sketcher, now) \
            or engine.hood.far_but_near_others(sketcher, now)

    def heard(self, msg: m.Message, sender: int, size: int, now: float, meta: RxMeta) -> None:
        """Credit `sender` with the air of a packet heard from it (`size` bytes;
        `meta`: its radio metadata, whose hops and relay byte say among how many
        listeners a broadcast's air is shared: hearers.py)."""
        eng = self.eng
        air = eng.cfg.airtime(size)
        if eng.plausible and (isinstance(msg, m.Records)
                              or (isinstance(msg, m.Pull) and msg.target != eng.node)):
            self.members.overheard(msg, sender, size, now)  # (answers to a member elsewhere)
        if isinstance(msg, m.Records):
            wanted = self.recon.wants.ids
            for raw, rid in zip(msg.records, msg.ids):
                # how large records are: what our requests ask for
                self.recon.record_size += (len(raw) - self.recon.record_size) / 32
                if wanted and wanted.get(rid, (0, 0, None))[2] == sender:
                    # What its sketch showed it holds came: our asks were taken up.
                    self.sketchers.took_up_all(self.sketcher_keys(sender, now))
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
        if meta.hops:
            listeners = max(listeners, self.hearers.relayed(
                meta.sender, meta.hops, meta.relay, now, meta.snr))
        self.credits.earn(sender, air / listeners, now)
        if self.prompter(sender, now) == STRANGERS:
            # Whose hearers nobody knows: shared among the other nodes of our
            # two-hop neighbourhood at hop 0 too, where our own count of peers
            # stood for them and an attacker at the best-connected site, heard by
            # more nodes than each of its listeners hears, had the pool pay each
            # listener's sketch and digest (copy-watchers, seeds 1-20: 1.33 times
            # its air, 1.10 so; counting us as well, 0.88, but two strangers cut
            # apart from the start no longer agreed within 6 hours of the heal;
            # counting numbers heard once, boot-ping's fresh numbers thinned the
            # pool: 0.52 -> 0.86, 0.49 so).
            self.pool.earn(STRANGERS, air / max(listeners, self.hearers.others_kept(now)), now)

    def _spent(self, who: int, air: float, now: float) -> None:
        """`who`'s account paid `air`: a stranger's air earned the pool as much
        (`heard`), and is gone from it too."""
        if self.prompter(who, now) == STRANGERS:
            self.pool.take(STRANGERS, air, now)

    def pool_pays(self, who: int, air: float, now: float) -> bool:
        """Whether the strangers' pool pays `air` for what stranger `who` (an
        account's name) prompted; if so, `who`'s own account loses as much (or
        all it holds). Each broadcast of a stranger credits both: spent from one
        and again from the other, one made-up number's air could pay for our
        sketch and digest and then for the repairs its sketch showed it lacked.
        (No attack of the suite reached that: its rows read the same to the
        byte either way.)"""
        if not self.pool.spend(STRANGERS, air, now):
            return False
        self.credits.take(who, air, now)
        return True

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
            eng.infos, msg.ids, lambda a: eng.flooding(a, eng.clock)))
        return self.send_paid(emit, who, msg, tag, self.members.allow.spend if allow else None)

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
        self.pullers.pop(sender, None)
        self.pullers[sender] = now  # a joiner taking up our digests (digests.py)
        while len(self.pullers) > CREDIT_ACCOUNTS:
            del self.pullers[next(iter(self.pullers))]
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
