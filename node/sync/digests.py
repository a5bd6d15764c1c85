"""What a neighbour's DIGEST makes us do (the answering side; answers.py).

Equal to ours: Trickle hears consistency. Far ahead of us: bootstrap
(bootstrap.py). Far behind us: our digest goes out soon, so that it can pull.
Ours less a few records that reached us lately: those it should hold by now
go again at once; ours less exactly one record we hold: that record is sent,
as its account pays. Otherwise, unless our own backlog explains the
difference or its sender is paced (pacing.py), the reconciler plans a SKETCH.
A digest that did not sound like its sender claims nothing: a difference
within reach is still worth one sketch, under the name all strangers share,
and a stranger heard directly makes us sketch only as far as strangers' air
heard here pays for it (`pool`, answers.py `heard`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from . import deafpay
from . import messages as m
from .bootstrap import Bootstrap
from .credit import Credits
from .filters import Filters
from .pacing import FAR_KEYS, STRANGERS, UNPROVEN, Pacer
from .ports import RecordInfo
from .reconcile import Reconciler
from .relays import Peer
from .sketching import SKETCH_FRAME

if TYPE_CHECKING:
    from .engine import Engine
    from .members import Members

class Repair(Protocol):
    def __call__(self, info: RecordInfo, who: int, now: float, thin: bool = True,
                 member: bool = False) -> bool: ...


PULLED_S = 900.0  # a number that pulled from us this recently is a joiner (boot digests)
SENT_GRACE_S = 15.0  # after our copy of a record went out, a digest still lacking it missed it
INTRO_GRACE_S = 5.0  # ... as far as introducing ourselves goes (no relay, nobody known, to wait for)


class DigestAnswers:
    """Digest handling, mixed into answers.py `Answers`, whose state it uses."""

    eng: Engine
    recon: Reconciler
    boot: Bootstrap
    unvouched: dict[int, None]
    prompters: Pacer
    members: Members
    credits: Credits
    pool: Credits  # what all strangers' broadcasts earned (answers.py `heard`)
    pullers: dict[int, float]  # who pulled from us lately, and when
    filters: Filters

    _repair: Repair  # queue a record as its asker pays (answers.py)
    pool_pays: Callable[[int, float, float], bool]  # (answers.py)

    def prompter(self, who: int, now: float, shared: bool = True) -> int:
        """Whose entry a digest or take-up from `who` (an account's name) counts in:
        a known neighbour's own (relays.py `known`: heard more than once, with
        records or a digest of our set) once it brought us a trusted record, the
        one known neighbours share before that (unless not `shared`: the
        sketchers we ask MORE), a far peer's key's (`FAR_KEYS`), or the one all
        other numbers share (pacing.py)."""
        hood = self.eng.hood
        if hood.is_far(who, now):
            # (one entry per proving key: the far numbers a stolen key proves
            # share it, as made-up numbers share STRANGERS)
            return FAR_KEYS - int.from_bytes(hood.peers[who].proof[:4], "big")
        if hood.is_known(who, now):
            return who if not shared or who in self.eng.watch.relayers else UNPROVEN
        if hood.proven_near(who, now):
            # A neighbour heard directly whose digest showed a checked proof, not
            # yet synced with us: paced with the known ones that brought nothing,
            # not paid from the strangers' pool. Two members' radios started
            # together, whose first push was lost, otherwise waited for their
            # digests to earn a sketch: 150 to 210 s to repair one record.
            return UNPROVEN
        return STRANGERS

    def on_digest(self, msg: m.Digest, sender: int, peer: Peer, now: float) -> None:
        """A neighbour's digest: note it, and plan a sketch, a pull or our digest."""
        eng, cfg = self.eng, self.eng.cfg
        if not eng.plausible:
            # Not the neighbour's signal: its count claims nothing (no bootstrap, no
            # quiet Trickle), but a difference within reach is worth one sketch (as
            # from any node number heard once; one per neighbourhood and `settle`).
            # (its claim, not the neighbour's: checked again when the sketch is due)
            if abs(msg.count - eng.count) <= cfg.boot_gap and not msg.boot and (
                    msg.count, msg.fingerprint) != (eng.count, eng.fingerprint) \
                    and not self._known_set(msg, sender, now):
                self._mismatch(msg, now, Peer(count=msg.count, fingerprint=msg.fingerprint),
                               STRANGERS, sender)
            return
        peer.count, peer.fingerprint, peer.boot = msg.count, msg.fingerprint, msg.boot
        peer.digest_at = now
        if sender in self.unvouched and self.recon.holds_set(sender, msg.count, msg.fingerprint):
            # Its sketch was newer than the digest we had heard: this digest codes
            # the same set, so it vouches for the symbols we hold (we ask on).
            del self.unvouched[sender]
            self.recon.resume(sender, now)
        if msg.count <= eng.count + cfg.boot_gap:
            self.boot.retracted(sender, now)  # a claim of being ahead it does not make
        lacks = None if msg.boot else eng.arrivals.lacking(
            msg.count, msg.fingerprint, eng.count, eng.fingerprint)
        same = (msg.count, msg.fingerprint) == (eng.count, eng.fingerprint)
        if lacks is not None or same:
            # It holds all we hold but these: any urgent record owed to it too. An
            # owed one among these goes again, and later again if still unheard.
            named = {x.to_bytes(8, "big") for _t, x in lacks or ()}
            recheck = cfg.airtime(m.RECORDS_ROOM + 1 + int(self.recon.record_size))
            eng.watch.holds(sender, named, deafpay.undeafen(sender, recheck, self.credits, now))
            if named:
                eng.owed_rechecks(sender, now, named)
        elif msg.count < eng.count or msg.count > eng.count + cfg.boot_gap:
            # Urgent records it was never heard with: behind us, it may lack them;
            # far ahead, we pull from it and sketches do not run between us, so
            # nothing else would ever bring it what only we hold (a flood of one
            # key's posts on its side of the mesh, ours without them).
            eng.owed_rechecks(sender, now)
        if lacks is not None:
            # Ours less a few records that reached us lately: those still in flight
            # will reach it; those it should hold by now (our own copy went out a
            # while ago and missed it, or they are older than in-flight ones) go
            # again at once, one packet where a sketch round takes three.
            lost = eng.arrivals.lost_sends(lacks, now, SENT_GRACE_S)
            unpaid = peer.active or eng.hood.proven_near(sender, now)  # (`_lacks_one`)
            queued = sum(1 for x in lost if self._send_lost(x, sender, now, unpaid))
            sent = eng.arrivals.sent_at
            if peer.hops == 0 and not unpaid and any(
                    now - sent.get(x, now) > INTRO_GRACE_S for _t, x in lacks) \
                    and eng.introduce(now):
                return  # a member it may be, that missed our copy: hops.py `introduce`
            if all(now - t <= eng.arrivals.window for t, _x in lacks):
                eng.trickle.consistent()  # in flight, or on its way again
                return
            if queued == len(lost):
                return  # older gaps, each on its way again
        elif not msg.boot and same:
            eng.trickle.consistent()
            return
        if msg.count > eng.count + cfg.boot_gap:
            if not self.boot.doubts(sender, now):
                self.boot.behind(eng.hood.peers, eng.count, now)
            if eng.count <= cfg.boot_gap or msg.count > eng.count + cfg.sketch_size // 2 \
                    or self.boot.pulling_from(sender) and not self._unprobed(sender, now):
                return  # far behind: pulling, not reconciling
            # Far behind but not pulling from this neighbour (a node that holds a
            # ledger pulls only from responders whose own air paid for the probe,
            # and from a doubted one not at all), by a gap a sketch decodes:
            # reconcile as with any other difference.
        if msg.boot or eng.count > msg.count + cfg.boot_gap:
            # A node far behind: let it hear our digests soon, so it can pull from us.
            # A number we do not know pays for our digest from the strangers' pool
            # (a digest saying "booting" in a fresh number every few minutes had
            # every listener send its digest: 3.6 times the attacker's air,
            # boot-ping), and gets that one digest, Trickle's interval kept (a
            # reset restarts the doubling: several digests for one paid, 1.58
            # times the attacker's air at full size, seeds 1-8; 0.41 now); a
            # newcomer it was hears one within Trickle's interval. A known
            # neighbour far behind, or a number that pulled from us lately (a
            # joiner: a pull is as long as its answer), gets the reset: its
            # pulls follow digests, and with one alone a joiner among three
            # responders took 1.9 h to catch up, not 1.5.
            if self.prompter(sender, now) != STRANGERS or \
                    now - self.pullers.get(sender, -1e18) < PULLED_S:
                eng.trickle.reset(now, cfg.news_interval)
            elif self.pool_pays(eng.voice, self._digest_air(), now):
                eng.trickle.soon(now, cfg.news_interval)
            else:
                eng.stats.dropped["unpaid-boot"] += 1
            if msg.count > cfg.boot_gap and eng.flooded(now):
                self.filters.behind(sender, now)  # (under a flood: filters.py)
            return
        if lacks is None and self._lacks_one(msg, sender, now):
            return
        if (msg.count > eng.count or peer.far_hops > 1) \
                and eng.hood.far_but_near_others(sender, now) \
                and not eng.hood.chose_us(sender, now):
            # A far peer claiming records we lack, while we hear ledger nodes
            # directly: our sketch would go at the hops it claims, for every radio
            # around to repeat, and what it holds reaches our side through the far
            # relays it chose (farpeers.py `far_choice`): only those answer. A far
            # peer behind us lacks what we hold: any of us may serve it, if one
            # mast away (a cluster of three houses behind a mast otherwise lagged
            # 1.6 hours on town-40); farther, each radio on the way would repeat
            # our sketch, and only its far relays pay for that. Every listener
            # answering made-up far numbers' digests at hop 3 cost 1.9 times a
            # thief's air (stolen-far-sketch), whether ahead or behind.
            eng.stats.dropped["far-unchosen"] += 1
            return
        key = self.prompter(sender, now)
        if eng.hood.far_but_near_others(sender, now) and self.prompters.allowed(key, now) \
                and self.filters.far(sender, now):
            # A filter crosses the mast in place of a stream (filters.py `far`),
            # paced as our sketch would be.
            self.prompters.reacted([key], now)
            return
        if key == STRANGERS and self._known_set(msg, sender, now):
            return
        self._mismatch(msg, now, peer, key, sender)

    def _digest_air(self) -> float:
        """The air of our bare digest (what a reaction's Trickle digest costs)."""
        eng = self.eng
        return eng.cfg.airtime(len(m.encode(m.Digest(eng.count, eng.fingerprint),
                                            eng.cfg.network_tag)))

    def _unprobed(self, sender: int, now: float) -> bool:
        """Whether, as a member, we reconcile with `sender` rather than wait to
        probe it: its air here paid for no probe lately, and our asks of it go
        with our ticket, answered from our allowance (members.py), as are the
        repairs of what our sketch shows we lack. On partition-heal, seed 24, a
        member 51 records behind its only link to them waited 3.5 hours, its
        probe never paid for (a padded pull costs about all the credit an
        account holds) and the neighbour ahead waiting for its pull. A node
        without a member key would pay for each ask with padding: it waits for
        the probe, which then pulls plain."""
        return self.boot.unaffordable(sender, now) and bool(self.members.ticket(sender))

    def _known_set(self, msg: m.Digest, sender: int, now: float) -> bool:
        """Whether a stranger's digest (pacing.py STRANGERS) claims the very set a
        known neighbour's own last digest did (relays.py `is_known`): that
        difference is the neighbour's, met when its digest came, and the copy says
        nothing new. Digests in made-up numbers copying a neighbour's set cost
        every listener a sketch (far-claims at 0.1 % duty: three times the
        attacker's air)."""
        hood = self.eng.hood
        claim = (msg.count, msg.fingerprint)
        for n, p in hood.peers.items():
            if n != sender and (p.count, p.fingerprint) == claim and now - p.digest_at < hood.ttl \
                    and hood.is_known(n, now):
                self.eng.stats.dropped["known-set"] += 1
                return True
        return False

    def _lacks_one(self, msg: m.Digest, sender: int, now: float) -> bool:
        """A digest that is ours less exactly one record we hold (its count one
        less, its fingerprint ours XOR that record's id), and not a record still in
        flight: its sender missed that record. Send it (a repair, cancelled by a
        copy heard first) if the sender's account pays for it: one packet, where a
        sketch, a request and the repair take three. True if it was queued."""
        eng = self.eng
        if msg.count != eng.count - 1:
            return False
        # A member heard directly (its proof checked: an introduction) missed our
        # copy: it goes again unpaid, as for a neighbour that syncs with us.
        return self._send_lost(msg.fingerprint ^ eng.fingerprint, sender, now,
                               eng.hood.proven_near(sender, now))

    def _send_lost(self, x: int, sender: int, now: float, unpaid: bool = False) -> bool:
        """Queue the record of id `x` (an integer), which `sender` lacks, if we hold
        it: as far as `sender`'s account pays (`_repair`), else, with `unpaid` (a
        neighbour that syncs with us, whose account is rarely enough for a record:
        a quiet node earns little), if we sent it before and it may go again
        (`Arrivals.resend`: a few times while it is recent, whoever asks, so what a
        spoofed digest can cause is bounded per record, not per packet). True if
        it is on its way."""
        eng = self.eng
        info = eng.infos.get(x.to_bytes(8, "big"))
        if info is None:
            return False
        if self._repair(info, sender, now):
            return True
        if not unpaid or not eng.arrivals.resend(x):
            return False
        lo, hi = eng.cfg.repair_window
        eng.schedule_repair(info, now + eng.rng.uniform(lo, hi), True)
        return True

    def _mismatch(self, msg: m.Digest, now: float, peer: Peer, key: int, sender: int) -> None:
        """A digest unlike our set from `sender`, prompter `key` (pacing.py): our digest
        soon, and a sketch unless our backlog explains it or `key` is paced, and for
        a stranger heard directly, as far as strangers paid (`pool`)."""
        eng, cfg = self.eng, self.eng.cfg
        allowed = self.prompters.allowed(key, now)
        if (key == STRANGERS and (not allowed or self.prompters.waiting(key, now))) \
                or (key == UNPROVEN and not allowed):
            # Strangers: a digest of ours answers them soon only as often as a
            # sketch would, and they get one reaction at a time (none while the
            # last waits to be taken up). A near-digest in a fresh number every 2
            # minutes was reacted to two or three times before the first was
            # judged fruitless, and each kept every listener's Trickle at its
            # shortest (slow-near-digest: 4.1 times the liar's air). So too
            # those heard through relays: digests a record or two off in a
            # neighbour's number at hop 1 drew a sketch from every listener that
            # does not hear that neighbour (hop1-near, seeds 1-8: 2.91 times
            # the attacker's air, 2.49 so). Far sites behind a mast that showed
            # no proof yet are strangers too: over seeds 1-12 town-40's pooled
            # critical p95 went 472 -> 535 s and its median p95 689 -> 572 s,
            # villages-27's 4,392 -> 3,359 s and 4,336 -> 3,334 s, air -6.6 %.
            # Known numbers that never brought a record, paced together, likewise.
            eng.stats.dropped["paced-prompt"] += 1
            return
        sketch = cfg.airtime(SKETCH_FRAME)
        pooled = key == STRANGERS and peer.hops == 0
        # The pool pays for the whole reaction: our sketch and the digest the reset
        # sends soon (copy-watchers).
        reaction = sketch + self._digest_air() if pooled else sketch
        if pooled and self.pool.balance(STRANGERS, now) + 1e-9 < reaction:
            # Our digest soon and a sketch, for a stranger heard directly, are paid
            # for by what all strangers' broadcasts earned here (answers.py
            # `heard`): a near-digest in a fresh number every 2 minutes made
            # every listener sketch and send its digest (slow-near-digest: 1.8
            # times the liar's air, 0.5 now).
            eng.stats.dropped["stranger-prompt"] += 1
            return
        if cfg.mismatch_interval:
            eng.trickle.reset(now, cfg.mismatch_interval)
        if any(s.tag != "repair" for s in eng.sends.values()):
            return  # our own backlog explains the difference: send it before sketching
        if self.boot.active:
            # We are pulling (our digest says so, and nobody sketches for us): every
            # answer changes our set, so our sketch's next packet would code another
            # set and no stream of ours would decode. Reconcile once the pull is done
            # (blockaded-port, seeds 1-20: 6 ended short of full delivery, 3 so).
            return
        if not allowed:
            eng.stats.dropped["paced-prompt"] += 1
            return
        if not pooled and key != STRANGERS and eng.watch.deaf(sender) and \
                not self.credits.spend(sender, sketch, now):
            # A neighbour that relays nothing we hear pays for the sketch it prompts
            # (deafpay.py); our digest still goes soon, and it may sketch itself.
            eng.stats.dropped["deaf-prompt"] += 1
            return
        planned = self.recon.sketch_due
        self.recon.mismatch(msg.count, eng.count, eng.quiet_since(now), now, peer, key)
        if pooled and planned is None and self.recon.sketch_due is not None:
            self.pool_pays(eng.voice, reaction, now)  # (only a sketch planned is paid)

    def _differs(self, peer: Peer) -> bool:
        """Whether `peer`'s last digest still differs from our set, beyond records
        of ours still in flight (inflight.py)."""
        eng = self.eng
        return not eng.arrivals.explains(peer.count, peer.fingerprint, eng.count,
                                         eng.fingerprint, eng.last_time)
