"""wire: varints (minimal encoding enforced), strict strings, the Reader's errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshaid.node.ledger.wire import (
    DecodeError,
    Reader,
    Writer,
    clean_text,
    encode_text,
    encode_varint,
    fit_text,
)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        ((1 << 28) - 1, b"\xff\xff\xff\x7f"),
    ],
)
def test_varint_known_encodings(value: int, encoded: bytes) -> None:
    assert encode_varint(value, 4) == encoded
    rd = Reader(encoded)
    assert rd.varint("v", 4) == value
    rd.end()


@pytest.mark.parametrize("value", [-1, 1 << 28, 1 << 40])
def test_varint_encoder_refuses_out_of_range(value: int) -> None:
    with pytest.raises(ValueError):
        encode_varint(value, 4)


def test_varint_max_bytes_is_a_limit_on_the_encoder() -> None:
    assert encode_varint((1 << 21) - 1, 3) == b"\xff\xff\x7f"
    with pytest.raises(ValueError):
        encode_varint(1 << 21, 3)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x00", "non-canonical"),  # 0 with a redundant byte
        (b"\x81\x00", "non-canonical"),  # 1 with a redundant byte
        (b"\xff\x80\x00", "non-canonical"),
        (b"\x80", "truncated"),
        (b"", "truncated"),
        (b"\x80\x80\x80\x80\x01", "out-of-range"),  # five bytes where four are allowed
        (b"\xff\xff\xff\xff\x7f", "out-of-range"),
    ],
)
def test_varint_decoder_is_strict(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as exc:
        Reader(data).varint("v", 4)
    assert exc.value.reason == reason


@given(st.integers(min_value=0, max_value=(1 << 28) - 1))
def test_varint_round_trip(value: int) -> None:
    data = encode_varint(value, 4)
    rd = Reader(data)
    assert rd.varint("v", 4) == value
    assert rd.remaining() == 0


@given(st.binary(min_size=1, max_size=6))
def test_any_accepted_varint_is_the_unique_encoding_of_its_value(data: bytes) -> None:
    rd = Reader(data)
    try:
        value = rd.varint("v", 4)
    except DecodeError:
        return
    assert data[: rd.pos] == encode_varint(value, 4)


# ------------------------------------------------------------------- strings


def test_clean_text_normalises_to_nfc_and_blanks_control_characters() -> None:
    assert clean_text("cafe\u0301") == "caf\u00e9"
    assert clean_text("  two\tlines\nhere\x07 ") == "two lines here"
    assert clean_text("\x00\x1f") == ""


def test_encode_text_refuses_non_canonical_and_long_text() -> None:
    assert encode_text("caf\u00e9", 24) == "caf\u00e9".encode()
    for bad in ("cafe\u0301", " padded", "tab\there", "bell\x07"):
        with pytest.raises(ValueError):
            encode_text(bad, 24)
    encode_text("x" * 24, 24)
    with pytest.raises(ValueError):
        encode_text("x" * 25, 24)
    with pytest.raises(ValueError):
        encode_text("\u00e9" * 13, 24)  # 26 bytes


def test_fit_text_cuts_at_a_character_boundary() -> None:
    assert fit_text("\u00e9" * 20, 24) == "\u00e9" * 12
    assert fit_text("\u00e9" * 20, 25) == "\u00e9" * 12
    assert fit_text("ab \u20ac", 5) == "ab"  # the euro sign would not fit whole
    assert fit_text(" short\n", 24) == "short"


def _text_field(payload: bytes) -> bytes:
    return bytes([len(payload)]) + payload


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("cafe\u0301".encode(), "non-canonical"),  # NFD, not NFC
        (b"tab\there", "non-canonical"),
        (b"bell\x07", "non-canonical"),
        (b"\x7f", "non-canonical"),  # DEL is a control character
        (b" lead", "non-canonical"),
        (b"trail ", "non-canonical"),
        (b"\xff\xfe", "bad-text"),
        (b"\xc3", "bad-text"),  # a cut multi-byte sequence
        (b"\xed\xa0\x80", "bad-text"),  # an encoded surrogate
        (b"x" * 25, "out-of-range"),
    ],
)
def test_reader_text_is_strict(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as exc:
        Reader(_text_field(payload)).text(24, "name")
    assert exc.value.reason == reason


def test_reader_text_truncated_and_valid() -> None:
    with pytest.raises(DecodeError) as exc:
        Reader(b"\x05abc").text(24, "name")
    assert exc.value.reason == "truncated"
    rd = Reader(_text_field("Pier 3 caf\u00e9".encode()))
    assert rd.text(24, "name") == "Pier 3 caf\u00e9"
    rd.end()


@given(st.text(max_size=40))
def test_writer_and_reader_agree_on_any_fitted_text(text: str) -> None:
    fitted = fit_text(text, 24)
    assert clean_text(fitted) == fitted
    data = Writer().text(fitted, 24).bytes()
    rd = Reader(data)
    assert rd.text(24, "t") == fitted
    rd.end()


def test_reader_end_refuses_trailing_bytes() -> None:
    rd = Reader(b"\x01\x02")
    rd.u8("a")
    with pytest.raises(DecodeError) as exc:
        rd.end()
    assert exc.value.reason == "trailing-bytes"


def test_reader_fixed_width_fields() -> None:
    data = Writer().fixed(0x0102030405, 6).signed(-2, 4).u8(7).bytes()
    rd = Reader(data)
    assert rd.fixed(6, "hlc") == 0x0102030405
    assert rd.signed(4, "lat") == -2
    assert rd.u8("x") == 7
    rd.end()
    with pytest.raises(DecodeError) as exc:
        Reader(b"\x00\x01").fixed(6, "hlc")
    assert exc.value.reason == "truncated"
    with pytest.raises(ValueError):
        Writer().u8(256)
