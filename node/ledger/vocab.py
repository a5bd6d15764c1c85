"""Shipped vocabularies with one-byte codes.

Codes are part of the wire format (node/PROTOCOL.md, "Vocabularies"): a code,
once shipped, never changes meaning. New entries take new codes.
"""

from __future__ import annotations

# Relief sectors (1-31), production processes (32-63) and materials (64-95):
# a capacity offer's inputs name materials or other processes.
CATEGORIES: dict[int, str] = {
    1: "water",
    2: "food",
    3: "health",
    4: "shelter",
    5: "energy",
    6: "transport",
    7: "communications",
    8: "sanitation",
    9: "logistics",
    32: "machining",
    33: "welding",
    34: "casting",
    35: "sheet-metal",
    36: "3d-printing",
    37: "electronics",
    38: "sewing",
    39: "cooking",
    40: "repair",
    41: "woodwork",
    42: "chemistry",
    43: "cutting",
    64: "metal",
    65: "timber",
    66: "plastic",
    67: "fabric",
    68: "fuel",
    69: "parts",
    255: "other",
}

UNITS: dict[int, str] = {
    0: "pcs",
    1: "kg",
    2: "g",
    3: "t",
    4: "L",
    5: "mL",
    6: "m",
    7: "m2",
    8: "m3",
    9: "h",
    10: "person",
    11: "meal",
    12: "day",
    13: "box",
    14: "pallet",
    15: "kWh",
    16: "bed",
    17: "trip",
    18: "dose",
    19: "board",
}

# Urgency: two bits on the wire.
URGENCIES: dict[int, str] = {0: "low", 1: "normal", 2: "high", 3: "critical"}

# ICS-213RR / EDXL-RM priority of a need, from its urgency (no wire field of its own).
PRIORITIES: dict[int, str] = {0: "Low", 1: "Routine", 2: "Urgent", 3: "Urgent"}

# What an offer is: two bits on the wire.
OFFER_TYPES: dict[int, str] = {0: "stock", 1: "capacity", 2: "skill", 3: "service"}

# For capacity offers, the period the quantity is per: two bits on the wire.
RATE_PERIODS: dict[int, str] = {0: "", 1: "hour", 2: "day", 3: "week"}

# Self-declared role in a hello.
ROLES: dict[int, str] = {0: "field", 1: "relay", 2: "depot", 3: "coordinator"}

# States an update can set.
STATUSES: dict[int, str] = {0: "open", 1: "fulfilled", 2: "withdrawn", 3: "delivered"}

# Role a vouch grants.
GRANTS: dict[int, str] = {0: "member", 1: "steward"}


def code_for(table: dict[int, str], name: str, what: str) -> int:
    """Return the code of `name` in `table` (case-insensitive), or raise ValueError
    listing the valid names."""
    wanted = name.strip().lower()
    for code, label in table.items():
        if label.lower() == wanted:
            return code
    choices = ", ".join(label for label in table.values() if label)
    raise ValueError(f"unknown {what} {name!r}; choose one of: {choices}")
