"""node/PROTOCOL.md's "Text" section is enough to write a compatible coder: an
encoder written from its sentences alone (not from textcode.py) gives the same
bytes as the reference, and the numbers it quotes are the frozen table's."""

from __future__ import annotations

import re
from pathlib import Path

from meshaid.node.ledger import textcode
from meshaid.node.ledger.textdict import SYMBOLS

SPEC = (Path(__file__).resolve().parents[2] / "node" / "PROTOCOL.md").read_text("utf-8")
TEXTS = ["drinking water, for 300 people", "MIG welding, 2 bays, steel", "Ärzte: Ø 6 mm",
         "splints, aluminium, adult size", "~~{}|", "a", "armour plate, 6 mm, for the ambulance",
         "水 200 L", "x" * 120]


def spec_codes() -> list[int]:
    """'Codes are assigned in order of (length, table position), counting up, as in DEFLATE.'"""
    codes = [0] * len(SYMBOLS)
    code = prev = 0
    for i in sorted(range(len(SYMBOLS)), key=lambda i: (SYMBOLS[i][1], i)):
        code <<= SYMBOLS[i][1] - prev
        prev = SYMBOLS[i][1]
        codes[i] = code
        code += 1
    return codes


def spec_encode(text: str) -> bytes:
    """Fewest bits from the end backwards, ties to the longest symbol, escapes per
    UTF-8 byte of a character outside the table, MSB first, one-bit padding."""
    lengths = {s: n for s, n in SYMBOLS}
    codes = dict(zip((s for s, _ in SYMBOLS), spec_codes()))
    esc = "\x00"
    best: list[tuple[int, list[tuple[int, int]]]] = [(0, [])] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        options = [(lengths[text[i:j]] + best[j][0], -(j - i),
                    [(codes[text[i:j]], lengths[text[i:j]]), *best[j][1]])
                   for j in range(i + 1, len(text) + 1) if text[i:j] in lengths]
        if options:
            bits, _, seq = min(options, key=lambda o: (o[0], o[1]))
        else:
            seq = [part for b in text[i].encode("utf-8")
                   for part in ((codes[esc], lengths[esc]), (b, 8))]
            seq += best[i + 1][1]
            bits = sum(n for _, n in seq)
        best[i] = (bits, seq)
    acc = nbits = 0
    for code, n in best[0][1]:
        acc, nbits = acc << n | code, nbits + n
    pad = -nbits % 8
    return ((acc << pad) | ((1 << pad) - 1)).to_bytes((nbits + pad) // 8, "big")


def test_the_quoted_numbers_are_the_tables() -> None:
    lengths = [n for _, n in SYMBOLS]
    quoted = re.search(r"(\d+) symbols, code lengths (\d+)-(\d+)\s+bits", SPEC)
    assert quoted, "PROTOCOL.md quotes the table's size and code lengths"
    assert (int(quoted[1]), int(quoted[2]), int(quoted[3])) == (
        len(SYMBOLS), min(lengths), max(lengths))
    assert [s for s, _ in SYMBOLS[:95]] == [chr(c) for c in range(0x20, 0x7F)]
    assert SYMBOLS[95][0] == "\x00" and all(s.isascii() for s, _ in SYMBOLS)
    ones = [n for (_, n), c in zip(SYMBOLS, spec_codes()) if c == (1 << n) - 1]
    assert re.search(rf"only\s+all-ones code is {ones[0]} bits long", SPEC) and len(ones) == 1
    assert sum(2.0 ** -n for n in lengths) == 1.0  # "a complete code"


def test_an_encoder_written_from_the_spec_matches_the_reference() -> None:
    for text in TEXTS:
        assert spec_encode(text) == textcode.TABLE.encode(text), text
        assert textcode.TABLE.decode(spec_encode(text)) == text.encode("utf-8")
