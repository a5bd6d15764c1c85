"""Record text compression: a static dictionary with a canonical Huffman code.

Theory of operation
-------------------
Free text in records (names, sites, need and offer text, notes, reasons) is
short and drawn from a narrow vocabulary: "drinking water for 200 people",
"MIG welding, steel and aluminium". A static table (textdict.py, trained once
on such text (textcorpus.py) by texttrain.py and frozen: it is part of the wire format)
lists the symbols: the 95 printable ASCII characters, an escape, and a few
hundred words and fragments ("water", " for", "ing"). Each symbol has a
canonical Huffman code of 5-11 bits.

Encoding a text picks the parse into symbols with the fewest bits (dynamic
programming from the end; on equal bits the longer symbol first), writes the
codes most significant bit first, and pads the last byte with one-bits. Any
byte of the UTF-8 that is not printable ASCII travels as the escape followed
by its 8 bits. A padding of up to 7 one-bits never completes a code, since
the only all-ones code is the longest one and it has more than 7 bits.

On the wire (node/PROTOCOL.md, "Text"), a `str(N)` field is one length byte
L: below 0x80, L bytes of UTF-8 follow; from 0x80, L - 0x80 coded bytes
follow. The coded form is used exactly when it is shorter than the UTF-8, so
every text has one encoding, and a decoder re-encodes what it decoded to
check that (non-canonical otherwise). N still bounds the UTF-8 length of the
text. The signature covers these coded bytes: what travels is what is signed.
"""

from __future__ import annotations

from functools import lru_cache

from .textdict import SYMBOLS
from .wire import DecodeError, Reader, Writer, clean_text, encode_text

ESCAPE = "\x00"  # the escape symbol's name: never part of a canonical text
CODED = 0x80  # a length byte with this bit set announces coded text
PAD_LIMIT = 7  # padding bits at most; every code's ones-only prefix of this length is no code


