"""Validation of what people type, shared by the actions, the CLI and the TUI.

Every check either returns a value that fits its wire field or raises
`InvalidInput` with one line saying what fits. Nothing is ever cut silently.
"""

from __future__ import annotations

import math
import re
import unicodedata

from ..ledger import records as r
from ..ledger.vocab import code_for
from ..ledger.wire import FORBIDDEN, clean_text
from ..store.store import StoreError, parse_record_id
from .errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw]?)\s*$")
_UNIT_MIN = {"": 60, "m": 1, "h": 60, "d": 1440, "w": 10080}
MAX_DAYS = r.MINUTES_MAX // 1440
MAX_WEEKS = r.MINUTES_MAX // 10080


def duration(value: str | int | None, what: str, *, zero: bool = False) -> int:
    """'90m', '12h', '3d', '2w' (a bare number is hours), or minutes as an int, to
    minutes; 0 for none ('', '0', 'never'). Refuses what the wire cannot carry,
    and a zero with a unit ('0m', '0d'), which would read as none (no end) on
    the wire, unless `zero` (an offset such as a window's start)."""
    if value is None:
        return 0
    if isinstance(value, int):
        minutes = value
        shown = f"{value} minutes"
    else:
        if value.strip().lower() in ("", "0", "never"):
            return 0
        match = _DURATION.match(value.lower())
        if not match:
            raise InvalidInput(f"{what} {value!r} is not a duration like 90m, 12h, 3d or 2w")
        minutes = int(match.group(1)) * _UNIT_MIN[match.group(2)]
        shown = value.strip()
        if minutes == 0 and not zero:
            raise InvalidInput(f"{what} {shown} is zero, which would mean no end: give at "
                               "least 1m, or 'never'")
    if minutes < 0:
        raise InvalidInput(f"{what} cannot be negative")
    if minutes > r.MINUTES_MAX:
        raise InvalidInput(f"{what} {shown} is too long: at most {MAX_DAYS} days "
                           f"({MAX_WEEKS} weeks)")
    return minutes


def text(value: str, max_bytes: int, what: str) -> str:
    """`value` in canonical form (NFC, tabs and line breaks as spaces, trimmed) if
    it fits `max_bytes` of UTF-8; otherwise InvalidInput saying how many bytes
    fit. Invisible characters that can make text read differently elsewhere
    (bidi overrides, zero-width characters, other controls) are refused, naming
    the first one."""
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise InvalidInput(f"{what} is not valid UTF-8")
    hidden = FORBIDDEN.search(value.replace("\t", " ").replace("\n", " ").replace("\r", " "))
    if hidden:
        ch = hidden.group()
        name = unicodedata.name(ch, "a control character")
        raise InvalidInput(f"{what} contains U+{ord(ch):04X} ({name}), an invisible character "
                           "that can make it read differently elsewhere; remove it")
    clean = clean_text(value)
    size = len(clean.encode("utf-8"))
    if size > max_bytes:
        fits = clean.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
        raise InvalidInput(f"{what} is {size} bytes of UTF-8 and only {max_bytes} fit "
                           f"(up to {fits[-12:]!r}); shorten it")
    return clean


def quantity(value: int, what: str = "quantity", minimum: int = 0) -> int:
    """An integer quantity the wire can carry."""
    if value < minimum:
        raise InvalidInput(f"{what} must be at least {minimum}, not {value}")
    if value > r.QTY_MAX:
        raise InvalidInput(f"{what} must be at most {r.QTY_MAX}, not {value}")
    return value


def position(lat: float | None, lon: float | None) -> r.Position | None:
    """A position from degrees, both or neither; finite and on the globe."""
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise InvalidInput("give both latitude and longitude")
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InvalidInput("latitude and longitude must be finite numbers")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput(f"position {lat}, {lon} is outside the globe "
                           "(latitude -90..90, longitude -180..180)")
    return r.Position.from_degrees(lat, lon)


