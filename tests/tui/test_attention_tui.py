"""The board shows uncovered urgent needs first and asks "still needed?"; one
keystroke (r) renews."""

from __future__ import annotations

import asyncio

import pytest
from ledger_helpers import NOW

from meshaid.node.actions import ActionError
from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store import queries as q
from meshaid.tui.widgets.keyed_table import KeyedTable
from meshaid.tui.writes import Writer

from .helpers import Port, board_text, static_text, wait_for


def test_uncovered_first_and_r_renews(port: Port) -> None:
    bread = port.net.sign(port.me, r.Need(2, "bread, for the kitchen", 50, 0, 0, 120))
    port.add(bread)
    rid = f"{bread.short_author.hex()}-{bread.seq}"
    later = NOW + 100 * 60  # water (critical) waited past an hour; bread has 20 min left

    async def main() -> None:
        app = port.app(clock=lambda: later)
        async with app.run_test(size=(80, 24)) as pilot:
            def summary() -> str:
                return static_text(app.screen.query_one("#summary"))
            await wait_for(pilot, lambda: "(r renews)" in summary(), "the renewal prompt")
            assert "still needed? 'bread, for the kitch' (r renews)" in summary()
            assert "1 UNCOVERED" in summary()
            lines = board_text(app).splitlines()
            assert lines[0].split(" | ")[2].startswith("drinking water")
            table = app.screen.query_one(KeyedTable)
            table.move_cursor(row=2)  # Bo's brackets: not ours, so r renews the bread
            await pilot.press("r")
            await wait_for(pilot, lambda: "(r renews)" not in summary(), "the renewal")
        store = Store.open(port.home.db_path)
        try:
            row = q.get_object(store, rid, later)
        finally:
            store.close()
        assert row["status"] == "open" and row["valid_until"] >= later + 120 * 60 - 5

    asyncio.run(main())


def test_r_on_a_need_that_never_expires_renews_nothing(port: Port) -> None:
    """The TUI renews for the validity a need was posted with; one posted to last
    for ever got a 7-day expiry (the same check as `meshaid renew` now refuses
    it, node/store/attention.py)."""
    lasting = port.net.sign(port.me, r.Need(2, "rice, for the shelter", 50, 0, 0, 0))
    port.add(lasting)
    rid = f"{lasting.short_author.hex()}-{lasting.seq}"
    writer = Writer(port.home.db_path, port.home.key(), lambda: NOW + 60)
    with pytest.raises(ActionError, match="never expires: nothing to renew"):
        writer.renew(rid)
    store = Store.open(port.home.db_path)
    try:
        assert q.get_object(store, rid, NOW + 60)["valid_until"] is None
    finally:
        store.close()
