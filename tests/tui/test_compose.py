"""Composing with the keyboard: a need posted from the form is on the board and
stored signed by this node's key; bad input is flagged as typed and kept; a
pledge lowers what remains of a need."""

from __future__ import annotations

import asyncio

from meshaid.node.ledger import codec
from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.tui.screens.compose import ComposeScreen
from meshaid.tui.widgets.byte_meter import ByteMeter

from .helpers import Port, board_text, static_text, wait_for


def _last_record(port: Port, kind: r.Kind) -> bytes:
    store = Store.open(port.home.db_path)
    try:
        row = store.db.execute("SELECT raw FROM records WHERE kind = ? ORDER BY id DESC LIMIT 1",
                               [int(kind)]).fetchone()
    finally:
        store.close()
    return bytes(row[0])


def test_compose_a_need_see_it_on_the_board_stored_signed(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: "drinking water" in board_text(app), "the board")
            await pilot.press("n")
            assert isinstance(app.screen, ComposeScreen)
            app.screen.query_one("#f-text").value = "Diesel, 20 L can"
            await pilot.press("s")
            meter = app.screen.query_one("#m-text", ByteMeter)
            assert meter.used == len(b"Diesel, 20 L cans")
            await pilot.press("tab", *"12x")
            await pilot.pause()
            problems = static_text(app.screen.query_one("#problems"))
            assert "quantity: a whole number" in problems
            await pilot.press("ctrl+s")  # refused: nothing posted, the form keeps its text
            await pilot.pause()
            assert isinstance(app.screen, ComposeScreen)
            assert app.screen.values()["text"] == "Diesel, 20 L cans"
            await pilot.press("backspace", "0")
            await pilot.pause()
            assert "ready" in static_text(app.screen.query_one("#problems"))
            app.screen.query_one("#f-urgency").value = "critical"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "Diesel" in board_text(app), "the posted need")
            row = next(line for line in board_text(app).splitlines() if "Diesel" in line)
            assert row.startswith("CRIT | need | Diesel, 20 L cans | █████ 120 pcs |")  # 17 cells: no total
            rec = codec.decode(_last_record(port, r.Kind.NEED), port.net.id,
                               lambda short: [port.me.pub])
            assert rec.author == port.me.pub
            assert isinstance(rec.body, r.Need) and rec.body.text == "Diesel, 20 L cans"
            assert rec.body.qty == 120 and rec.body.urgency == 3

    asyncio.run(main())


def test_text_over_its_byte_budget_is_refused_as_typed(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("o")
            app.screen.query_one("#f-text").value = "ä" * 35
            await pilot.press("ä", "ä")  # 74 bytes: two over the 72-byte budget
            await pilot.pause()
            meter = app.screen.query_one("#m-text", ByteMeter)
            assert meter.used == 74
            assert "too long by 2" in static_text(meter)
            assert "what: 74 bytes, at most 72" in static_text(app.screen.query_one("#problems"))
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ComposeScreen)
            assert app.screen.values()["text"] == "ä" * 37

    asyncio.run(main())


def test_pledge_lowers_what_remains(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: "drinking water" in board_text(app), "the board")
            await pilot.press("p")  # the cursor is on the critical water need
            assert isinstance(app.screen, ComposeScreen)
            values = app.screen.values()
            rid = f"{port.water.short_author.hex()}-{port.water.seq}"
            assert values["need"] == rid and values["qty"] == "200"
            await pilot.press(*"4h", "shift+tab", *"50", "tab", "tab", *"water truck")
            await wait_for(pilot, lambda: app.screen.errors == {}, "the needs to load")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "150/200 L" in board_text(app), "the remaining drop")
            await pilot.press("enter")
            await wait_for(pilot, lambda: "water truck" in static_text(
                app.screen.query_one("#detail")), "the pledge in the detail")
            detail = static_text(app.screen.query_one("#detail"))
            assert "50 in 1 pledges" in detail

    asyncio.run(main())
