"""Answering PULLs: one packet of a bootstrap partition after a cursor at a time.

Theory of operation
-------------------
A PULL names us, one of the `PARTS` partitions (first id byte mod PARTS) and
a cursor in bootstrap order (bootstrap.py). We plan one answer per puller
and partition (at most `MAX_ANSWERS`, the newest replace the oldest) and send
it packet by packet while the puller's credit (credit.py) or, for a member
with a believed ticket, its allowance (members.py, at most `pull_batch`
packets a pull) and our budget allow (only what goes on air is paid: answers.py
`send_paid`). Each packet carries `after`, the id of
the record before its first one, so the puller can tell a lost packet from a
gap; the last packet of a partition says so. The partition orders are built
in slices and kept current (orders.py), so a packet costs a bisection.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import messages as m
from .credit import ALLOWANCE, HELD
from .orders import Orders
from .ports import RecordInfo, SyncConfig

PARTS = 3
NO_ID = bytes(8)
MAX_ANSWERS = 8  # pending pull answers (one per puller and partition)
Emit = Callable[[m.Message, str, int], bool]
# Send and pay one packet of an answer: (emit, puller, msg, tag, allowance may pay)
# -> what paid, HELD, or None (answers.py `send_paid`).
Pay = Callable[[Emit, int, m.Message, str, bool], str | None]


def cursor_of(info: RecordInfo) -> bytes:
    return bytes([info.cls]) + info.hlc.to_bytes(6, "big") + info.id


def after_of(cursor: bytes) -> bytes:
    """The `after` of an answer from `cursor`: the id of the record the cursor is
    at, or NO_ID at the start of a partition."""
    return cursor[7:] if cursor else NO_ID


def packet_cursor(packet: list[bytes], infos: Mapping[bytes, RecordInfo]) -> bytes:
    """The cursor just after the last record of an answer packet."""
    info = infos[hashlib.sha256(packet[-1]).digest()[:8]]
    return cursor_of(info)


@dataclass
class Answer:
    due: float
    who: int  # the puller (its credit pays)
    part: int
    cursor: bytes
    sent: int = 0  # packets of this answer paid by the puller's allowance


class Serving:
    """The responder's side of bootstrap: pending pull answers and the orders."""

    def __init__(self, cfg: SyncConfig, rng: random.Random, node: int) -> None:
        self.cfg = cfg
        self.rng = rng
        self.node = node
        self.answers: list[Answer] = []
        self.orders = Orders(PARTS)  # built in slices on the first pull we answer

    def on_pull(self, msg: m.Pull, sender: int, now: float) -> bool:
        """A PULL addressed to us: plan one answer (replacing any earlier one of
        the same puller and partition). False if it is not ours to answer."""
        if msg.target != self.node or msg.parts != PARTS:
            return False
        keep = [a for a in self.answers if (a.who, a.part) != (sender, msg.part)]
        keep.append(Answer(now + self.rng.uniform(0.2, 1.0), sender, msg.part, msg.cursor))
        self.answers = keep[-MAX_ANSWERS:]
        return True

    def poll_answers(self, emit: Emit, now: float, infos: Mapping[bytes, RecordInfo],
                     raw_of: Callable[[bytes], bytes | None], pay: Pay,
                     busy: bool = False) -> None:
        """Answer due pulls, one packet at a time, each sent and paid by `pay(emit,
        puller, msg, tag, batch)`: the puller's credit, or for a member with a
        checked ticket its allowance while `batch` (at most `pull_batch` packets
        a pull). An answer the allowance pays for and our budget holds back
        waits, from where it stopped; one only credit pays for is dropped then
        (the puller pulls again, its credit kept).
        `busy`: this poll already did a slice of start-up work, so the orders
        wait for the next one."""
        keep = []
        ready = self.orders.ready or (bool(self.answers) and not busy
                                      and self.orders.step(infos))
        for answer in self.answers:
            if answer.due > now or not ready:
                if not ready:  # still sorting the partitions: a moment more
                    answer.due = max(answer.due, now + 0.05)
                keep.append(answer)
                continue
            while True:
                cursor = answer.cursor
                packet, at_end = self._packet(answer.part, cursor, infos, raw_of)
                if not packet and at_end and cursor:
                    raw = raw_of(cursor[7:])  # nothing left: say so with the cursor's own record
                    packet = [raw] if raw is not None else []
                if not packet:
                    break
                after = after_of(cursor)
                msg = m.Records(tuple(packet), relay=False, end=at_end, after=after)
                paid = pay(emit, answer.who, msg, "pull-records",
                           answer.sent < self.cfg.pull_batch)
                if paid is None:
                    break  # the pull paid for no more: the puller pulls again
                if paid == HELD:
                    # Out of budget: the answer waits (the engine sleeps until the
                    # budget allows), from where it stopped.
                    answer.due = now
                    keep.append(answer)
                    break
                answer.sent += paid == ALLOWANCE
                if at_end:
                    break
                answer.cursor = packet_cursor(packet, infos)
        self.answers = keep

    def added(self, info: RecordInfo) -> None:
        """A record joined the ledger: keep the partition orders current."""
        self.orders.added(info)

    def removed(self, info: RecordInfo) -> None:
        """A record left the sync set (superseded): keep the partition orders current."""
        self.orders.removed(info)

    def _packet(self, part: int, cursor: bytes, infos: Mapping[bytes, RecordInfo],
                raw_of: Callable[[bytes], bytes | None]
                ) -> tuple[list[bytes], bool]:
        """One packet of the records after `cursor`, and whether it reaches the end
        of the partition."""
        ordered = self.orders.infos[part]
        room = self.cfg.payload_cap - m.RECORDS_ROOM - m.ID_LEN  # chained: + after
        packet: list[bytes] = []
        for i in range(self.orders.after(part, cursor), len(ordered)):
            info = ordered[i]
            raw = raw_of(info.id)
            if raw is None:
                continue
            if len(raw) + 1 > room:
                return packet, False
            packet.append(raw)
            room -= len(raw) + 1
        return packet, True
