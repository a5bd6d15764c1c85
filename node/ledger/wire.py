"""Byte-level building blocks of every meshaid wire format.

All integers are either fixed-width big-endian or unsigned LEB128 varints.
Decoding is strict: a varint must use its minimal encoding and stay within the
field's byte limit, strings must be valid NFC UTF-8 without control, format
or separator characters or invisible fillers (`FORBIDDEN`), and a decoder must consume every byte. Every failure raises `DecodeError`
carrying a short, stable reason code and a human detail.
"""

from __future__ import annotations

import re
import unicodedata

# Characters no text field may hold (node/PROTOCOL.md, conventions): controls
# (Cc), line and paragraph separators (Zl, Zp) and format characters (Cf: bidi
# embeddings, overrides, isolates and marks, zero-width spaces, joiners and
# non-joiners, the soft hyphen, the byte-order mark, tags...), which can make a
# name or a need read differently from what it says. The Cf ranges are those of
# Unicode 14.0, fixed here so that decoders on every Python version agree.
_CF_RANGES = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
# Invisible fillers: the other default-ignorable code points of Unicode 14.0
# (the combining grapheme joiner, the Hangul fillers, Khmer inherent vowels,
# unassigned ones), which show as nothing or a blank: "anna" followed by a
# Hangul filler reads as "anna". Variation selectors stay (emoji need them).
_INVISIBLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x2065, 0x2065),
    (0x3164, 0x3164), (0xFFA0, 0xFFA0), (0xE0000, 0xE0000), (0xE0002, 0xE001F),
    (0xE0080, 0xE00FF), (0xE01F0, 0xE0FFF),
)
_DROPPED = _CF_RANGES + _INVISIBLE_RANGES
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + "".join(
    f"\\U{a:08x}-\\U{b:08x}" for a, b in _DROPPED) + "]")
_FORMAT = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in _DROPPED) + "]")


class DecodeError(ValueError):
    """Bytes that are not a valid meshaid structure.

    `reason` is a short, stable code (for counters and tests); the message is
    for humans.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class Writer:
    """Append-only byte builder with the same vocabulary as `Reader`."""

    def __init__(self) -> None:
        self._parts = bytearray()

    def u8(self, value: int) -> Writer:
        if not 0 <= value <= 0xFF:
            raise ValueError(f"u8 out of range: {value}")
        self._parts.append(value)
        return self

    def fixed(self, value: int, width: int) -> Writer:
        self._parts += value.to_bytes(width, "big", signed=False)
        return self

    def signed(self, value: int, width: int) -> Writer:
        self._parts += value.to_bytes(width, "big", signed=True)
        return self

    def raw(self, data: bytes) -> Writer:
        self._parts += data
        return self

    def varint(self, value: int, max_bytes: int = 4) -> Writer:
        self._parts += encode_varint(value, max_bytes)
        return self

    def text(self, value: str, max_bytes: int) -> Writer:
        data = encode_text(value, max_bytes)
        self._parts.append(len(data))
        self._parts += data
        return self

    def bytes(self) -> bytes:
        return bytes(self._parts)


def encode_varint(value: int, max_bytes: int = 4) -> bytes:
    """Unsigned LEB128, refusing values that need more than `max_bytes`."""
    if value < 0 or value >= 1 << (7 * max_bytes):
        raise ValueError(f"varint out of range: {value} (max {(1 << (7 * max_bytes)) - 1})")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def clean_text(value: str) -> str:
    """The canonical form of free text: format characters (Cf) and invisible
    fillers dropped, controls
    and line or paragraph separators turned to spaces, NFC, surrounding white
    space stripped. Text is canonical when it equals its clean form."""
    value = FORBIDDEN.sub(" ", _FORMAT.sub("", value))
    return unicodedata.normalize("NFC", value).strip()


def encode_text(value: str, max_bytes: int) -> bytes:
    """Canonical UTF-8 of `value`; raises ValueError if it is not canonical or too long."""
    if clean_text(value) != value:
        raise ValueError("text is not in canonical form (use clean_text first)")
    data = value.encode("utf-8")
    if len(data) > max_bytes:
        raise ValueError(f"text is {len(data)} bytes, at most {max_bytes} allowed")
    return data


def fit_text(value: str, max_bytes: int) -> str:
    """Clean `value` and cut it at a character boundary so it fits `max_bytes`."""
    value = clean_text(value)
    data = value.encode("utf-8")
    if len(data) <= max_bytes:
        return value
    return data[:max_bytes].decode("utf-8", errors="ignore").rstrip()


class Reader:
    """Strict cursor over a byte string."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise DecodeError("truncated", f"{what} needs {n} bytes, {self.remaining()} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self, what: str) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise DecodeError("truncated", f"{what} needs 1 bytes, 0 left")
        self.pos = pos + 1
        return self.data[pos]

    def fixed(self, width: int, what: str) -> int:
        return int.from_bytes(self._take(width, what), "big", signed=False)

    def signed(self, width: int, what: str) -> int:
        return int.from_bytes(self._take(width, what), "big", signed=True)

    def raw(self, n: int, what: str) -> bytes:
        return self._take(n, what)

    def varint(self, what: str, max_bytes: int = 4) -> int:
        data = self.data
        pos = self.pos
        if pos < len(data) and data[pos] < 0x80:  # one byte: most varints
            self.pos = pos + 1
            return data[pos]
        value = 0
        for i in range(max_bytes):
            byte = self.u8(what)
            value |= (byte & 0x7F) << (7 * i)
            if not byte & 0x80:
                if byte == 0 and i > 0:
                    raise DecodeError("non-canonical", f"{what} varint has a redundant byte")
                return value
        raise DecodeError("out-of-range", f"{what} varint longer than {max_bytes} bytes")

    def text(self, max_bytes: int, what: str) -> str:
        n = self.u8(what)
        if n > max_bytes:
            raise DecodeError("out-of-range", f"{what} is {n} bytes, at most {max_bytes}")
        data = self._take(n, what)
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("bad-text", f"{what} is not UTF-8") from exc
        # Printable ASCII is NFC and holds no forbidden character: only its ends matter.
        plain = value.isascii() and value.isprintable()
        if (value != value.strip()) if plain else (clean_text(value) != value):
            raise DecodeError("non-canonical", f"{what} is not canonical text")
        return value

    def end(self) -> None:
        if self.pos != len(self.data):
            raise DecodeError("trailing-bytes", f"{self.remaining()} bytes after the end")
