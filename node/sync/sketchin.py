"""What a neighbour's SKETCH makes us do (the answering side; answers.py).

Once its symbols decode against our set: the records it lacks go to it as
its account pays (repairs; a member's allowance pays too, answers.py
`_repair`), and if its account falls short, our own sketch offers it the
difference, so that it asks and pays; the records it holds and we lack are
REQUESTed from it. Neither our requests nor our offered sketch are paid for
by anyone's credit, so both are paced per sketcher (pacing.py) as a MORE is,
and a number we do not know pays for our requests from the pool all
strangers' air fills: otherwise one sketch symbol in a made-up number, coding
our set and one id that exists nowhere, drew two padded REQUESTs from every
listener (the attack suite's `phantom-symbol`). What we cannot decode yet
asks MORE (reconcile.py), paced alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import messages as m
from . import riblt, vouch
from .digests import DigestAnswers
from .pacing import FAR_KEYS, STRANGERS, UNPROVEN, Pacer
from .ports import RecordInfo
from .ratelimit import flood_last
from .wants import WANT_TRIES

UNVOUCHED = 64  # sketchers remembered as unvouched
SMALL_GAP = 4  # a decoded gap of at most this many records is closed by its own
# repairs and requests: their records are news, checked after `news_interval`


class SketchAnswers(DigestAnswers):
    """Sketch handling, mixed into answers.py `Answers`, whose state it uses."""

    sketchers: Pacer  # whom we ask MORE, and for what its sketch showed (pacing.py)

    def _flood_last(self, rids: Iterable[bytes]) -> list[RecordInfo]:
        """The records of `rids` we hold, a flooding key's last (ratelimit.py)."""
        return flood_last(self.eng.infos, rids, lambda a: self.eng.flooding(a, self.eng.clock))

    def sketcher_keys(self, sketcher: int, now: float, spoofed: bool = False) -> list[int]:
        """The pacing entries (pacing.py) our reactions to `sketcher` count in: its
        own, and while it is a known neighbour that never brought us a trusted
        record, the one all such share (`UNPROVEN`); a number we do not know, or
        a voice not the sender's (`spoofed`), only the strangers' one. Made-up
        numbers that copied our digest once, each with a fresh entry, were asked
        MORE and for their ids in turn by every listener (known-phantom,
        known-more: 6 to 12 times the attacker's air). A shared entry gets one
        reaction at a time; our requests to a stranger also need the strangers'
        pool to pay (`_may_want`; a joiner's new neighbours are all known
        numbers that brought it nothing yet: paid from the pool, its catch-up
        stalled)."""
        if spoofed:
            return [STRANGERS]
        own = self.prompter(sketcher, now, shared=False)
        shared = self.prompter(sketcher, now)
        return [own] if shared == own else [own, shared]

    def _may_ask(self, sketcher: int, now: float, spoofed: bool = False) -> bool:
        """May we ask `sketcher` MORE now? Paced (pacing.py) in each entry it
        counts in (`sketcher_keys`), except a far peer: its MOREs and answers
        cross a mast and are often lost, and pacing them starved the islands
        behind a router in town-40 (records missing for hours)."""
        keys = self.sketcher_keys(sketcher, now, spoofed)
        if keys[0] <= FAR_KEYS:
            return True
        if keys[-1] == UNPROVEN and self.sketchers.waiting(UNPROVEN, now):
            return False  # (known numbers that brought nothing: one reaction at a time)
        return all(self.sketchers.allowed(key, now) for key in keys)

    def more_sent(self, sketcher: int, now: float) -> None:
        """We asked `sketcher` MORE: a reaction in each entry it counts in."""
        self.sketchers.reacted(self.sketcher_keys(sketcher, now), now)

    def _may_want(self, sketcher: int, ids: int, now: float, spoofed: bool) -> bool:
        """May we ask `sketcher` for the `ids` its sketch showed it holds? Yes if it
        brought us records (in its own voice) or is a far peer; a number we do
        not know, a known one that never brought us a record, or a voice not the
        sender's is asked paced as a MORE is (`_may_ask`), and a stranger (or
        such a voice) pays for our asks (both tries, each padded to its answer)
        from the pool strangers' air fills (`pool`), as for the sketches their
        digests prompt, if heard directly."""
        keys = self.sketcher_keys(sketcher, now, spoofed)
        if keys[0] <= FAR_KEYS or keys[-1] not in (STRANGERS, UNPROVEN):
            # A neighbour that brought us records, in its own voice: asked as it
            # shows (pacing its asks too, lossy-30's critical p95 over seeds
            # 1-8 went from 49 to 56 s: asks lost on the way read as fruitless).
            return True
        if not self._may_ask(sketcher, now, spoofed):
            return False
        if keys[-1] == UNPROVEN:
            return True  # (paced together; a joiner's new neighbours are all such)
        peer = self.eng.hood.peers.get(sketcher)
        if peer is not None and peer.hops:
            # Heard through relays and not a far peer (farpeers.py): our REQUEST
            # would go at hop 1 for every radio around to repeat (`reach`), more
            # than the pool's share pays for; ask once it shows its proof.
            return False
        cfg = self.eng.cfg
        air = WANT_TRIES * cfg.airtime(min(cfg.payload_cap, int(
            m.RECORDS_ROOM + 1.1 * (self.recon.record_size + 1) * ids)))
        return self.pool_pays(self.eng.voice, air, now)  # (the sketch heard: engine.py)

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
        # What it holds and we lack: REQUESTs, nobody's credit pays for them (each
        # padded to its answer), so a sketcher's decoded ids are asked for paced,
        # as MOREs are (`_may_ask`): a one-symbol sketch in a made-up number,
        # coding our set and one id that exists nowhere, drew two padded
        # REQUESTs from every listener (phantom-symbol).
        theirs = [rid for rid in (x.to_bytes(8, "big") for x in result.theirs)
                  if rid not in eng.outside and rid not in eng.gone]  # (held, superseded)
        spoofed = payer != sender  # (a voice not the sender's: engine.py)
        if theirs and not self._may_want(sender, len(theirs), now, spoofed):
            eng.stats.dropped["paced-want"] += 1
            theirs = []
        gap = len(result.ours) + len(theirs)
        if gap and (theirs or self._check_soon(sender, spoofed, now)):
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
            # Our sketch for it, so that it may ask and pay: a reaction nobody paid
            # for, paced as one for its digest is (a digest in a made-up number, then
            # a sketch of that very set one record short, drew a sketch from every
            # listener each time: lack-fresh).
            # (Not a far peer's, as for MOREs, `_may_ask`; nor a neighbour's that
            # brought us records: paced, lossy-30's critical p95 rose on 3 seeds
            # of 8, by 10 to 20 s.)
            key = self.prompter(sender, now)
            if key <= FAR_KEYS or key not in (STRANGERS, UNPROVEN) \
                    or self.prompters.allowed(key, now) and not self.prompters.waiting(key, now):
                self.recon.offer(unpaid, sender, now)
                self.prompters.reacted([key], now)
            else:
                eng.stats.dropped["paced-offer"] += 1
        for rid in theirs:
            self.recon.want(rid, sender, now)
        keys = self.sketcher_keys(sender, now, spoofed)
        if theirs and keys[0] > FAR_KEYS and keys[-1] in (STRANGERS, UNPROVEN):
            self.sketchers.reacted(keys, now)

    def _check_soon(self, sender: int, spoofed: bool, now: float) -> bool:
        """Whether a sketch showing only that `sender` lacks records of ours
        resets our Trickle: our digest soon, to check that the repairs (paid by
        its account) closed the gap. A reaction nobody pays for, so not for a
        voice not the sender's, a stranger heard directly, nor a stranger two
        hops away over ledger links (whose own packets do not reach us): a
        set one record short, sketched in made-up numbers or in real
        neighbours' numbers through a relay, made every listener send a
        digest as well as the repair its account paid (lack-fresh, seeds 1-8:
        0.77 times the liar's air, 0.41 so; phantom-lack-hop1 2.37, 2.06 so).
        A far site behind a mast that showed no proof yet still gets it: a lone
        house on town-40 lagged hours without."""
        if spoofed:
            return False
        peer = self.eng.hood.peers.get(sender)
        if peer is None or self.prompter(sender, now) != STRANGERS:
            return True
        return peer.hops > 0 and not self.eng.hood.listed_by_known(sender, now)

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
