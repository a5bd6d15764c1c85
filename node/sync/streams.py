"""A pull stream: one partition of the ledger pulled from one responder.

Theory of operation
-------------------
Bootstrap (bootstrap.py) splits the id space into partitions and pulls each
from one responder. A stream is what the puller keeps of one: its responder,
its *cursor* in bootstrap order (class, then hlc, then id: serving.py serves
every partition in that order), and the counters that say when to pull
again, when the partition is served to its end, and when an answer brought
nothing new. Which responder a stream goes to, and whose claims are believed,
is bootstrap's; how the cursor and the counters move when an answer packet
arrives is here (`advance`).

The order is the same on every node, so a cursor means the same thing to any
responder: a stream moves to another responder, cursor and all, and the
records before its cursor were served.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ledger import codec
from ..ledger.wire import DecodeError
from . import messages as m
from .orders import HLC_MAX
from .ports import CLASS_COMMITMENTS, CLASS_OF_KIND
from .serving import NO_ID, after_of

EXHAUSTED = 1000  # a stream's `silent` once its responder said the partition ended
STALE = 2  # answers in a row with nothing new that end a responder's streams


def class_start(cls: int) -> bytes:
    """A cursor before every record of class `cls` (1 or 2: newest first)."""
    return bytes([cls]) + HLC_MAX.to_bytes(6, "big") + NO_ID


@dataclass
class Stream:
    responder: int
    cursor: bytes = b""
    due: float = 0.0
    silent: int = 0  # pulls in a row that brought nothing: the partition is exhausted
    stale: int = 0  # answers in a row that brought no record new to us
    pulled: bool = False  # a pull went out (only then do we say we are bootstrapping)
    counted: bool | None = None  # our last (plain) pull's answer counted as stale yet
    since: bool = False  # catching up what came lately (bootstrap.py): class by class
    known: int = 0  # answers in a row, in order, that brought nothing new
    got: int = 0  # packets heard in answer to our last pull
    batch: int = 1  # packets our last pull asked for (the batch ends with the last)

    def advance(self, msg: m.Records, last: bytes, new: bool, now: float,
                pull_gap: float, pull_timeout: float) -> None:
        """A packet of our responder's answer arrived (`last`: the id of its last
        record; `new`: it brought a record new to us): when to pull again, and,
        if it continues our cursor (nothing lost since), the cursor moves to its
        last record. Pull again after the batch's last packet (`pull_batch` for
        a plain pull, one for a padded one) or when the rest is slow to come (a
        responder paces a batch by its budget's minute: a re-pull after each
        packet cut batches short, 0.8 pulls per answer packet on
        late-joiner-2000)."""
        self.got += 1
        lost = msg.after != after_of(self.cursor)
        ended = lost or msg.end or self.got >= self.batch
        self.due = now + (pull_gap if ended else pull_timeout)
        if self.silent < EXHAUSTED:
            self.silent = 0
        if lost:
            return  # a packet before this one was lost: re-pull from our cursor
        try:
            parsed = codec.parse(msg.records[-1])
        except DecodeError:
            return
        cls = CLASS_OF_KIND[parsed.kind]
        self.cursor = bytes([cls]) + parsed.hlc.to_bytes(6, "big") + last
        self.known = 0 if new else self.known + 1
        if msg.end or (self.since and self.known >= STALE and cls >= CLASS_COMMITMENTS):
            self.silent = EXHAUSTED
        elif self.since and self.known >= STALE:
            # Reached what we hold in this class (answers in a row with nothing new:
            # one alone may be our own side's records, interleaved with theirs).
            self.cursor = class_start(cls + 1)
            self.known = self.stale = 0
