"""Bootstrap: a node far behind pulls the ledger in priority order.

Theory of operation
-------------------
Reconciliation costs about two sketch symbols per missing record, which is
wasteful when a node holds almost nothing. A node whose count is more than
`boot_gap` below a neighbour's instead splits the id space into PARTS
partitions (first id byte mod PARTS) and pulls each partition from one
well-stocked neighbour, spreading the load over up to PARTS responders.

Every partition is served in one canonical order, the same on every node:
class (membership, then needs and offers, then pledges and updates), then
newest first (membership: oldest first), then id. Membership goes oldest
first because it is causal: a vouch or a record verifies only once its
author's hello (and the founder's, the oldest of all) is held, and newest
first served the founder's hello last of the class, so a joiner held every
record it pulled, needs and critical needs heard meanwhile included, unable
to check them (on the blockaded-port scenario a joiner sat at one record for
2.5 hours). So a cursor (class, hlc, id) means the same thing to
any responder, and a partition moves to another responder, cursor and all,
when its responder falls silent. The puller pulls again a few seconds after
a batch ends, or after `pull_timeout` if nothing came. Bootstrap ends when no
neighbour is more than `boot_gap / 2` ahead; reconciliation finishes the job.

A node that held a ledger when it fell behind (more than `boot_gap` records:
a heal, a node off for a while; not a joiner whose full pass is under way,
`passing`) catches up *since*: what it lacks is what
came lately, the head of classes 1 and 2 in this order. Its streams start at
class 1 (the membership it holds lets it check what comes), and `STALE`
answers in a row that bring nothing new move the cursor to the start of the
next class, or after the last class end the stream: it reached what it holds
(one alone may be its own side's records, interleaved with the other's). (From the
start of each partition, membership first, its probes brought only records
it held and its responders were doubted for an hour: on partition-heal a
poorly connected node sat 100 records behind for hours.)

A far peer's claim (farpeers.py: heard only through radio-only relays) buys
nothing while we hear a ledger node directly (`may_pull`): our pulls would go
at the hops it claims, for every radio around to repeat, and a neighbour we
hear would be ahead too (a stolen key's made-up far numbers: the attack
suite's `stolen-far-sketch`).

A digest claiming a large count is unauthenticated, so it buys only a probe:
one partition is pulled from a responder until an answer brings a record we
did not have; then its other partitions follow. A responder not confirmed
whose answers bring nothing new `STALE` times in a row, or that never answers,
loses its streams, and its claims are doubted for `DOUBT_S`. A responder that
brought new records is *proven* until one of its answers brings nothing: a
node past `boot_gap` (whose probes of claims must be paid by the claimant's
own air heard here) pulls from it without that credit, and prefers it. Quiet
neighbours (a digest an hour) otherwise never paid for a probe: on
late-joiner-2000 a joiner whose first pass ended 800 records short held 1,107
of 1,916 records for seven hours, the gap too wide for a sketch. A PULL is padded
to the size of the answer it asks for, and the responder answers with as many
packets as the puller's credit covers (credit.py); an admitted member's pulls
go unpadded, and its probes too, its ticket shown, answered from its
allowance (ticket.py). Pending answers are bounded
(`MAX_ANSWERS`, one per puller and partition); only the `PARTS`-way split
is answered, and its sort orders (orders.py) are built in slices and kept
current, so an answer costs a bisection, never a sort of the ledger.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from . import messages as m
from .budget import NORMAL
from .ports import CLASS_BOARD, SyncConfig
from .relays import Peer
from .serving import PARTS, Serving
from .streams import EXHAUSTED, STALE, Stream, class_start
from .ticket import HOLD

SWITCH = 3  # unanswered pulls in a row before the partition moves to another responder
DOUBT_S = 3600.0  # a responder whose answer brought nothing new is not pulled from for this long
UNPAID_S = 600.0  # a responder whose credit paid for no pull gets no stream for this long
MAX_DOUBTED = 64
RECENT = 1024
HELD = 1e18  # the due time of a stream waiting for its responder's probe
PAD_AFTER = 2  # unanswered ticketed pulls in a row before a pull pays for its answer again
TICKET_EVERY = 1800.0  # seconds between our tickets to one responder (it believes one an hour)
Emit = Callable[[m.Message, str, int], bool]
V = TypeVar("V")


class Bootstrap(Serving):
    def __init__(self, cfg: SyncConfig, rng: random.Random, node: int) -> None:
        super().__init__(cfg, rng, node)
        self.streams: dict[int, Stream] = {}
        self.rest_until = -1e9  # after a full pass, leave the rest to reconciliation
        self.passing = False  # a full pass (a joiner's) is under way: never a catch-up since
        self.confirmed: set[int] = set()  # responders whose answers brought new records
        # responders whose answers brought new records in any pass, until one brings
        # nothing (`_doubt`): a node past `boot_gap` pulls from them without a probe
        # its own credit must pay for (module doc)
        self.proven: dict[int, None] = {}
        self.doubted: dict[int, float] = {}  # responder -> until when its claims are ignored
        self.recent: dict[bytes, None] = {}  # ids pull answers brought us (the last RECENT)
        self.shown: dict[int, float] = {}  # responder -> when our ticket last went to it
        self.believed: dict[int, float] = {}  # responder -> when it answered a plain pull
        # responder -> until when our ticket goes to it only inside padded pulls: its
        # plain pulls went unanswered while our own ledger did not count us admitted
        self.hoped: dict[int, float] = {}
        # Whether a node's claim of being ahead may start a pull (engine: not a far
        # peer's while we hear a ledger node directly)
        self.may_pull: Callable[[int, float], bool] = lambda node, now: True
        # responder -> until when it gets no stream: its own air heard here paid
        # for no pull of ours (a node past `boot_gap` probes only with that)
        self.unpaid: dict[int, float] = {}
        # partition -> (cursor, since) of a stream dropped for want of its responder's
        # credit during a pass: its next stream goes on from there, not from the start
        self.resume: dict[int, tuple[bytes, bool]] = {}

    @property
    def active(self) -> bool:
        """Bootstrapping: a stream has pulled (a claim not yet probed does not count,
        so a lying digest cannot make our digests say we are behind)."""
        return any(st.pulled for st in self.streams.values())

    def _ahead(self, peers: Mapping[int, Peer], my_count: int, gap: int, now: float) -> list[int]:
        fresh = [(n, p) for n, p in peers.items()
                 if p.count > my_count + gap and now - p.last < 2 * self.cfg.trickle_imax
                 and self.doubted.get(n, -1e9) <= now and self.may_pull(n, now)]
        return [n for n, _ in sorted(fresh, key=lambda np: (np[0] not in self.proven,
                                                             -np[1].count, np[0]))]

    def behind(self, peers: Mapping[int, Peer], my_count: int, now: float) -> bool:
        """A digest showed us far behind: (re)assign partitions to responders.
        False when bootstrap is resting after a full pass (reconcile instead)."""
        if now < self.rest_until:
            return False
        ahead = self._ahead(peers, my_count, self.cfg.boot_gap, now)
        if not ahead:
            return False
        load = {n: 0 for n in ahead}
        for stream in self.streams.values():
            if stream.responder in load:
                load[stream.responder] += 1
        # A responder whose credit here paid for no pull lately is left out while
        # others will do (blockaded-port: a partition went to the same unpaid
        # neighbour at every digest and was dropped each time, for hours).
        usable = [n for n in ahead if self.unpaid.get(n, -1e9) <= now] or ahead
        for part in range(PARTS):
            current = self.streams.get(part)
            idle = [n for n in usable if load[n] == 0]
            if current is not None and current.silent >= EXHAUSTED:
                continue  # served to its end
            if current is not None and current.responder in ahead and not (
                    idle and (load[current.responder] > 1 or current.silent >= SWITCH)):
                continue
            if current is not None and current.responder in load:
                load[current.responder] -= 1
            # The order is the same on every node, so a cursor survives a change of
            # responder and the end of a bootstrap: records before it were served.
            since = current.since if current is not None else \
                my_count > self.cfg.boot_gap and not self.passing
            cursor = current.cursor if current is not None else class_start(CLASS_BOARD) \
                if since else b""
            if current is None and part in self.resume:
                cursor, since = self.resume.pop(part)
            self.passing = self.passing or not since
            responder = min(usable, key=lambda n: (load[n], ahead.index(n)))
            load[responder] += 1
            # A responder not yet confirmed is probed with one partition first.
            probing = responder not in self.confirmed and any(
                s.responder == responder for p, s in self.streams.items() if p != part)
            due = HELD if probing else now + self.rng.uniform(0.2, 2.0)
            self.streams[part] = Stream(responder, cursor, due, since=since)
        return True

    def answer(self, msg: m.Records, rids: Sequence[bytes], sender: int, now: float,
               lacked: list[bool]) -> None:
        """A pull answer arrived (`lacked`: which of its records we did not hold):
        if it continues our cursor (nothing lost since), advance the cursor to its
        last record; either way pull again soon. Answers with nothing new (nor
        re-sent from earlier answers) mean the responder's claim was false."""
        if msg.after is None or not rids:
            return
        stream = self.streams.get(rids[-1][0] % PARTS)
        if stream is None or stream.responder != sender:
            return
        new = False
        for rid, was_new in zip(rids, lacked, strict=True):
            if was_new:
                self.recent[rid] = None
                new = True
            elif rid in self.recent:
                new = True  # a re-send of what an earlier answer brought
        while len(self.recent) > RECENT:
            del self.recent[next(iter(self.recent))]
        stream.stale = 0 if new or msg.end else stream.stale + (stream.counted is not True)
        if stream.counted is not None:  # a plain (member) pull counts once, in any packets
            stream.counted = not (new or msg.end)
            _note(self.believed, sender, now)
        if stream.stale >= STALE and sender not in self.confirmed:
            self._doubt(sender, now)  # a probe that brought nothing: the claim was false
            return
        if new and sender not in self.confirmed:
            self.confirmed.add(sender)
            _note(self.proven, sender, None)
            for other in self.streams.values():
                if other.responder == sender and other.due >= HELD:
                    other.due = now + self.rng.uniform(0.2, 2.0)
        stream.advance(msg, rids[-1], new, now, self.cfg.pull_gap, self.cfg.pull_timeout)

    def pulling_from(self, node: int) -> bool:
        """Is `node` the responder of one of our streams?"""
        return any(s.responder == node for s in self.streams.values())

    def unaffordable(self, node: int, now: float) -> bool:
        """Did a probe of `node` go unpaid lately (its air here paid for none)?"""
        return self.unpaid.get(node, -1e9) > now

    def doubts(self, node: int, now: float) -> bool:
        """Are `node`'s claims of being ahead doubted (a probe of it brought nothing)?"""
        return self.doubted.get(node, -1e9) > now

    def retracted(self, node: int, now: float) -> None:
        """`node`'s own digest no longer shows it far ahead while we probe its
        claim: the claim was not its own (a lie in its name), or is over. Its
        claims are doubted like those of a probe that brought nothing."""
        if node not in self.confirmed and self.pulling_from(node):
            self._doubt(node, now)

    def _doubt(self, responder: int, now: float) -> None:
        """`responder` claimed records it did not send: stop pulling from it. What
        its streams pulled stays pulled: the next responder goes on from their
        cursors (a probe from the start of a class we already hold brings nothing
        new and would be doubted in turn: late-joiner-2000, seed 6, had every
        responder doubted at 5.6 h and stopped 690 records short)."""
        for part in [p for p, s in self.streams.items() if s.responder == responder]:
            stream = self.streams.pop(part)
            self.resume[part] = (stream.cursor, stream.since)
        self.confirmed.discard(responder)
        self.proven.pop(responder, None)
        self.doubted[responder] = now + DOUBT_S
        if len(self.doubted) > MAX_DOUBTED:
            for n in sorted(self.doubted, key=self.doubted.__getitem__)[:-MAX_DOUBTED]:
                del self.doubted[n]

    def times(self) -> list[float]:
        return [s.due for s in self.streams.values() if s.silent < EXHAUSTED] + [
            a.due for a in self.answers]

    def _answer_size(self, record_size: float) -> int:
        """Bytes of the answer packet a pull asks for (and is padded to): as many
        records of about `record_size` as fit, plus a tenth for the unknown."""
        room = self.cfg.payload_cap - m.RECORDS_ROOM - m.ID_LEN
        fit = max(1, int(room // (record_size + 1)))
        return min(self.cfg.payload_cap,
                   int(m.RECORDS_ROOM + m.ID_LEN + 1.1 * fit * (record_size + 1)))

    def poll(self, emit: Emit, now: float, peers: Mapping[int, Peer], my_count: int,
             record_size: float, afford: Callable[[int, m.Message], bool],
             ticket: Callable[[int], bytes] | None = None,
             hopeful: Callable[[int], bytes] | None = None) -> None:
        """Pull what is due. A node that is not new (more than `boot_gap` records)
        pulls from a responder not yet confirmed only as far as that responder's
        own air, as heard here, pays for it (`afford`). A member (`ticket`: our
        ticket for a responder, ticket.py; empty while our own ledger does not
        count our key admitted) pulls with its ticket and no padding; a node
        with a member key its ledger does not count admitted yet (`hopeful`)
        carries its ticket inside its padded pulls."""
        served = self.streams and all(s.silent >= EXHAUSTED for s in self.streams.values())
        if self.streams and (served or not self._ahead(peers, my_count,
                                                       self.cfg.boot_gap // 2, now)):
            # Caught up, or every partition served to its end: push and reconciliation
            # carry what changed meanwhile. A node still far behind after a whole pass
            # starts another one after a rest.
            self.streams.clear()
            self.resume.clear()
            self.passing = False
            self.recent.clear()  # what this pass brought: a later pass re-sending it is stale
            self.confirmed.clear()  # and a new claim is probed again
            self.shown.clear()
            self.believed.clear()
            if served:
                self.rest_until = now + self.cfg.trickle_imax
        newcomer = my_count <= self.cfg.boot_gap
        # Longest due first: when our budget allows fewer pulls than are due, each
        # partition gets its turn (in partition order, partition 0 took every pull
        # a tight budget allowed, ran on past the membership class into records
        # whose authors' hellos the other partitions held, and dropped them all).
        unpaid = False
        for part, stream in sorted(self.streams.items(), key=lambda ps: (ps[1].due, ps[0])):
            if stream.silent >= EXHAUSTED or self.streams.get(part) is not stream:
                continue
            if stream.due > now + HELD / 2 and not any(
                    s.responder == stream.responder and s.silent < EXHAUSTED and s.due < HELD / 2
                    for s in self.streams.values()):
                stream.due = now  # its responder's probe ended: no longer held
            if stream.due > now:
                continue
            # A claim is probed padded (a lie in a real node's name buys no cheaper
            # probes), but with a member key its ticket goes unpadded (`probing`); a
            # confirmed responder is pulled plain while it answers (our ticket once
            # per half hour), else padded again, ticket inside.
            mine = ticket(stream.responder) if ticket is not None \
                and stream.responder in self.confirmed else b""
            # Not admitted yet as far as our own ledger knows: a padded pull carries
            # our ticket all the same (members.py, `hopeful`).
            hope = hopeful(stream.responder) if hopeful is not None and ticket is not None \
                and not mine and not ticket(stream.responder) else b""
            # Its responders may count our key admitted before our own ledger does (a
            # joiner meets its own vouch late): a responder that answered us is asked
            # plain, ticket shown, until such pulls go unanswered (`hoped`).
            hoping = bool(hope) and stream.responder in self.confirmed \
                and self.hoped.get(stream.responder, -1e9) <= now
            if hoping:
                mine = hope
            # A claim is probed with our ticket, unpadded, where we hold a member key:
            # a responder that believes it answers from our allowance (the claimant's
            # credit here still pays for the probe, at twice this small pull); one
            # that does not leaves it unanswered, and is probed padded for an hour.
            # Padded, a probe cost about all the credit an account holds, and after
            # a heal at five records a site an hour, the side behind never afforded
            # one: 230 records stayed on their side for two hours.
            key = b"" if ticket is None else ticket(stream.responder) or hope
            probing = bool(key) and not mine and stream.responder not in self.confirmed \
                and self.hoped.get(stream.responder, -1e9) <= now
            shown = self.shown.get(stream.responder, -1e9)
            # A responder that answered our plain pulls within the hour its ticket
            # holds is silent for want of air (its bulk band spent, most often while
            # it serves us): padding buys it none, and cost us half our own budget.
            believed = bool(mine) and now - self.believed.get(stream.responder, -1e9) <= HOLD
            if mine and (not stream.silent or believed) and now - shown <= TICKET_EVERY:
                pull: m.Message = m.Pull(stream.responder, part, PARTS, stream.cursor)
            elif mine and (stream.silent < PAD_AFTER or believed):
                self.shown[stream.responder] = now
                pull = m.Pull(stream.responder, part, PARTS, stream.cursor, ticket=mine)
            elif probing and stream.silent < PAD_AFTER:
                self.shown[stream.responder] = now
                pull = m.Pull(stream.responder, part, PARTS, stream.cursor, ticket=key)
            else:
                if hoping or probing:
                    _note(self.hoped, stream.responder, now + HOLD)  # it does not believe it
                self.shown[stream.responder] = now if mine else shown
                pull = m.pad_to(m.Pull(stream.responder, part, PARTS, stream.cursor,
                                       ticket=mine or hope),
                                self._answer_size(record_size), self.cfg.network_tag)
            # A confirmed responder pulls free while its answers bring records; once
            # they bring nothing new (a lie in its name, or a long known prefix) each
            # pull is paid like a probe: no free pass through the ledger for a lie.
            confirmed = stream.responder in self.confirmed and stream.stale < STALE
            if not confirmed and not newcomer and stream.responder not in self.proven \
                    and not afford(stream.responder, pull):
                # A node that holds a ledger probes a claim only with air the claimant
                # spent: one spoofed digest buys no stream of pulls (nor a boot flag).
                # What the stream had pulled stays pulled: the order is the same on
                # every node, so its next responder goes on from its cursor.
                self.resume[part] = (stream.cursor, stream.since)
                del self.streams[part]
                _note(self.unpaid, stream.responder, now + UNPAID_S)
                unpaid = True
                continue
            if emit(pull, "pull", NORMAL):
                stream.pulled, stream.counted = True, None if getattr(pull, "pad", 0) else False
                stream.got, stream.batch = 0, 1 if getattr(pull, "pad", 0) else self.cfg.pull_batch
                # No answer yet may mean a responder out of budget: back off, and
                # after SWITCH silent pulls hand the partition to another responder
                # (and one that never answered is doubted: its claim may be a lie).
                stream.due = now + min(900.0, self.cfg.pull_timeout * 2 ** stream.silent)
                stream.silent += 1
                if stream.silent >= SWITCH:
                    if not confirmed:
                        self._doubt(stream.responder, now)
                    self.behind(peers, my_count, now)
        if unpaid and any(n in self.confirmed and self.unpaid.get(n, -1e9) <= now
                          for n in self._ahead(peers, my_count, self.cfg.boot_gap, now)):
            self.behind(peers, my_count, now)  # its partition to a responder we pull from


def _note(table: dict[int, V], node: int, value: V) -> None:
    """Set `table[node]` as its newest entry, keeping the MAX_DOUBTED newest."""
    table.pop(node, None)
    table[node] = value
    while len(table) > MAX_DOUBTED:
        del table[next(iter(table))]
