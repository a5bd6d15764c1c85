"""Record text compression: one encoding per text, strict decoding, real savings."""

from __future__ import annotations

import pytest
import strategies as sts
from hypothesis import given, settings
from hypothesis import strategies as st

from meshaid.node.ledger import textcode, textcorpus, texttrain
from meshaid.node.ledger.textcode import CODED, PackedReader, PackedWriter, pack
from meshaid.node.ledger.wire import DecodeError
from meshaid.node.sim import phrases


def read(field: bytes, max_bytes: int = 72) -> str:
    rd = PackedReader(field)
    value = rd.text(max_bytes, "text")
    rd.end()
    return value


@settings(max_examples=300)
@given(sts.text(72))
def test_every_canonical_text_round_trips_in_its_shorter_form(text: str) -> None:
    field = PackedWriter().text(text, 72).bytes()
    assert read(field) == text
    assert len(field) <= len(text.encode("utf-8")) + 1
    assert (field[0] & CODED != 0) == (len(field) < len(text.encode("utf-8")) + 1)


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=40))
def test_random_field_bytes_decode_or_fail_with_a_reason(data: bytes) -> None:
    try:
        value = read(data)
    except DecodeError as exc:
        assert exc.reason in {"truncated", "out-of-range", "non-canonical", "bad-text",
                              "trailing-bytes"}
    else:
        assert pack(value) == data  # whatever decodes is the one encoding of its text


def test_plain_utf8_is_refused_where_the_coded_form_is_shorter() -> None:
    text = "drinking water for 200 people"
    plain = bytes([len(text)]) + text.encode()
    assert pack(text)[0] & CODED
    with pytest.raises(DecodeError) as exc:
        read(plain)
    assert exc.value.reason == "non-canonical"


def test_coded_form_is_refused_where_it_is_not_shorter() -> None:
    text = "Zß"  # escapes make it longer coded than plain
    coded = textcode.TABLE.encode(text)
    assert len(coded) >= len(text.encode())
    assert pack(text) == bytes([len(text.encode())]) + text.encode()
    with pytest.raises(DecodeError):
        read(bytes([CODED | len(coded)]) + coded)


def test_padding_must_be_ones_and_escapes_only_outside_the_table() -> None:
    field = pack("water tank for the clinic")
    assert field[-1] & 1  # the last code ends in padding ones or a code's own bit
    zero_pad = field[:-1] + bytes([field[-1] & 0xF0])
    with pytest.raises(DecodeError):
        read(zero_pad)
    esc = textcode.TABLE.index[textcode.ESCAPE]
    n, code = textcode.TABLE.lengths[esc], textcode.TABLE.codes[esc]
    bits = (code << 8 | ord("a")) << 1 | 1  # an escaped ASCII letter, padded
    nbits = n + 9
    pad = -nbits % 8
    coded = (bits << pad | ((1 << pad) - 1)).to_bytes((nbits + pad) // 8, "big")
    with pytest.raises(DecodeError):
        read(bytes([CODED | len(coded)]) + coded)


def test_coded_text_longer_than_its_field_is_refused() -> None:
    text = "water " * 5
    field = pack(text.strip())
    with pytest.raises(DecodeError) as exc:
        read(field, max_bytes=10)
    assert exc.value.reason == "out-of-range"


def test_non_ascii_text_survives_through_escapes() -> None:
    for text in ("Zelte für 20 Familien", "Straße 5", "水 200 L", "café ☕"):
        assert read(pack(text)) == text


def test_the_frozen_table_is_what_the_trainer_builds() -> None:
    symbols, lengths = texttrain.train()
    assert [s for s, _ in textcode.SYMBOLS] == symbols
    assert textcode.TABLE.lengths == lengths
    kraft = sum(2.0 ** -n for n in lengths)
    assert kraft == 1.0  # a complete code: one-bit padding never completes a symbol
    assert min(lengths) > 1 and max(lengths) > textcode.PAD_LIMIT


def test_held_out_workload_text_shrinks_by_a_third_or_more() -> None:
    held = [t.replace("{n}", "7") for t in phrases.NEED_TEXT + phrases.OFFER_TEXT
            + phrases.PLEDGE_TEXT]
    assert not set(held) & set(textcorpus.TRAIN)
    plain = sum(len(t.encode()) + 1 for t in held)
    packed = sum(len(pack(t)) for t in held)
    assert packed < plain * 2 / 3
