"""`meshaid check` names tombstones collected before schema m008, which keep no
signature: the node's state still falls back to their versions, but it cannot
send those records to others (node/PROTOCOL.md §5, node/store/gc.py)."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import ok
from ledger_helpers import NOW

from meshaid.node.home import Home
from meshaid.node.ledger import records as r
from meshaid.node.store import gc


def test_check_names_tombstones_without_a_signature(tmp_path: Path) -> None:
    home = Home(tmp_path / "node")
    store = home.create(name="Anna", site="Pier 3", role=1, new_network="Port", now=NOW)
    key = home.key()
    need = store.author(r.Need(1, "water", 10, 4), key, now=NOW + 1)
    for qty in (9, 8):
        store.author(r.Update(need.seq, 0, qty, 0, 0, ""), key, now=NOW + 10 - qty)
    assert gc.collect(store).records == 1
    store.close()
    assert "tombstones" not in ok(home.path, "check")
    store = home.open_store()
    with store.write():
        store.db.execute("UPDATE collected SET sig = NULL")  # as made before m008
    store.close()
    out = ok(home.path, "check")
    assert "tombstones  1 collected before schema m008 keep no signature" in out
    assert out.rstrip().endswith("the ledger is sound")
