"""Bundles: signed records on a USB stick (node/PROTOCOL.md, "Bundles").

A bundle is UTF-8 text, one item per line, so one damaged byte damages one
record and never the framing of the rest:

    meshaid-bundle 1 <network id, 64 hex digits>
    <record, standard base64>
    ...

Records are listed charter first, then hellos, vouches and revokes, then the
rest, so an importer never has to hold a record back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAGIC = "meshaid-bundle"
VERSION = "1"


class BundleError(ValueError):
    """A bundle that cannot be read at all (bad header, wrong network)."""


@dataclass(frozen=True)
class Line:
    number: int
    raw: bytes | None  # None when the line is not base64
    error: str = ""


MAX_LINE = 1024  # bytes: far more than any record in base64 (a record fits a packet)


def header(network: bytes) -> str:
    """The first line of a bundle for `network` (without the newline)."""
    return f"{MAGIC} {VERSION} {network.hex()}"


def encode_line(raw: bytes) -> str:
    """One record as a bundle line (without the newline)."""
    return base64.b64encode(raw).decode("ascii")


def write(network: bytes, records: Iterable[bytes]) -> str:
    """A whole bundle as text (small bundles; exporters stream with `header`
    and `encode_line`)."""
    lines = [header(network)] + [encode_line(raw) for raw in records]
    return "\n".join(lines) + "\n"


def parse_header(line: str) -> bytes:
    """The network id named by a bundle's first line; BundleError if unusable."""
    head = line.split()
    if len(head) != 3 or head[0] != MAGIC:
        raise BundleError("not a meshaid bundle (bad first line)")
    if head[1] != VERSION:
        raise BundleError(f"bundle version {head[1]!r}, this node reads {VERSION}")
    try:
        network = bytes.fromhex(head[2])
    except ValueError:
        raise BundleError("bundle header has a malformed network id") from None
    if len(network) != 32:
        raise BundleError("bundle header has a malformed network id")
    return network


def parse_line(number: int, line: str) -> Line | None:
    """One record line; None for a blank line."""
    line = line.strip()
    if not line:
        return None
    if len(line) > MAX_LINE:
        return Line(number, None, f"line is {len(line)} characters, longer than any record")
    try:
        return Line(number, base64.b64decode(line, validate=True))
    except (binascii.Error, ValueError):
        return Line(number, None, "line is not base64")


def read(text: str) -> tuple[bytes, Iterator[Line]]:
    """Return the bundle's network id and its record lines; raise BundleError
    when the header is unusable."""
    lines = text.splitlines()
    if not lines:
        raise BundleError("empty file, not a meshaid bundle")
    network = parse_header(lines[0])

    def items() -> Iterator[Line]:
        for number, line in enumerate(lines[1:], start=2):
            item = parse_line(number, line)
            if item is not None:
                yield item

    return network, items()
