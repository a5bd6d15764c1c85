"""Encoding, strict decoding and signing of records (node/PROTOCOL.md, "Records").

Envelope:  header | body | signature
  header:  u8 (version << 4 | kind), author, varint seq, u48 hlc
  author:  32-byte public key for charter and hello, else 4-byte short id
  signature: Ed25519 over CONTEXT | network id (32 bytes; zeros for a charter)
             | header | body, i.e. exactly the bytes that travel, bound to
             one network.

`parse` checks structure only; `decode` also finds the author's key (trying
every known key that shares a short id) and verifies the signature. Both raise
`DecodeError` with a reason, never anything else, for any input bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import extensions
from . import records as r
from .hlc import HLC_MAX
from .identity import public_bytes, short_id, small_order, verify
from .shared import Memo
from .textcode import PackedReader as Reader
from .textcode import PackedWriter as Writer
from .vocab import CATEGORIES, GRANTS, OFFER_TYPES, RATE_PERIODS, ROLES, STATUSES, UNITS, URGENCIES
from .wire import DecodeError

VERSION = 1
CONTEXT = b"meshaid-record-v1"
NO_NETWORK = bytes(32)
MAX_RECORD = 200


@dataclass(frozen=True)
class Parsed:
    """A structurally valid record whose signature is not yet checked."""

    kind: r.Kind
    author_ref: bytes  # full key (charter, hello) or short id
    seq: int
    hlc: int
    body: r.Body
    signed: bytes  # everything but the signature
    signature: bytes
    raw: bytes

    @property
    def author_short(self) -> bytes:
        return short_id(self.author_ref) if len(self.author_ref) == r.KEY_LEN else self.author_ref


# ---------------------------------------------------------------- bodies


def _put_position(w: Writer, pos: r.Position | None) -> None:
    if pos is not None:
        if not pos.valid():
            raise ValueError("position out of range")
        w.signed(pos.lat_e5, 4).signed(pos.lon_e5, 4)


def _get_position(rd: Reader, present: bool) -> r.Position | None:
    if not present:
        return None
    pos = r.Position(rd.signed(4, "latitude"), rd.signed(4, "longitude"))
    if not pos.valid():
        raise DecodeError("out-of-range", "position outside the globe")
    return pos


def _check_code(value: int, table: dict[int, str], what: str) -> int:
    if value not in table:
        raise DecodeError("out-of-range", f"unknown {what} code {value}")
    return value


def _flags(rd: Reader, allowed_mask: int) -> int:
    flags = rd.u8("flags")
    if flags & ~allowed_mask:
        raise DecodeError("out-of-range", f"reserved flag bits set in {flags:#04x}")
    return flags


def _enc_body(w: Writer, body: r.Body) -> None:
    match body:
        case r.Charter():
            if not 1 <= body.admission <= 3 or len(body.costewards) > r.MAX_COSTEWARDS:
                raise ValueError("charter admission must be 1-3, with at most 2 co-stewards")
            w.text(body.name, r.NAME_MAX).u8(body.admission).u8(len(body.costewards))
            for key in body.costewards:
                w.raw(_key(key))
        case r.Hello():
            w.text(body.name, r.NAME_MAX).text(body.site, r.SITE_MAX)
            w.u8(_code(body.role, ROLES) | (4 if body.position else 0))
            _put_position(w, body.position)
        case r.Need() | r.Offer():
            flags = 4 if body.position else 0
            if isinstance(body, r.Need):
                flags |= _code(body.urgency, URGENCIES)
            else:
                flags |= _code(body.offer_type, OFFER_TYPES) | _code(body.rate, RATE_PERIODS) << 3
            w.u8(flags).u8(_code(body.category, CATEGORIES))
            w.varint(body.qty, r.QTY_BYTES).u8(_code(body.unit, UNITS))
            w.varint(body.valid_for_min, r.MINUTES_BYTES).text(body.site, r.SITE_MAX)
            _put_position(w, body.position)
            w.text(body.text, r.TEXT_MAX)
            extensions.put(w, body)
        case r.Pledge():
            if len(body.need_author) != r.SHORT_ID_LEN:
                raise ValueError("pledge names its need by a 4-byte short id")
            if body.need_seq < 1:
                raise ValueError("pledge names its need by a seq of 1 or more")
            w.raw(body.need_author).varint(body.need_seq, r.SEQ_BYTES)
            w.varint(body.qty, r.QTY_BYTES).varint(body.by_min, r.MINUTES_BYTES)
            w.text(body.text, r.TEXT_MAX)
            extensions.put(w, body)
        case r.Update():
            w.varint(body.target_seq, r.SEQ_BYTES).u8(_code(body.status, STATUSES))
            w.varint(body.qty, r.QTY_BYTES).varint(body.delivered, r.QTY_BYTES)
            w.varint(body.valid_for_min, r.MINUTES_BYTES).text(body.note, r.NOTE_MAX)
        case r.Vouch():
            w.raw(_key(body.subject)).u8(_code(body.grant, GRANTS))
        case r.Revoke():
            w.raw(_key(body.subject)).varint(body.through_seq, r.SEQ_BYTES)
            w.text(body.reason, r.REASON_MAX)


def _dec_body(kind: r.Kind, rd: Reader) -> r.Body:
    if kind is r.Kind.CHARTER:
        name = rd.text(r.NAME_MAX, "name")
        admission = rd.u8("admission")
        if not 1 <= admission <= 3:
            raise DecodeError("out-of-range", f"admission {admission} not in 1-3")
        count = rd.u8("co-steward count")
        if count > r.MAX_COSTEWARDS:
            raise DecodeError("out-of-range", f"{count} co-stewards, at most {r.MAX_COSTEWARDS}")
        keys = tuple(_get_key(rd, "co-steward key") for _ in range(count))
        return r.Charter(name, admission, keys)
    if kind is r.Kind.HELLO:
        name, site = rd.text(r.NAME_MAX, "name"), rd.text(r.SITE_MAX, "site")
        flags = _flags(rd, 0b111)
        return r.Hello(name, site, flags & 3, _get_position(rd, bool(flags & 4)))
    if kind in (r.Kind.NEED, r.Kind.OFFER):
        flags = _flags(rd, 0b111 if kind is r.Kind.NEED else 0b11111)
        category = _check_code(rd.u8("category"), CATEGORIES, "category")
        qty = rd.varint("qty", r.QTY_BYTES)
        unit = _check_code(rd.u8("unit"), UNITS, "unit")
        valid_for = rd.varint("valid-for", r.MINUTES_BYTES)
        site = rd.text(r.SITE_MAX, "site")
        pos = _get_position(rd, bool(flags & 4))
        text = rd.text(r.TEXT_MAX, "text")
        ext = extensions.get(rd, kind)
        extensions.check_texts(kind, ext, site, text)
        if kind is r.Kind.NEED:
            return r.Need(category, text, qty, unit, flags & 3, valid_for, site, pos, **ext)
        return r.Offer(category, text, qty, unit, flags & 3, (flags >> 3) & 3, valid_for, site, pos,
                       **ext)
    if kind is r.Kind.PLEDGE:
        need_author = rd.raw(r.SHORT_ID_LEN, "need author")
        need_seq = rd.varint("need seq", r.SEQ_BYTES)
        if need_seq == 0:
            raise DecodeError("out-of-range", "need seq 0")
        qty = rd.varint("qty", r.QTY_BYTES)
        by = rd.varint("by", r.MINUTES_BYTES)
        text = rd.text(r.TEXT_MAX, "text")
        return r.Pledge(need_author, need_seq, qty, by, text, **extensions.get(rd, kind))
    if kind is r.Kind.UPDATE:
        target = rd.varint("target seq", r.SEQ_BYTES)
        status = _check_code(rd.u8("status"), STATUSES, "status")
        qty = rd.varint("qty", r.QTY_BYTES)
        delivered = rd.varint("delivered", r.QTY_BYTES)
        valid_for = rd.varint("valid-for", r.MINUTES_BYTES)
        return r.Update(target, status, qty, delivered, valid_for, rd.text(r.NOTE_MAX, "note"))
    if kind is r.Kind.VOUCH:
        subject = _get_key(rd, "subject")
        return r.Vouch(subject, _check_code(rd.u8("grant"), GRANTS, "grant"))
    subject = _get_key(rd, "subject")
    through = rd.varint("through seq", r.SEQ_BYTES)
    return r.Revoke(subject, through, rd.text(r.REASON_MAX, "reason"))


def _code(value: int, table: dict[int, str]) -> int:
    if value not in table:
        raise ValueError(f"code {value} not in vocabulary")
    return value


def _key(key: bytes) -> bytes:
    if len(key) != r.KEY_LEN:
        raise ValueError("keys are 32 bytes")
    if small_order(key):
        raise ValueError("not a usable public key (a point of small order)")
    return key


def _get_key(rd: Reader, what: str) -> bytes:
    key = rd.raw(r.KEY_LEN, what)
    if small_order(key):
        raise DecodeError("out-of-range", f"{what} is a public key of small order")
    return key


# ---------------------------------------------------------------- envelope


def signing_message(kind: r.Kind, network: bytes, signed: bytes) -> bytes:
    return CONTEXT + (NO_NETWORK if kind is r.Kind.CHARTER else network) + signed


def encode(
    body: r.Body, key: Ed25519PrivateKey, seq: int, hlc: int, network: bytes
) -> r.Record:
    """Sign `body` as record `seq` of `key`'s author. Raises ValueError on fields
    out of range; the result always decodes back to an equal record."""
    kind = r.KIND_OF_BODY[type(body)]
    if not 1 <= seq <= r.SEQ_MAX:
        raise ValueError(f"seq {seq} out of range")
    if not 0 <= hlc <= HLC_MAX:
        raise ValueError("hlc out of range")
    if isinstance(body, r.Update) and not 0 < body.target_seq < seq:
        raise ValueError("an update must target an earlier record of its author")
    author = public_bytes(key)
    w = Writer()
    w.u8(VERSION << 4 | kind)
    w.raw(author if kind in r.FULL_KEY_KINDS else short_id(author))
    w.varint(seq, r.SEQ_BYTES).fixed(hlc, 6)
    _enc_body(w, body)
    signed = w.bytes()
    raw = signed + key.sign(signing_message(kind, network, signed))
    if len(raw) > MAX_RECORD:
        raise ValueError(f"record is {len(raw)} bytes, at most {MAX_RECORD}")
    return r.Record(kind, author, seq, hlc, body, raw)


# Shared by simulated nodes (shared.py): at most this many distinct records (an
# attack's junk is not unbounded).
PARSED: Memo[bytes, Parsed] = Memo(500_000)


def parse(raw: bytes) -> Parsed:
    """Check structure and field ranges; raise DecodeError with a reason."""
    if type(raw) is not bytes:
        return _parse(raw)
    return PARSED.get(raw, _parse)


def _parse(raw: bytes) -> Parsed:
    if len(raw) > MAX_RECORD:
        raise DecodeError("too-long", f"{len(raw)} bytes, at most {MAX_RECORD}")
    if len(raw) < 1 + r.SIG_LEN:
        raise DecodeError("truncated", f"{len(raw)} bytes is shorter than any record")
    signed, signature = raw[: -r.SIG_LEN], raw[-r.SIG_LEN :]
    rd = Reader(signed)
    head = rd.u8("header")
    if head >> 4 != VERSION:
        raise DecodeError("bad-version", f"version {head >> 4}, this node speaks {VERSION}")
    try:
        kind = r.Kind(head & 0x0F)
    except ValueError:
        raise DecodeError("unknown-kind", f"kind {head & 0x0F}") from None
    if kind in r.FULL_KEY_KINDS:
        author = _get_key(rd, "author")
    else:
        author = rd.raw(r.SHORT_ID_LEN, "author")
    seq = rd.varint("seq", r.SEQ_BYTES)
    if seq == 0:
        raise DecodeError("out-of-range", "seq 0")
    hlc = rd.fixed(6, "hlc")
    body = _dec_body(kind, rd)
    rd.end()
    if isinstance(body, r.Update) and not 0 < body.target_seq < seq:
        raise DecodeError("out-of-range", "an update must target an earlier record of its author")
    return Parsed(kind, author, seq, hlc, body, signed, signature, raw)


KeyLookup = Callable[[bytes], Iterable[bytes]]


def verify_parsed(p: Parsed, network: bytes, keys_for_short: KeyLookup) -> r.Record:
    """Find the author's key and check the signature, or raise DecodeError."""
    if len(p.author_ref) == r.KEY_LEN:
        candidates: Iterable[bytes] = (p.author_ref,)
    else:
        candidates = list(keys_for_short(p.author_ref))
        if not candidates:
            raise DecodeError("unknown-author", f"no known key with short id {p.author_ref.hex()}")
    message = signing_message(p.kind, network, p.signed)
    for key in candidates:
        if verify(key, p.signature, message):
            return r.Record(p.kind, key, p.seq, p.hlc, p.body, p.raw)
    raise DecodeError("bad-signature", "no candidate key signed these bytes for this network")


def decode(raw: bytes, network: bytes, keys_for_short: KeyLookup) -> r.Record:
    """Any bytes in; a verified Record out, or DecodeError with a reason."""
    return verify_parsed(parse(raw), network, keys_for_short)
