"""Record kinds and update statuses as SQL literals.

The numbers are the `Kind` and `Status` enums of node/ledger/records.py; SQL in
node/store formats these names in (f-strings) instead of repeating the numbers.
"""

from __future__ import annotations

from ..ledger.records import OBJECT_KINDS, Kind, Status

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
