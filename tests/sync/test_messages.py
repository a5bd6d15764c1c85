"""Sync wire messages: round trips, and strict decoding of anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshaid.node.ledger.wire import DecodeError
from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt

TAG = b"\xb7\xe2"
U16 = st.integers(0, 0xFFFF)
U32 = st.integers(0, 0xFFFF_FFFF)
COUNT = st.integers(0, (1 << 35) - 1)  # varint of at most 5 bytes

record_bytes = st.integers(m.MIN_RECORD, m.MAX_RECORD).flatmap(
    lambda n: st.binary(min_size=n, max_size=n))
records = st.builds(
    m.Records,
    st.lists(record_bytes, min_size=1, max_size=3).map(tuple),
    st.booleans(),
    st.booleans(),
    st.none() | st.binary(min_size=m.ID_LEN, max_size=m.ID_LEN),
)


@st.composite
def digests(draw: st.DrawFn) -> m.Digest:
    neighbours = tuple(draw(st.lists(U16, max_size=m.MAX_NEIGHBOURS, unique=True)))
    listed = bool(neighbours) or draw(st.booleans())
    chosen = draw(st.lists(st.booleans(), min_size=len(neighbours), max_size=len(neighbours)))
    relays = tuple(nid for nid, pick in zip(neighbours, chosen) if pick)
    far = draw(st.none() | st.lists(U16, max_size=m.MAX_FAR_RELAYS).map(tuple))
    return m.Digest(draw(COUNT), draw(st.integers(0, (1 << 64) - 1)), draw(st.booleans()),
                    neighbours, listed, relays, far, draw(TICKETS))


TICKETS = st.sampled_from([b""]) | st.binary(min_size=m.TICKET_LEN, max_size=m.TICKET_LEN)
sketches = st.builds(
    m.Sketch, COUNT, U16,
    st.integers(1, 16).flatmap(lambda k: st.binary(min_size=k * riblt.SYMBOL_BYTES,
                                                   max_size=k * riblt.SYMBOL_BYTES)),
)


@st.composite
def requests(draw: st.DrawFn) -> m.Request:
    target = draw(st.none() | U32)
    ticket = draw(TICKETS) if target is not None else b""
    ids = draw(st.lists(st.binary(min_size=m.ID_LEN, max_size=m.ID_LEN), min_size=1,
                        max_size=19 if ticket else 27))
    return m.Request(tuple(ids), target, ticket=ticket)


mores = st.builds(m.More, U32, st.integers(0, m.MAX_INDEX), st.just(0), TICKETS)


@st.composite
def pulls(draw: st.DrawFn) -> m.Pull:
    parts = draw(st.integers(1, 16))
    cursor = draw(st.sampled_from([b"", None]))
    if cursor is None:
        cursor = bytes([draw(st.integers(0, m.MAX_CLASS))]) + draw(
            st.binary(min_size=m.CURSOR_LEN - 1, max_size=m.CURSOR_LEN - 1))
    return m.Pull(draw(U32), draw(st.integers(0, parts - 1)), parts, cursor)


@st.composite
def filters(draw: st.DrawFn) -> m.Filter:
    until = draw(st.integers(0, m.HLC_MAX))
    return m.Filter(draw(U32), draw(st.integers(0, until)), until, draw(U16),
                    draw(st.integers(1, 15)), draw(st.binary(min_size=1, max_size=130)),
                    draw(TICKETS), tuple(draw(st.lists(st.binary(min_size=4, max_size=4),
                                                       max_size=m.MAX_SKIP))))


STRATEGIES = {"records": records, "digest": digests(), "sketch": sketches, "request": requests(),
              "more": mores, "pull": pulls(), "filter": filters()}
any_message = st.one_of(*STRATEGIES.values())


def decode_or_error(payload: bytes) -> m.Message | DecodeError:
    """decode(), where a DecodeError is a value and anything else propagates."""
    try:
        msg = m.decode(payload)
    except DecodeError as exc:
        assert exc.reason, "every DecodeError carries a reason code"
        return exc
    assert isinstance(msg, (m.Records, m.Digest, m.Sketch, m.Request, m.More, m.Pull, m.Filter))
    return msg


# ------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_each_message_type_round_trips(name: str) -> None:
    @settings(max_examples=60)
    @given(STRATEGIES[name])
    def check(msg: m.Message) -> None:
        payload = m.encode(msg, TAG)
        assert m.peek(payload) == ({v: k for k, v in m.TYPE_NAMES.items()}[name], TAG)
        assert m.decode(payload) == msg

    check()


def test_hand_made_examples_round_trip() -> None:
    cases: list[m.Message] = [
        m.Records((bytes(range(66)), b"\xaa" * 200)),
        m.Records((b"\x01" * 66,), relay=False, end=True, after=bytes(8)),
        m.Records((b"\x01" * 66,), relay=True, end=False, after=b"\xff" * 8),
        m.Digest(0, 0),
        m.Digest(1234, (1 << 64) - 1, boot=True),
        m.Digest(7, 1, False, (), True),  # an empty list, announced as such
        m.Digest(7, 1, True, tuple(range(m.MAX_NEIGHBOURS)), True),
        m.Digest(7, 1, False, tuple(range(9)), True, (0, 8)),
        m.Digest(7, 1, False, tuple(range(m.MAX_NEIGHBOURS)), True, tuple(range(m.MAX_NEIGHBOURS))),
        m.Sketch((1 << 35) - 1, 0xFFFF, b"\x01" * 13),
        m.Request((b"\x00" * 8,)),
        m.More(0xFFFF_FFFF, 0),
        m.Pull(5, 0, 1, b""),
        m.Pull(5, 15, 16, b"\x02" * 15),
    ]
    for msg in cases:
        assert m.decode(m.encode(msg, TAG)) == msg


def test_shared_decodes_give_one_object_raise_every_time_and_stay_bounded() -> None:
    memo = m.DECODED
    payloads = [m.encode(m.Digest(i, i), TAG) for i in range(memo.most + 10)]
    bad = payloads[0][:-1]
    memo.share()
    try:
        first = m.decode(payloads[0])
        assert m.decode(bytes(payloads[0])) is first  # (the simulator's sharing)
        for _ in range(2):
            with pytest.raises(DecodeError):
                m.decode(bad)
        for i, p in enumerate(payloads):
            assert m.decode(p) == m.Digest(i, i)
        assert memo.table is not None and len(memo.table) == memo.most
        assert m.decode(payloads[-1]) is m.decode(payloads[-1])  # the newest kept
        assert m.decode(payloads[0]) is not first  # dropped, oldest first: decoded anew
    finally:
        memo.share(False)
    assert m.decode(payloads[0]) is not m.decode(payloads[0])  # off: every call decodes


def test_the_header_is_version_type_and_tag() -> None:
    payload = m.encode(m.More(1, 2), b"\x01\x02")
    assert payload[0] == m.VERSION << 4 | m.MORE
    assert payload[1:3] == b"\x01\x02"
    assert m.peek(payload) == (m.MORE, b"\x01\x02")


def test_a_full_digest_and_a_full_sketch_fit_the_payload_cap() -> None:
    everyone = tuple(range(m.MAX_NEIGHBOURS))
    digest = m.Digest((1 << 35) - 1, (1 << 64) - 1, True, everyone, True, everyone)
    assert len(m.encode(digest, TAG)) <= 228
    per = (228 - m.HEADER - 7) // riblt.SYMBOL_BYTES
    sketch = m.Sketch((1 << 35) - 1, 0xFFFF, b"\x00" * (per * riblt.SYMBOL_BYTES))
    assert len(m.encode(sketch, TAG)) <= 228
    request = m.Request(tuple(bytes([i]) * 8 for i in range((228 - m.HEADER) // m.ID_LEN)))
    assert len(m.encode(request, TAG)) <= 228
    biggest = m.Records((b"\x00" * m.MAX_RECORD,), False, True, bytes(8))
    assert len(m.encode(biggest, TAG)) <= 228


# ------------------------------------------------------------ strict decoding


@settings(max_examples=400)
@given(st.binary(max_size=231))
def test_random_bytes_decode_or_raise_decode_error(payload: bytes) -> None:
    decode_or_error(payload)


@settings(max_examples=400)
@given(st.sampled_from(sorted(m.TYPE_NAMES)), st.binary(max_size=228))
def test_random_bodies_behind_a_valid_header_decode_or_raise_decode_error(
    kind: int, body: bytes
) -> None:
    payload = bytes([m.VERSION << 4 | kind]) + TAG + body
    result = decode_or_error(payload)
    if not isinstance(result, DecodeError):
        # Strict means canonical: what parses re-encodes to the very same bytes.
        assert m.encode(result, TAG) == payload


@settings(max_examples=200)
@given(any_message, st.data())
def test_mutated_packets_decode_or_raise_decode_error(msg: m.Message, data: st.DataObject) -> None:
    payload = bytearray(m.encode(msg, TAG))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        at = data.draw(st.integers(0, max(0, len(payload) - 1)))
        if op == "flip" and payload:
            payload[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "insert":
            payload.insert(at, data.draw(st.integers(0, 255)))
        elif payload:
            del payload[at]
    result = decode_or_error(bytes(payload))
    if not isinstance(result, DecodeError):
        assert m.encode(result, bytes(payload[1:3])) == bytes(payload)


@settings(max_examples=60)
@given(any_message)
def test_every_truncation_is_rejected_or_parses_to_something_else(msg: m.Message) -> None:
    payload = m.encode(msg, TAG)
    for cut in range(len(payload)):
        result = decode_or_error(payload[:cut])
        assert result != msg, f"cut at {cut} of {len(payload)} still decodes to the same message"


@settings(max_examples=60)
@given(records)
def test_truncating_a_records_packet_inside_a_record_fails(msg: m.Records) -> None:
    payload = m.encode(msg, TAG)
    first = m.RECORDS_ROOM + (m.ID_LEN if msg.after is not None else 0)
    boundaries = [first]
    for raw in msg.records:
        boundaries.append(boundaries[-1] + 1 + len(raw))
    for cut in range(len(payload)):
        result = decode_or_error(payload[:cut])
        if cut in boundaries[1:]:
            # Whole records only: a shorter, still valid packet (each record is signed).
            assert isinstance(result, m.Records)
            assert msg.records[: len(result.records)] == result.records
            assert result != msg
        else:
            assert isinstance(result, DecodeError), f"cut at {cut}"


@settings(max_examples=60)
@given(record_bytes, st.booleans(), st.booleans(),
       st.none() | st.binary(min_size=m.ID_LEN, max_size=m.ID_LEN))
def test_every_truncation_of_a_one_record_packet_fails(
    raw: bytes, relay: bool, end: bool, after: bytes | None
) -> None:
    payload = m.encode(m.Records((raw,), relay, end, after), TAG)
    for cut in range(len(payload)):
        assert isinstance(decode_or_error(payload[:cut]), DecodeError)


def test_record_length_outside_66_to_200_is_rejected() -> None:
    for n in (0, 1, 65, 201, 255):
        payload = bytes([m.VERSION << 4 | m.RECORDS]) + TAG + b"\x00" + bytes([n]) + b"\x00" * n
        with pytest.raises(DecodeError) as err:
            m.decode(payload)
        assert err.value.reason == "out-of-range"
    for empty in (b"", b"\x00", b"\x04" + bytes(8)):  # no record at all
        assert isinstance(decode_or_error(bytes([0x11]) + TAG + empty), DecodeError)


@pytest.mark.parametrize("flags", [16, 32, 64, 128, 0xF0, 0xFF])
def test_reserved_records_flag_bits_are_rejected(flags: int) -> None:
    good = m.encode(m.Records((b"\x01" * 66,), relay=False, end=True), TAG)
    assert good[m.HEADER] == 3
    bad = good[: m.HEADER] + bytes([flags | 3]) + good[m.HEADER + 1 :]
    with pytest.raises(DecodeError) as err:
        m.decode(bad)
    assert err.value.reason == "out-of-range"


@pytest.mark.parametrize("cls", [0, 1, 2, 3, 0x80, 0xFF])
def test_a_pull_cursor_of_a_class_past_2_is_rejected(cls: int) -> None:
    """PROTOCOL.md §7, Cursor: classes 0 (membership), 1 (board), 2 (commitments)."""
    cursor = bytes([cls]) + (12345).to_bytes(6, "big") + bytes(range(8))
    payload = m.encode(m.Pull(0x0A0B0C0D, 0, 1, cursor), TAG)
    if cls <= 2:
        assert m.decode(payload) == m.Pull(0x0A0B0C0D, 0, 1, cursor)
        return
    with pytest.raises(DecodeError) as err:
        m.decode(payload)
    assert err.value.reason == "out-of-range"


@pytest.mark.parametrize("version", [0, 2, 3, 7, 15])
@pytest.mark.parametrize("kind", sorted(m.TYPE_NAMES))
def test_wrong_version_is_rejected(version: int, kind: int) -> None:
    msg = {m.RECORDS: m.Records((b"\x01" * 70,)), m.DIGEST: m.Digest(1, 2, False, (3,), True, (3,)),
           m.SKETCH: m.Sketch(1, 0, b"\x00" * 13), m.REQUEST: m.Request((b"\x01" * 8,)),
           m.MORE: m.More(1, 16), m.PULL: m.Pull(1, 0, 1, b""),
           m.FILTER: m.Filter(1, 2, 3, 4, 7, b"\x01")}[kind]
    payload = bytearray(m.encode(msg, TAG))
    payload[0] = version << 4 | kind
    for fn in (m.peek, m.decode):
        with pytest.raises(DecodeError) as err:
            fn(bytes(payload))
        assert err.value.reason == "bad-version"


@pytest.mark.parametrize("kind", [0, 8, 9, 12, 15])
def test_unknown_message_types_are_rejected(kind: int) -> None:
    with pytest.raises(DecodeError) as err:
        m.decode(bytes([m.VERSION << 4 | kind]) + TAG + b"\x00" * 20)
    assert err.value.reason == "unknown-kind"


@pytest.mark.parametrize("payload", [b"", b"\x12", b"\x12\xb7"])
def test_shorter_than_a_header_is_truncated(payload: bytes) -> None:
    with pytest.raises(DecodeError) as err:
        m.peek(payload)
    assert err.value.reason == "truncated"


def test_sketch_request_pull_limits() -> None:
    sketch = bytes([m.VERSION << 4 | m.SKETCH]) + TAG + b"\x01\x00\x00"
    for n in (0, 1, 12, 14, 25):
        with pytest.raises(DecodeError):
            m.decode(sketch + b"\x00" * n)
    request = bytes([m.VERSION << 4 | m.REQUEST]) + TAG
    for n in (0, 1, 7, 9, 15):
        with pytest.raises(DecodeError):
            m.decode(request + b"\x00" * n)
    pull = bytes([m.VERSION << 4 | m.PULL]) + TAG + b"\x00\x00\x00\x01"
    for part, parts in ((0, 0), (1, 1), (5, 3), (0, 17), (16, 16)):
        with pytest.raises(DecodeError):
            m.decode(pull + bytes([part, parts]))
    for n in (1, 8, 14, 16, 30):
        with pytest.raises(DecodeError):
            m.decode(pull + b"\x00\x01" + b"\x00" * n)
    more = bytes([m.VERSION << 4 | m.MORE]) + TAG + b"\x00" * 6
    assert m.decode(more) == m.More(0, 0)
    assert m.decode(more + b"\x00" * 3) == m.More(0, 0, 3)  # zero padding
    with pytest.raises(DecodeError):
        m.decode(more + b"\x00\x01")
    with pytest.raises(DecodeError):
        m.decode(more[:-1])


def test_padding_and_targets_round_trip_and_reach_the_asked_size() -> None:
    """issue 9: requests carry zero padding (the air they pay for the answer) and a
    REQUEST may name the node asked; padding that is not zero is refused."""
    ids = (bytes(range(8)),)
    for msg in (m.Request(ids, 0x01020304), m.More(7, 16), m.Pull(7, 1, 3, b""),
                m.Pull(7, 0, 3, bytes([1]) + bytes(6) + ids[0])):
        padded = m.pad_to(msg, 200, TAG)
        payload = m.encode(padded, TAG)
        assert 192 < len(payload) <= 200
        back = m.decode(payload)
        assert m.encode(back, TAG) == payload
        assert getattr(back, "target", None) == msg.target
    request = m.decode(m.encode(m.Request(ids, 9, 16), TAG))
    assert isinstance(request, m.Request) and request.target == 9
    assert request.ids == ids + (bytes(8), bytes(8))  # zero ids: held by nobody
    pull = bytearray(m.encode(m.Pull(7, 1, 3, b"", 4), TAG))
    assert m.decode(bytes(pull)) == m.Pull(7, 1, 3, b"", 4)
    for bad in (pull[:-1], pull[:9] + b"\x00", bytes(pull[:-1]) + b"\x01"):
        with pytest.raises(DecodeError):
            m.decode(bytes(bad))


def test_tickets_in_requests_and_mores_are_strict() -> None:
    """A member's ticket in a REQUEST (body 1 mod 8: target, flag byte 1, ticket)
    or a MORE (bit 15 of the index) is read exactly; anything else is refused."""
    tag = b"\x01\x02"
    ticket = bytes(range(1, 69))
    req = m.encode(m.Request((b"\x07" * 8,), 5, ticket=ticket), tag)
    assert m.decode(req) == m.Request((b"\x07" * 8,), 5, ticket=ticket)
    with pytest.raises(DecodeError):
        m.decode(req[:7] + b"\x02" + req[8:])  # a reserved flag byte
    more = m.encode(m.More(5, 16, ticket=ticket), tag)
    assert m.decode(more) == m.More(5, 16, ticket=ticket)
    with pytest.raises(DecodeError):
        m.decode(more[:-1])  # a ticket cut short
    with pytest.raises(ValueError):
        m.encode(m.More(5, m.MAX_INDEX + 1), tag)
    with pytest.raises(ValueError):
        m.encode(m.Request((b"\x07" * 8,), None, ticket=ticket), tag)


def test_a_filter_leaves_out_one_to_four_authors_of_four_bytes() -> None:
    """FILTER flag bit 4: a count of 1-4 and that many 4-byte short ids; bits 5-6
    stay reserved (filters.py `_skip`)."""
    ok = m.Filter(1, 0, 9, 2, 7, b"\x01", b"", (b"abcd", b"efgh"))
    wire = m.encode(ok, TAG)
    assert m.decode(wire) == ok
    at = wire.index(b"abcd") - 1  # the count byte
    for n in (0, 5):
        with pytest.raises(DecodeError):
            m.decode(wire[:at] + bytes([n]) + wire[at + 1:])
    flags = wire.index(b"abcd") - 2
    with pytest.raises(DecodeError):
        m.decode(wire[:flags] + bytes([wire[flags] | 0x20]) + wire[flags + 1:])
    for bad in ((b"abc",), (b"abcd",) * 5):
        with pytest.raises(ValueError):
            m.encode(m.Filter(1, 0, 9, 2, 7, b"\x01", b"", bad), TAG)
