"""PROTOCOL.md Appendix A carries the text coder's symbol table, so that the
spec alone is enough to implement coded text: the table printed there is the
reference's, entry for entry, and its stated SHA-256 is that of the table."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from meshaid.node.ledger.textdict import SYMBOLS

SPEC = Path(__file__).resolve().parents[2] / "node" / "PROTOCOL.md"


def test_appendix_a_is_the_reference_table_and_its_hash() -> None:
    text = SPEC.read_text(encoding="utf-8")
    appendix = text.split("## Appendix A: the text symbol table", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", appendix, re.DOTALL)
    assert block is not None
    table = json.loads(block.group(1))
    assert [tuple(entry) for entry in table] == list(SYMBOLS)
    compact = json.dumps(table, ensure_ascii=True, separators=(",", ":")).encode()
    stated = re.search(r"SHA-256\n`([0-9a-f]{64})`", appendix)
    assert stated is not None and hashlib.sha256(compact).hexdigest() == stated.group(1)
