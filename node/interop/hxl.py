"""Needs, offers and pledges as HXL-tagged CSV, or as JSON for other tools.

HXL (the Humanitarian Exchange Language) is a CSV convention: a row of
human headers, then a row of hashtags (`#item+name`, `#item+num`) that tools
match by pattern whatever the headers say. `COLUMNS` is the whole mapping; it
is documented in node/INTEROP.md and read back by `csvin`, so an export
imports into another node unchanged. Dates are ISO 8601 in UTC; empty cells
mean "none". The rows come from the store's derived state (the same dicts as
`meshaid list --json`): status, pledged and remaining are what this node
derives now, by its own wall clock and mesh time.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from ..ledger import identity
from ..store import Store
from ..store import queries as q
from ..store.store import parse_record_id


def iso(unix_s: float | None) -> str:
    """ISO 8601 UTC ('2026-12-02T07:00:00Z') of unix seconds, '' for None."""
    if unix_s is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s))


def _num(value: Any) -> str:
    return "" if value is None else str(value)


def _pos(index: int) -> Callable[[dict[str, Any]], str]:
    def get(row: dict[str, Any]) -> str:
        pos = row.get("position")
        return "" if not pos else f"{pos[index]:.5f}"
    return get


def _pack(row: dict[str, Any]) -> str:
    pack = row.get("pack")
    return f"{pack['count']} {pack['unit']}" if pack else ""


def _windows(row: dict[str, Any]) -> str:
    return "; ".join(f"{iso(a)}/{iso(b)}" for a, b in row.get("windows") or ())


def _field(name: str, only: str | None = None) -> Callable[[dict[str, Any]], str]:
    def get(row: dict[str, Any]) -> str:
        if only is not None and row["kind"] != only:
            return ""
        value = row.get(name)
        return "" if value is None else str(value)
    return get


@dataclass(frozen=True)
class Column:
    """One exported column: its human header, its HXL hashtag, the import field
    it fills (None: export only) and how to read it off a `list --json` row."""

    header: str
    tag: str
    field: str | None
    get: Callable[[dict[str, Any]], str]


COLUMNS: tuple[Column, ...] = (
    Column("Id", "#meta+id", None, _field("id")),
    Column("Kind", "#meta+kind", "kind", _field("kind")),
    Column("Item", "#item+name", "text", _field("text")),
    Column("Quantity", "#item+num", "qty", lambda row: _num(row["qty"])),
    Column("Unit", "#item+unit", "unit", _field("unit")),
    Column("Category", "#sector", "category", _field("category")),
    Column("Urgency", "#severity", "urgency", _field("urgency")),
    Column("Offer type", "#capacity+type", "type", _field("offer_type")),
    Column("Rate per", "#capacity+period", "per", _field("per")),
    Column("Priority", "#priority", None, _field("priority")),
    Column("Substitutes", "#item+substitutes", "substitutes", _field("substitutes")),
    Column("Pack", "#item+pack", "pack", _pack),
    Column("Inputs", "#capacity+inputs", "inputs", lambda row: ", ".join(row.get("inputs", ()))),
    Column("Available", "#date+windows", "windows", _windows),
    Column("Site", "#loc+name", "site", _field("site")),
    Column("Latitude", "#geo+lat", "lat", _pos(0)),
    Column("Longitude", "#geo+lon", "lon", _pos(1)),
    Column("Deliver to", "#loc+delivery", "deliver_to", _field("deliver_to")),
    Column("Needed by", "#date+needed", "needed_by", lambda row: iso(row.get("needed_by"))),
    Column("Posted", "#date+start", None, lambda row: iso(row["created"])),
    Column("Valid until", "#date+end", "valid_until", lambda row: iso(row["valid_until"])),
    Column("Deliver by", "#date+due", None, lambda row: iso(row.get("by"))),
    Column("Updated", "#date+updated", None, lambda row: iso(row["updated"])),
    Column("Status", "#status", "status", _field("status")),
    Column("For need", "#meta+ref", None, _field("need", "pledge")),
    Column("From offer", "#meta+offer", None, _field("offer", "pledge")),
    Column("Pledged", "#item+num+pledged", None, _field("pledged", "need")),
    Column("Remaining", "#item+num+remaining", None, _field("remaining", "need")),
    Column("Delivered", "#item+num+delivered", None, _field("delivered")),
    Column("Note", "#description+note", None, _field("note")),
    Column("Author", "#contact+name", None, _field("author_name")),
    Column("Author key", "#meta+author", None, _field("author")),
    Column("Trust", "#meta+trust", "trust", _field("trust")),
)


def rows(store: Store, now: float | None = None) -> list[dict[str, Any]]:
    """Every need, offer and pledge this node holds (quarantined ones too, marked
    by their trust), in the order of `meshaid list`, with the fields responders
    expect (substitutes, deliver-to, needed-by, pack, inputs, windows, priority)."""
    out = q.list_objects(store, q.Filters(), now)
    for row in out:
        row.update(q.extension_fields(store, *parse_record_id(row["id"])))
    return out


def write_csv(store: Store, out: TextIO, now: float | None = None) -> int:
    """Write the HXL CSV (header row, hashtag row, one row per object) to `out`;
    return the number of objects."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    writer.writerow([c.tag for c in COLUMNS])
    items = rows(store, now)
    for row in items:
        writer.writerow([c.get(row) for c in COLUMNS])
    return len(items)


def write_json(store: Store, out: TextIO, now: float | None = None) -> int:
    """Write one JSON object: the network, the time of export and `records`, the
    same objects as `meshaid list --json` (needs with their pledge ids); return
    the number of objects."""
    present = store.mesh_now() if now is None else now
    items = rows(store, present)
    network = store.network
    doc = {
        "format": "meshaid-export",
        "version": 1,
        "network": identity.network_code(network) if network else None,
        "exported": iso(present),
        "hxl": {c.tag: c.header for c in COLUMNS},
        "records": items,
    }
    json.dump(doc, out, indent=1, ensure_ascii=False)
    out.write("\n")
    return len(items)
