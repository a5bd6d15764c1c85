"""The sync engine: one object per node, driven by receive(), local_record() and poll().

Theory of operation
-------------------
All packets go to neighbours only (hop limit = `scope`, 0 unless a node learns
that ledger peers sit behind radio-only relays: it hears one only through
them; a node that hears no ledger peer at all probes at hop 1). The engine
itself decides what travels further, so every byte it causes on air is inside
its own air-time budget.

1. Push. A record authored here is broadcast after `push_delay` (at once if
   urgent), batched with whatever else is queued to fill the packet; an
   urgent one is sent again unless a neighbour is heard relaying it.
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
5. Bootstrap. A node far behind pulls in priority order (bootstrap.py).
   Everything the engine does on hearing DIGEST, SKETCH, REQUEST, MORE or
   PULL (4 and 5) is decided in answers.py.
6. Budget. Every packet passes the air-time budget (budget.py); urgent records
   first, bulk last; authors past their rate and unadmitted authors travel as
   bulk only.

Bad input never raises: it is counted in `stats.dropped` under its reason.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..ledger.wire import DecodeError
from . import messages as m
from . import riblt
from .answers import Answers
from .budget import BULK, NORMAL, URGENT, Budget
from .ports import CLASS_BOARD, CLASS_MEMBERSHIP, Ledger, Outgoing, RecordInfo, RxMeta, SyncConfig
from .ratelimit import AuthorRates
from .relays import NEIGHBOUR_TTL_FACTOR, Neighbourhood
from .trickle import Trickle
from .urgent import RECENT_S, UrgentWatch

RAW_CACHE = 512  # record bytes kept in memory for sending
NEWCOMER_HELLOS_PER_HOUR = 6.0  # hellos of unadmitted keys relayed, all keys together
NEWCOMER_BURST = 3.0
PROBE_AFTER_S = 600.0  # alone this long (no ledger peer heard directly): send at hop 1
RELAY_FRAME = 120  # bytes of a typical relayed RECORDS packet, to space relay timers
SETTLE_SLICE = 250  # ids coded into the sketch per poll while starting (about 8 ms)
SETTLE_PAUSE_S = 0.05


def record_id(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()[:8]


@dataclass
class _Send:
    due: float
    priority: int
    suppress: int  # copies heard that cancel this send
    heard: int = 0
    tag: str = "push"
    covered: set[int] | None = None  # neighbours known to have it (None: unknown)
    waiting: set[int] | None = None  # a recheck: neighbours not yet heard with it


@dataclass
class Stats:
    sent: Counter[str] = field(default_factory=Counter)
    airtime: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    dropped: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    duplicates: int = 0
    suppressed: int = 0
    deferred: int = 0
    failed: int = 0  # packets the radio did not send (send_failed)


class Engine:
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
        for info in ledger.sync_infos():
            if info.id not in infos:
                infos[info.id] = info
                fingerprint ^= int.from_bytes(info.id, "big")
        self.fingerprint = fingerprint
        self.sketch.defer(int.from_bytes(i, "big") for i in infos)
        self.sends: dict[bytes, _Send] = {}
        self.hood = Neighbourhood(node, NEIGHBOUR_TTL_FACTOR * config.trickle_imax,
                                  config.announce_every, config.use_relays)
        self.answers = Answers(self)  # DIGEST, SKETCH, REQUEST, MORE, PULL (answers.py)
        self.recon = self.answers.recon
        self.boot = self.answers.boot
        self.trickle = Trickle(config.trickle_imin, config.trickle_imax, config.trickle_k, self.rng)
        self.scope = 0
        self.started = False
        self.started_at = 0.0
        self.rates = AuthorRates(config.author_rate_per_hour, config.author_burst)
        self.newcomers = AuthorRates(NEWCOMER_HELLOS_PER_HOUR, NEWCOMER_BURST)
        self.last_time = 0.0
        self.clock = 0.0  # the time of the packet being handled
        self.watch = UrgentWatch(config.urgent_recheck)  # implicit acks (urgent.py)
        self.last_news = -1e9
        self.last_digest = -1e9
        self._deferred_until: float | None = None
        self._dirty = True  # state changed since next_timer() was last computed
        self._raws: dict[bytes, bytes] = {}  # recently seen record bytes, oldest first
        self._wake: float | None = None
        self.plausible = True  # the packet being handled looked like its claimed sender

    @property
    def count(self) -> int:
        return len(self.infos)

    @property
    def peers(self) -> dict:
        return self.hood.peers

    def _add(self, info: RecordInfo) -> None:
        if info.id in self.infos:
            return
        self.infos[info.id] = info
        x = int.from_bytes(info.id, "big")
        self.fingerprint ^= x
        self.sketch.add(x)
        self.boot.added(info)

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
        self._dirty = True
        rid = record_id(raw)
        if rid not in self.infos:
            result = self.ledger.sync_ingest(raw, now)
            if result.info is None:
                self.stats.dropped[result.reason or result.status] += 1
                return
            self._add(result.info)
        info = self.infos[rid]
        self._remember(rid, raw)
        delay = 0.0 if info.urgent else self.cfg.push_delay
        self._schedule(rid, _Send(now + delay, self._priority(info, fresh=True), 99, 0, "push"))
        if info.urgent and info.trusted:
            self.watch.watch(rid, None, now)
        self._news(now, info.urgent)

    def add_stored(self, raw: bytes, now: float) -> None:
        """A record another process stored (a bundle import, say): count it in
        digests and serve it, without pushing it."""
        self.start(now)
        rid = record_id(raw)
        if rid in self.infos:
            return
        result = self.ledger.sync_ingest(raw, now)
        if result.info is None:
            self.stats.dropped[result.reason or result.status] += 1
            return
        self._dirty = True
        self._add(result.info)
        self.recon.got(rid)
        self._news(now, False)

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
        peer = self.hood.heard(meta.sender, meta.hops, now, meta.snr)
        self.plausible = peer.plausible
        if not peer.plausible:
            # Someone else using this node's number: it earns no credit, its claims
            # (counts, sketches, copies heard) count for nothing; records it carries
            # are still checked and kept (they are signed).
            self.stats.dropped["implausible-sender"] += 1
            if not isinstance(msg, m.Records):
                return
        else:
            self.answers.heard(msg, meta.sender, len(payload), now)
        if self.scope < meta.hops <= self.cfg.max_scope and (
                not self.hood.has_direct_peer(now) or now - peer.last_direct > self.hood.ttl):
            # A ledger peer we only hear through radio-only relays (firmware routers,
            # masts): it needs our packets, answers included, to travel as far.
            self.scope = meta.hops
        match msg:
            case m.Records():
                self._on_records(msg, meta, now)
            case m.Digest():
                self.hood.learn(peer, msg)
                self.answers.on_digest(msg, peer, now)
            case m.Sketch():
                self.answers.on_sketch(msg, meta.sender, now)
            case m.Request():
                self.answers.on_request(msg, meta.sender, now)
            case m.More():
                self.answers.on_more(msg, meta.sender, now)
            case m.Pull():
                self.answers.on_pull(msg, meta.sender, now)

    # ------------------------------------------------------------ handlers

    def _news(self, now: float, urgent: bool) -> None:
        self.last_news = now
        self.trickle.reset(now, self.cfg.urgent_news_interval if urgent
                           else self.cfg.news_interval)

    def _on_records(self, msg: m.Records, meta: RxMeta, now: float) -> None:
        news = urgent_news = False
        rids = [record_id(raw) for raw in msg.records]
        pulled = msg.after is not None and self.plausible and self.boot.pulling_from(meta.sender)
        self.boot.answer(msg, rids, meta.sender, now, [rid not in self.infos for rid in rids])
        for raw in msg.records:
            rid = record_id(raw)
            if rid in self.infos:
                self.stats.duplicates += 1
                if self.plausible:  # a copy from a spoofed sender proves nothing
                    self._heard(rid, meta.sender, now)
                continue
            # What we asked for (pull answers from our responders, records we
            # requested) is taken whole: a node catching up meets members' posts
            # before their vouches. The store's quota on unadmitted keys applies
            # to the rest (pushes and relays), given as heard over the radio.
            asked = pulled or rid in self.recon.requests
            result = self.ledger.sync_ingest(raw, now, None if asked else meta)
            for freed in result.released:  # held until this record (a hello) arrived
                self._add(freed)
                self.recon.got(freed.id)
            if result.info is None:
                self.stats.dropped[result.reason or result.status] += 1
                continue
            info = result.info
            self._remember(rid, raw)
            self.stats.accepted += 1
            self._add(info)
            self.recon.got(rid)
            news = True
            urgent = info.urgent and info.trusted
            urgent_news = urgent_news or urgent
            if urgent:
                self.watch.watch(rid, meta.sender, now)
            if msg.relay:
                self._plan_relay(rid, info, meta, urgent, now)
        if news:
            self._news(now, urgent_news)

    def _plan_relay(self, rid: bytes, info: RecordInfo, meta: RxMeta, urgent: bool,
                    now: float) -> None:
        if not info.trusted and (info.cls != CLASS_MEMBERSHIP
                                 or not self.newcomers.allow(b"hello", now)):
            # Keys nobody admitted: only a newcomer's hello travels on (to reach
            # a steward), a few an hour; their other records stay where they landed.
            self.stats.suppressed += 1
            return
        known = self.plausible  # a spoofed sender's neighbour list says nothing
        degree = self.hood.degree(now)
        fanout = self.cfg.relay_fanout * (2 if urgent else 1)
        crowd = degree > 2 * self.cfg.relay_fanout
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
            covered = None if urgent or not known else self.hood.coverage(meta.sender)
        uncovered = self.hood.uncovered(covered, now)
        if uncovered == 0 or (not urgent and known and not crowd
                              and not self.hood.chosen_relay(meta.sender)):
            self.stats.suppressed += 1  # not needed: covered, or not a relay of the sender
            return
        lo, hi = self.cfg.urgent_window if urgent else self.cfg.forward_window
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
        suppress = self.cfg.forward_suppress if crowd or not urgent else self.cfg.urgent_suppress
        self._schedule(rid, _Send(now + delay, self._priority(info, fresh=True), suppress, 1,
                                  "forward", covered))

    def _heard(self, rid: bytes, sender: int, now: float) -> None:
        """Someone else sent `rid`: count the copy and what it covered."""
        self.watch.heard(rid, sender)
        pending = self.sends.get(rid)
        if pending is None:
            return
        if pending.waiting is not None:
            # A recheck: cancelled once every silent neighbour was heard with it.
            pending.waiting.discard(sender)
            if not pending.waiting:
                del self.sends[rid]
                self.stats.suppressed += 1
            return
        pending.heard += 1
        if pending.covered is not None:
            extra = self.hood.coverage(sender)
            pending.covered = None if extra is None else pending.covered | extra
        if pending.heard >= pending.suppress or (
            pending.tag == "forward" and self.hood.uncovered(pending.covered, now) == 0
        ):
            del self.sends[rid]
            self.stats.suppressed += 1

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
        self.stats.dropped["author-rate"] += 1
        return False

    def schedule_repair(self, info: RecordInfo, due: float) -> None:
        """Send `info` to someone who lacks it at `due`, unless a copy is heard first.
        An answer to others: bulk priority, whatever the record (answers.py).
        In a crowd (over twice `relay_fanout` neighbours), all of whom heard the same
        request or sketch, only about `relay_fanout` stand ready to answer, spread
        over as many frames, so the first answer is heard before the rest go."""
        now = self.clock
        fanout = self.cfg.relay_fanout
        if self.hood.degree(now) > 2 * fanout and due > now:
            if not self.crowd_pick(now):
                return
            spread = 2.0 * self.cfg.airtime(RELAY_FRAME) * fanout / self.cfg.repair_window[1]
            due = now + (due - now) * max(1.0, spread)
        self._schedule(info.id, _Send(due, BULK, 1, 0, "repair"))

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
        times = [self.trickle.next_time()] if self.started else []
        times += [s.due for s in self.sends.values()]
        times += self.watch.times()
        times += self.answers.times()
        if not self.sketch.ready:
            times.append(self.last_time + SETTLE_PAUSE_S)  # keep coding the sketch in
        if self._deferred_until is not None:
            # What the budget refused waits for it; what is not due yet keeps its time.
            times = [max(t, self._deferred_until) if t <= self.last_time else t for t in times]
        self._wake = min(times) if times else None
        self._dirty = False
        return self._wake

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
            return self._emit(out, msg, tag, prio, now)

        tick = self.trickle.poll(now)
        if tick == "send" or (tick == "suppressed"
                              and now - self.last_digest > self.cfg.announce_every):
            self.last_digest = now
            listed, nbrs, relays = self.hood.announcement(now)
            emit(m.Digest(self.count, self.fingerprint, self.boot.active, nbrs, listed, relays),
                 "digest", NORMAL)
        self._rechecks(now)
        # Fresh records first: under load, reconciliation waits for the budget left.
        self._poll_records(out, now)
        self.answers.poll(emit, now)
        return out

    def _emit(self, out: list[Outgoing], msg: m.Message, tag: str, prio: int, now: float,
              records: tuple[bytes, ...] = ()) -> bool:
        payload = m.encode(msg, self.cfg.network_tag)
        cost = self.cfg.airtime(len(payload))
        if not self.budget.allowed(cost, prio, now):
            self.stats.deferred += 1
            retry = self.budget.next_allowed(cost, prio, now)
            self._deferred_until = retry if self._deferred_until is None else min(
                self._deferred_until, retry)
            return False
        self.budget.spend(cost, now)
        self.stats.sent[tag] += 1
        self.stats.airtime[tag] += cost
        scope = self.scope
        if not scope and now - self.started_at > PROBE_AFTER_S and not self.hood.has_direct_peer(now):
            scope = 1  # no ledger peer heard in range: let relays carry us to one (a probe)
        out.append(Outgoing(payload, scope, tag, prio, records=records, airtime=cost,
                            at=now))
        return True

    def _poll_records(self, out: list[Outgoing], now: float) -> None:
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
        while queue and any(self.sends[r].due <= now for r in queue if r in self.sends):
            room = self.cfg.payload_cap - m.RECORDS_ROOM
            packet: list[bytes] = []
            taken: list[bytes] = []
            rest: list[bytes] = []
            prio = min(self.sends[r].priority for r in queue if r in self.sends)
            tag = self.sends[queue[0]].tag if queue[0] in self.sends else "push"
            for rid in queue:
                raw = self.raw(rid) if rid in self.sends else None
                if raw is None:
                    self.sends.pop(rid, None)
                elif len(raw) + 1 <= room:
                    packet.append(raw)
                    taken.append(rid)
                    room -= len(raw) + 1
                else:
                    rest.append(rid)
            if not packet or not self._emit(out, m.Records(tuple(packet)), tag, prio, now,
                                            tuple(taken)):
                return
            for rid in taken:
                self._sent(rid, now)
            queue = rest

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
        self.recon.got(rid)

    # ------------------------------------------------------------ urgent rechecks

    def _rechecks(self, now: float) -> None:
        """Send again the urgent records some neighbour was never heard with (urgent.py)."""
        recent = {n for n, p in self.hood.peers.items()  # (numbers heard once: made up)
                  if now - p.last_direct < RECENT_S and p.packets >= 2} - {self.node}
        crowd = self.hood.degree(now) > 2 * self.cfg.relay_fanout
        for rid, missing in self.watch.due(now, recent, crowd):
            if rid in self.infos and rid not in self.sends:
                delay = self.rng.uniform(*self.cfg.urgent_window)
                self.sends[rid] = _Send(now + delay, URGENT, 99, 0, "recheck",
                                        waiting=set(missing))
