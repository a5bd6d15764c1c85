"""The fast text coder (prefix walk, window table) gives exactly what the plain
algorithm of PROTOCOL.md "Text" gives: the same parse, the same bytes, the same
decoded text and the same refusals. The plain algorithm is written out here."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshaid.node.ledger.textcode import ESCAPE, PAD_LIMIT, TABLE
from meshaid.node.ledger.wire import DecodeError, clean_text


def plain_parse(text: str) -> list[int]:
    """Fewest bits, every symbol length tried from the longest down (ties: longer)."""
    n = len(text)
    esc = TABLE.lengths[TABLE.index[ESCAPE]]
    cost = [0] * (n + 1)
    step = [(0, 0)] * n
    for i in range(n - 1, -1, -1):
        best, pick = -1, (0, 0)
        for size in range(min(TABLE.longest, n - i), 0, -1):
            sym = TABLE.index.get(text[i : i + size])
            if sym is not None:
                bits = TABLE.lengths[sym] + cost[i + size]
                if best < 0 or bits < best:
                    best, pick = bits, (sym, size)
        if best < 0:
            best, pick = (esc + 8) * len(text[i].encode("utf-8")) + cost[i + 1], (-1, 1)
        cost[i], step[i] = best, pick
    out: list[int] = []
    i = 0
    while i < n:
        sym, size = step[i]
        if sym < 0:
            for byte in text[i].encode("utf-8"):
                out += [TABLE.index[ESCAPE], len(TABLE.symbols) + byte]
        else:
            out.append(sym)
        i += size
    return out


def plain_decode(data: bytes) -> bytes:
    """Bit by bit: extend the code until it is one of the table's."""
    total = len(data) * 8
    value = int.from_bytes(data, "big")
    out = bytearray()
    pos = 0
    esc = TABLE.index[ESCAPE]
    codes = {(TABLE.lengths[i], TABLE.codes[i]): i for i in range(len(TABLE.symbols))}
    while pos < total:
        left = total - pos
        if left <= PAD_LIMIT and value & ((1 << left) - 1) == (1 << left) - 1:
            break
        sym = None
        for length in range(1, min(TABLE.max_len, left) + 1):
            sym = codes.get((length, value >> (left - length) & ((1 << length) - 1)))
            if sym is not None:
                break
        if sym is None:
            raise DecodeError("non-canonical", "coded text runs past its end")
        pos += TABLE.lengths[sym]
        if sym == esc:
            if total - pos < 8:
                raise DecodeError("truncated", "escaped byte runs past the end")
            out.append(value >> (total - pos - 8) & 0xFF)
            pos += 8
        else:
            out += TABLE.symbols[sym].encode("ascii")
    return bytes(out)


# Text made of the table's own symbols (so that long symbols compete), spaces and
# characters outside it.
pieces = st.sampled_from([s for s in TABLE.symbols if s != ESCAPE] + ["é", "水", "🚑", "ß", " "])
texts = st.lists(pieces, max_size=24).map(lambda p: clean_text("".join(p)))


@settings(max_examples=400)
@given(texts)
def test_the_parse_and_the_bytes_are_the_plain_algorithms(text: str) -> None:
    assert TABLE.parse(text) == plain_parse(text)
    assert TABLE.decode(TABLE.encode(text)) == text.encode("utf-8")


@settings(max_examples=600)
@given(st.binary(min_size=1, max_size=24))
def test_any_bytes_decode_as_the_plain_decoder_does(data: bytes) -> None:
    try:
        expected: bytes | tuple[str, str] = plain_decode(data)
    except DecodeError as exc:
        expected = (exc.reason, exc.detail)
    try:
        got: bytes | tuple[str, str] = TABLE.decode(data)
    except DecodeError as exc:
        got = (exc.reason, exc.detail)
    assert got == expected


def test_a_sample_of_every_symbol_decodes_through_the_window() -> None:
    for i, symbol in enumerate(TABLE.symbols):
        if symbol == ESCAPE:
            continue
        n = TABLE.lengths[i]
        pad = -n % 8
        data = (TABLE.codes[i] << pad | ((1 << pad) - 1)).to_bytes((n + pad) // 8, "big")
        assert TABLE.decode(data) == plain_decode(data) == symbol.encode("ascii")
