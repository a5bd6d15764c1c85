"""Record kinds and their bodies, as plain immutable values.

A record is an envelope (kind, author, seq, hlc) around one of the bodies
below, signed by its author. Encoding and decoding live in `codec`; the byte
layouts are specified in node/PROTOCOL.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Kind(enum.IntEnum):
    CHARTER = 0
    HELLO = 1
    NEED = 2
    OFFER = 3
    PLEDGE = 4
    UPDATE = 5
    VOUCH = 6
    REVOKE = 7

    @property
    def label(self) -> str:
        return self.name.lower()


OBJECT_KINDS = (Kind.NEED, Kind.OFFER, Kind.PLEDGE)  # records that start an object


class Status(enum.IntEnum):
    """The state an update sets (node/PROTOCOL.md); names in vocab.STATUSES."""

    OPEN = 0
    FULFILLED = 1  # a need or offer that is done
    WITHDRAWN = 2
    DELIVERED = 3  # a pledge that was delivered


CRITICAL = 3  # the urgency of a critical need (vocab.URGENCIES)


class Grant(enum.IntEnum):
    """What a vouch grants."""

    MEMBER = 0
    STEWARD = 1


# Limits, in bytes of UTF-8 or in varint bytes. They are part of the format.
NAME_MAX = 24
SITE_MAX = 24
TEXT_MAX = 72
NOTE_MAX = 48
REASON_MAX = 40
SEQ_BYTES = 4  # seq < 2**28
QTY_BYTES = 4  # qty < 2**28
MINUTES_BYTES = 3  # durations < 2**21 minutes, about four years
MAX_COSTEWARDS = 2
# Extensions (node/PROTOCOL.md, "Extensions"): optional fields after the text.
SUBSTITUTES_MAX = 48
DELIVER_TO_MAX = SITE_MAX
EXT_TEXTS_MAX = 72  # site + text + substitutes + deliver-to, when any extension is present
INPUTS_MAX = 3
WINDOWS_MAX = 3
PACK_BYTES = 3  # pack count < 2**21
WINDOW_LEN_BYTES = 2  # a window lasts < 2**14 minutes, about 11 days
SEQ_MAX = (1 << (7 * SEQ_BYTES)) - 1
QTY_MAX = (1 << (7 * QTY_BYTES)) - 1
MINUTES_MAX = (1 << (7 * MINUTES_BYTES)) - 1
KEY_LEN = 32
SHORT_ID_LEN = 4
SIG_LEN = 64


@dataclass(frozen=True)
class Position:
    """A WGS84 position held as integer 1e-5 degrees (about 1 m)."""

    lat_e5: int
    lon_e5: int

    @classmethod
    def from_degrees(cls, lat: float, lon: float) -> Position:
        return cls(round(lat * 1e5), round(lon * 1e5))

    @property
    def lat(self) -> float:
        return self.lat_e5 / 1e5

    @property
    def lon(self) -> float:
        return self.lon_e5 / 1e5

    def valid(self) -> bool:
        return abs(self.lat_e5) <= 9_000_000 and abs(self.lon_e5) <= 18_000_000


@dataclass(frozen=True)
class Pack:
    """Pack size: each one of the record's units holds `count` of `unit`
    (qty 20 box with Pack(24, pcs) is 480 pieces)."""

    count: int
    unit: int


@dataclass(frozen=True)
class Window:
    """When a capacity offer can work: from `start_min` after the offer's HLC time,
    for `length_min` minutes."""

    start_min: int
    length_min: int


@dataclass(frozen=True)
class Charter:
    """Creates a network. The author is the first founding steward."""

    name: str
    admission: int = 1  # distinct steward vouches needed to admit a key (1-3)
    costewards: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Hello:
    """Announces the author's key with a display name, site and role."""

    name: str
    site: str = ""
    role: int = 0
    position: Position | None = None


@dataclass(frozen=True)
class Need:
    category: int
    text: str
    qty: int = 0
    unit: int = 0
    urgency: int = 1
    valid_for_min: int = 0  # minutes after the record's HLC time; 0 = no expiry
    site: str = ""  # empty: the author's site from their hello
    position: Position | None = None
    # Extensions (ICS-213RR / EDXL-RM fields); defaults are absent on the wire.
    substitutes: str = ""  # what else would do
    deliver_to: str = ""  # requested delivery place; empty: the need's site
    needed_by_min: int = 0  # requested delivery, minutes after the HLC time; 0 = none
    pack: Pack | None = None


@dataclass(frozen=True)
class Offer:
    category: int
    text: str
    qty: int = 0
    unit: int = 0
    offer_type: int = 0
    rate: int = 0  # per hour/day/week for capacity
    valid_for_min: int = 0
    site: str = ""
    position: Position | None = None
    # Extensions; defaults are absent on the wire.
    pack: Pack | None = None
    inputs: tuple[int, ...] = ()  # categories a capacity needs as input (ascending)
    windows: tuple[Window, ...] = ()  # availability; none: from posting until expiry


@dataclass(frozen=True)
class Pledge:
    """A promise to cover `qty` of a need, named by (author short id, seq)."""

    need_author: bytes  # short id, 4 bytes
    need_seq: int
    qty: int
    by_min: int = 0  # minutes after the record's HLC time; 0 = unspecified
    text: str = ""
    offer_seq: int = 0  # extension: the pledger's own offer this draws on; 0 = none


@dataclass(frozen=True)
class Update:
    """The author's new state of one of their own needs, offers or pledges."""

    target_seq: int
    status: int
    qty: int
    delivered: int = 0
    valid_for_min: int = 0  # from this update's HLC time; 0 = unchanged expiry
    note: str = ""


@dataclass(frozen=True)
class Vouch:
    subject: bytes  # full key
    grant: int = 0  # 0 member, 1 steward


@dataclass(frozen=True)
class Revoke:
    """Throws a key out: its records with seq > through_seq are no longer trusted."""

    subject: bytes
    through_seq: int = 0
    reason: str = ""


Body = Charter | Hello | Need | Offer | Pledge | Update | Vouch | Revoke

KIND_OF_BODY: dict[type, Kind] = {
    Charter: Kind.CHARTER,
    Hello: Kind.HELLO,
    Need: Kind.NEED,
    Offer: Kind.OFFER,
    Pledge: Kind.PLEDGE,
    Update: Kind.UPDATE,
    Vouch: Kind.VOUCH,
    Revoke: Kind.REVOKE,
}

FULL_KEY_KINDS = frozenset({Kind.CHARTER, Kind.HELLO})


@dataclass(frozen=True)
class Record:
    """A decoded, signature-verified record. `raw` is the exact signed bytes."""

    kind: Kind
    author: bytes  # full 32-byte Ed25519 public key
    seq: int
    hlc: int
    body: Body
    raw: bytes = field(repr=False)

    @property
    def short_author(self) -> bytes:
        from .identity import short_id

        return short_id(self.author)
