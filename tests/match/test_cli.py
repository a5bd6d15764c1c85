"""`meshaid match` on the demo's port ledger, as `meshaid demo --keep DIR` leaves
it: the armour-plate chain at the machine shop, --json, help, and one-line
errors. The demo's clock is relative to now, like the real command's."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cli_helpers import meshaid, meshaid_batch

from meshaid.node.sim.demo import PortDemo
from meshaid.node.store import Store
from meshaid.node.store import queries as q


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The port's node directories after the armour-plate beats, and some ids."""
    base = tmp_path_factory.mktemp("port")
    demo = PortDemo(base, epoch=time.time(), say=None)
    try:
        demo.start()
        demo.events.run_until(240.0)
        ids = {label: rid for label, (_site, rid) in demo.labels.items()}
    finally:
        demo.close()
    return base, ids


def test_match_lists_the_chain_explained(port: tuple[Path, dict[str, str]]) -> None:
    base, ids = port
    seat = base / "machine-shop"
    store = Store.open(seat / "ledger.db")  # what the seat heard over the mesh
    try:
        assert q.get_object(store, ids["armour"])["text"].startswith("armour plate")
    finally:
        store.close()
    out = meshaid(seat, "match", ids["armour"])
    assert out.returncode == 0, out.stderr
    assert ("chain: armour plate: steel plate (Dock 4 manifests) → cutting (Machine shop) → "
            "welding (Foundry)") in out.stdout
    assert "bottleneck: welding" in out.stdout
    assert "category 1.00 x 0.30  metal does the 'steel plate' step of armour plate" in out.stdout
    assert "2 booked, 4 left" in out.stdout  # the foundry's first shift, partly pledged
    js = meshaid(seat, "match", ids["armour"], "--json")
    result = json.loads(js.stdout)
    assert result["chain"]["complete"] and result["chain"]["bottleneck"] == "welding"
    assert [lk["site"] for lk in result["chain"]["links"]] == [
        "Dock 4 manifests", "Machine shop", "Foundry"]


def test_match_on_an_offer_and_its_errors(port: tuple[Path, dict[str, str]]) -> None:
    base, ids = port
    seat = base / "machine-shop"
    runs = meshaid_batch([
        (seat, ["match", ids["welding"]]),
        (seat, ["match", "0badf00d-3"]),
        (seat, ["match", "not-an-id"]),
        (seat, ["match", ids["water-pledge"]]),
        (seat, ["match", "--help"]),
        (base / "nowhere", ["match", ids["armour"]]),
    ])
    welding, unknown, bad, pledge, helped, no_node = runs
    assert welding.returncode == 0, welding.stderr
    assert "window 1" in welding.stdout and "armour plate" in welding.stdout
    for run, code in ((unknown, 1), (bad, 2), (pledge, 1), (no_node, 1)):
        assert run.returncode == code, (run.stdout, run.stderr)
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "no need or offer with id 0badf00d-3" in unknown.stderr
    assert "Example" in helped.stdout and "meshaid match" in helped.stdout
