"""HXL export, then import-csv into a fresh node: the same needs and offers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import NOW

from meshaid.node.actions import ActionError
from meshaid.node.interop import csvin, files, hxl, importer
from meshaid.node.store import Store
from meshaid.node.store import queries as q

from .conftest import fresh_node

OPEN = ("open", "partial", "covered", "over-committed")


def essence(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a need or offer says, apart from who signed it and when."""
    return (row["kind"], row["text"], row["qty"], row["unit"], row["category"],
            row["urgency"], row["site"], tuple(row.get("position") or ()),
            row.get("offer_type"), row.get("per"), row.get("substitutes"),
            row.get("deliver_to"), json.dumps(row.get("pack")), tuple(row.get("inputs", ())),
            len(row.get("windows", ())))


def times(row: dict[str, Any]) -> list[float]:
    """needed-by and the windows' ends, unix seconds; a window under way at NOW
    starts at NOW (an import cannot sign a start in the past)."""
    out = [row["needed_by"]] if row.get("needed_by") else []
    return out + [t for a, b in row.get("windows", ()) for t in (max(a, NOW), b)]


def live(store: Store) -> list[dict[str, Any]]:
    return [row for row in hxl.rows(store, NOW)
            if row["kind"] in ("need", "offer") and row["status"] in OPEN
            and row["trust"] == "trusted"]


def export(store: Store, path: Path) -> int:
    return files.write_text(store, path, lambda out: hxl.write_csv(store, out, NOW))


def test_export_has_hxl_header_and_every_object(port: Store, tmp_path: Path) -> None:
    count = export(port, tmp_path / "port.csv")
    table = list(csv.reader(io.StringIO((tmp_path / "port.csv").read_text())))
    assert table[0][:4] == ["Id", "Kind", "Item", "Quantity"]
    assert table[1] == [c.tag for c in hxl.COLUMNS]
    assert count == len(table) - 2 == port.count("objects")
    rows = {r[0]: dict(zip(table[1], r)) for r in table[2:]}
    pledge = next(r for r in rows.values() if r["#item+name"] == "cast + machined")
    assert pledge["#meta+kind"] == "pledge" and pledge["#status"] == "delivered"
    assert pledge["#meta+ref"] and rows[pledge["#meta+ref"]]["#item+name"].startswith("splints")
    splints = rows[pledge["#meta+ref"]]
    assert (splints["#item+num+pledged"], splints["#item+num+remaining"]) == ("54", "6")
    assert splints["#severity"] == "critical" and splints["#date+end"].endswith("Z")
    blanks = next(r for r in rows.values() if r["#item+name"].startswith("cast aluminium"))
    assert (blanks["#capacity+type"], blanks["#capacity+period"]) == ("capacity", "day")
    assert (blanks["#geo+lat"], blanks["#geo+lon"]) == ("44.40000", "8.90000")
    assert blanks["#capacity+inputs"] == "metal"
    assert blanks["#date+windows"].count("/") == 2 and "; " in blanks["#date+windows"]
    assert (splints["#item+substitutes"], splints["#loc+delivery"], splints["#item+pack"],
            splints["#priority"]) == ("plaster casts", "Ward B", "10 pcs", "Urgent")


def test_round_trip_gives_the_same_needs_and_offers(port: Store, tmp_path: Path) -> None:
    export(port, tmp_path / "port.csv")
    node = fresh_node()
    plan = csvin.read(tmp_path / "port.csv", "auto", now=NOW)
    assert not plan.problems and plan.hxl
    importer.sign_plan(node.store, node.key, plan, now=NOW)
    source, copy = live(port), live(node.store)
    assert sorted(map(essence, copy)) == sorted(map(essence, source))
    assert len(source) == 4  # splints, blankets, bars, blanks: not the closed or unvetted ones
    by_text = {row["text"]: row for row in copy}
    for row in source:
        mine = by_text[row["text"]]
        assert mine["trust"] == "trusted" and mine["author"] == node.pub.hex()
        # times are kept to the minute, from the importing node's clock
        assert len(times(mine)) == len(times(row))
        assert all(-60 < a - b < 120 for a, b in zip(times(mine), times(row)))
        if row["valid_until"] is None:
            assert mine["valid_until"] is None or mine["valid_until"] >= NOW + 6 * 86400
        else:  # rounded up to the minute, from the importing node's clock
            assert 0 <= mine["valid_until"] - row["valid_until"] < 120
    reasons = sorted(s.reason.split(":")[0] for s in plan.skipped)
    assert reasons == ["a pledge", "a pledge", "fulfilled at its source",
                       "quarantined at its source (its author was not admitted there)",
                       "withdrawn at its source"]


def test_import_as_needs_skips_offers(port: Store, tmp_path: Path) -> None:
    export(port, tmp_path / "port.csv")
    plan = csvin.read(tmp_path / "port.csv", "needs", now=NOW)
    assert {type(row.body).__name__ for row in plan.rows} == {"Need"}
    assert sum("not one of the needs" in s.reason for s in plan.skipped) == 3


def test_importing_twice_from_an_export_of_the_copy_is_stable(port: Store,
                                                              tmp_path: Path) -> None:
    export(port, tmp_path / "a.csv")
    first = fresh_node(9)
    importer.sign_plan(first.store, first.key, csvin.read(tmp_path / "a.csv", "auto", now=NOW),
                       now=NOW)
    export(first.store, tmp_path / "b.csv")
    second = fresh_node(10)
    importer.sign_plan(second.store, second.key,
                       csvin.read(tmp_path / "b.csv", "auto", now=NOW), now=NOW)
    assert sorted(map(essence, live(second.store))) == sorted(map(essence, live(port)))


def test_export_never_overwrites_without_force(port: Store, tmp_path: Path) -> None:
    dest = tmp_path / "port.csv"
    dest.write_text("keep me")
    with pytest.raises(ActionError, match="already exists"):
        export(port, dest)
    assert dest.read_text() == "keep me"
    files.write_text(port, dest, lambda out: hxl.write_csv(port, out, NOW), force=True)
    assert dest.read_text().startswith("Id,Kind")
    assert [p.name for p in tmp_path.iterdir()] == ["port.csv"]  # no temporary file left


def test_failed_export_leaves_nothing(port: Store, tmp_path: Path) -> None:
    def broken(out: Any) -> int:
        out.write("half")
        raise OSError(28, "No space left on device")
    with pytest.raises(ActionError, match="No space left"):
        files.write_text(port, tmp_path / "x.csv", broken)
    assert list(tmp_path.iterdir()) == []


def test_json_export_is_list_json_with_a_header(port: Store, tmp_path: Path) -> None:
    files.write_text(port, tmp_path / "port.json", lambda out: hxl.write_json(port, out, NOW))
    doc = json.loads((tmp_path / "port.json").read_text())
    assert doc["format"] == "meshaid-export" and doc["network"]
    listed = json.loads(json.dumps(q.list_objects(port, q.Filters(), NOW)))
    assert [{k: r[k] for k in row} for r, row in zip(doc["records"], listed)] == listed
    splints = next(r for r in doc["records"] if r["text"].startswith("splints"))
    assert splints["substitutes"] == "plaster casts" and splints["priority"] == "Urgent"
    assert doc["hxl"]["#item+name"] == "Item"
