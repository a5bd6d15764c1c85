"""The sync engine: one object per node, driven by receive(), local_record() and poll().

Theory of operation
-------------------
All packets go to neighbours only (hop limit = `scope`, 0 unless a node learns
that ledger peers sit behind radio-only relays: it hears one only through them
and no chain of ledger links it knows of leads there, relays.py `far_scope`,
and then only for packets that may serve such a peer, outbox.py; a node that
hears no ledger peer at all probes at hop 1). The engine itself decides what
travels further, so every byte it causes on air is inside its own air-time
budget.

1. Push. A record authored here is broadcast after `push_delay` (at once if
   urgent), batched with whatever else is queued to fill the packet; an urgent
   one is sent again unless a neighbour is heard relaying it, and another one
   once more if a relay (or a far relay) was to carry it on and nobody was
   heard with it by the end of the relay window.
2. Relay. A record new to us is re-broadcast if the sender chose us as one of
   its multipoint relays and some neighbour of ours is not yet covered
   (relays.py), after a back-off that is shorter the weaker the sender was
   heard and the more neighbours are left; copies heard meanwhile cancel it.
   Urgent records are relayed by every node, for redundancy. In a crowd (more
   than twice `relay_fanout` neighbours heard directly) lists do not decide:
   about `relay_fanout` of the crowd stand ready (gossip), their timers spread
   over as many frames, and copies heard cancel the rest; answers to requests
   and sketches are thinned the same way (`schedule_repair`).
   An urgent record we hold is watched (urgent.py): a neighbour never heard
   sending it after `urgent_recheck` may lack it, so we send it again (tag
   "recheck"), until each such neighbour is heard with it.
3. Digest. Trickle (RFC 6206) paces a 14-byte digest (count, XOR of ids):
   about one per neighbourhood per `trickle_imax` while all agree, sooner
   after news.
4. Reconcile. A differing digest leads to a rateless IBLT sketch that every
   neighbour decodes at once (reconcile.py); what the sketcher lacks is sent
   as repairs, what a listener lacks is requested; both with suppression.
   A difference that is only records still in flight (they reached us in the
   last `settle` seconds) plans nothing (inflight.py); a digest lacking
   exactly one older record we hold gets that record, no sketch (answers.py).
   A stream whose first symbols show that the sketcher holds many records we
   lack gives way to FILTERs of the ids we hold, answered with what we lack
   (filters.py).
5. Bootstrap. A node far behind pulls in priority order (bootstrap.py).
   Everything the engine does on hearing DIGEST, SKETCH, REQUEST, MORE or
   PULL (4 and 5) is decided in answers.py.
6. Budget. Every packet passes the air-time budget (budget.py); urgent records
   first, bulk last; authors past their rate and unadmitted authors travel as
   bulk only.

Bad input never raises: it is counted in `stats.dropped` under its reason.
"""

from __future__ import annotations

import random

from ..ledger.wire import DecodeError
from . import messages as m
from . import riblt
from .answers import Answers
from .beacon import Beacon
from .budget import BULK, NORMAL, Budget
from .echoes import Echoes
from .inbox import Inbox
from .inflight import Arrivals
from .messages import record_id
from .outbox import Stats, _Send
from .ports import Ledger, Outgoing, RecordInfo, RxMeta, SyncConfig
from .ratelimit import AuthorLoad, AuthorRates
from .relays import NEIGHBOUR_TTL_FACTOR, Neighbourhood
from .ticket import Signer
from .trickle import Trickle
from .urgent import UrgentWatch

__all__ = ["Engine", "Stats", "_Send", "record_id"]

NEWCOMER_HELLOS_PER_HOUR = 2.0  # hellos of unadmitted keys relayed, all keys together
# (each is relayed by every node of the mesh: a flood of fresh keys costs the
# mesh this many relays an hour per node, whatever the attacker spends)
NEWCOMER_BURST = 2.0
QUIET_INTERVALS = 16  # Trickle intervals of this many Imin: a quiet mesh (see poll)
SPOOFED = 1 << 32  # added to a sender's number whose packet did not sound like it
SETTLE_SLICE = 250  # ids coded into the sketch per poll while starting (about 8 ms)

