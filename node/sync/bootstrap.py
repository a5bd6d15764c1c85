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
newest first, then id. So a cursor (class, hlc, id) means the same thing to
any responder, and a partition moves to another responder, cursor and all,
when its responder falls silent. A responder answers a PULL with up to
`pull_batch` packets of the records after the cursor; the puller pulls again
a few seconds after a batch ends, or after `pull_timeout` if nothing came.
Bootstrap ends when no neighbour is more than `boot_gap / 2` ahead;
reconciliation finishes the job.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..ledger import codec
from ..ledger.wire import DecodeError
from . import messages as m
from .budget import BULK, NORMAL
from .ports import CLASS_BOARD, CLASS_OF_KIND, RecordInfo, SyncConfig
from .relays import Peer

PARTS = 3
NO_ID = bytes(8)
EXHAUSTED = 1000  # a stream's `silent` once its responder said the partition ended
SWITCH = 3  # unanswered pulls in a row before the partition moves to another responder
Emit = Callable[[m.Message, str, int], bool]


def cursor_of(info: RecordInfo) -> bytes:
    return bytes([info.cls]) + info.hlc.to_bytes(6, "big") + info.id


def packet_cursor(packet: list[bytes], infos: Mapping[bytes, RecordInfo]) -> bytes:
    """The cursor just after the last record of an answer packet."""
    import hashlib

    info = infos[hashlib.sha256(packet[-1]).digest()[:8]]
    return cursor_of(info)


def order(cursor: bytes) -> tuple[int, int, bytes]:
    """Bootstrap order: class ascending, then newest first, then id."""
    return cursor[0], -int.from_bytes(cursor[1:7], "big"), cursor[7:]


@dataclass
class Stream:
    responder: int
    cursor: bytes = b""
    due: float = 0.0
    silent: int = 0  # pulls in a row that brought nothing: the partition is exhausted


