"""Golden vectors for node/PROTOCOL.md and the tests.

`python -m meshaid.node.ledger.vectors` rebuilds node/vectors/records.json from
the fixed inputs below. Ed25519 signatures are deterministic, so the output is
stable; the tests check both directions (fields -> bytes, bytes -> fields)
against the committed file, and that PROTOCOL.md quotes the same hex.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from . import codec, identity
from . import records as r

FOUNDER_SEED = bytes.fromhex("01" * 32)
MEMBER_SEED = bytes.fromhex("02" * 32)
HLC_BASE = (60_000_000 << 16)  # 2026-11-24T10:40:00Z


EXTENSION_FIELDS = frozenset({"substitutes", "deliver_to", "needed_by_min", "pack", "inputs",
                              "windows", "offer_seq"})


def body_to_fields(body: r.Body) -> dict[str, Any]:
    """The body as JSON-ready fields; extensions only when present."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(body):
        value = getattr(body, f.name)
        if f.name in EXTENSION_FIELDS and value in ("", 0, None, ()):
            continue
        if isinstance(value, bytes):
            value = value.hex()
        elif f.name == "inputs":
            value = list(value)
        elif f.name == "windows":
            value = [[w.start_min, w.length_min] for w in value]
        elif isinstance(value, tuple):
            value = [v.hex() for v in value]
        elif isinstance(value, r.Position):
            value = {"lat_e5": value.lat_e5, "lon_e5": value.lon_e5}
        elif isinstance(value, r.Pack):
            value = {"count": value.count, "unit": value.unit}
        out[f.name] = value
    return out


def body_from_fields(kind: str, fields: dict[str, Any]) -> r.Body:
    cls = {k.label: b for b, k in r.KIND_OF_BODY.items()}[kind]
    args: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in fields:
            continue
        value = fields[f.name]
        if f.name in ("subject", "need_author"):
            value = bytes.fromhex(value)
        elif f.name == "costewards":
            value = tuple(bytes.fromhex(v) for v in value)
        elif f.name == "position" and value is not None:
            value = r.Position(value["lat_e5"], value["lon_e5"])
        elif f.name == "pack" and value is not None:
            value = r.Pack(value["count"], value["unit"])
        elif f.name == "inputs":
            value = tuple(value)
        elif f.name == "windows":
            value = tuple(r.Window(start, length) for start, length in value)
        args[f.name] = value
    return cls(**args)


def build() -> dict[str, Any]:
    founder = identity.key_from_seed(FOUNDER_SEED)
    member = identity.key_from_seed(MEMBER_SEED)
    fpub, mpub = identity.public_bytes(founder), identity.public_bytes(member)
    charter = codec.encode(r.Charter("Port", 1, ()), founder, 1, HLC_BASE, codec.NO_NETWORK)
    net = identity.network_id(charter.raw)
    plan: list[tuple[str, Any, int, int, r.Body]] = [
        ("founder", founder, 2, HLC_BASE + 1, r.Hello("Anna", "Pier 3 clinic", 3)),
        ("member", member, 1, HLC_BASE + (60 << 16), r.Hello("Bo", "Foundry", 0,
                                                           r.Position(4_435_012, 852_140))),
        ("founder", founder, 3, HLC_BASE + (120 << 16), r.Vouch(mpub, 0)),
        ("founder", founder, 4, HLC_BASE + (180 << 16),
         r.Need(1, "drinking water", 200, 4, 3, 2880, "Pier 3 clinic")),
        ("member", member, 2, HLC_BASE + (240 << 16),
         r.Offer(35, "M6 brackets, laser + brake", 40, 0, 1, 2, 10080, "")),
        ("member", member, 3, HLC_BASE + (300 << 16),
         r.Pledge(identity.short_id(fpub), 4, 50, 240, "water truck")),
        ("member", member, 4, HLC_BASE + (360 << 16), r.Update(3, 3, 50, 50, 0, "delivered")),
        ("founder", founder, 5, HLC_BASE + (420 << 16), r.Revoke(mpub, 4, "lost radio")),
        # Extensions (ICS-213RR fields, capacity, a pledge drawing on an offer).
        ("founder", founder, 6, HLC_BASE + (480 << 16),
         r.Need(255, "armour plate, 6 mm", 4, 7, 2, 2880, "", None, "8 mm mild steel",
                "Pier 3 gate", 720, r.Pack(2, 0))),
        ("founder", founder, 7, HLC_BASE + (540 << 16),
         r.Offer(33, "MIG welding, 2 bays", 16, 9, 1, 2, 10080, "", None, None, (64,),
                 (r.Window(0, 600), r.Window(1440, 600)))),
        ("founder", founder, 8, HLC_BASE + (600 << 16),
         r.Pledge(identity.short_id(fpub), 6, 2, 720, "weld seams", 7)),
    ]
    vectors = [_vector("charter", "founder", charter, codec.NO_NETWORK)]
    for who, key, seq, stamp, body in plan:
        rec = codec.encode(body, key, seq, stamp, net)
        vectors.append(_vector(rec.kind.label, who, rec, net))
    return {
        "keys": {
            "founder": {"seed": FOUNDER_SEED.hex(), "public": fpub.hex(),
                        "short": identity.short_id(fpub).hex()},
            "member": {"seed": MEMBER_SEED.hex(), "public": mpub.hex(),
                       "short": identity.short_id(mpub).hex()},
        },
        "network_id": net.hex(),
        "network_code": identity.network_code(net),
        "records": vectors,
    }


def _vector(kind: str, who: str, rec: r.Record, net: bytes) -> dict[str, Any]:
    return {
        "kind": kind,
        "author": who,
        "seq": rec.seq,
        "hlc": rec.hlc,
        "network": net.hex(),
        "fields": body_to_fields(rec.body),
        "length": len(rec.raw),
        "hex": rec.raw.hex(),
    }


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "vectors" / "records.json"
    out.write_text(json.dumps(build(), indent=1) + "\n")
    sys.stdout.write(f"wrote {out}\n")


if __name__ == "__main__":
    main()
