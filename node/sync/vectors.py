"""Golden vectors of the sync messages (node/vectors/sync.json, PROTOCOL.md §7).

`python -m meshaid.node.sync.vectors` rebuilds the file from the fixed inputs
below; the tests check encoder and decoder against it.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from . import filters, riblt
from . import messages as m

RECORDS = Path(__file__).resolve().parent.parent / "vectors" / "records.json"


@cache
def _records() -> dict[str, Any]:
    return dict(json.loads(RECORDS.read_text()))


def network_tag() -> bytes:
    """The tag of §6's network: the records these messages carry verify there."""
    return bytes.fromhex(_records()["network_id"])[:2]


def cases() -> list[tuple[str, m.Message]]:
    need = bytes.fromhex(_records()["records"][4]["hex"])
    ids = [bytes.fromhex("0123456789abcdef"), bytes.fromhex("fedcba9876543210")]
    sketch = riblt.Sketch(64, [int.from_bytes(i, "big") for i in ids])
    ticket = bytes.fromhex("5e123475") + bytes(range(64))
    return [
        ("records", m.Records((need,))),
        ("pull answer", m.Records((need,), relay=False, end=True, after=ids[0])),
        ("digest", m.Digest(1234, 0x0123456789ABCDEF, False)),
        ("digest with neighbours", m.Digest(7, 0xFEDCBA9876543210, True, (0x0102, 0xA0B0), True)),
        ("sketch", m.Sketch(2, 0, sketch.encode(0, 3))),
        ("request", m.Request(tuple(ids))),
        ("request to a node, padded", m.Request((ids[0],), 0x12345678, 16)),
        ("more", m.More(0x12345678, 16)),
        ("more, padded", m.More(0x12345678, 16, 4)),
        ("pull from start", m.Pull(0x0A0B0C0D, 1, 3, b"")),
        ("pull after cursor", m.Pull(0x0A0B0C0D, 0, 2, bytes([1]) + (60_000_000 << 16).to_bytes(6, "big")
                                     + ids[0])),
        ("pull, padded", m.Pull(0x0A0B0C0D, 2, 3, b"", 5)),
        ("pull with a member's ticket", m.Pull(0x0A0B0C0D, 0, 3, b"", 0, ticket)),
        ("request with a member's ticket", m.Request((ids[1],), 0x12345678, ticket=ticket)),
        ("more with a member's ticket", m.More(0x12345678, 32, ticket=ticket)),
        ("digest with far relays", m.Digest(9, 0x0F0E0D0C0B0A0908, False, (0x0102,), True,
                                            (0x0102,), (0x3344, 0x5566))),
        ("digest with a membership proof", m.Digest(9, 0x0F0E0D0C0B0A0908, False, (), False, (),
                                                    (), ticket)),
        ("filter of two ids", m.Filter(0x12345678, 60_000_000 << 16, m.HLC_MAX, 2, 7,
                                       filters.make_bits(ids, 3, 7))),
        ("filter with a member's ticket", m.Filter(0x12345678, 0, 60_000_000 << 16, 1, 7,
                                                   filters.make_bits(ids[:1], 2, 7), ticket)),
        ("filter leaving a flooding key out", m.Filter(0x12345678, 0, m.HLC_MAX, 1, 7,
                                                       filters.make_bits(ids[1:], 2, 7), b"",
                                                       (b"\xde\xad\xbe\xef",))),
    ]


def build() -> dict[str, Any]:
    tag = network_tag()
    return {
        "network_tag": tag.hex(),
        "messages": [{"name": name, "hex": m.encode(msg, tag).hex(), "repr": repr(msg)}
                     for name, msg in cases()],
    }


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "vectors" / "sync.json"
    out.write_text(json.dumps(build(), indent=1) + "\n")
    sys.stdout.write(f"wrote {out}\n")


if __name__ == "__main__":
    main()
