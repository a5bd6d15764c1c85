"""Sync messages on the air (node/PROTOCOL.md, "Sync messages").

Every packet starts with `u8 version << 4 | type` and the 2-byte network tag
(the first two bytes of the network id), so foreign traffic is dropped
before any parsing. Decoding is strict, like records: any payload either
parses into one of the message classes below or raises DecodeError.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from ..ledger.hlc import HLC_MAX
from ..ledger.shared import Memo
from ..ledger.wire import DecodeError, Reader, Writer
from . import riblt

VERSION = 1
RECORDS, DIGEST, SKETCH, REQUEST, MORE, PULL, FILTER = 1, 2, 3, 4, 5, 6, 7
TYPE_NAMES = {RECORDS: "records", DIGEST: "digest", SKETCH: "sketch", REQUEST: "request",
              MORE: "more", PULL: "pull", FILTER: "filter"}
HEADER = 3
RECORDS_ROOM = HEADER + 1  # bytes of a RECORDS packet before its first record
ID_LEN = 8
MIN_RECORD = 66
MAX_RECORD = 200
CURSOR_LEN = 15
MAX_CLASS = 2  # cursor classes: 0 membership, 1 board, 2 commitments (ports.py)
MAX_NEIGHBOURS = 96  # a full digest still fits 228 bytes; a list this long may be partial
MAX_FAR_RELAYS = 4  # far relays a digest names


def record_id(raw: bytes) -> bytes:
    """A record's id: the first 8 bytes of the SHA-256 of its bytes."""
    return hashlib.sha256(raw).digest()[:8]


@dataclass(frozen=True)
class Records:
    records: tuple[bytes, ...]
    relay: bool = True  # False: an answer to one node (pull); listeners need not relay it
    end: bool = False  # the last packet of a pull answer that reached the partition's end
    after: bytes | None = None  # pull answers: id of the record just before these (8 zero
    # bytes at the start of a partition), so the puller can tell a gap from a lost packet

    @cached_property
    def ids(self) -> tuple[bytes, ...]:
        """The records' ids (`record_id`), worked out once for the packet."""
        return tuple(record_id(raw) for raw in self.records)


@dataclass(frozen=True)
class Digest:
    count: int
    fingerprint: int  # XOR of the 64-bit ids of every record held
    boot: bool = False  # the sender is bootstrapping and pulling
    neighbours: tuple[int, ...] = ()  # 16-bit ids of the ledger peers it hears directly
    has_neighbours: bool = False  # the list is present (it may be empty)
    relays: tuple[int, ...] = ()  # the neighbours it chose to relay its records (a subset)
    # far relays: the far peers (heard only through radio-only relays) it chose to
    # send records at hop 1 for it; None: not said (farpeers.py, "Far relays")
    far_relays: tuple[int, ...] | None = None
    # empty, or the sender's membership proof: a member's ticket for its own number
    # and nobody in particular (ticket.py `ANYONE`), which a far peer must show
    # (farpeers.py, "Far peers prove membership")
    ticket: bytes = b""


@dataclass(frozen=True)
class Sketch:
    count: int
    start: int
    symbols: bytes  # k x 13-byte coded symbols


@dataclass(frozen=True)
class Request:
    ids: tuple[bytes, ...]
    target: int | None = None  # the node asked to answer (None: anyone holding them)
    pad: int = 0  # zero ids after the ids (a multiple of 8 bytes): air paid for the answer
    ticket: bytes = b""  # empty, or a member's ticket (TICKET_LEN bytes; needs a target)


@dataclass(frozen=True)
class More:
    target: int  # the sketch sender's node number
    start: int
    pad: int = 0  # zero bytes after `start` (and any ticket): air paid for the answer
    ticket: bytes = b""  # empty, or a member's ticket (TICKET_LEN bytes, ticket.py)


@dataclass(frozen=True)
class Pull:
    target: int  # the node asked to answer
    part: int  # answer only records whose id's first byte % parts == part
    parts: int
    cursor: bytes  # empty, or (u8 class, u48 hlc, 8-byte id): answer records after it
    pad: int = 0  # zero bytes before the cursor (at most 255): air paid for the answer
    ticket: bytes = b""  # empty, or a member's ticket (TICKET_LEN bytes, ticket.py)


