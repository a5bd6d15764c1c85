"""The engine's receiving side for records: accepting what is new, planning
relays, and counting the copies heard from others.

Theory of operation
-------------------
A RECORDS packet is checked record by record (the ledger verifies and stores,
ports.Ledger.sync_ingest). A record new to us is added to the sync set
(count, fingerprint, sketch) and the versions it supersedes leave it
(`_set_change`: the set is the records held minus the superseded ones,
node/store/synced.py), news resets Trickle, an urgent trusted record is
watched for implicit acks (urgent.py), and if the packet asked to be relayed
a relay is planned (`_plan_relay`): only where the sender chose us as a
multipoint relay and some neighbour is not yet covered (relays.py), or in a
crowd by gossip (about `relay_fanout` stand ready), after a back-off that is
shorter the weaker the sender was heard and the more neighbours are left.

A record we already hold is a copy heard (`_heard`): it counts towards
cancelling our own pending send of it (counter-based suppression) and adds
what the sender covers. Copies from a sender whose signal does not fit it
prove nothing and are not counted. Records we asked for (a pull answer from
our responder, ids we requested) are taken whole; the store's quota on
unadmitted keys applies to the rest.

This class is a part of `Engine` (engine.py) and holds no state of its own.
"""

from __future__ import annotations

from dataclasses import replace

from . import messages as m
from .bootstrap import Bootstrap
from .budget import BULK
from .echoes import Echoes
from .inflight import Arrivals
from .outbox import RELAY_FRAME, Outbox, _Send
from .ports import CLASS_MEMBERSHIP, Ingested, RecordInfo, RxMeta
from .ratelimit import AuthorRates
from .urgent import COVERED_BY

RECENT_HLC_S = 3600  # a pulled record this close to the newest we hold is news
GONE_MAX = 1024  # superseded ids remembered (`_drop`)


