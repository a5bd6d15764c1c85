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


def write(network: bytes, records: Iterable[bytes]) -> str:
    lines = [f"{MAGIC} {VERSION} {network.hex()}"]
    lines += [base64.b64encode(raw).decode("ascii") for raw in records]
    return "\n".join(lines) + "\n"


def read(text: str) -> tuple[bytes, Iterator[Line]]:
    """Return the bundle's network id and its record lines; raise BundleError
    when the header is unusable."""
    lines = text.splitlines()
    if not lines:
        raise BundleError("empty file, not a meshaid bundle")
    head = lines[0].split()
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

    def items() -> Iterator[Line]:
        for number, line in enumerate(lines[1:], start=2):
            line = line.strip()
            if not line:
                continue
            try:
                yield Line(number, base64.b64decode(line, validate=True))
            except (binascii.Error, ValueError):
                yield Line(number, None, "line is not base64")

    return network, items()