ASKS = frozenset({"pull", "filter", "request"})  # under a flood: the bulk band


class Engine(Inbox, Beacon):
    """One node's sync engine (sans-IO): feed it packets heard (`receive`), records
    authored or stored here (`local_record`, `add_stored`), and call `poll` when
    `next_timer` says so; it returns the packets to send. Receiving records and
    relaying live in inbox.py, the send queue and budget in outbox.py, answers to
    DIGEST/SKETCH/REQUEST/MORE/PULL in answers.py, the router beacon in beacon.py."""

    def __init__(self, ledger: Ledger, config: SyncConfig, node: int, seed: int = 0) -> None:
        self.ledger = ledger
        self.cfg = config
        self.node = node
        self.rng = random.Random(seed)
        self.budget = Budget(limit_s=config.budget_s_per_hour, margin=config.budget_margin)
        self.stats = Stats()
        self.infos: dict[bytes, RecordInfo] = {}
        self.fingerprint = 0
        self.sketch = riblt.Sketch(config.sketch_size)
        # Start-up: the sketch codes the stored ids in when it is first needed.
        infos = self.infos
        fingerprint = 0
        self.outside: dict[bytes, RecordInfo] = {}  # held, of keys nobody admitted
        self.gone: dict[bytes, None] = {}  # superseded here lately: never asked for
        for info in ledger.sync_infos():
            if not info.trusted:
                self.outside[info.id] = info
            elif info.id not in infos:
                infos[info.id] = info
                fingerprint ^= int.from_bytes(info.id, "big")
        self.fingerprint = fingerprint
        self.sketch.defer(int.from_bytes(i, "big") for i in infos)
        self.sends: dict[bytes, _Send] = {}
        self.arrivals = Arrivals(config.settle)  # recent ids: digests lacking only them agree
        self.hood = Neighbourhood(node, NEIGHBOUR_TTL_FACTOR * config.trickle_imax,
                                  config.announce_every, config.use_relays)
        self.hood.fanout = config.relay_fanout
        self.hood.crowded = int(2 * config.relay_fanout)
        self.answers = Answers(self)  # DIGEST, SKETCH, REQUEST, MORE, PULL (answers.py)
        self.recon = self.answers.recon
        self.boot = self.answers.boot
        self.trickle = Trickle(config.trickle_imin, config.trickle_imax, config.trickle_k, self.rng)
        self.started = False
        self.started_at = 0.0
        self.rates = AuthorRates(config.author_rate_per_hour, config.author_burst)
        self.load = AuthorLoad()  # records per author lately (outbox.py `flooding`)
        self.newest_hlc = 0  # of the records in our set
        self.newcomers = AuthorRates(NEWCOMER_HELLOS_PER_HOUR, NEWCOMER_BURST)
        self.echoes = Echoes()  # copies heard per record: a crowd or a hub (echoes.py)
        self.urgent_rates = AuthorRates(config.author_urgent_per_hour,
                                        config.author_urgent_burst)
        self.last_time = 0.0
        self.clock = 0.0  # the time of the packet being handled
        self.watch = UrgentWatch(config.urgent_recheck)  # implicit acks (urgent.py)
        self.last_news = self.last_urgent_news = -1e9
        self.last_digest = -1e9
        self._deferred_until: float | None = None
        self._dirty = True  # state changed since next_timer() was last computed
        self._raws: dict[bytes, bytes] = {}  # recently seen record bytes, oldest first
        self._wake: float | None = None
        self.plausible = True  # the packet being handled looked like its claimed sender
        self.voice = 0  # whose account the packet being handled pays into (receive)
        self.routers_near = 0  # firmware routers in direct range, as the radio reports
        self.proof_sent = -1e9  # when our membership proof last went in a digest (outbox.py)
        self.proof_first = -1e9  # when it first did
        self.intro_sent = -1e9  # when it last went at hop 0 as an introduction (hops.py)
        self.intro_asked = -1e9  # when a stranger called for one (hops.py `introduce`)
        self.next_beacon: float | None = None
        self.beacons_unanswered = 0  # beacons sent since a ledger peer behind relays was known
        # Our admitted member key, if this node has one (ticket.py): it signs the
        # tickets that let us pull beyond our own air. Set by whoever runs us.
        self.signer: Signer | None = None

    @property
    def count(self) -> int:
        return len(self.infos)

    @property
    def scope(self) -> int:
        """The hop limit of our packets: 0, unless a ledger peer is heard only through
        radio-only relays (farpeers.py, `far_scope`): it needs our packets, answers
        included, to travel as far."""
        return self.hood.far_scope(self.last_time, self.cfg.max_scope)

    @property
    def peers(self) -> dict:
        return self.hood.peers

    # ------------------------------------------------------------ inputs

    def start(self, now: float) -> None:
        if not self.started:
            self.started = True
            self.started_at = now
            self._dirty = True
            self.last_time = now
            self.trickle.begin(now)

    def local_record(self, raw: bytes, now: float) -> None:
        """A record authored on this node (stored already, or stored now): push it."""
        self.start(now)
        self.clock = now
        self._dirty = True
        rid = record_id(raw)
        if rid not in self.infos and rid not in self.outside and self._take_in(raw, now) is None:
            return
        info = self.infos.get(rid) or self.outside[rid]
        self._remember(rid, raw)
        delay = 0.0 if info.urgent else self.cfg.push_delay
        self._schedule(rid, _Send(now + delay, self._priority(info, fresh=True), 99, 0, "push"))
        if info.urgent and info.trusted:
            self.watch.watch(rid, None, now)
        elif self.hood.degree(now) > 2 * self.cfg.relay_fanout:
            # A crowd: nobody heard with it once its relays are done: the push was lost.
            self.watch.watch(rid, None, now, urgent=False, after=self.cfg.crowd_window[1])
        elif info.trusted and (self.hood.choose_relays(now) or self.hood.far_needs_us(now)):
            # Some neighbour or far relay is to relay it: nobody heard with it once
            # their relays are done means the push was lost (a collision, a jammer,
            # a mast's busy link; town-40's lone house lost one for 5 h): once more.
            self.watch.watch(rid, None, now, urgent=False,
                             after=self.cfg.forward_window[1] + self.cfg.push_delay)
        self._news(now, info.urgent)

    def add_stored(self, raw: bytes, now: float) -> None:
        """A record another process stored (a bundle import, say): count it in
        digests and serve it, without pushing it."""
        self.start(now)
        self.clock = now
        rid = record_id(raw)
        if rid in self.infos or rid in self.outside or self._take_in(raw, now) is None:
            return
        self._dirty = True
        self.recon.got(rid)
        self._news(now, False)

    def _take_in(self, raw: bytes, now: float) -> RecordInfo | None:
        """Hand a record stored on this node to the store port and take it into
        our set: its info, or None if the port refused it (counted)."""
        result = self.ledger.sync_ingest(raw, now)
        self._retrust(result.changed)
        self._set_change(result)
        if result.info is None:
            self.stats.dropped[result.reason or result.status] += 1
            return None
        self._add(result.info)
        return result.info

    def forget(self, rids: list[bytes]) -> None:
        """Records the store deleted (expired records of keys nobody admitted,
        node/store/strangers.py): no longer held."""
        for rid in rids:
            self.outside.pop(rid, None)

    def budget_snapshot(self, now: float | None = None) -> list[tuple[float, float]]:
        """The air time spent in the last hour as (age in seconds, air seconds),
        aged from `now` (default: the last time the engine ran), for
        `Store.save_budget`."""
        return self.budget.snapshot(self.last_time if now is None else now)

    def restore_budget(self, entries: list[tuple[float, float]], now: float) -> None:
        """Charge air time spent before a restart ((age, air seconds) pairs, as
        `Store.load_budget` gives them), so a crash loop gets no fresh budget."""
        self.budget.restore(list(entries), now)
        self._dirty = True

    def set_channel_utilization(self, pct: float) -> None:
        self.budget.channel_util_pct = pct

    def receive(self, payload: bytes, meta: RxMeta, now: float) -> None:
        """A packet heard on our port. Never raises for any payload."""
        self.start(now)
        self._dirty = True
        self.clock = now
        try:
            _kind, tag = m.peek(payload)
            if tag != self.cfg.network_tag:
                self.stats.dropped["other-network"] += 1
                return
            msg = m.decode(payload)
        except DecodeError as exc:
            self.stats.dropped[exc.reason] += 1
            return
        if meta.sender == self.node:
            self.stats.dropped["own-number"] += 1  # someone else claiming to be us
            return
        peer = self.hood.heard(meta.sender, meta.hops, now, meta.snr)
        relayed = self.hood.relay_lies(meta.sender, meta.hops, meta.relay, meta.snr, now) or bool(
            meta.hops) and isinstance(msg, m.Sketch) and self.hood.relayed_voice(meta.sender, now)
        self.plausible = peer.plausible and not relayed
        if not self.plausible:
            # Not the signal of the node it claims (or the node itself, when someone
            # else set its usual signal): its claims (counts, neighbour lists, copies
            # heard) count for nothing. What costs nothing to believe still counts:
            # records (signed), sketches and requests (checked against our own set,
            # answered only as far as its air paid), and that air as credit.
            self.stats.dropped["relayed-voice" if relayed else "implausible-sender"] += 1
        # Whom an answer to this packet is for, and whose account pays for it: its
        # sender, or, for a packet that did not sound like the sender, a number of
        # its own (no node's number: nobody else's account, no stream of the real
        # node's). What a real neighbour's air earned and it has not used yet is
        # thus spent on that neighbour only, never on requests in its name.
        who = meta.sender if self.plausible else meta.sender | SPOOFED
        self.voice = who
        self.answers.heard(msg, who, len(payload), now, meta)
        if self.plausible and meta.hops == 0 and not peer.active and (
                isinstance(msg, m.Records) and self._news_in(msg, now)
                or (isinstance(msg, m.Digest)
                    and (msg.count, msg.fingerprint) == (self.count, self.fingerprint))):
            # It syncs with us (a digest of our very set, or records): urgent
            # rechecks expect it to relay (outbox.py), and it counts in our crowd.
            # A number heard only in digests claiming another set, or in
            # sketches, requests, MOREs and pulls (what costs nothing to say in a
            # far node's name), is not waited for: each would otherwise cost every
            # urgent record a resend (a digest and a sketch in a fresh name each
            # time made a node count itself in a crowd and relay almost nothing).
            # Records count only if one is new to us or reached us lately: copies of
            # old ones cost nothing to replay (copy-watchers).
            peer.active = True
        match msg:
            case m.Records():
                self.answers.filters.heard(msg, who)
                self._on_records(msg, meta, now)
            case m.Digest():
                if self.plausible:
                    self.hood.learn(peer, msg)
                    self.answers.members.prove(meta.sender, peer, msg.ticket, now)
                    if meta.hops and (msg.count > self.count + self.cfg.boot_gap or (
                            (msg.count, msg.fingerprint) != (self.count, self.fingerprint)
                            and now - peer.last_direct < self.hood.ttl)) \
                            and not self.hood.is_far(meta.sender, now):
                        # Through relays, from no far peer (farpeers.py: proven,
                        # and our own relays do not reach it): a header's hops are
                        # anyone's to set, so a claim of being far ahead is anyone's
                        # too, as from a voice not the sender's (digests.py): no
                        # probe, no sketch (hop1-ahead: one a minute in other nodes'
                        # numbers drew both from every listener); and so is any set
                        # unlike ours in the number of a neighbour we hear directly
                        # (hop1-near): its own packets reach us directly, the firmware
                        # dropping the relayed copies of what it heard. (Every set
                        # unlike ours through relays so taken, villages-27 delivered
                        # 4 % less: far sites are heard through the mast before
                        # their proofs arrive.)
                        self.plausible = False
                        self.stats.dropped["relayed-claim"] += 1
                self.answers.on_digest(msg, meta.sender, peer, now)
            case m.Sketch():
                self.answers.on_sketch(msg, meta.sender, now, payer=who)
            case m.Request():
                self.answers.on_request(msg, who, now)
            case m.More():
                self.answers.on_more(msg, who, now)
            case m.Filter():
                self.answers.filters.on_filter(msg, who, now)
            case m.Pull():
                if self.plausible:  # (a pull in a voice not the puller's serves nobody)
                    self.answers.on_pull(msg, meta.sender, now)

    def _differing_neighbour(self, now: float) -> bool:
        """Whether a neighbour heard lately (not one pulling the ledger: its pulls
        serve it) said, after our set last changed (and its records settled),
        that its set differs from ours. Trickle's k = 1
        assumes neighbours share a neighbourhood: after a heal, each side hears
        its own side agree, and if both keep quiet no digest ever crosses. So
        does, outside a crowd, a neighbour whose last word, however old, differs
        from our set while it hears none of our other neighbours (relays.py
        `sole_link`): two towns joined by one weak link each agreed within
        themselves and kept both ends of the link quiet for good (two-towns)."""
        since = self.last_news + self.cfg.settle
        ttl = self.hood.ttl
        ours = (self.count, self.fingerprint)
        crowd = self.hood.degree(now) > 2 * self.cfg.relay_fanout
        for n, p in self.hood.peers.items():
            if now - p.last_direct >= ttl or p.boot or (p.count, p.fingerprint) == ours:
                continue
            if p.digest_at > since or (
                    p.count > 0 and not crowd and self.hood.sole_link(n, now)):
                return True
        return False

    # ------------------------------------------------------------ output

    def poll(self, now: float) -> list[Outgoing]:
        """Run due timers; return the packets to transmit now, within budget."""
        self.start(now)
        wake = self.next_timer()
        if wake is None or now < wake:
            return []  # nothing is due: the common case, made cheap
        self._dirty = True
        self.last_time = now
        self._deferred_until = None
        out: list[Outgoing] = []
        # A large ledger's sketch is coded in by slices, so no poll stalls on it.
        self.sketch.settle_some(SETTLE_SLICE)

        def emit(msg: m.Message, tag: str, prio: int) -> bool:
            if prio == NORMAL and tag in ASKS and self.flooded(now):
                prio = BULK
            return self._emit(out, msg, tag, prio, now)

        tick = self.trickle.poll(now)
        if tick == "suppressed" and self.trickle.interval >= QUIET_INTERVALS * \
                self.cfg.trickle_imin and self._differing_neighbour(now):
            # The mesh around us went quiet while a neighbour that differs may hear
            # none of those who agree with us.
            tick = "send"
        if tick == "send" or (tick == "suppressed"
                              and now - self.last_digest > self.cfg.announce_every):
            self.last_digest = now
            bare = m.Digest(self.count, self.fingerprint, self.boot.active)
            emit(self._listed(bare, now), "digest", NORMAL)
        self._beacon(out, now)
        self._rechecks(now)
        # Fresh records first: under load, reconciliation waits for the budget left.
        self._poll_records(out, now)
        self.answers.poll(emit, now)
        return out
