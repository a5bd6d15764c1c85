"""DIGEST on the wire (PROTOCOL.md §7): its flags, its limits, and what rides
after its neighbour list (far relays, a membership proof). The other message
types, and properties of all of them, are test_messages.py's."""

from __future__ import annotations

import pytest

from meshaid.node.ledger.wire import DecodeError
from meshaid.node.sync import messages as m

from .test_messages import TAG


@pytest.mark.parametrize("flags", [16, 32, 64, 128, 0xF0, 0xFF])
def test_reserved_digest_flag_bits_are_rejected(flags: int) -> None:
    good = bytearray(m.encode(m.Digest(3, 42, True, (1, 2), True, (2,)), TAG))
    flag_at = m.HEADER + 1 + 8  # varint(3) is one byte
    assert good[flag_at] == 3
    bad = bytes(good[:flag_at]) + bytes([flags | (good[flag_at] & 3)]) + bytes(good[flag_at + 1:])
    with pytest.raises(DecodeError) as err:
        m.decode(bad)
    assert err.value.reason == "out-of-range"


def test_digest_limits() -> None:
    header = bytes([m.VERSION << 4 | m.DIGEST]) + TAG
    body = b"\x01" + b"\x00" * 8 + b"\x02"
    # 49 neighbours is one too many, even if they are all there.
    too_many = (header + body + bytes([m.MAX_NEIGHBOURS + 1])
                + b"\x00\x01" * (m.MAX_NEIGHBOURS + 1) + bytes(7))
    with pytest.raises(DecodeError):
        m.decode(too_many)
    # A six-byte count varint, and a redundant trailing varint byte.
    with pytest.raises(DecodeError):
        m.decode(header + b"\x80\x80\x80\x80\x80\x01" + b"\x00" * 9)
    with pytest.raises(DecodeError) as err:
        m.decode(header + b"\x81\x00" + b"\x00" * 9)
    assert err.value.reason == "non-canonical"
    # A relay bitmap naming a neighbour beyond the list, or missing.
    listed = header + body + b"\x02\x00\x01\x00\x02"
    assert m.decode(listed + b"\x03").relays == (1, 2)
    for bitmap in (b"\x04", b"\x80", b"", b"\x01\x00"):
        with pytest.raises(DecodeError):
            m.decode(listed + bitmap)
    # A trailing byte after a complete digest.
    with pytest.raises(DecodeError):
        m.decode(m.encode(m.Digest(1, 2), TAG) + b"\x00")


@pytest.mark.parametrize("far", [(), (0x0102,), (1, 2, 3, 4)])
def test_a_digest_carries_its_far_relays_with_or_without_a_list(far: tuple[int, ...]) -> None:
    for digest in (m.Digest(5, 77, False, far_relays=far),
                   m.Digest(5, 77, False, (9,), True, (9,), far)):
        assert m.decode(m.encode(digest, TAG)) == digest
    said_nothing = m.Digest(5, 77)
    assert m.decode(m.encode(said_nothing, TAG)).far_relays is None  # not (): nothing said


def test_more_far_relays_than_a_digest_holds_are_refused_both_ways() -> None:
    with pytest.raises(ValueError):
        m.encode(m.Digest(5, 77, far_relays=(1, 2, 3, 4, 5)), TAG)
    good = m.encode(m.Digest(5, 77, far_relays=(1, 2, 3, 4)), TAG)
    count_at = m.HEADER + 1 + 8 + 1
    bad = good[:count_at] + bytes([5]) + good[count_at + 1:] + bytes(2)
    with pytest.raises(DecodeError) as err:
        m.decode(bad)
    assert err.value.reason == "out-of-range"
    with pytest.raises(DecodeError) as err:
        m.decode(good[:-1])
    assert err.value.reason == "truncated"


def test_a_digest_carries_a_membership_proof_after_everything_else() -> None:
    """Flag bit 3: its sender's ticket for (its own number, ANYONE), after any list
    and far relays (farpeers.py: far peers must show one). Cut short, or of
    another length, it is refused both ways."""
    ticket = bytes(range(1, 69))
    for digest in (m.Digest(5, 77, ticket=ticket),
                   m.Digest(5, 77, False, (9,), True, (9,), (3,), ticket)):
        raw = m.encode(digest, TAG)
        assert raw.endswith(ticket) and raw[m.HEADER + 1 + 8] & 8
        assert m.decode(raw) == digest
    with pytest.raises(DecodeError) as err:
        m.decode(m.encode(m.Digest(5, 77, ticket=ticket), TAG)[:-1])
    assert err.value.reason == "truncated"
    with pytest.raises(ValueError):
        m.encode(m.Digest(5, 77, ticket=ticket[:-1]), TAG)