@dataclass(frozen=True)
class Filter:
    target: int  # the node asked to answer
    since: int  # the window: the sender's sync-set records with since <= hlc <= until
    until: int
    held: int  # how many records of the sender's sync set lie in the window
    hashes: int  # bit positions per id (1-15)
    bits: bytes  # the Bloom filter of their ids (filters.py `positions`)
    ticket: bytes = b""  # empty, or a member's ticket (TICKET_LEN bytes, ticket.py)
    # Authors (4-byte short ids, at most MAX_SKIP) whose records the window leaves
    # out, on both sides: a key flooding the ledger (filters.py).
    skip: tuple[bytes, ...] = ()


PAD_FLAG = 0x80  # in PULL's `parts` byte: a u8 padding length and that many zeros follow
TICKET_FLAG = 0x40  # in PULL's `parts` byte: a ticket follows (after any padding)
TICKET_LEN = 68  # 4-byte author short id + 64-byte Ed25519 signature
REQUEST_TICKET = 1  # REQUEST: the byte after the target when a ticket follows
MORE_TICKET = 0x8000  # in MORE's index field: a ticket follows the index
MAX_INDEX = MORE_TICKET - 1
FILTER_TICKET = 0x80  # in FILTER's flags byte: a ticket follows
FILTER_SKIP = 0x10  # in FILTER's flags byte: authors left out follow (after any ticket)
MAX_SKIP = 4


Message = Records | Digest | Sketch | Request | More | Pull | Filter


