"""The sync golden table drives encoder and decoder, and PROTOCOL.md quotes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshaid.node.sync import messages, vectors

ROOT = Path(__file__).resolve().parents[1]
TABLE = json.loads((ROOT / "node" / "vectors" / "sync.json").read_text())
CASES = dict(vectors.cases())


@pytest.mark.parametrize("vector", TABLE["messages"], ids=lambda v: v["name"])
def test_encoder_and_decoder_match_the_golden_bytes(vector: dict) -> None:
    tag = bytes.fromhex(TABLE["network_tag"])
    msg = CASES[vector["name"]]
    assert messages.encode(msg, tag).hex() == vector["hex"]
    decoded = messages.decode(bytes.fromhex(vector["hex"]))
    assert messages.encode(decoded, tag).hex() == vector["hex"]
    assert messages.peek(bytes.fromhex(vector["hex"]))[1] == tag


def test_protocol_md_quotes_every_sync_vector() -> None:
    spec = (ROOT / "node" / "PROTOCOL.md").read_text()
    for vector in TABLE["messages"]:
        assert vector["hex"] in spec, vector["name"]


def test_the_committed_table_is_what_the_generator_builds() -> None:
    assert vectors.build() == TABLE