class Bootstrap:
    def __init__(self, cfg: SyncConfig, rng: random.Random, node: int) -> None:
        self.cfg = cfg
        self.rng = rng
        self.node = node
        self.streams: dict[int, Stream] = {}
        self.rest_until = -1e9  # after a full pass, leave the rest to reconciliation
        self.answers: list[tuple[float, int, int, bytes]] = []  # due, part, parts, cursor
        self._order_cache: dict[tuple[int, int], tuple[int, list[tuple[int, int, bytes]],
                                                       list[RecordInfo]]] = {}

    @property
    def active(self) -> bool:
        return bool(self.streams)

    def _ahead(self, peers: Mapping[int, Peer], my_count: int, gap: int, now: float) -> list[int]:
        fresh = [(n, p) for n, p in peers.items()
                 if p.count > my_count + gap and now - p.last < 2 * self.cfg.trickle_imax]
        return [n for n, _ in sorted(fresh, key=lambda np: (-np[1].count, np[0]))]

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
        for part in range(PARTS):
            current = self.streams.get(part)
            idle = [n for n in ahead if load[n] == 0]
            if current is not None and current.silent >= EXHAUSTED:
                continue  # served to its end
            if current is not None and current.responder in ahead and not (
                    idle and (load[current.responder] > 1 or current.silent >= SWITCH)):
                continue
            if current is not None and current.responder in load:
                load[current.responder] -= 1
            # The order is the same on every node, so a cursor survives a change of
            # responder and the end of a bootstrap: records before it were served.
            cursor = current.cursor if current is not None else b""
            responder = min(ahead, key=lambda n: (load[n], ahead.index(n)))
            load[responder] += 1
            self.streams[part] = Stream(responder, cursor, now + self.rng.uniform(0.2, 2.0))
        return True

    def answer(self, msg: m.Records, rids: list[bytes], sender: int, now: float) -> None:
        """A pull answer arrived: if it continues our cursor (nothing lost since),
        advance the cursor to its last record; either way pull again soon."""
        if msg.after is None or not rids:
            return
        stream = self.streams.get(rids[-1][0] % PARTS)
        if stream is None or stream.responder != sender:
            return
        stream.due = now + self.cfg.pull_gap  # pull again once this batch has ended
        if stream.silent < EXHAUSTED:
            stream.silent = 0
        if msg.after != (stream.cursor[7:] if stream.cursor else NO_ID):
            return  # a packet before this one was lost: re-pull from our cursor
        try:
            parsed = codec.parse(msg.records[-1])
        except DecodeError:
            return
        stream.cursor = (bytes([CLASS_OF_KIND[parsed.kind]]) + parsed.hlc.to_bytes(6, "big")
                         + rids[-1])
        if msg.end:
            stream.silent = EXHAUSTED

    def on_pull(self, msg: m.Pull, now: float) -> None:
        if msg.target == self.node:
            self.answers = [a for a in self.answers if (a[1], a[2]) != (msg.part, msg.parts)]
            self.answers.append((now + self.rng.uniform(0.2, 1.0), msg.part, msg.parts,
                                 msg.cursor))

    def times(self) -> list[float]:
        return [s.due for s in self.streams.values() if s.silent < EXHAUSTED] + [
            a[0] for a in self.answers]

    def poll(self, emit: Emit, now: float, peers: Mapping[int, Peer], my_count: int) -> None:
        served = self.streams and all(s.silent >= EXHAUSTED for s in self.streams.values())
        if self.streams and (served or not self._ahead(peers, my_count,
                                                       self.cfg.boot_gap // 2, now)):
            # Caught up, or every partition served to its end: push and reconciliation
            # carry what changed meanwhile. A node still far behind after a whole pass
            # starts another one after a rest.
            self.streams.clear()
            if served:
                self.rest_until = now + self.cfg.trickle_imax
        for part, stream in sorted(self.streams.items()):
            if stream.silent >= EXHAUSTED:
                continue
            if stream.due <= now and emit(m.Pull(stream.responder, part, PARTS, stream.cursor),
                                          "pull", NORMAL):
                # No answer yet may mean a responder out of budget: back off, and
                # after SWITCH silent pulls hand the partition to another responder.
                stream.due = now + min(900.0, self.cfg.pull_timeout * 2 ** stream.silent)
                stream.silent += 1
                if stream.silent >= SWITCH:
                    self.behind(peers, my_count, now)

    def poll_answers(self, emit: Emit, now: float, infos: Mapping[bytes, RecordInfo],
                     raw_of: Callable[[bytes], bytes | None]) -> None:
        keep = []
        for answer in self.answers:
            due, part, parts, cursor = answer
            if due > now:
                keep.append(answer)
                continue
            packets, at_end = self._batch(part, parts, cursor, infos, raw_of)
            if not packets and at_end and cursor:
                raw = raw_of(cursor[7:])  # nothing left: say so with the cursor's own record
                packets = [([raw], [cursor[0]])] if raw is not None else []
            for i, (packet, classes) in enumerate(packets):
                prio = NORMAL if max(classes) <= CLASS_BOARD else BULK
                end = at_end and i == len(packets) - 1
                after = cursor[7:] if cursor else NO_ID
                msg = m.Records(tuple(packet), relay=False, end=end, after=after)
                if not emit(msg, "pull-records", prio):
                    # Out of budget for now: answer the rest later, from where we stopped.
                    keep.append((now + 1.0, part, parts, cursor))
                    break
                cursor = packet_cursor(packet, infos)
        self.answers = keep

    def _ordered(self, part: int, parts: int, infos: Mapping[bytes, RecordInfo]
                 ) -> tuple[list[tuple[int, int, bytes]], list[RecordInfo]]:
        """A partition in bootstrap order, cached while the record set is unchanged
        (records are only ever added, so the count tells)."""
        cached = self._order_cache.get((part, parts))
        if cached is not None and cached[0] == len(infos):
            return cached[1], cached[2]
        ordered = sorted((i for i in infos.values() if i.id[0] % parts == part),
                         key=lambda i: order(cursor_of(i)))
        keys = [order(cursor_of(i)) for i in ordered]
        self._order_cache[(part, parts)] = (len(infos), keys, ordered)
        return keys, ordered

    def _batch(self, part: int, parts: int, cursor: bytes, infos: Mapping[bytes, RecordInfo],
               raw_of: Callable[[bytes], bytes | None]
               ) -> tuple[list[tuple[list[bytes], list[int]]], bool]:
        """Up to `pull_batch` packets of records after `cursor`, and whether they
        reach the end of the partition."""
        keys, ordered = self._ordered(part, parts, infos)
        start = bisect.bisect_right(keys, order(cursor)) if cursor else 0
        packets: list[tuple[list[bytes], list[int]]] = []
        room = 0
        for info in ordered[start:]:
            raw = raw_of(info.id)
            if raw is None:
                continue
            if not packets or len(raw) + 1 > room:
                if len(packets) == self.cfg.pull_batch:
                    return packets, False
                packets.append(([], []))
                room = self.cfg.payload_cap - m.RECORDS_ROOM - m.ID_LEN  # chained: + after
            packets[-1][0].append(raw)
            packets[-1][1].append(info.cls)
            room -= len(raw) + 1
        return packets, True
