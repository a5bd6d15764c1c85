"""Reading a stock list or a shipping manifest into need or offer bodies.

The file is read whole with the csv module (UTF-8, a byte-order mark
allowed), its columns are matched to fields, then every row is checked on its
own: a row becomes a `Row` (a body ready to sign), a `Skipped` (not for this
import: another kind, closed, expired, quarantined at its source) or a
`Problem` with every reason it cannot be signed. Nothing here signs or stores;
`importer` signs only a plan without problems.

Columns are found, in this order:
1. `mapping` (the CLI's --map SOURCE=FIELD): SOURCE is a header (any case) or
   an HXL tag pattern (`#item+name`, `#item+num-pledged`);
2. an HXL hashtag row (within the first 25 rows), matched against each field's
   tag patterns in `TAG_PATTERNS` (libhxl matches them when it is installed,
   the `hxl` extra; otherwise the same rules are applied here);
3. otherwise the first row as headers, matched against `HEADER_ALIASES`.
`defaults` (--set FIELD=VALUE) fills a field whose column is missing or empty.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..actions import ActionError, InvalidInput, inputs
from ..ledger import records as r
from ..ledger.vocab import CATEGORIES, OFFER_TYPES, RATE_PERIODS, UNITS, URGENCIES
from . import cells, tags

MAX_ROWS = 50_000  # a manifest larger than this is split by whoever made it
MAX_BYTES = 32 << 20
TAG_ROW_SEARCH = 25
FIELDS = ("kind", "text", "qty", "unit", "category", "urgency", "type", "per", "site", "lat",
          "lon", "valid_until", "status", "trust", "substitutes", "deliver_to", "needed_by",
          "pack", "inputs", "windows")
TAG_PATTERNS: dict[str, tuple[str, ...]] = {
    "kind": ("#meta+kind",),
    "text": ("#item+name",),
    "qty": ("#item+num-pledged-remaining-delivered", "#capacity+num"),
    "unit": ("#item+unit",),
    "category": ("#sector", "#item+type"),
    "urgency": ("#severity", "#priority"),
    "type": ("#capacity+type",),
    "per": ("#capacity+period",),
    "site": ("#loc+name", "#loc-delivery"),
    "lat": ("#geo+lat",),
    "lon": ("#geo+lon",),
    "valid_until": ("#date+end",),
    "status": ("#status",),
    "trust": ("#meta+trust",),
    "substitutes": ("#item+substitutes",),
    "deliver_to": ("#loc+delivery",),
    "needed_by": ("#date+needed",),
    "pack": ("#item+pack",),
    "inputs": ("#capacity+inputs",),
    "windows": ("#date+windows",),
}
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "kind": ("kind",),
    "text": ("item", "name", "text", "description", "contents", "goods", "commodity",
             "article"),
    "qty": ("quantity", "qty", "count", "amount", "number", "pieces"),
    "unit": ("unit", "units", "uom", "unit of measure"),
    "category": ("category", "sector"),
    "urgency": ("urgency", "priority", "severity"),
    "type": ("offer type", "type"),
    "per": ("per", "rate per", "period"),
    "site": ("site", "location", "place", "where"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "valid_until": ("valid until", "expires", "expiry", "expiry date", "best before"),
    "status": ("status",),
    "trust": ("trust",),
    "substitutes": ("substitutes", "acceptable substitutes", "alternatives"),
    "deliver_to": ("deliver to", "delivery place", "delivery location"),
    "needed_by": ("needed by", "required by"),
    "pack": ("pack", "pack size"),
    "inputs": ("inputs",),
    "windows": ("windows", "available", "availability"),
}
OPEN_STATES = ("", "open", "uncovered", "partial", "covered", "over-committed")
CLOSED_STATES = ("fulfilled", "delivered", "withdrawn", "expired", "future")  # skipped
KINDS = {"needs": r.Kind.NEED, "offers": r.Kind.OFFER}


@dataclass(frozen=True)
class Row:
    line: int
    body: r.Need | r.Offer


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


@dataclass(frozen=True)
class Skipped:
    line: int
    reason: str


@dataclass
class Plan:
    """What an import would sign, skip and refuse, and which column fed each field."""

    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    hxl: bool = False


def read(path: Path, as_kind: str, *, now: float, mapping: dict[str, str] | None = None,
         defaults: dict[str, str] | None = None, valid_for: str = "7d") -> Plan:
    """Check every row of the CSV at `path` as a need or offer (`as_kind` is
    'needs', 'offers' or 'auto': the file's kind column decides). `now` (unix
    seconds) turns a valid-until date into a duration. Raises InvalidInput or
    ActionError for a file that cannot be read at all; row faults go in
    `Plan.problems`."""
    if as_kind not in ("needs", "offers", "auto"):
        raise InvalidInput(f"--as {as_kind!r}: choose needs, offers or auto")
    table, lines = _read_table(path)
    defaults = _check_defaults(defaults or {})
    plan = Plan()
    start, columns = _match_columns(table, mapping or {}, plan)
    if "text" not in columns and "text" not in defaults:
        raise InvalidInput(f"{path}: no column says what the item is (a header like 'Item' "
                           "or the tag #item+name); name it with --map 'HEADER=text'")
    if as_kind == "auto" and "kind" not in columns:
        raise InvalidInput(f"{path} has no kind column (#meta+kind): say --as needs or "
                           "--as offers")
    default_minutes = inputs.duration(valid_for, "valid-for")
    for index in range(start, len(table)):
        cells = table[index]
        line = lines[index]
        if not any(c.strip() for c in cells):
            continue
        values = {f: cells[i].strip() if i < len(cells) else "" for f, i in columns.items()}
        for name, value in defaults.items():
            if not values.get(name):
                values[name] = value
        _check_row(plan, line, values, as_kind, now, default_minutes)
    return plan


def _read_table(path: Path) -> tuple[list[list[str]], list[int]]:
    """The rows of the CSV at `path` ('-': standard input) and the line each
    row starts on (a quoted cell may span lines)."""
    if str(path) == "-":  # a pipe: meshaid export --format hxl - | meshaid import-csv - ...
        text = sys.stdin.read(MAX_BYTES + 1)
        if len(text) > MAX_BYTES:
            raise ActionError(f"standard input holds more than {MAX_BYTES >> 20} MiB; "
                              "at most that can be imported at once: split it")
        return _parse_table(path, text.removeprefix("\ufeff"))
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ActionError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ActionError(f"{path} is not a regular file, so not a CSV file")
    if info.st_size > MAX_BYTES:
        raise ActionError(f"{path} is {info.st_size >> 20} MiB; at most {MAX_BYTES >> 20} MiB "
                          "can be imported at once: split it")
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            text = stream.read()
    except UnicodeDecodeError as exc:
        raise ActionError(f"{path} is not UTF-8 text (byte {exc.start}); save it as "
                          "CSV UTF-8") from None
    except OSError as exc:
        raise ActionError(f"cannot read {path}: {exc.strerror}") from None
    return _parse_table(path, text)


def _parse_table(path: Path, text: str) -> tuple[list[list[str]], list[int]]:
    if "\x00" in text:
        raise ActionError(f"{path} holds NUL bytes: it is not a CSV file")
    first = text.lstrip()[:1]
    if first in ("{", "["):
        raise ActionError(f"{path} holds JSON, not CSV (import-csv reads a table with one "
                          "row per item; save it as CSV)")
    if first == "<":
        raise ActionError(f"{path} holds XML or HTML, not CSV (save it as CSV)")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t")
    except csv.Error:
        dialect = csv.excel
    table: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        done = 0
        for row in reader:
            table.append(row)
            lines.append(done + 1)
            done = reader.line_num
    except csv.Error as exc:
        raise ActionError(f"{path} is not a CSV file: {exc}") from None
    if table and any("\n" in cell or "\r" in cell for cell in table[-1]):
        _check_quotes_closed(path, text, dialect, lines[-1])
    if not table:
        raise ActionError(f"{path} is empty")
    if len(table) > MAX_ROWS + TAG_ROW_SEARCH:
        raise ActionError(f"{path} has {len(table)} rows; at most {MAX_ROWS} can be imported "
                          "at once: split it")
    return table, lines


def _check_quotes_closed(path: Path, text: str, dialect: type[csv.Dialect] | csv.Dialect,
                         line: int) -> None:
    """The lenient reader swallows the rest of a file after a quote that is
    never closed into one cell; say so rather than report the rows it ate."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), dialect, strict=True):
            pass
    except csv.Error as exc:
        if "end of data" in str(exc):
            raise ActionError(f"{path}: the quote that opens a cell on line {line} is never "
                              "closed, so every line after it would be one cell") from None


