"""Record kinds and update statuses as SQL literals.

The numbers are the `Kind` and `Status` enums of node/ledger/records.py; SQL in
node/store formats these names in (f-strings) instead of repeating the numbers.
"""

from __future__ import annotations

from typing import TypeVar

from ..ledger.records import OBJECT_KINDS, Kind, Status

T = TypeVar("T")

CHARTER = int(Kind.CHARTER)
HELLO = int(Kind.HELLO)
NEED = int(Kind.NEED)
OFFER = int(Kind.OFFER)
PLEDGE = int(Kind.PLEDGE)
UPDATE = int(Kind.UPDATE)
VOUCH = int(Kind.VOUCH)
REVOKE = int(Kind.REVOKE)

OPEN = int(Status.OPEN)
FULFILLED = int(Status.FULFILLED)
WITHDRAWN = int(Status.WITHDRAWN)
DELIVERED = int(Status.DELIVERED)

OBJECTS = ", ".join(str(int(k)) for k in OBJECT_KINDS)  # "2, 3, 4": kinds that start an object
MEMBERSHIP = f"{VOUCH}, {REVOKE}"  # kinds membership is derived from

# Statements over a list of values (IN lists, VALUES tables) are padded to a power
# of two, so that SQLite compiles each shape once and the connection's statement
# cache serves the rest (compiling a 400-pair statement costs about as much as
# running it); one value, the radio's single record, stays one.
PAD_SIZES = tuple(1 << k for k in range(10))  # 1, 2, 4, ... 512


def padded(values: list[T]) -> list[T]:
    """`values` (1 to 512 of them) lengthened with copies of its first to the next
    of PAD_SIZES: an IN list or a joined VALUES table means the same with them."""
    n = len(values)
    if not 0 < n <= PAD_SIZES[-1]:
        raise ValueError(f"{n} values: pad 1 to {PAD_SIZES[-1]}")
    size = 1 << (n - 1).bit_length()  # the next power of two (one stays one)
    return values + values[:1] * (size - n)
