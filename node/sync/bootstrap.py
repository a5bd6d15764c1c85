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

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import messages as m
from .budget import BULK, NORMAL
from .ports import CLASS_BOARD, RecordInfo, SyncConfig
from .relays import Peer

PARTS = 3
Emit = Callable[[m.Message, str, int], bool]


def cursor_of(info: RecordInfo) -> bytes:
    return bytes([info.cls]) + info.hlc.to_bytes(6, "big") + info.id


def order(cursor: bytes) -> tuple[int, int, bytes]:
    """Bootstrap order: class ascending, then newest first, then id."""
    return cursor[0], -int.from_bytes(cursor[1:7], "big"), cursor[7:]


@dataclass
class Stream:
    responder: int
    cursor: bytes = b""
    due: float = 0.0


class Bootstrap:
    def __init__(self, cfg: SyncConfig, rng: random.Random, node: int) -> None:
        self.cfg = cfg
        self.rng = rng
        self.node = node
        self.streams: dict[int, Stream] = {}
        self.answers: list[tuple[float, int, int, bytes]] = []  # due, part, parts, cursor

    @property
    def active(self) -> bool:
        return bool(self.streams)

    def _ahead(self, peers: Mapping[int, Peer], my_count: int, gap: int, now: float) -> list[int]:
        fresh = [(n, p) for n, p in peers.items()
                 if p.count > my_count + gap and now - p.last < 3 * self.cfg.pull_timeout]
        return [n for n, _ in sorted(fresh, key=lambda np: (-np[1].count, np[0]))]

    def behind(self, peers: Mapping[int, Peer], my_count: int, now: float) -> None:
        """A digest showed us far behind: (re)assign partitions to responders."""
        ahead = self._ahead(peers, my_count, self.cfg.boot_gap, now)
        if not ahead:
            return
        for part in range(PARTS):
            stream = self.streams.get(part)
            if stream is not None and stream.responder in ahead:
                continue
            cursor = stream.cursor if stream is not None else b""
            self.streams[part] = Stream(ahead[part % len(ahead)], cursor,
                                        now + self.rng.uniform(0.2, 2.0))

    def note(self, info: RecordInfo, sender: int, now: float) -> None:
        """A record arrived: advance the cursor of its partition if it came in order."""
        stream = self.streams.get(info.id[0] % PARTS)
        if stream is None or stream.responder != sender:
            return
        key = cursor_of(info)
        if not stream.cursor or order(key) > order(stream.cursor):
            stream.cursor = key
        stream.due = now + self.cfg.pull_gap  # pull again once this batch has ended

    def on_pull(self, msg: m.Pull, now: float) -> None:
        if msg.target == self.node:
            self.answers = [a for a in self.answers if (a[1], a[2]) != (msg.part, msg.parts)]
            self.answers.append((now + self.rng.uniform(0.2, 1.0), msg.part, msg.parts,
                                 msg.cursor))

    def times(self) -> list[float]:
        return [s.due for s in self.streams.values()] + [a[0] for a in self.answers]

    def poll(self, emit: Emit, now: float, peers: Mapping[int, Peer], my_count: int) -> None:
        if self.streams and not self._ahead(peers, my_count, self.cfg.boot_gap // 2, now):
            self.streams.clear()  # caught up: reconciliation finishes the job
        for part, stream in sorted(self.streams.items()):
            if stream.due <= now and emit(m.Pull(stream.responder, part, PARTS, stream.cursor),
                                          "pull", NORMAL):
                stream.due = now + self.cfg.pull_timeout

    def poll_answers(self, emit: Emit, now: float, infos: Mapping[bytes, RecordInfo],
                     raw_of: Callable[[bytes], bytes | None]) -> None:
        keep = []
        for answer in self.answers:
            due, part, parts, cursor = answer
            if due > now:
                keep.append(answer)
                continue
            for packet, classes in self._batch(part, parts, cursor, infos, raw_of):
                prio = NORMAL if max(classes) <= CLASS_BOARD else BULK
                if not emit(m.Records(tuple(packet)), "pull-records", prio):
                    break
        self.answers = keep

    def _batch(self, part: int, parts: int, cursor: bytes, infos: Mapping[bytes, RecordInfo],
               raw_of: Callable[[bytes], bytes | None]) -> list[tuple[list[bytes], list[int]]]:
        after = order(cursor) if cursor else None
        ordered = sorted((i for i in infos.values() if i.id[0] % parts == part),
                         key=lambda i: order(cursor_of(i)))
        packets: list[tuple[list[bytes], list[int]]] = []
        room = 0
        for info in ordered:
            if after is not None and order(cursor_of(info)) <= after:
                continue
            raw = raw_of(info.id)
            if raw is None:
                continue
            if not packets or len(raw) + 1 > room:
                if len(packets) == self.cfg.pull_batch:
                    break
                packets.append(([], []))
                room = self.cfg.payload_cap - m.HEADER
            packets[-1][0].append(raw)
            packets[-1][1].append(info.cls)
            room -= len(raw) + 1
        return packets