def _check_defaults(defaults: dict[str, str]) -> dict[str, str]:
    for name in defaults:
        if name not in FIELDS:
            raise InvalidInput(f"--set {name}=...: unknown field; fields are {', '.join(FIELDS)}")
    return {k: v.strip() for k, v in defaults.items()}


def _match_columns(table: list[list[str]], mapping: dict[str, str],
                   plan: Plan) -> tuple[int, dict[str, int]]:
    """(index of the first data row, field -> column index)."""
    for name in mapping.values():
        if name not in FIELDS:
            raise InvalidInput(f"--map ...={name}: unknown field; fields are {', '.join(FIELDS)}")
    tag_row = next((i for i, row in enumerate(table[:TAG_ROW_SEARCH]) if tags.is_tag_row(row)),
                   None)
    headers = [h.strip() for h in table[tag_row - 1]] if tag_row else [
        h.strip() for h in table[0]]
    tag_cells = table[tag_row] if tag_row is not None else []
    columns: dict[str, int] = {}
    for source, name in mapping.items():
        if source.strip().startswith("#"):
            found = tags.first_match(source, tag_cells)
        else:
            wanted = source.strip().casefold()
            found = next((i for i, h in enumerate(headers) if h.casefold() == wanted), None)
        if found is None:
            raise InvalidInput(f"--map {source}={name}: no column {source!r} in the file")
        columns[name] = found
    taken = set(columns.values())
    if tag_row is not None:
        plan.hxl = True
        for name, patterns in TAG_PATTERNS.items():
            if name in columns:
                continue
            for pattern in patterns:
                found = tags.first_match(pattern, tag_cells, skip=taken)
                if found is not None:
                    columns[name] = found
                    taken.add(found)
                    break
        start = tag_row + 1
    else:
        norm = [_norm(h) for h in headers]
        for name, aliases in HEADER_ALIASES.items():
            if name in columns:
                continue
            found = next((i for alias in aliases for i, h in enumerate(norm)
                          if h == alias and i not in taken), None)
            if found is not None:
                columns[name] = found
                taken.add(found)
        start = 1
    plan.columns = {name: (tag_cells[i].strip() if tag_row is not None and i < len(tag_cells)
                           and tag_cells[i].strip() else headers[i] if i < len(headers)
                           else f"column {i + 1}") for name, i in columns.items()}
    return start, columns


