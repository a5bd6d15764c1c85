"""Values the store hands out: refusals, ingest outcomes, record ids."""

from __future__ import annotations

from dataclasses import dataclass

from ..ledger import records as r


class StoreError(Exception):
    """A refused operation on the store, with a message fit for a user."""


@dataclass(frozen=True)
class Outcome:
    status: str  # accepted | duplicate | held | rejected
    reason: str = ""
    detail: str = ""
    record: r.Record | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("accepted", "duplicate")


def record_id(short: bytes, seq: int) -> str:
    """The human id of a record: short author id in hex, a dash, the seq."""
    return f"{short.hex()}-{seq}"


def parse_record_id(text: str) -> tuple[bytes, int]:
    """(short author id, seq) of a human record id; StoreError if it is not one."""
    try:
        short_hex, seq_text = text.strip().split("-")
        short, seq = bytes.fromhex(short_hex), int(seq_text)
    except ValueError:
        raise StoreError(f"{text!r} is not a record id like 1a2b3c4d-7") from None
    if len(short) != 4 or seq < 1:
        raise StoreError(f"{text!r} is not a record id like 1a2b3c4d-7")
    return short, seq
