"""import-csv reading: plain manifests, column mapping, and malformed files
refused row by row with reasons, nothing signed."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_helpers import NOW

from meshaid.node.actions import ActionError, InvalidInput
from meshaid.node.interop import csvin, importer, tags
from meshaid.node.ledger import records as r
from meshaid.node.store import retention

from .conftest import fresh_node

MANIFEST = """\
Container,Contents,Count,Unit,Expires
MSKU 448812,"aluminium bar 20 mm, 6 m",140,pieces,
TGHU 120443,"bottled water 1.5 L",5400,litres,2026-06-30
CMAU 991207,stock pots 60 L,"1,200",pcs,2026-06-01T12:00:00+02:00
"""


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_manifest_with_mapping_and_defaults(tmp_path: Path) -> None:
    plan = csvin.read(write(tmp_path, MANIFEST), "offers", now=NOW,
                      mapping={"Contents": "text", "Count": "qty", "Expires": "valid_until"},
                      defaults={"category": "logistics", "site": "Dock 4"})
    assert not plan.problems and not plan.skipped and not plan.hxl
    assert plan.columns["text"] == "Contents" and plan.columns["qty"] == "Count"
    bodies = [row.body for row in plan.rows]
    assert [b.qty for b in bodies] == [140, 5400, 1200]
    assert [b.unit for b in bodies] == [0, 4, 0]
    assert all(isinstance(b, r.Offer) and b.category == 9 and b.site == "Dock 4"
               for b in bodies)
    assert bodies[0].valid_for_min == 7 * 1440  # no date: --valid-for's default
    # 2026-06-30T00:00Z is 2,822,400 s after NOW (2026-05-28T20:26:40Z): rounded up
    assert bodies[1].valid_for_min == -(-(1_782_777_600 - NOW) // 60)
    assert bodies[2].valid_for_min == -(-(1_780_308_000 - NOW) // 60)


def test_every_bad_row_reported_with_its_reason(tmp_path: Path) -> None:
    text = (
        "Item,Quantity,Unit,Category,Urgency,Latitude,Longitude,Valid until\n"
        "water,200,L,water,critical,,,\n"                          # line 2: fine
        ",5,pcs,water,high,,,\n"                                  # 3: no item
        "bread,ten,pcs,food,high,,,\n"                            # 4: qty
        "rice,-3,kg,food,high,,,\n"                               # 5: negative
        "soap,2.5,pcs,sanitation,low,,,\n"                        # 6: fraction
        "tents,3,tents,shelter,low,,,\n"                          # 7: unit
        "fuel,3,L,petrol,low,,,\n"                                # 8: category
        "masks,3,pcs,health,whenever,,,\n"                        # 9: urgency
        "cots,3,pcs,shelter,low,95,10,\n"                         # 10: position
        "cots,3,pcs,shelter,low,45,,\n"                           # 11: half position
        "radios,3,pcs,communications,low,,,next week\n"           # 12: date
        f"{'x' * 80},1,pcs,other,low,,,\n"                        # 13: too long
        "jerrycans,999999999,pcs,water,low,,,\n"                  # 14: too many
        "cable,3,m,electronics,low,,,2020-01-01\n"                # 15: expired: skipped
        "pumps,zero,bags,energy,low,,,\n"                         # 16: two faults
    )
    plan = csvin.read(write(tmp_path, text), "needs", now=NOW)
    assert [row.line for row in plan.rows] == [2]
    reasons = {p.line: p.reason for p in plan.problems}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16]
    assert "item cell is empty" in reasons[3]
    assert "'ten' is not a number" in reasons[4]
    assert "at least 0" in reasons[5]
    assert "not a whole number" in reasons[6]
    assert "unknown unit 'tents'" in reasons[7]
    assert "unknown category 'petrol'" in reasons[8]
    assert "unknown urgency 'whenever'" in reasons[9]
    assert "outside the globe" in reasons[10]
    assert "give both latitude and longitude" in reasons[11]
    assert "not ISO 8601" in reasons[12]
    assert "only 72 fit" in reasons[13]
    assert "at most" in reasons[14]
    assert "not a number" in reasons[16] and "unknown unit 'bags'" in reasons[16]
    assert [(s.line, s.reason.split(" (")[0]) for s in plan.skipped] == [
        (15, "expired at its source")]


def test_a_plan_with_problems_signs_nothing(tmp_path: Path) -> None:
    node = fresh_node()
    before = node.store.count("records")
    plan = csvin.read(write(tmp_path, "Item,Quantity,Category\nwater,1,water\nx,y,water\n"),
                      "needs", now=NOW)
    assert len(plan.rows) == 1 and len(plan.problems) == 1
    with pytest.raises(ActionError, match="nothing was signed"):
        importer.sign_plan(node.store, node.key, plan, now=NOW)
    assert node.store.count("records") == before


def test_signing_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    node = fresh_node()
    before = node.store.count("records")
    rows = "".join(f"item {i},{i},water\n" for i in range(1, 8))
    plan = csvin.read(write(tmp_path, "Item,Quantity,Category\n" + rows), "needs", now=NOW)
    calls = []
    real = importer.sign

    def failing(store, key, body, now=None):  # type: ignore[no-untyped-def]
        calls.append(body)
        if len(calls) == 5:
            raise ActionError("the disk is full")
        return real(store, key, body, now)
    monkeypatch.setattr(importer, "sign", failing)
    with pytest.raises(ActionError, match="disk is full"):
        importer.sign_plan(node.store, node.key, plan, now=NOW)
    assert node.store.count("records") == before
    assert node.store.count("objects") == 0


def test_progress_is_reported_for_large_manifests(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 5)
    node = fresh_node()
    rows = "".join(f"crate {i},{i},pcs,logistics\n" for i in range(1, 13))
    plan = csvin.read(write(tmp_path, "Item,Quantity,Unit,Category\n" + rows), "offers", now=NOW)
    seen: list[tuple[int, int]] = []
    importer.sign_plan(node.store, node.key, plan, progress=lambda d, t: seen.append((d, t)),
                       now=NOW)
    assert seen == [(5, 12), (10, 12), (12, 12)]
    assert node.store.count("objects") == 12


def test_quota_refuses_an_import_past_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "LIVE_QUOTA", 5)
    node = fresh_node()
    rows = "".join(f"crate {i},{i},logistics\n" for i in range(1, 7))
    plan = csvin.read(write(tmp_path, "Item,Quantity,Category\n" + rows), "offers", now=NOW)
    with pytest.raises(Exception, match="quota of 5"):
        importer.sign_plan(node.store, node.key, plan, now=NOW)
    assert node.store.count("objects") == 0


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("Quantity,Unit\n1,pcs\n", "no column says what the item is"),
    ('[{"text": "water", "qty": 3}]\n', "holds JSON, not CSV"),
    ('  {"needs": []}', "holds JSON, not CSV"),
    ("<?xml version='1.0'?><EDXLDistribution/>", "XML or HTML"),
    ('Item,Quantity\nwater,3\n"rice,2\nbeans,4\n', "opens a cell on line 3 is never closed"),
])
def test_files_refused_whole(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises((ActionError, InvalidInput), match=message):
        csvin.read(write(tmp_path, text), "needs", now=NOW)


def test_a_closed_quote_spanning_lines_is_one_cell(tmp_path: Path) -> None:
    plan = csvin.read(write(tmp_path, 'Item,Quantity,Category\n"rice\nbags",2,food\n'),
                      "needs", now=NOW)
    assert not plan.problems and len(plan.rows) == 1


def test_binary_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "zero.csv").write_bytes(b"Item\n\x00\x00\x00\n")
    with pytest.raises(ActionError, match="NUL"):
        csvin.read(tmp_path / "zero.csv", "needs", now=NOW)
    (tmp_path / "latin.csv").write_bytes("Item\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(ActionError, match="not UTF-8"):
        csvin.read(tmp_path / "latin.csv", "needs", now=NOW)
    with pytest.raises(ActionError, match="not a regular file"):
        csvin.read(tmp_path, "needs", now=NOW)


def test_auto_needs_a_kind_column_and_map_needs_real_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "Item,Category\nwater,water\n")
    with pytest.raises(InvalidInput, match="no kind column"):
        csvin.read(path, "auto", now=NOW)
    with pytest.raises(InvalidInput, match="no column 'Weight'"):
        csvin.read(path, "needs", now=NOW, mapping={"Weight": "qty"})
    with pytest.raises(InvalidInput, match="unknown field"):
        csvin.read(path, "needs", now=NOW, mapping={"Item": "colour"})
    with pytest.raises(InvalidInput, match="unknown field"):
        csvin.read(path, "needs", now=NOW, defaults={"colour": "red"})


def test_hxl_tag_patterns_and_mapping_by_tag(tmp_path: Path) -> None:
    text = ("What,Left,How many,Unit,Sector\n"
            "#item+name,#item+num+remaining,#item+num+stock,#item+unit,#sector+cluster\n"
            "tarpaulins,3,40,pcs,shelter\n")
    plan = csvin.read(write(tmp_path, text), "offers", now=NOW)
    assert plan.hxl and plan.columns["qty"] == "#item+num+stock"  # not the remaining column
    assert plan.rows[0].body.qty == 40 and plan.rows[0].body.category == 4
    plan = csvin.read(write(tmp_path, text), "offers", now=NOW,
                      mapping={"#item+num+remaining": "qty"})
    assert plan.rows[0].body.qty == 3


def test_builtin_tag_matching() -> None:
    cells = ["#item+name", "#item +num + pledged", "#ITEM+Num", "#item+num+unit"]
    assert tags.first_match("#item+num-pledged", cells) == 2
    assert tags.first_match("#item+num", cells) == 1
    assert tags.first_match("#item+num-pledged-unit", cells, skip={2}) is None
    assert tags.is_tag_row(["#a+b", "", " #c "]) and not tags.is_tag_row(["#a", "text"])
    with pytest.raises(InvalidInput, match="not an HXL tag pattern"):
        tags.first_match("item", cells)


def test_fields_responders_expect(tmp_path: Path) -> None:
    text = ("Item,Category,Pack,Substitutes,Deliver to,Needed by,Inputs,Available\n"
            "splints,health,10 pcs,plaster casts,Ward B,2026-05-29T08:26:40Z,,\n"
            "splints,health,ten pcs,,,,,\n"
            f"splints,health,,{'s' * 45},{'d' * 22},,,\n"
            "splints,health,,,,yesterday,,\n")
    plan = csvin.read(write(tmp_path, text), "needs", now=NOW)
    need = plan.rows[0].body
    assert isinstance(need, r.Need)
    assert (need.pack, need.substitutes, need.deliver_to, need.needed_by_min) == (
        r.Pack(10, 0), "plaster casts", "Ward B", 12 * 60)
    reasons = {p.line: p.reason for p in plan.problems}
    assert "not a count and a unit" in reasons[3]
    assert "share 72 bytes" in reasons[4]
    assert "not ISO 8601" in reasons[5]
    offers = ("Item,Category,Type,Inputs,Available\n"
              "blanks,casting,capacity,\"metal, fuel\","
              "2026-05-28T18:00:00Z/2026-05-28T22:00:00Z; 2026-05-29T08:00:00Z/2026-05-29T16:00Z\n"
              "blanks,casting,capacity,metal,2026-05-20T08:00:00Z/2026-05-20T16:00:00Z\n"
              "blanks,casting,capacity,steel,2026-05-29T08:00:00Z\n"
              "blanks,casting,capacity,,2026-05-29T16:00:00Z/2026-05-29T08:00:00Z\n")
    plan = csvin.read(write(tmp_path, offers), "offers", now=NOW)
    offer = plan.rows[0].body
    assert isinstance(offer, r.Offer) and offer.inputs == (64, 68)
    # NOW is 2026-05-28T20:26:40Z: the first window is under way, so it starts now
    assert offer.windows == (r.Window(0, 94), r.Window(693, 481))  # rounded outwards
    assert [(s.line, s.reason) for s in plan.skipped] == [
        (3, "its availability windows have all passed")]
    reasons = {p.line: p.reason for p in plan.problems}
    assert "unknown input 'steel'" in reasons[4] and "not START/END" in reasons[4]
    assert "ends before it starts" in reasons[5]


def test_lines_are_file_lines_and_stdin_works(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    text = ('Item,Quantity,Category\n"water,\nbottled",x,water\nbread,3,food\nrice,y,food\n')
    plan = csvin.read(write(tmp_path, text), "needs", now=NOW)
    assert [p.line for p in plan.problems] == [2, 5]  # a quoted cell spans lines 2-3
    assert [row.line for row in plan.rows] == [4]
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("\ufeffItem,Category\nsoap,sanitation\n"))
    plan = csvin.read(Path("-"), "needs", now=NOW)
    assert [row.body.text for row in plan.rows] == ["soap"]
