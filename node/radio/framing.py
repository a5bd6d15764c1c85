"""The Meshtastic stream framing (serial and TCP), as the firmware's StreamAPI speaks it.

Theory of operation
-------------------
Every protobuf (a `ToRadio` from the client, a `FromRadio` from the device)
travels as ``0x94 0xC3 <len hi> <len lo> <len bytes>``, with ``len`` at most
512. Anything else on the line is debug text (the device's log) or noise: the
decoder hunts for ``0x94`` then ``0xC3``, drops a header whose length is over
512 and starts hunting again, exactly like `meshtastic.stream_interface`. It
counts what it skipped so a caller can report garbage without raising.
"""

from __future__ import annotations

START1, START2 = 0x94, 0xC3
HEADER_LEN = 4
MAX_FRAME = 512  # MAX_TO_FROM_RADIO_SIZE


def frame(body: bytes) -> bytes:
    """Wrap one encoded protobuf in the stream header. Raises ValueError over 512 bytes."""
    if len(body) > MAX_FRAME:
        raise ValueError(f"frame body of {len(body)} bytes exceeds {MAX_FRAME}")
    return bytes((START1, START2, len(body) >> 8, len(body) & 0xFF)) + body


class Deframer:
    """Incremental decoder: feed bytes, get whole frame bodies back."""

    def __init__(self) -> None:
        """An empty decoder."""
        self._buf = bytearray()
        self.skipped = 0  # bytes that were not part of a frame (log text, noise)
        self.oversized = 0  # headers announcing more than MAX_FRAME bytes

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes from the line; return every frame body they completed, in order."""
        buf = self._buf
        buf += data
        out: list[bytes] = []
        while buf:
            if buf[0] != START1:
                i = buf.find(START1)
                cut = len(buf) if i < 0 else i
                self.skipped += cut
                del buf[:cut]
                continue
            if len(buf) < 2:
                break
            if buf[1] != START2:
                self.skipped += 1
                del buf[:1]
                continue
            if len(buf) < HEADER_LEN:
                break
            n = (buf[2] << 8) | buf[3]
            if n > MAX_FRAME:
                self.oversized += 1
                self.skipped += HEADER_LEN
                del buf[:HEADER_LEN]
                continue
            if len(buf) < HEADER_LEN + n:
                break
            out.append(bytes(buf[HEADER_LEN:HEADER_LEN + n]))
            del buf[:HEADER_LEN + n]
        return out

    def reset(self) -> None:
        """Forget a partial frame (the line was closed and reopened)."""
        self._buf.clear()
