"""Property tests of the codec: round trips for random valid bodies of every
kind, and every damaged or random input refused with DecodeError only."""

from __future__ import annotations

import strategies as sts
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import Actor

from meshaid.node.ledger import codec
from meshaid.node.ledger import records as r
from meshaid.node.ledger.wire import DecodeError

SIGNERS = [Actor("founder", 1), Actor("member", 2), Actor("other", 3)]
NETWORK = bytes(range(100, 132))


def lookup(short: bytes) -> list[bytes]:
    return [a.pub for a in SIGNERS if a.short == short]


@settings(max_examples=200)
@given(sts.signed_fields(), st.sampled_from(SIGNERS), st.binary(min_size=32, max_size=32))
def test_encode_decode_round_trip(fields: tuple[r.Body, int, int], signer: Actor,
                                  network: bytes) -> None:
    body, seq, at = fields
    rec = codec.encode(body, signer.key, seq, at, network)
    assert len(rec.raw) <= codec.MAX_RECORD
    back = codec.decode(rec.raw, network, lookup)
    assert back == rec
    assert (back.body, back.seq, back.hlc, back.author) == (body, seq, at, signer.pub)
    assert codec.encode(back.body, signer.key, back.seq, back.hlc, network).raw == rec.raw


def damaged(raw: bytes) -> list[bytes]:
    """Every truncation, and at every position three different byte changes."""
    out = [raw[:n] for n in range(len(raw))]
    for i, byte in enumerate(raw):
        for flip in (0x01, 0x80, 0xFF):
            out.append(raw[:i] + bytes([byte ^ flip]) + raw[i + 1 :])
    return out


@settings(max_examples=15)
@given(sts.signed_fields(), st.sampled_from(SIGNERS))
def test_every_single_byte_change_and_truncation_is_refused(fields: tuple[r.Body, int, int],
                                                            signer: Actor) -> None:
    body, seq, at = fields
    rec = codec.encode(body, signer.key, seq, at, NETWORK)
    for bad in damaged(rec.raw):
        try:
            codec.decode(bad, NETWORK, lookup)
        except DecodeError as exc:
            assert exc.reason
        else:
            raise AssertionError(f"damaged record accepted: {bad.hex()}")


@given(st.integers(0, 199), st.integers(1, 255), st.sampled_from(SIGNERS), sts.needs)
def test_any_byte_change_of_a_need_is_refused(pos: int, xor: int, signer: Actor,
                                              body: r.Need) -> None:
    raw = codec.encode(body, signer.key, 7, 1 << 30, NETWORK).raw
    pos %= len(raw)
    bad = raw[:pos] + bytes([raw[pos] ^ xor]) + raw[pos + 1 :]
    try:
        codec.decode(bad, NETWORK, lookup)
    except DecodeError:
        return
    raise AssertionError("a changed byte went unnoticed")


# Bytes that look like a record header, to reach deep into the parser.
headers = st.builds(
    lambda kind, rest: bytes([0x10 | kind]) + rest,
    st.integers(0, 15),
    st.binary(max_size=230),
)


@settings(max_examples=500)
@given(st.binary(max_size=231) | headers)
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    for call in (lambda: codec.parse(data), lambda: codec.decode(data, NETWORK, lookup)):
        try:
            call()
        except DecodeError as exc:
            assert exc.reason