class Table:
    """A symbol table with canonical Huffman codes (lengths given per symbol)."""

    def __init__(self, symbols: list[str], lengths: list[int]) -> None:
        self.symbols = symbols
        self.lengths = lengths
        self.index = {s: i for i, s in enumerate(symbols)}
        self.longest = max(len(s) for s in symbols)
        self.codes = [0] * len(symbols)
        code = 0
        prev = 0
        self.first: dict[int, tuple[int, int]] = {}  # length -> (first code, rank)
        self.order: list[int] = sorted(range(len(symbols)), key=lambda i: (lengths[i], i))
        for rank, i in enumerate(self.order):
            code <<= lengths[i] - prev
            prev = lengths[i]
            self.first.setdefault(prev, (code, rank))
            self.codes[i] = code
            code += 1
        self.max_len = prev
        self.count = {n: sum(1 for x in lengths if x == n) for n in set(lengths)}
        # Every prefix of a symbol, to its symbol's index (-1: only a prefix): the
        # parse walks a text only as far as some symbol could still match.
        self.prefixes = {s[:k]: -1 for s in symbols for k in range(1, len(s))} | self.index
        self.ascii = [s.encode("utf-8") for s in symbols]
        # The decoder reads max_len bits at once: every window of that many bits
        # starts with exactly one code (prefix-free) or none (-1).
        self.window: list[int] = [-1] * (1 << self.max_len)
        for i, n in enumerate(lengths):
            first = self.codes[i] << (self.max_len - n)
            self.window[first : first + (1 << (self.max_len - n))] = [i] * (1 << (self.max_len - n))

    def parse(self, text: str) -> list[int]:
        """The symbols of the fewest-bits coding of `text` (escapes for each
        UTF-8 byte outside printable ASCII are one symbol each here: the escape
        index followed by the byte value + len(symbols))."""
        n = len(text)
        esc = self.lengths[self.index[ESCAPE]]
        cost = [0] * (n + 1)
        step: list[tuple[int, int]] = [(0, 0)] * n  # (symbol, characters)
        lengths, prefixes = self.lengths, self.prefixes
        for i in range(n - 1, -1, -1):
            best = -1
            pick = (0, 0)
            # Symbols starting at i, shortest first; on equal bits the longer wins.
            for end in range(i + 1, min(i + self.longest, n) + 1):
                sym = prefixes.get(text[i:end], -2)
                if sym == -2:
                    break
                if sym >= 0:
                    bits = lengths[sym] + cost[end]
                    if best < 0 or bits <= best:
                        best, pick = bits, (sym, end - i)
            if best < 0:  # outside the table: escaped UTF-8 bytes
                best = (esc + 8) * len(text[i].encode("utf-8")) + cost[i + 1]
                pick = (-1, 1)
            cost[i], step[i] = best, pick
        out: list[int] = []
        i = 0
        while i < n:
            sym, size = step[i]
            if sym < 0:
                for byte in text[i].encode("utf-8"):
                    out += [self.index[ESCAPE], len(self.symbols) + byte]
            else:
                out.append(sym)
            i += size
        return out

    def encode(self, text: str) -> bytes:
        """The coded bytes of `text` (padded with one-bits)."""
        acc = 0
        bits = 0
        for sym in self.parse(text):
            if sym >= len(self.symbols):
                acc = acc << 8 | (sym - len(self.symbols))
                bits += 8
            else:
                acc = acc << self.lengths[sym] | self.codes[sym]
                bits += self.lengths[sym]
        pad = -bits % 8
        acc = acc << pad | ((1 << pad) - 1)
        return acc.to_bytes((bits + pad) // 8, "big")

    def decode(self, data: bytes) -> bytes:
        """The UTF-8 bytes coded in `data`; DecodeError if it is no valid coding."""
        total = len(data) * 8
        value = int.from_bytes(data, "big")
        out = bytearray()
        pos = 0
        esc = self.index[ESCAPE]
        width = self.max_len
        mask = (1 << width) - 1
        window, lengths, ascii_ = self.window, self.lengths, self.ascii
        while pos < total:
            left = total - pos
            if left <= PAD_LIMIT and value & ((1 << left) - 1) == (1 << left) - 1:
                break  # padding
            # The next max_len bits (zeros past the end): the one code they start with.
            bits = value >> (left - width) if left >= width else value << (width - left)
            sym = window[bits & mask]
            if sym < 0 or lengths[sym] > left:
                raise DecodeError("non-canonical", "coded text runs past its end")
            pos += lengths[sym]
            if sym == esc:
                if total - pos < 8:
                    raise DecodeError("truncated", "escaped byte runs past the end")
                out.append(value >> (total - pos - 8) & 0xFF)
                pos += 8
            else:
                out += ascii_[sym]
        return bytes(out)


TABLE = Table([s for s, _ in SYMBOLS], [n for _, n in SYMBOLS])


@lru_cache(maxsize=4096)
def pack(text: str) -> bytes:
    """The canonical field bytes of a canonical `text`: length byte, then UTF-8
    or, when shorter, the coded form."""
    raw = text.encode("utf-8")
    coded = TABLE.encode(text) if text else b""
    if coded and len(coded) < len(raw):
        return bytes([CODED | len(coded)]) + coded
    return bytes([len(raw)]) + raw


def packed_len(text: str) -> int:
    """Bytes `text` takes in a record, length byte included."""
    return len(pack(text))


def body_saving(body: object) -> tuple[int, int]:
    """(plain, packed): bytes the text fields of a record body take as plain UTF-8
    and as they travel, length bytes included."""
    texts = [v for v in vars(body).values() if isinstance(v, str)]
    return sum(len(t.encode("utf-8")) + 1 for t in texts), sum(packed_len(t) for t in texts)


class PackedWriter(Writer):
    """A record Writer whose text fields are compressed."""

    def text(self, value: str, max_bytes: int) -> PackedWriter:
        encode_text(value, max_bytes)  # canonical and within the limit, or ValueError
        self.raw(pack(value))
        return self


class PackedReader(Reader):
    """A record Reader whose text fields may be compressed; strict as Reader."""

    def text(self, max_bytes: int, what: str) -> str:
        head = self.u8(what)
        n = head & ~CODED
        if not head & CODED and n > max_bytes:
            raise DecodeError("out-of-range", f"{what} is {n} bytes, at most {max_bytes}")
        data = self.raw(n, what)
        if head & CODED:
            if n == 0:
                raise DecodeError("non-canonical", f"{what} is empty coded text")
            data = TABLE.decode(data)
        if len(data) > max_bytes:
            raise DecodeError("out-of-range", f"{what} is {len(data)} bytes, at most {max_bytes}")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("bad-text", f"{what} is not UTF-8") from exc
        if clean_text(value) != value:
            raise DecodeError("non-canonical", f"{what} is not canonical text")
        packed = pack(value)
        if packed[0] != head or packed[1:] != self.data[self.pos - n : self.pos]:
            raise DecodeError("non-canonical", f"{what} is not in its one encoding")
        return value
