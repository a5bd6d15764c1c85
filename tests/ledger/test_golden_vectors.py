"""One golden table drives the encoder and decoder tests, and PROTOCOL.md quotes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshaid.node.ledger import codec, identity, vectors
from meshaid.node.ledger.wire import DecodeError

ROOT = Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "node" / "vectors" / "records.json").read_text())
KEYS = {name: identity.key_from_seed(bytes.fromhex(k["seed"])) for name, k in TABLE["keys"].items()}
PUBLIC = {name: bytes.fromhex(k["public"]) for name, k in TABLE["keys"].items()}
CASES = [pytest.param(v, id=f"{i}-{v['kind']}") for i, v in enumerate(TABLE["records"])]


def lookup(short: bytes) -> list[bytes]:
    return [pub for pub in PUBLIC.values() if identity.short_id(pub) == short]


@pytest.mark.parametrize("vector", CASES)
def test_encoder_produces_the_golden_bytes(vector: dict) -> None:
    body = vectors.body_from_fields(vector["kind"], vector["fields"])
    rec = codec.encode(body, KEYS[vector["author"]], vector["seq"], vector["hlc"],
                       bytes.fromhex(vector["network"]))
    assert rec.raw.hex() == vector["hex"]
    assert len(rec.raw) == vector["length"]


@pytest.mark.parametrize("vector", CASES)
def test_decoder_recovers_the_golden_fields(vector: dict) -> None:
    rec = codec.decode(bytes.fromhex(vector["hex"]), bytes.fromhex(vector["network"]), lookup)
    assert rec.kind.label == vector["kind"]
    assert rec.author == PUBLIC[vector["author"]]
    assert (rec.seq, rec.hlc) == (vector["seq"], vector["hlc"])
    assert vectors.body_to_fields(rec.body) == vector["fields"]


@pytest.mark.parametrize("vector", CASES)
def test_golden_bytes_with_trailing_or_missing_bytes_are_rejected(vector: dict) -> None:
    raw = bytes.fromhex(vector["hex"])
    net = bytes.fromhex(vector["network"])
    for bad in (raw + b"\x00", raw[:-1], raw[1:]):
        with pytest.raises(DecodeError):
            codec.decode(bad, net, lookup)


def test_network_id_is_the_charter_hash() -> None:
    charter = bytes.fromhex(TABLE["records"][0]["hex"])
    assert identity.network_id(charter).hex() == TABLE["network_id"]
    assert identity.network_code(identity.network_id(charter)) == TABLE["network_code"]


def test_protocol_md_quotes_every_vector() -> None:
    spec = (ROOT / "node" / "PROTOCOL.md").read_text()
    for vector in TABLE["records"]:
        assert vector["hex"] in spec, vector["kind"]
    assert TABLE["network_id"] in spec


def test_the_committed_table_is_what_the_generator_builds() -> None:
    assert vectors.build() == TABLE