def position_text(value: str) -> r.Position | None:
    """A position typed as 'LAT, LON' in degrees ('43.2965, 5.3698'; a space
    does as well as the comma), or None for nothing typed; checked as
    `position` checks --lat and --lon."""
    parts = [p for p in re.split(r"[,;\s]+", value.strip()) if p]
    if not parts:
        return None
    example = "give latitude, longitude in degrees, like 43.2965, 5.3698"
    if len(parts) != 2:
        raise InvalidInput(example)
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidInput(example) from None
    return position(lat, lon)


def vocab(table: dict[int, str], value: str | int, what: str) -> int:
    """The code of a vocabulary entry given by name (any case) or code."""
    if isinstance(value, int):
        if value not in table or (value == 0 and not table[0]):
            raise InvalidInput(f"unknown {what} code {value}")
        return value
    try:
        return code_for(table, value, what)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def record_id(value: str) -> tuple[bytes, int]:
    """(author short id, seq) of an id like 1a2b3c4d-7."""
    try:
        short, seq = parse_record_id(value)
    except StoreError as exc:
        raise InvalidInput(str(exc)) from None
    if seq > r.SEQ_MAX:
        raise InvalidInput(f"{value.strip()!r} is not a record id: seq is at most {r.SEQ_MAX}")
    return short, seq


def seq(value: int, what: str) -> int:
    """A sequence number the wire can carry."""
    if not 0 <= value <= r.SEQ_MAX:
        raise InvalidInput(f"{what} must be 0-{r.SEQ_MAX}, not {value}")
    return value


_PACK = re.compile(r"^\s*(\d+)\s*([^\d\s]\S*)\s*$")  # (a unit starts with no digit)


def pack(value: str | None) -> r.Pack | None:
    """A pack size like '24 pcs' or '12 L' (each unit of the quantity holds that);
    None for none."""
    from ..ledger.vocab import UNITS

    if value is None or not value.strip():
        return None
    match = _PACK.match(value)
    if not match:
        raise InvalidInput(f"pack {value!r} is not a count and a unit, like '24 pcs'")
    count = int(match.group(1))
    if not 1 <= count < 1 << 7 * r.PACK_BYTES:
        raise InvalidInput(f"a pack holds 1 to {(1 << 7 * r.PACK_BYTES) - 1}, not {count}")
    return r.Pack(count, vocab(UNITS, match.group(2), "pack unit"))


def categories(values: list[str] | tuple[str, ...], what: str) -> tuple[int, ...]:
    """Distinct categories by name or code, ascending, at most INPUTS_MAX."""
    from ..ledger.vocab import CATEGORIES

    codes = sorted({vocab(CATEGORIES, v.strip(), what) for v in values if v.strip()})
    if len(codes) > r.INPUTS_MAX:
        raise InvalidInput(f"at most {r.INPUTS_MAX} {what}s, not {len(codes)}")
    return tuple(codes)


def windows(values: list[str] | tuple[str, ...]) -> tuple[r.Window, ...]:
    """Availability windows 'START+LENGTH' in durations from now ('0h+10h',
    '1d+8h'), in time order and not overlapping, at most WINDOWS_MAX."""
    from ..ledger.extensions import windows_problem

    out = []
    for value in values:
        start, plus, length = value.partition("+")
        if not plus:
            raise InvalidInput(f"window {value!r} is not START+LENGTH, like 0h+10h or 1d+8h")
        begin = duration(start or "0", "window start", zero=True)
        minutes = duration(length, "window length")
        if not 1 <= minutes < 1 << 7 * r.WINDOW_LEN_BYTES:
            raise InvalidInput(f"a window lasts 1 minute to "
                               f"{((1 << 7 * r.WINDOW_LEN_BYTES) - 1) // 60} hours")
        out.append(r.Window(begin, minutes))
    if out and (problem := windows_problem(tuple(out))):
        raise InvalidInput(problem)
    return tuple(out)


def ext_texts(site: str, text: str, *more: str) -> None:
    """With extensions, the texts share EXT_TEXTS_MAX bytes: say so when they do not."""
    used = sum(len(s.encode("utf-8")) for s in (site, text, *more))
    if used > r.EXT_TEXTS_MAX:
        raise InvalidInput(f"with substitutes, deliver-to, pack, inputs or windows, the text, "
                           f"site and those texts share {r.EXT_TEXTS_MAX} bytes; these take "
                           f"{used}: shorten them")
