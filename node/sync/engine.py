"""The sync engine: one object per node, driven by receive(), local_record() and poll().

Theory of operation
-------------------
All packets go to neighbours only (hop limit = `scope`, 0 unless a node
learns that its nearest ledger peers sit behind radio-only relays). The
engine itself decides what travels further, so every byte it causes on air is
inside its own air-time budget.

1. Push. A record authored here is broadcast after `push_delay` (at once if
   urgent), batched with whatever else is queued to fill the packet.
2. Forward. A record new to us is re-broadcast after a back-off that is
   shorter the weaker the sender was heard (far nodes extend coverage most),
   unless `forward_suppress` copies were heard first (as Meshtastic's managed
   flooding, but per record, beyond any hop limit, and within budget).
3. Digest. Trickle (RFC 6206) paces a 14-byte digest (count, XOR of ids):
   about one per neighbourhood per `trickle_imax` while all agree.
4. Reconcile. A node hearing a digest unlike its own broadcasts a rateless
   IBLT sketch of its ids (after a back-off; cancelled if someone else's sketch
   is heard first). Every neighbour decodes its own difference from that one
   packet, pushes what the sketcher lacks and requests what it lacks; if the
   sketch does not decode, a neighbour asks for more symbols (MORE).
5. Repair. Answers to requests and sketches wait a random back-off and are
   cancelled per record when someone else sends it first.
6. Bootstrap. A node far behind (count gap > `boot_gap`) pulls instead:
   it asks up to three well-stocked neighbours for disjoint partitions, in
   priority order (membership, then needs and offers, then commitments,
   newest first), with a cursor, batch by batch.
7. Budget. Every packet passes the air-time budget (budget.py); urgent
   records first, bulk last; authors past their rate and unadmitted authors
   travel as bulk only.

Bad input never raises: it is counted in `stats` under its reason and dropped.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..ledger.wire import DecodeError
from . import messages as m
from . import riblt
from .budget import BULK, NORMAL, URGENT, Budget
from .ports import CLASS_MEMBERSHIP, Ledger, Outgoing, RecordInfo, RxMeta, SyncConfig
from .trickle import Trickle

SYMBOLS_PER_PACKET = 16


def record_id(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()[:8]


@dataclass
class _Send:
    due: float
    priority: int
    suppress: int  # copies heard that cancel this send
    heard: int = 0
    tag: str = "push"
    covered: set[int] | None = None  # neighbours known to have heard it (None: unknown)
    repeats: int = 0


@dataclass
class _Peer:
    count: int = 0
    fingerprint: int = 0
    hops: int = 0
    last: float = 0.0
    last_direct: float = -1e9
    boot: bool = False
    neighbours: frozenset[int] | None = None  # its direct ledger peers, from its digest
    relays: frozenset[int] | None = None  # the neighbours it chose to relay for it


@dataclass
class _Pull:
    cursor: bytes = b""
    sent_at: float = -1e9
    due: float = 0.0
    received: int = 0


@dataclass
class _AuthorRate:
    tokens: float
    at: float


@dataclass
class Stats:
    sent: Counter[str] = field(default_factory=Counter)
    airtime: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    dropped: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    duplicates: int = 0
    suppressed: int = 0
    deferred: int = 0


class Engine:
    def __init__(self, ledger: Ledger, config: SyncConfig, node: int, seed: int = 0) -> None:
        self.ledger = ledger
        self.cfg = config
        self.node = node
        self.rng = random.Random(seed)
        self.budget = Budget(limit_s=config.budget_s_per_hour)
        self.stats = Stats()
        self.infos: dict[bytes, RecordInfo] = {}
        self.fingerprint = 0
        self.sketch = riblt.Sketch(config.sketch_size)
        for info in ledger.sync_infos():
            self._add(info)
        self.sends: dict[bytes, _Send] = {}
        self.peers: dict[int, _Peer] = {}
        self.scope = 0
        self.trickle = Trickle(config.trickle_imin, config.trickle_imax, config.trickle_k, self.rng)
        self.started = False
        self.sketch_due: tuple[float, int] | None = None  # (time, start index)
        self.sketch_burst = 1
        self.sketch_first = SYMBOLS_PER_PACKET
        self.remote: dict[int, tuple[int, list[riblt.Symbol]]] = {}  # node -> (count, symbols)
        self.more_due: dict[int, tuple[float, int]] = {}  # sketch sender -> (time, start)
        self.requests: dict[bytes, float] = {}  # id -> due
        self.pulls: dict[int, _Pull] = {}
        self.pull_parts: list[int] = []
        self.pull_answers: list[tuple[float, int, int, int, bytes]] = []  # due, peer, part, parts, cursor
        self.rates: dict[bytes, _AuthorRate] = {}
        self.last_time = 0.0
        self.last_news = -1e9
        self.last_digest = -1e9
        self.last_announce = -1e9
        self.announced: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())

    # ------------------------------------------------------------ set bookkeeping

    def _add(self, info: RecordInfo) -> None:
        if info.id in self.infos:
            return
        self.infos[info.id] = info
        x = int.from_bytes(info.id, "big")
        self.fingerprint ^= x
        self.sketch.add(x)

    @property
    def count(self) -> int:
        return len(self.infos)

    # ------------------------------------------------------------ inputs

    def start(self, now: float) -> None:
        if not self.started:
            self.started = True
            self.trickle.begin(now)

    def local_record(self, raw: bytes, now: float) -> None:
        """A record authored on this node (already stored): push it."""
        self.start(now)
        rid = record_id(raw)
        if rid not in self.infos:
            result = self.ledger.sync_ingest(raw, now)
            if result.info is None:
                return
            self._add(result.info)
        info = self.infos[rid]
        delay = 0.0 if info.urgent else self.cfg.push_delay
        self._schedule_send(rid, now + delay, self._priority(info, fresh=True), 99, "push")
        self.last_news = now
        if info.urgent:
            self.trickle.reset(now, self.cfg.urgent_news_interval, boost=1)
        else:
            self.trickle.reset(now, self.cfg.news_interval)

    def set_channel_utilization(self, pct: float) -> None:
        self.budget.channel_util_pct = pct

    def receive(self, payload: bytes, meta: RxMeta, now: float) -> None:
        """A packet heard on our port. Never raises."""
        self.start(now)
        try:
            _kind, tag = m.peek(payload)
            if tag != self.cfg.network_tag:
                self.stats.dropped["other-network"] += 1
                return
            msg = m.decode(payload)
        except DecodeError as exc:
            self.stats.dropped[exc.reason] += 1
            return
        peer = self.peers.setdefault(meta.sender, _Peer())
        peer.last = now
        peer.hops = meta.hops
        if meta.hops == 0:
            peer.last_direct = now
        if meta.hops > self.scope and meta.hops <= self.cfg.max_scope and self._no_direct_peer(now):
            self.scope = meta.hops
        match msg:
            case m.Records():
                self._on_records(msg, meta, now)
            case m.Digest():
                self._on_digest(msg, meta.sender, peer, now)
            case m.Sketch():
                self._on_sketch(msg, meta.sender, now)
            case m.Request():
                self._on_request(msg, now)
            case m.More():
                self._on_more(msg, meta.sender, now)
            case m.Pull():
                self._on_pull(msg, meta.sender, now)

    def _no_direct_peer(self, now: float) -> bool:
        return not any(p.hops == 0 and now - p.last < 3 * self.cfg.trickle_imax
                       for p in self.peers.values())

    # ------------------------------------------------------------ handlers

    def _on_records(self, msg: m.Records, meta: RxMeta, now: float) -> None:
        news = urgent_news = False
        for raw in msg.records:
            rid = record_id(raw)
            if rid in self.infos:
                self.stats.duplicates += 1
                self._heard(rid, meta.sender)
                continue
            result = self.ledger.sync_ingest(raw, now)
            if result.status in ("rejected", "held") or result.info is None:
                self.stats.dropped[result.reason or result.status] += 1
                continue
            self.stats.accepted += 1
            news = True
            info = result.info
            self._add(info)
            self.requests.pop(rid, None)
            for pull in self.pulls.values():
                pull.received += 1
            self._note_pull_progress(info, meta.sender)
            urgent = info.urgent and info.trusted
            urgent_news = urgent_news or urgent
            covered = None if urgent else self._coverage(meta.sender)
            uncovered = self._uncovered(covered, now)
            if uncovered == 0 or (not urgent and not self._chosen_relay(meta.sender)):
                self.stats.suppressed += 1  # not needed: covered, or not a relay of the sender
                continue
            lo, hi = self.cfg.urgent_window if urgent else self.cfg.forward_window
            # Weaker signal (farther away) and more neighbours left to reach: relay sooner.
            snr_scale = min(1.0, max(0.0, (meta.snr + 20.0) / 35.0))
            reach = 2.0 / (2.0 + uncovered) if uncovered > 0 else 1.0
            delay = lo + (hi - lo) * snr_scale * reach * self.rng.random()
            prio = self._priority(info, fresh=True)
            # Urgent records (critical needs, revocations) are relayed by everyone once:
            # on a lossy mesh, redundancy is what makes them arrive in seconds.
            suppress = self.cfg.urgent_suppress if urgent else self.cfg.forward_suppress
            self._schedule_send(rid, now + delay, prio, suppress, "forward")
            self.sends[rid].heard = 1
            self.sends[rid].covered = covered
        if news:
            self.last_news = now
            if urgent_news:
                self.trickle.reset(now, self.cfg.urgent_news_interval, boost=1)
            else:
                self.trickle.reset(now, self.cfg.news_interval)

    def _heard(self, rid: bytes, sender: int) -> None:
        """Someone else sent `rid`: count the copy and what it covered."""
        pending = self.sends.get(rid)
        if pending is None:
            return
        pending.heard += 1
        if pending.covered is not None:
            extra = self._coverage(sender)
            if extra is None:
                pending.covered = None
            else:
                pending.covered |= extra
        if pending.heard >= pending.suppress or (
            pending.tag == "forward" and self._uncovered(pending.covered, self.last_time) == 0
        ):
            del self.sends[rid]
            self.stats.suppressed += 1

    def _coverage(self, sender: int) -> set[int] | None:
        """The 16-bit ids a transmission by `sender` reached, if its neighbours are known."""
        peer = self.peers.get(sender)
        if peer is None or peer.neighbours is None:
            return None
        return set(peer.neighbours) | {sender & 0xFFFF}

    def _chosen_relay(self, sender: int) -> bool:
        """Did `sender` choose us among its relays? (True when it has not said.)"""
        peer = self.peers.get(sender)
        if peer is None or peer.relays is None or not self.cfg.use_relays:
            return True
        return (self.node & 0xFFFF) in peer.relays

    def choose_relays(self, now: float) -> tuple[int, ...]:
        """Multipoint relays (OLSR, RFC 3626 §8.3.1): a small set of our neighbours
        whose neighbours cover every node two hops away that we know of."""
        me = self.node & 0xFFFF
        mine = {n & 0xFFFF: n for n in self._neighbours(now)}
        reach: dict[int, set[int]] = {}
        for nid, node in mine.items():
            peer = self.peers.get(node)
            if peer is None or peer.neighbours is None:
                continue  # unknown reach: it cannot be counted on, nor left out
            reach[nid] = set(peer.neighbours) - set(mine) - {me}
        unknown = [nid for nid in mine if nid not in reach]
        two_hop = set().union(*reach.values()) if reach else set()
        chosen: set[int] = set(unknown)
        # First the only neighbours through which some two-hop node is reached.
        for target in two_hop:
            via = [nid for nid, r in reach.items() if target in r]
            if len(via) == 1:
                chosen.add(via[0])
        left = two_hop - set().union(*(reach.get(nid, set()) for nid in chosen))
        while left:
            best = max(sorted(reach), key=lambda nid: len(reach[nid] & left))
            if not reach[best] & left:
                break
            chosen.add(best)
            left -= reach[best]
        return tuple(sorted(chosen))

    def _neighbours(self, now: float) -> list[int]:
        ttl = 4 * self.cfg.trickle_imax
        return sorted(n for n, p in self.peers.items() if now - p.last_direct < ttl)

    def _uncovered(self, covered: set[int] | None, now: float) -> int:
        """How many of our neighbours are not known to have it (-1: unknown)."""
        if covered is None:
            return -1
        mine = {n & 0xFFFF for n in self._neighbours(now)} - {self.node & 0xFFFF}
        return len(mine - covered)

    def _on_digest(self, msg: m.Digest, sender: int, peer: _Peer, now: float) -> None:
        peer.count, peer.fingerprint, peer.boot = msg.count, msg.fingerprint, msg.boot
        if msg.neighbours or msg.has_neighbours:
            peer.neighbours = frozenset(msg.neighbours)
            peer.relays = frozenset(msg.relays)
        if msg.count == self.count and msg.fingerprint == self.fingerprint:
            self.trickle.consistent()
            return
        if msg.count > self.count + self.cfg.boot_gap:
            self.trickle.reset(now)
            self._plan_pulls(now)
            return
        if msg.boot or self.count > msg.count + self.cfg.boot_gap:
            return  # the sender will pull from us
        if self.cfg.mismatch_interval:
            self.trickle.reset(now, self.cfg.mismatch_interval)
        if self.sketch_due is None:
            # Records still spreading make passing differences: give them `settle`
            # seconds before paying for a sketch.
            lo, hi = self.cfg.repair_window
            at = max(now + self.rng.uniform(lo, hi), self.last_news + self.cfg.settle)
            self.sketch_due = (at, 0)
            self.sketch_burst = 1
            # Most gaps are a record or two: start small (the sketch is rateless).
            gap = abs(msg.count - self.count)
            self.sketch_first = max(self.cfg.sketch_min, min(SYMBOLS_PER_PACKET, 2 * gap + 4))

    def _on_sketch(self, msg: m.Sketch, sender: int, now: float) -> None:
        if msg.start == 0 and self.sketch_due is not None and self.sketch_due[1] == 0:
            self.sketch_due = None  # someone else's sketch serves the neighbourhood
            self.stats.suppressed += 1
        try:
            symbols = riblt.parse_symbols(msg.symbols)
        except ValueError:
            self.stats.dropped["bad-sketch"] += 1
            return
        _count, have = self.remote.get(sender, (msg.count, []))
        if msg.start == 0:
            have = []
        if msg.start != len(have):
            return  # a gap: wait for the next round
        have = have + symbols
        if len(have) > self.sketch.size:
            return
        self.remote[sender] = (msg.count, have)
        pending = self.more_due.get(sender)
        if pending is not None and pending[1] <= len(have):
            del self.more_due[sender]
        if msg.count == self.count and not self._differs(have):
            return
        result = riblt.decode(have, 0, self.sketch)
        if not result.complete:
            if len(have) < self.sketch.size:
                lo, hi = self.cfg.repair_window
                self.more_due[sender] = (now + self.rng.uniform(lo, hi), len(have))
            return
        del self.remote[sender]
        if result.ours or result.theirs:
            self.trickle.reset(now)  # a real gap: check again soon
        lo, hi = self.cfg.repair_window
        for x in result.ours:
            rid = x.to_bytes(8, "big")
            info = self.infos.get(rid)
            if info is not None:
                self._schedule_send(rid, now + self.rng.uniform(lo, hi),
                                    self._priority(info, fresh=False), 1, "repair")
        for x in result.theirs:
            rid = x.to_bytes(8, "big")
            self.requests.setdefault(rid, now + self.rng.uniform(lo, hi))

    def _differs(self, symbols: list[riblt.Symbol]) -> bool:
        s = symbols[0]
        return not (s.ids == self.sketch.ids[0] and s.check == self.sketch.checks[0])

    def _on_request(self, msg: m.Request, now: float) -> None:
        lo, hi = self.cfg.repair_window
        for rid in msg.ids:
            self.requests.pop(rid, None)  # someone asked already: the answer serves us too
            info = self.infos.get(rid)
            if info is not None and rid not in self.sends:
                self._schedule_send(rid, now + self.rng.uniform(lo, hi),
                                    self._priority(info, fresh=False), 1, "repair")

    def _on_more(self, msg: m.More, sender: int, now: float) -> None:
        if msg.target == self.node:
            lo, _hi = self.cfg.repair_window
            if self.sketch_due is None or self.sketch_due[1] != msg.start:
                self.sketch_due = (now + self.rng.uniform(0.2, lo + 0.5), msg.start)
                self.sketch_burst = max(1, min(4, msg.start // (2 * SYMBOLS_PER_PACKET)))
        else:
            pending = self.more_due.get(msg.target)
            if pending is not None and pending[1] <= msg.start:
                del self.more_due[msg.target]  # the answer will serve us too

    # ------------------------------------------------------------ bootstrap

    def _plan_pulls(self, now: float) -> None:
        candidates = sorted(
            (p for p in self.peers.items() if p[1].count > self.count + self.cfg.boot_gap
             and now - p[1].last < 600),
            key=lambda p: (-p[1].count, p[0]),
        )[:3]
        chosen = [node for node, _ in candidates]
        if not chosen:
            return
        if sorted(self.pulls) != sorted(chosen):
            old = self.pulls
            self.pulls = {node: old.get(node, _Pull()) for node in chosen}
            if len(old) != len(self.pulls):
                for pull in self.pulls.values():
                    pull.cursor = b""
        for pull in self.pulls.values():
            if now - pull.sent_at > self.cfg.pull_timeout:
                pull.due = min(pull.due, now + self.rng.uniform(0.2, 2.0)) if pull.due > now \
                    else now + self.rng.uniform(0.2, 2.0)

    def _note_pull_progress(self, info: RecordInfo, sender: int) -> None:
        pull = self.pulls.get(sender)
        if pull is None:
            return
        key = _cursor(info)
        if not pull.cursor or _order(key) > _order(pull.cursor):
            pull.cursor = key

    def _on_pull(self, msg: m.Pull, sender: int, now: float) -> None:
        if msg.target != self.node:
            return
        self.pull_answers = [a for a in self.pull_answers if a[1] != sender]
        self.pull_answers.append((now + self.rng.uniform(0.2, 1.0), sender, msg.part, msg.parts,
                                  msg.cursor))

    def _answer_pull(self, part: int, parts: int, cursor: bytes) -> list[bytes]:
        after = _order(cursor) if cursor else None
        ordered = sorted((i for i in self.infos.values() if i.id[0] % parts == part),
                         key=lambda i: _order(_cursor(i)))
        out: list[bytes] = []
        budget = self.cfg.pull_batch * (self.cfg.payload_cap - m.HEADER)
        for info in ordered:
            if after is not None and _order(_cursor(info)) <= after:
                continue
            raw = self.ledger.sync_raw(info.id)
            if raw is None:
                continue
            budget -= len(raw) + 1
            if budget < 0:
                break
            out.append(raw)
        return out

    # ------------------------------------------------------------ scheduling

    def _priority(self, info: RecordInfo, fresh: bool) -> int:
        if not info.trusted and info.cls != CLASS_MEMBERSHIP:
            return BULK
        if info.urgent:
            return URGENT
        if not self._rate_ok(info.author):
            return BULK
        return NORMAL if fresh else BULK if info.cls > 1 else NORMAL

    def _rate_ok(self, author: bytes) -> bool:
        rate = self.rates.get(author)
        per_s = self.cfg.author_rate_per_hour / 3600.0
        if rate is None:
            rate = self.rates[author] = _AuthorRate(self.cfg.author_burst, self.last_time)
        rate.tokens = min(self.cfg.author_burst, rate.tokens + (self.last_time - rate.at) * per_s)
        rate.at = self.last_time
        if rate.tokens >= 1.0:
            rate.tokens -= 1.0
            return True
        self.stats.dropped["author-rate"] += 1
        return False

    def _schedule_send(self, rid: bytes, due: float, prio: int, suppress: int, tag: str) -> None:
        current = self.sends.get(rid)
        if current is not None and current.due <= due and current.priority <= prio:
            return
        self.sends[rid] = _Send(due, prio, suppress, 0, tag)

    def next_timer(self) -> float | None:
        """When poll() next has work, or None when idle forever."""
        times = [self.trickle.next_time()] if self.started else []
        times += [s.due for s in self.sends.values()]
        if self.sketch_due:
            times.append(self.sketch_due[0])
        times += [d for d, _ in self.more_due.values()]
        if self.requests:
            times.append(min(self.requests.values()))
        times += [p.due for p in self.pulls.values() if p.due]
        times += [a[0] for a in self.pull_answers]
        if self._deferred_until is not None:
            times = [max(t, self._deferred_until) for t in times]
        return min(times) if times else None

    _deferred_until: float | None = None

    # ------------------------------------------------------------ output

    def poll(self, now: float) -> list[Outgoing]:
        """Run due timers; return the packets to transmit now, within budget."""
        self.start(now)
        self.last_time = now
        self._deferred_until = None
        out: list[Outgoing] = []
        tick = self.trickle.poll(now)
        if tick == "send" or (tick == "suppressed"
                              and now - self.last_digest > self.cfg.announce_every):
            self.last_digest = now
            boot = bool(self.pulls)
            # Neighbour lists change slowly: carry ours when it changed (at most every
            # 10 minutes) and every `announce_every`.
            current = tuple(n & 0xFFFF for n in self._neighbours(now))[: m.MAX_NEIGHBOURS]
            chosen = tuple(r for r in self.choose_relays(now) if r in current)
            since = now - self.last_announce
            listed = since > self.cfg.announce_every or (
                (current, chosen) != self.announced and since > 600.0)
            nbrs: tuple[int, ...] = current if listed else ()
            relays: tuple[int, ...] = chosen if listed else ()
            if listed:
                self.last_announce = now
                self.announced = (current, chosen)
            self._emit(out, m.Digest(self.count, self.fingerprint, boot, nbrs, listed, relays),
                       "digest", NORMAL, now)
        self._poll_sketch(out, now)
        self._poll_more(out, now)
        self._poll_requests(out, now)
        self._poll_pulls(out, now)
        self._poll_pull_answers(out, now)
        self._poll_records(out, now)
        return out

    def _emit(self, out: list[Outgoing], msg: m.Message, tag: str, prio: int, now: float) -> bool:
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
        out.append(Outgoing(payload, self.scope, tag, prio))
        return True

    def _poll_sketch(self, out: list[Outgoing], now: float) -> None:
        if self.sketch_due is None or self.sketch_due[0] > now:
            return
        start = self.sketch_due[1]
        full = (self.cfg.payload_cap - m.HEADER - 7) // riblt.SYMBOL_BYTES
        for _ in range(self.sketch_burst):
            if start >= self.sketch.size:
                break
            per = min(full, self.sketch_first) if start == 0 else full
            msg = m.Sketch(self.count, start, self.sketch.encode(start, per))
            if not self._emit(out, msg, "sketch", NORMAL, now):
                self.sketch_due = (now, start)
                return
            start += per
        self.sketch_due = None

    def _poll_more(self, out: list[Outgoing], now: float) -> None:
        for sender, (due, start) in list(self.more_due.items()):
            if due <= now and self._emit(out, m.More(sender, start), "more", NORMAL, now):
                del self.more_due[sender]

    def _poll_requests(self, out: list[Outgoing], now: float) -> None:
        due = [rid for rid, t in self.requests.items() if t <= now]
        if not due:
            return
        per = (self.cfg.payload_cap - m.HEADER) // m.ID_LEN
        for i in range(0, len(due), per):
            chunk = tuple(due[i : i + per])
            if not self._emit(out, m.Request(chunk), "request", NORMAL, now):
                return
            for rid in chunk:
                self.requests[rid] = now + self.cfg.pull_timeout  # ask again if unanswered

    def _poll_pulls(self, out: list[Outgoing], now: float) -> None:
        if not self.pulls:
            return
        if not any(p.count > self.count + self.cfg.boot_gap // 2 for p in self.peers.values()
                   if now - p.last < 3600):
            self.pulls.clear()  # caught up: reconciliation finishes the job
            return
        parts = len(self.pulls)
        for index, (node, pull) in enumerate(sorted(self.pulls.items())):
            if not pull.due or pull.due > now:
                continue
            msg = m.Pull(node, index, parts, pull.cursor)
            if self._emit(out, msg, "pull", BULK, now):
                pull.sent_at = now
                pull.received = 0
                pull.due = now + self.cfg.pull_timeout

    def _poll_pull_answers(self, out: list[Outgoing], now: float) -> None:
        keep = []
        for answer in self.pull_answers:
            due, _peer, part, parts, cursor = answer
            if due > now:
                keep.append(answer)
                continue
            raws = self._answer_pull(part, parts, cursor)
            for packet in _pack(raws, self.cfg.payload_cap):
                if not self._emit(out, m.Records(tuple(packet)), "pull-records", BULK, now):
                    break
        self.pull_answers = keep

    def _poll_records(self, out: list[Outgoing], now: float) -> None:
        due = sorted((s.priority, s.due, rid) for rid, s in self.sends.items() if s.due <= now)
        if not due:
            return
        horizon = now + self.cfg.push_delay
        extra = sorted((s.priority, s.due, rid) for rid, s in self.sends.items()
                       if now < s.due <= horizon and s.tag == "push")
        queue = [rid for _, _, rid in due] + [rid for _, _, rid in extra]
        while queue and any(self.sends[r].due <= now for r in queue if r in self.sends):
            room = self.cfg.payload_cap - m.HEADER
            packet: list[bytes] = []
            taken: list[bytes] = []
            prio = min(self.sends[r].priority for r in queue)
            tag = self.sends[queue[0]].tag
            rest = []
            for rid in queue:
                raw = self.ledger.sync_raw(rid)
                if raw is None:
                    self.sends.pop(rid, None)
                    continue
                if len(raw) + 1 <= room:
                    packet.append(raw)
                    taken.append(rid)
                    room -= len(raw) + 1
                else:
                    rest.append(rid)
            if not packet:
                return
            if not self._emit(out, m.Records(tuple(packet)), tag, prio, now):
                return
            for rid in taken:
                sent = self.sends.pop(rid, None)
                self.requests.pop(rid, None)
                info = self.infos.get(rid)
                if sent and sent.tag == "push" and info and info.urgent and sent.repeats < 2:
                    # Implicit acknowledgement: an urgent record of ours goes out again
                    # unless we hear a neighbour relay it first.
                    self.sends[rid] = _Send(now + self.cfg.urgent_recheck, URGENT, 1, 0, "push",
                                            None, sent.repeats + 1)
            queue = rest


def _cursor(info: RecordInfo) -> bytes:
    return bytes([info.cls]) + info.hlc.to_bytes(6, "big") + info.id


def _order(cursor: bytes) -> tuple[int, int, bytes]:
    """Bootstrap order: class ascending, then newest first, then id."""
    return cursor[0], -int.from_bytes(cursor[1:7], "big"), cursor[7:]


def _pack(raws: list[bytes], cap: int) -> list[list[bytes]]:
    packets: list[list[bytes]] = []
    room = 0
    for raw in raws:
        if not packets or len(raw) + 1 > room:
            packets.append([])
            room = cap - m.HEADER
        packets[-1].append(raw)
        room -= len(raw) + 1
    return packets