class Inbox(Outbox):
    """Records heard, for `Engine` (the attributes below are the engine's)."""

    boot: Bootstrap
    arrivals: Arrivals
    fingerprint: int
    newcomers: AuthorRates
    urgent_rates: AuthorRates
    echoes: Echoes
    last_news: float
    last_urgent_news: float
    plausible: bool
    voice: int
    outside: dict[bytes, RecordInfo]
    gone: dict[bytes, None]
    newest_hlc: int

    def _add(self, info: RecordInfo) -> None:
        """A record we hold: into the sync set if its author is admitted (and within
        any revocation's cut), else kept aside (`outside`): records of keys nobody
        admitted are neither counted in digests nor reconciled nor served."""
        if info.id in self.infos:
            return
        self.gone.pop(info.id, None)  # (counted again: a fork, a cut)
        if not info.trusted:
            self.outside[info.id] = info
            return
        self.outside.pop(info.id, None)
        self.infos[info.id] = info
        self.newest_hlc = max(self.newest_hlc, info.hlc)
        x = int.from_bytes(info.id, "big")
        self.fingerprint ^= x
        self.sketch.add(x)
        self.arrivals.add(x, self.clock)
        self.boot.added(info)
        self.answers.filters.index.add(info)

    def _retrust(self, changed: tuple[RecordInfo, ...]) -> None:
        """A vouch admitted, or a revocation cut, these records' author: move them
        into the sync set or out of it, as every node holding them does."""
        for info in changed:
            if info.trusted and info.id in self.outside:
                self._add(info)
                self.recon.got(info.id)
                self._news(self.clock, False)
            elif not info.trusted and info.id in self.infos:
                del self.infos[info.id]
                x = int.from_bytes(info.id, "big")
                self.fingerprint ^= x
                self.sketch.add(x, -1)
                self.boot.orders.removed(info)
                self.outside[info.id] = info
    def _drop(self, rid: bytes) -> None:
        """A record left the sync set: a later version superseded it (PROTOCOL.md §5).
        Remembered (`gone`): a neighbour lacking that later version still sketches
        it, and asking for it brings back what our store may have collected."""
        self.gone[rid] = None
        if len(self.gone) > GONE_MAX:
            del self.gone[next(iter(self.gone))]
        self.outside.pop(rid, None)
        info = self.infos.pop(rid, None)
        if info is None:
            return
        x = int.from_bytes(rid, "big")
        self.fingerprint ^= x
        self.sketch.add(x, -1)
        self.boot.orders.removed(info)

    def _set_change(self, result: Ingested) -> None:
        """Apply what an ingest superseded, or made count again, to the set."""
        for rid in result.dropped:
            self._drop(rid)
        for info in result.returned:
            self._add(info)

    def flooded(self, now: float) -> bool:
        """Whether some key floods the ledger here (outbox.py `flooding`)."""
        return self.load.any_over(self.cfg.author_burst, now)

    def flooders(self, now: float, most: int) -> list[bytes]:
        """The keys flooding the ledger here, heaviest first (at most `most`)."""
        return self.load.over(self.cfg.author_burst, now, most)

    def _news(self, now: float, urgent: bool) -> None:
        self.last_news = now
        if urgent:
            self.last_urgent_news = now
        self.trickle.reset(now, self.cfg.urgent_news_interval if urgent
                           else self.cfg.news_interval)

    def quiet_since(self, now: float) -> float:
        """When a digest that differs from ours stops meaning records still being
        relayed: `in_flight_s` after news (the relay back-off, `settle` at the
        least), but `settle` while urgent records are about (they are relayed
        within seconds, and a lost one must not wait on others' slow relays)."""
        urgent = now - self.last_urgent_news < self.cfg.in_flight_s
        return self.last_news + (self.cfg.settle if urgent else self.cfg.in_flight_s)

    def _on_records(self, msg: m.Records, meta: RxMeta, now: float) -> None:
        news = urgent_news = brought = fruit = False
        rids = msg.ids
        pulled = msg.after is not None and self.plausible and self.boot.pulling_from(meta.sender)
        self.boot.answer(msg, rids, meta.sender, now, [rid not in self.infos for rid in rids])
        for raw, rid in zip(msg.records, rids):
            if rid in self.infos or rid in self.outside:
                self.stats.duplicates += 1
                self.recon.got(rid)  # held already (outside the sync set, say): ask no more
                if self.plausible:  # a copy from a spoofed sender proves nothing
                    self._heard(rid, meta.sender, now)
                    self.echoes.copy(rid, meta.sender, now)
                continue
            # What we asked for (pull answers from our responders, records we
            # requested) is taken whole: a node catching up meets members' posts
            # before their vouches. The store's quota on unadmitted keys applies
            # to the rest (pushes and relays), given as heard over the radio.
            asked = pulled or rid in self.recon.requests
            result = self.ledger.sync_ingest(raw, now, None if asked else meta)
            self._retrust(result.changed)
            self._set_change(result)
            for freed in result.released:  # held until this record (a hello) arrived
                self._add(freed)
                self.recon.got(freed.id)
            if result.info is None:
                self.stats.dropped[result.reason or result.status] += 1
                if result.status == "held":
                    self.recon.got(rid)  # the store keeps it until its author's hello comes
                continue
            info = result.info
            if msg.relay and msg.after is None:
                self.echoes.first(rid, meta.sender, now)
            first = self.hood.peers.get(meta.sender) if meta.hops == 0 else None
            if first is not None and self.plausible:
                first.fresh_at = now  # it brought us this first (relays.py `degree`)
            elif meta.hops and info.trusted and (far := self.hood.peers.get(meta.sender)):
                far.brought_far = now  # (a far peer taking part: filters.py `far`)
            if info.trusted and ((msg.after is None and not asked) or info.hlc >> 16
                                 >= (self.newest_hlc >> 16) - RECENT_HLC_S):
                # (what we asked for or pulled counts if it is news, not history: a
                # joiner pulling the ledger, or a node healing by sketches, finds
                # no prolific site flooding)
                self.load.add(info.author, now, meta.sender)
            if info.urgent and msg.after is None and (
                    self.flooding(info.author, now) or not self.urgent_rates.allow(
                        info.author + bytes((info.cls,)), now)):
                # Past its author's urgent allowance (for this class), or from an
                # author flooding the ledger: a normal record here, relayed and
                # watched as one. A stolen key posting critical needs or vouches
                # at 10 % duty otherwise held every node's urgent band, a
                # revocation of that very key queued behind its flood. (Records we
                # asked for count too: fetched by reconciliation, a thief's
                # critical needs were otherwise all rechecked, by every node.)
                self.stats.dropped["urgent-rate"] += 1
                info = replace(info, urgent=False)
            self._remember(rid, raw)
            self.stats.accepted += 1
            self._add(info)
            self.recon.got(rid)
            brought = brought or info.trusted
            news = news or asked or info.id in self.infos  # (a stranger's push is no news)
            fruit = fruit or (info.id in self.infos and not self.flooding(info.author, now))
            urgent = info.urgent and info.trusted
            urgent_news = urgent_news or urgent
            if urgent and msg.after is None:
                # (A pull answer serves history: the urgent records it brings are
                # not news our neighbours may have missed. Watched, a joiner on
                # blockaded-port re-sent the old critical needs and vouches it
                # pulled to neighbours that held them: 146 s of its budget, a
                # third of its air, while its pull waited for that budget.)
                self.watch.watch(rid, meta.sender, now)
            elif msg.after is None and info.trusted and not self.flooding(info.author, now) \
                    and self.flooded(now):
                # While a key floods the ledger here, reconciliation finds a normal
                # record lost on the way only slowly, among hundreds of the
                # flood's: watched too, as urgent ones are, but resent in the bulk
                # band, and a neighbour's silence on it makes no neighbour deaf
                # (most neighbours do not relay a normal record). Found on
                # stolen-critical, full size: a neighbour's posts that a bridge's
                # one relay failed to carry across were hours late, or never came.
                self.watch.watch(rid, meta.sender, now, judged=False)
            if msg.relay:
                self._plan_relay(rid, info, meta, urgent, now)
        if news:
            self._news(now, urgent_news)
            if fruit:  # (new to us: it may answer our sketch)
                self.answers.took_up(self.voice, now)
        if brought:
            self._relayed(meta.sender, now)  # (after the take-up, counted as it was sent)

    def _plan_relay(self, rid: bytes, info: RecordInfo, meta: RxMeta, urgent: bool,
                    now: float) -> None:
        if not info.trusted and (info.cls != CLASS_MEMBERSHIP
                                 or not self.newcomers.allow(b"hello", now)):
            # Keys nobody admitted: only a newcomer's hello travels on (to reach
            # a steward), a few an hour; their other records stay where they landed.
            self.stats.suppressed += 1
            return
        prio = self._priority(info, fresh=True)
        if info.trusted and (prio == BULK or self.flooding(info.author, now)):
            # Past its author's rate (ratelimit.py), or flooding (outbox.py): left
            # to reconciliation, which its neighbours' credit paces, not relayed
            # by every node in turn.
            self.stats.suppressed += 1
            return
        # Far relays (farpeers.py `far_choice`): if a far peer chose us, each record
        # new to us from our side (heard at hop 0) goes at our far scope once, soon,
        # whatever the lists say and whatever copies we hear: the router carries it
        # to that side. (One heard through a router came from there: not sent back.)
        chosen = self.hood.far_chosen(now)
        if not urgent and meta.hops == 0 and chosen:
            lo, hi = self.cfg.urgent_window
            self._schedule(rid, _Send(now + self.rng.uniform(lo, hi), prio, 1, 1, "forward",
                                      far=True))
            return
        # Otherwise our relay goes at our far scope only while a far peer chose us,
        # an urgent one also where no far relay a far peer chose hears ours at hop 0.
        far = chosen or urgent and self.hood.far_needs_us(now)
        known = self.plausible  # a spoofed sender's neighbour list says nothing
        degree = self.hood.degree(now)
        fanout = self.cfg.relay_fanout * (2 if urgent else 1)
        crowd = degree > 2 * self.cfg.relay_fanout
        if crowd and not self.echoes.crowded(now):
            # Many neighbours, but records heard come with almost no copies from
            # others: they do not hear one another (a hub over leaves that hear it
            # alone, which as a crowd relayed one record in five). Relay as outside
            # a crowd.
            crowd = False
        if crowd:
            # A crowd: most of our neighbours heard the same packet, and on lossy
            # links "its neighbours have it" is wrong often enough that lists do not
            # help. Gossip (Haas et al.): about `fanout` of the crowd stand ready to
            # relay, counters cancel the rest; anti-entropy repairs the rare miss.
            if self.rng.random() * degree > fanout:
                self.stats.suppressed += 1
                return
            covered = None
        else:
            covered = None if urgent or not known else self.hood.coverage(meta.sender, now)
        uncovered = self.hood.uncovered(covered, now)
        if uncovered == 0 or (not urgent and known and not crowd
                              and not self.hood.chosen_relay(meta.sender, now)):
            self.stats.suppressed += 1  # not needed: covered, or not a relay of the sender
            return
        lo, hi = (self.cfg.urgent_window if urgent else self.cfg.crowd_window if crowd
                  else self.cfg.forward_window)
        # Counter-based suppression needs the copies to be heard before the next
        # timer fires: in a crowd of d neighbours who all heard the same packet,
        # spread the timers over about d frames, so the first relay still goes
        # out within a frame or two and the rest hear it and cancel.
        hi = max(hi, lo + 2.0 * self.cfg.airtime(RELAY_FRAME) * min(degree, fanout))
        # Weaker signal (farther away) and more neighbours left to reach: relay sooner
        # (within a quarter of the window at the least, so a crowd of far nodes does
        # not fire all at once).
        snr_scale = 0.25 + 0.75 * min(1.0, max(0.0, (meta.snr + 20.0) / 35.0))
        reach = 2.0 / (2.0 + uncovered) if uncovered > 0 else 1.0
        delay = lo + (hi - lo) * snr_scale * reach * self.rng.random()
        # Urgent records (critical needs, revocations) are relayed by every node once:
        # on a lossy mesh, redundancy is what makes them arrive in seconds.
        # A newcomer's hello (a key nobody admitted): one other copy heard carries it on.
        suppress = (1 if not info.trusted else self.cfg.forward_suppress
                    if crowd or not urgent else self.cfg.urgent_suppress)
        self._schedule(rid, _Send(now + delay, prio, suppress, 1, "forward", covered,
                                  carried=meta.hop_limit > 0 or not far))

    def _relayed(self, sender: int, now: float) -> None:
        """`sender` brought us a trusted record or a copy of one (urgent.py
        `relayers`): counted for a known neighbour heard in its own signal only (a
        copy replayed in a number made up for it proves nothing)."""
        if self.plausible and self.hood.is_known(sender, now):
            self.watch.relayed(sender)

    def _news_in(self, msg: m.Records, now: float) -> bool:
        """Whether `msg` carries a record new to us or one that reached us lately
        (inflight.py `is_fresh`): a relay, not history replayed."""
        return any(rid not in self.infos or self.arrivals.is_fresh(int.from_bytes(rid, "big"), now)
                   for rid in msg.ids)

    def _heard(self, rid: bytes, sender: int, now: float) -> None:
        """Someone else sent `rid`: count the copy and what it covered. A copy of a
        record that reached us long ago is history replayed (anyone may replay
        it, in any number): it shows no relay, so it ends no neighbour's silence
        (urgent.py `relayers`; one made-up number replaying an old record every
        ten minutes had every listener recheck each urgent record for it, ten
        times its air: copy-watchers)."""
        self.watch.heard(rid, sender)
        if self.arrivals.is_fresh(int.from_bytes(rid, "big"), now):
            self._relayed(sender, now)
        pending = self.sends.get(rid)
        if pending is None:
            return
        if pending.waiting is not None:
            # A recheck: cancelled once every silent neighbour was heard with it, or
            # covered often enough by copies from nodes that list it (urgent.py).
            pending.waiting.discard(sender)
            for n in [n for n in pending.waiting if self.hood.listing(n, {sender})]:
                pending.cover[n] = pending.cover.get(n, 0) + 1
                if pending.cover[n] >= COVERED_BY:
                    pending.waiting.discard(n)
            if not pending.waiting:
                del self.sends[rid]
                self.stats.suppressed += 1
            return
        if pending.far:
            return  # a far relay's send goes whatever was heard (`_plan_relay`)
        pending.heard += 1
        if pending.covered is not None:
            extra = self.hood.coverage(sender, now)
            pending.covered = None if extra is None else pending.covered | extra
        if pending.heard >= pending.suppress or (
            pending.tag == "forward" and self.hood.uncovered(pending.covered, now) == 0
        ):
            del self.sends[rid]
            self.stats.suppressed += 1