def encode(msg: Message, tag: bytes) -> bytes:
    """Wire bytes of `msg` in the network with tag `tag` (2 bytes)."""
    w = Writer()
    match msg:
        case Records():
            chained = msg.after is not None
            w.u8(VERSION << 4 | RECORDS).raw(tag)
            w.u8((0 if msg.relay else 1) | (2 if msg.end else 0) | (4 if chained else 0))
            if msg.after is not None:
                w.raw(msg.after)
            for raw in msg.records:
                w.u8(len(raw)).raw(raw)
        case Digest():
            w.u8(VERSION << 4 | DIGEST).raw(tag).varint(msg.count, 5)
            listed = msg.has_neighbours or bool(msg.neighbours)
            far = msg.far_relays
            if far is not None and len(far) > MAX_FAR_RELAYS:
                raise ValueError(f"at most {MAX_FAR_RELAYS} far relays")
            if msg.ticket and len(msg.ticket) != TICKET_LEN:
                raise ValueError("a digest's ticket is TICKET_LEN bytes")
            w.fixed(msg.fingerprint, 8).u8((1 if msg.boot else 0) | (2 if listed else 0)
                                           | (4 if far is not None else 0)
                                           | (8 if msg.ticket else 0))
            if listed:
                w.u8(len(msg.neighbours))
                for nid in msg.neighbours:
                    w.fixed(nid, 2)
                bits = 0
                for i, nid in enumerate(msg.neighbours):
                    if nid in msg.relays:
                        bits |= 1 << i
                w.raw(bits.to_bytes((len(msg.neighbours) + 7) // 8, "little"))
            if far is not None:
                w.u8(len(far))
                for nid in far:
                    w.fixed(nid, 2)
            w.raw(msg.ticket)
        case Sketch():
            w.u8(VERSION << 4 | SKETCH).raw(tag).varint(msg.count, 5).fixed(msg.start, 2)
            w.raw(msg.symbols)
        case Request():
            w.u8(VERSION << 4 | REQUEST).raw(tag)
            if msg.ticket and (msg.target is None or len(msg.ticket) != TICKET_LEN):
                raise ValueError("a request's ticket is TICKET_LEN bytes, to a named node")
            if msg.target is not None:
                w.fixed(msg.target, 4)
            if msg.ticket:
                w.u8(REQUEST_TICKET).raw(msg.ticket)
            for rid in msg.ids:
                w.raw(rid)
            w.raw(bytes(msg.pad - msg.pad % ID_LEN))
        case More():
            if msg.start > MAX_INDEX or (msg.ticket and len(msg.ticket) != TICKET_LEN):
                raise ValueError("a MORE's index is below 2^15, its ticket TICKET_LEN bytes")
            w.u8(VERSION << 4 | MORE).raw(tag).fixed(msg.target, 4)
            w.fixed(msg.start | (MORE_TICKET if msg.ticket else 0), 2)
            w.raw(msg.ticket).raw(bytes(msg.pad))
        case Pull():
            w.u8(VERSION << 4 | PULL).raw(tag).fixed(msg.target, 4).u8(msg.part)
            w.u8(msg.parts | (PAD_FLAG if msg.pad else 0) | (TICKET_FLAG if msg.ticket else 0))
            if msg.pad:
                w.u8(msg.pad).raw(bytes(msg.pad))
            w.raw(msg.ticket)
            w.raw(msg.cursor)
        case Filter():
            if not 1 <= msg.hashes <= 15 or not msg.bits or not \
                    0 <= msg.since <= msg.until <= HLC_MAX or msg.held >= 1 << 16 or (
                    msg.ticket and len(msg.ticket) != TICKET_LEN) or len(msg.skip) > MAX_SKIP \
                    or any(len(a) != 4 for a in msg.skip):
                raise ValueError("a filter's window, hashes, bits, ticket or authors out of range")
            w.u8(VERSION << 4 | FILTER).raw(tag).fixed(msg.target, 4)
            w.fixed(msg.since, 6).fixed(msg.until, 6).fixed(msg.held, 2)
            w.u8(msg.hashes | (FILTER_TICKET if msg.ticket else 0)
                 | (FILTER_SKIP if msg.skip else 0))
            w.raw(msg.ticket)
            if msg.skip:
                w.u8(len(msg.skip)).raw(b"".join(msg.skip))
            w.raw(msg.bits)
    return w.bytes()


def peek(payload: bytes) -> tuple[int, bytes]:
    """(type, network tag) of a payload; DecodeError if it is not a sync packet."""
    if len(payload) < HEADER:
        raise DecodeError("truncated", "shorter than a sync header")
    if payload[0] >> 4 != VERSION:
        raise DecodeError("bad-version", f"sync version {payload[0] >> 4}")
    kind = payload[0] & 0x0F
    if kind not in TYPE_NAMES:
        raise DecodeError("unknown-kind", f"sync message type {kind}")
    return kind, payload[1:3]


# Shared by simulated nodes (node/ledger/shared.py): every node in range decodes
# the same transmission, and then holds the same record bytes. The oldest go
# first: copies of a packet arrive within seconds.
DECODED: Memo[bytes, Message] = Memo(4096, fifo=True)


def decode(payload: bytes) -> Message:
    """Parse one sync packet strictly (the network tag is checked by the caller)."""
    if type(payload) is not bytes:
        return _decode(payload)
    return DECODED.get(payload, _decode)


def _decode(payload: bytes) -> Message:
    kind, _tag = peek(payload)
    rd = Reader(payload)
    rd.raw(HEADER, "header")
    msg: Message
    if kind == RECORDS:
        flags = rd.u8("flags")
        if flags & ~7:
            raise DecodeError("out-of-range", "reserved records flags")
        after = rd.raw(ID_LEN, "after") if flags & 4 else None
        items = []
        while rd.remaining():
            n = rd.u8("record length")
            if not MIN_RECORD <= n <= MAX_RECORD:
                raise DecodeError("out-of-range", f"record length {n}")
            items.append(rd.raw(n, "record"))
        if not items:
            raise DecodeError("truncated", "a records packet with no record")
        msg = Records(tuple(items), not flags & 1, bool(flags & 2), after)
    elif kind == DIGEST:
        count = rd.varint("count", 5)
        fingerprint = rd.fixed(8, "fingerprint")
        flags = rd.u8("flags")
        if flags & ~15:
            raise DecodeError("out-of-range", "reserved digest flags")
        neighbours: tuple[int, ...] = ()
        relays: tuple[int, ...] = ()
        if flags & 2:
            n = rd.u8("neighbour count")
            if n > MAX_NEIGHBOURS:
                raise DecodeError("out-of-range", f"{n} neighbours, at most {MAX_NEIGHBOURS}")
            neighbours = tuple(rd.fixed(2, "neighbour") for _ in range(n))
            bits = int.from_bytes(rd.raw((n + 7) // 8, "relay bitmap"), "little")
            if bits >> n:
                raise DecodeError("out-of-range", "relay bitmap names no neighbour")
            relays = tuple(nid for i, nid in enumerate(neighbours) if bits >> i & 1)
        far: tuple[int, ...] | None = None
        if flags & 4:
            n = rd.u8("far relay count")
            if n > MAX_FAR_RELAYS:
                raise DecodeError("out-of-range", f"{n} far relays, at most {MAX_FAR_RELAYS}")
            far = tuple(rd.fixed(2, "far relay") for _ in range(n))
        proof = rd.raw(TICKET_LEN, "ticket") if flags & 8 else b""
        msg = Digest(count, fingerprint, bool(flags & 1), neighbours, bool(flags & 2), relays,
                     far, proof)
    elif kind == SKETCH:
        count = rd.varint("count", 5)
        start = rd.fixed(2, "start")
        body = rd.raw(rd.remaining(), "symbols")
        if not body or len(body) % riblt.SYMBOL_BYTES:
            raise DecodeError("out-of-range", "sketch symbols not a positive multiple of 13 bytes")
        msg = Sketch(count, start, body)
    elif kind == REQUEST:
        ticketed = rd.remaining() % ID_LEN == (4 + 1 + TICKET_LEN) % ID_LEN
        targeted = ticketed or rd.remaining() % ID_LEN == 4
        target = rd.fixed(4, "target") if targeted else None
        ticket = b""
        if ticketed:
            if rd.u8("ticket flag") != REQUEST_TICKET:
                raise DecodeError("out-of-range", "reserved request flag")
            ticket = rd.raw(TICKET_LEN, "ticket")
        body = rd.raw(rd.remaining(), "ids")
        if not body or len(body) % ID_LEN:
            raise DecodeError("out-of-range", "request ids not a positive multiple of 8 bytes")
        # Zero ids (padding) stay in: nobody holds a record with that id.
        msg = Request(tuple(body[i : i + ID_LEN] for i in range(0, len(body), ID_LEN)), target,
                      ticket=ticket)
    elif kind == MORE:
        target, start = rd.fixed(4, "target"), rd.fixed(2, "start")
        ticket = rd.raw(TICKET_LEN, "ticket") if start & MORE_TICKET else b""
        pad = rd.raw(rd.remaining(), "padding")
        if any(pad):
            raise DecodeError("out-of-range", "padding that is not zero")
        msg = More(target, start & MAX_INDEX, len(pad), ticket)
    elif kind == FILTER:
        target = rd.fixed(4, "target")
        since, until = rd.fixed(6, "since"), rd.fixed(6, "until")
        held, flags = rd.fixed(2, "held"), rd.u8("flags")
        if flags & 0x60 or not 1 <= flags & 0x0F or since > until:
            raise DecodeError("out-of-range", "filter flags or window")
        shown = rd.raw(TICKET_LEN, "ticket") if flags & FILTER_TICKET else b""
        skip: tuple[bytes, ...] = ()
        if flags & FILTER_SKIP:
            n = rd.u8("authors left out")
            if not 1 <= n <= MAX_SKIP:
                raise DecodeError("out-of-range", f"{n} authors left out of a filter")
            raw = rd.raw(4 * n, "authors left out")
            skip = tuple(raw[i:i + 4] for i in range(0, len(raw), 4))
        filter_bits = rd.raw(rd.remaining(), "filter bits")
        if not filter_bits:
            raise DecodeError("truncated", "a filter with no bits")
        msg = Filter(target, since, until, held, flags & 0x0F, filter_bits, shown, skip)
    else:
        target = rd.fixed(4, "target")
        part, parts = rd.u8("part"), rd.u8("parts")
        pad = ticket = b""
        if parts & PAD_FLAG:
            pad = rd.raw(rd.u8("padding length"), "padding")
            if not pad or any(pad):
                raise DecodeError("out-of-range", "padding that is empty or not zero")
        if parts & TICKET_FLAG:
            ticket = rd.raw(TICKET_LEN, "ticket")
        parts &= ~(PAD_FLAG | TICKET_FLAG)
        if not 1 <= parts <= 16 or part >= parts:
            raise DecodeError("out-of-range", f"partition {part}/{parts}")
        cursor = rd.raw(rd.remaining(), "cursor")
        if len(cursor) not in (0, CURSOR_LEN):
            raise DecodeError("out-of-range", "cursor must be empty or 15 bytes")
        if cursor and cursor[0] > MAX_CLASS:
            raise DecodeError("out-of-range", "cursor class must be 0, 1 or 2")
        msg = Pull(target, part, parts, cursor, len(pad), ticket)
    rd.end()
    return msg


def pad_to(msg: Request | More | Pull, size: int, tag: bytes) -> Request | More | Pull:
    """`msg` padded so that it encodes to about `size` bytes (never less than
    unpadded, never more than `size` unless unpadded already is)."""
    room = size - len(encode(msg, tag))
    if room <= 0:
        return msg
    if isinstance(msg, Request):
        return Request(msg.ids, msg.target, msg.pad + room - room % ID_LEN, msg.ticket)
    if isinstance(msg, More):
        return More(msg.target, msg.start, msg.pad + room, msg.ticket)
    return Pull(msg.target, msg.part, msg.parts, msg.cursor, min(255, max(0, room - 1)),
                msg.ticket)