def _norm(header: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.casefold()).split())


def _check_row(plan: Plan, line: int, values: dict[str, str], as_kind: str, now: float,
               default_minutes: int) -> None:
    kind_text = values.get("kind", "").lower()
    if kind_text and kind_text not in ("need", "offer"):
        if kind_text == "pledge":
            plan.skipped.append(Skipped(line, "a pledge: pledges name a need of their own "
                                        "network and are not imported"))
        else:
            plan.problems.append(Problem(line, f"kind {values['kind']!r} is not need or offer"))
        return
    if as_kind == "auto":
        if not kind_text:
            plan.problems.append(Problem(line, "the kind cell is empty (need or offer)"))
            return
        kind = r.Kind.NEED if kind_text == "need" else r.Kind.OFFER
    else:
        kind = KINDS[as_kind]
        if kind_text and kind_text != kind.label:
            plan.skipped.append(Skipped(line, f"an {kind_text}, not one of the {as_kind}"
                                        if kind_text == "offer" else
                                        f"a {kind_text}, not one of the {as_kind}"))
            return
    status = values.get("status", "").lower()
    if status in CLOSED_STATES:
        plan.skipped.append(Skipped(line, f"{status} at its source"))
        return
    if status not in OPEN_STATES:
        plan.problems.append(Problem(line, f"status {values['status']!r} is none of "
                                     + ", ".join(s for s in OPEN_STATES + CLOSED_STATES if s)))
        return
    if values.get("trust", "").lower() == "quarantine":
        plan.skipped.append(Skipped(line, "quarantined at its source (its author was not "
                                    "admitted there)"))
        return
    errors: list[str] = []

    def take(check: Any, *args: Any) -> Any:
        try:
            return check(*args)
        except InvalidInput as exc:
            errors.append(str(exc))
            return None

    text = take(inputs.text, values.get("text", ""), r.TEXT_MAX, "item")
    if text == "":
        errors.append("the item cell is empty")
    qty = take(cells.quantity, values.get("qty", ""))
    unit = take(cells.vocab, UNITS, cells.alias(cells.UNIT_ALIASES, values.get("unit", "")) or "pcs", "unit")
    category = take(cells.vocab, CATEGORIES, values.get("category", ""), "category")
    site = take(inputs.text, values.get("site", ""), r.SITE_MAX, "site")
    position = take(cells.position, values.get("lat", ""), values.get("lon", ""))
    minutes = take(cells.minutes, values.get("valid_until", ""), now, default_minutes)
    if minutes == -1:
        plan.skipped.append(Skipped(line, f"expired at its source ({values['valid_until']})"))
        return
    pack = take(inputs.pack, values.get("pack", ""))
    if kind is r.Kind.NEED:
        urgency = take(cells.vocab, URGENCIES,
                       cells.alias(cells.URGENCY_ALIASES, values.get("urgency", "")) or "normal", "urgency")
        substitutes = take(inputs.text, values.get("substitutes", ""), r.SUBSTITUTES_MAX,
                           "substitutes")
        deliver_to = take(inputs.text, values.get("deliver_to", ""), r.DELIVER_TO_MAX,
                          "deliver-to")
        needed_by = take(cells.needed_by, values.get("needed_by", ""), now)
        if not errors and (substitutes or deliver_to or needed_by or pack):
            take(inputs.ext_texts, site, text, substitutes, deliver_to)
        if errors:
            plan.problems.append(Problem(line, "; ".join(errors)))
            return
        plan.rows.append(Row(line, r.Need(category, text, qty, unit, urgency, minutes, site,
                                          position, substitutes, deliver_to, needed_by, pack)))
        return
    offer_type = take(cells.vocab, OFFER_TYPES, values.get("type", "") or "stock", "offer type")
    per = values.get("per", "")
    rate = take(cells.vocab, RATE_PERIODS, per, "rate period") if per else 0
    needs = take(inputs.categories, re.split(r"[,;]", values.get("inputs", "")), "input")
    windows = take(cells.windows, values.get("windows", ""), now)
    if windows == ():
        plan.skipped.append(Skipped(line, "its availability windows have all passed"))
        return
    if not errors and (pack or needs or windows):
        take(inputs.ext_texts, site, text)
    if errors:
        plan.problems.append(Problem(line, "; ".join(errors)))
        return
    plan.rows.append(Row(line, r.Offer(category, text, qty, unit, offer_type, rate, minutes,
                                       site, position, pack, needs, windows or ())))
