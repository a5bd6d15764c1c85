"""export --format hxl|json|edxl-rm and import-csv through the real command line,
from the demo's port ledger to a fresh node and back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_helpers import found, listing, meshaid, meshaid_batch, ok, one_line_error

OPEN = ("open", "partial", "covered", "over-committed")


def essence(rows: list[dict]) -> list[tuple]:
    return sorted((r["kind"], r["text"], r["qty"], r["unit"], r["category"], r["urgency"],
                   r["site"], tuple(r.get("position") or ()), r.get("offer_type"), r.get("per"),
                   r.get("substitutes"), r.get("deliver_to"), json.dumps(r.get("pack")),
                   tuple(r.get("inputs", ())), len(r.get("windows", ())))
                  for r in rows if r["kind"] in ("need", "offer") and r["status"] in OPEN
                  and r["trust"] == "trusted")


def exported(home: Path, path: Path) -> list[dict]:
    """Every object with the fields responders expect, as --format json has them."""
    ok(home, "export", "--format", "json", str(path))
    return json.loads(path.read_text())["records"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's port ledger, kept (meshaid demo --headless --keep DIR)."""
    where = tmp_path_factory.mktemp("demo") / "port"
    ok(None, "demo", "--headless", "--keep", str(where), env_home=where.parent / "unused")
    return where


def test_demo_ledger_round_trips_through_hxl(demo: Path, tmp_path: Path) -> None:
    dock = demo / "dock"
    ok(dock, "export", "--format", "hxl", str(tmp_path / "port.csv"))
    fresh = tmp_path / "fresh"
    found(fresh, "Relief", "Zed")
    out = ok(fresh, "import-csv", str(tmp_path / "port.csv"), "--as", "auto")
    assert "signed" in out and "skipped" in out
    source, copy = exported(dock, tmp_path / "a.json"), exported(fresh, tmp_path / "b.json")
    assert essence(copy) == essence(source) and essence(source)


def test_edxl_json_and_refusals(demo: Path, tmp_path: Path) -> None:
    clinic = demo / "clinic"
    needs = [r for r in listing(clinic, "--kind", "need") if r["pledges"]]
    need = needs[0]
    xml, js = tmp_path / "need.xml", tmp_path / "port.json"
    js.write_text("keep")
    results = meshaid_batch([
        (clinic, ["export", "--format", "edxl-rm", "--need", need["id"], str(xml)]),
        (clinic, ["export", "--format", "json", str(js)]),
        (clinic, ["export", "--format", "json", "--force", str(js)]),
        (clinic, ["export", "--format", "edxl-rm", str(xml)]),
        (clinic, ["export", "--format", "hxl", "--need", need["id"], str(tmp_path / "a.csv")]),
        (clinic, ["export", "--format", "edxl-rm", "--need", "deadbeef-3", str(tmp_path / "b")]),
        (clinic, ["export", "--format", "hxl", str(clinic / "ledger.db")]),
        (clinic, ["export", "--format", "bogus", str(tmp_path / "c")]),
        (clinic, ["export", "--compact", str(tmp_path / "latest.bundle")]),
        (clinic, ["export", "--compact", "--format", "hxl", str(tmp_path / "d")]),
    ])
    assert results[0].returncode == 0, results[0].stderr
    assert f"with {need['pledges']} pledges" in results[0].stdout
    root = ET.parse(xml).getroot()
    assert root.tag.endswith("EDXLDistribution") and len(root.findall(
        "{urn:oasis:names:tc:emergency:EDXL:DE:1.0}contentObject")) == 1 + need["pledges"]
    assert "already exists" in one_line_error(results[1], 1)
    assert results[2].returncode == 0
    exported = json.loads(js.read_text())["records"]
    assert [{k: r[k] for k in row} for r, row in zip(exported, listing(clinic))] == listing(clinic)
    assert "--need" in one_line_error(results[3], 2)
    assert "--need goes with --format edxl-rm" in one_line_error(results[4], 2)
    assert "no need with id deadbeef-3" in one_line_error(results[5], 1)
    assert "never writes over it" in one_line_error(results[6], 1)
    one_line_error(results[7], 2)
    assert results[8].returncode == 0 and "superseded versions left out" in results[8].stdout
    lines = (tmp_path / "latest.bundle").read_text().splitlines()
    assert lines[0].startswith("meshaid-bundle") and len(lines) > 30
    assert f"exported {len(lines) - 1} records" in results[8].stdout
    assert "--compact goes with --format bundle" in one_line_error(results[9], 2)
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "b").exists()


def test_malformed_csv_rejected_row_by_row(tmp_path: Path) -> None:
    home = tmp_path / "node"
    found(home)
    bad = tmp_path / "bad.csv"
    bad.write_text("Item,Quantity,Category\nwater,20,water\nbread,ten,food\n,3,food\n"
                   "tents,4,camping\n")
    good = tmp_path / "manifest.csv"
    good.write_text("Container,Cargo,Loaded\nMSKU 1,aluminium bar,140\nTGHU 2,water 1.5 L,"
                    "5400\n")
    results = meshaid_batch([
        (home, ["import-csv", str(bad), "--as", "needs"]),
        (home, ["import-csv", str(good), "--as", "offers", "--dry-run", "--map", "Cargo=text",
                "--map", "Loaded=qty", "--set", "category=logistics"]),
        (home, ["import-csv", str(good), "--as", "offers", "--map", "Cargo=text", "--map",
                "Loaded=qty", "--set", "category=logistics", "--json"]),
        (home, ["import-csv", str(good), "--as", "offers"]),
        (home, ["import-csv", str(tmp_path / "missing.csv"), "--as", "offers"]),
        (home, ["import-csv", str(good), "--as", "offers", "--map", "Cargo"]),
        (home, ["import-csv", "--help"]),
    ])
    first = results[0]
    assert "nothing was signed" in one_line_error(first, 1)
    assert "line 3: quantity 'ten' is not a number" in first.stdout
    assert "line 4: the item cell is empty" in first.stdout
    assert "line 5: unknown category 'camping'" in first.stdout
    assert "would sign 2 offers" in results[1].stdout
    report = json.loads(results[2].stdout)
    assert len(report["signed"]) == 2 and report["columns"]["text"] == "Cargo"
    assert "no column says what the item is" in one_line_error(results[3], 2)
    assert "cannot read" in one_line_error(results[4], 1)
    assert "LEFT=RIGHT" in one_line_error(results[5], 2)
    assert "Example" in results[6].stdout
    offers = listing(home, "--kind", "offer")
    assert sorted((o["text"], o["qty"], o["category"]) for o in offers) == [
        ("aluminium bar", 140, "logistics"), ("water 1.5 L", 5400, "logistics")]
    assert not [r for r in listing(home) if r["kind"] == "need"]


def test_progress_on_stderr_for_a_large_manifest(tmp_path: Path) -> None:
    home = tmp_path / "node"
    found(home)
    big = tmp_path / "big.csv"
    big.write_text("Item,Quantity,Category\n" + "".join(
        f"crate {i},{i},logistics\n" for i in range(1, 602)))
    proc = meshaid(home, "import-csv", str(big), "--as", "offers", "--valid-for", "2d")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["signed 500/601", "signed 601/601"]
    assert "signed 601 offers" in proc.stdout
