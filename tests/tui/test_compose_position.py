"""The compose forms take a position ('lat, lon' in degrees), checked as the
CLI's --lat/--lon are (node/actions/inputs.py), and store it in the record."""

from __future__ import annotations

import asyncio

from meshaid.node.ledger import codec
from meshaid.node.ledger import records as r
from meshaid.node.store import Store

from .helpers import Port, board_shows, open_form, static_text, wait_for


def _last(port: Port, kind: r.Kind) -> r.Record:
    store = Store.open(port.home.db_path)
    try:
        (raw,) = store.db.execute("SELECT raw FROM records WHERE kind = ? ORDER BY id DESC"
                                  " LIMIT 1", [int(kind)]).fetchone()
    finally:
        store.close()
    return codec.decode(bytes(raw), port.net.id, lambda short: [port.me.pub])


def test_need_and_offer_with_a_position_are_stored_with_it(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_shows(app, "drinking water"), "the board")
            form = await open_form(pilot, "n")
            form.query_one("#f-text").value = "stretchers"
            form.query_one("#f-position").value = "91, 5.3698"
            await pilot.pause()
            assert "outside the globe" in form.errors.get("position", ""), form.errors
            form.query_one("#f-position").value = "43.2965"
            await pilot.pause()
            assert "latitude, longitude" in static_text(form.query_one("#problems"))
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is form  # not posted
            form.query_one("#f-position").value = "43.2965, 5.3698"
            await pilot.pause()
            assert form.errors == {}
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: board_shows(app, "stretchers"), "the posted need")
            need = _last(port, r.Kind.NEED)
            assert isinstance(need.body, r.Need) and need.body.text == "stretchers"
            assert need.body.position == r.Position.from_degrees(43.2965, 5.3698)
            form = await open_form(pilot, "o")
            form.query_one("#f-text").value = "diesel generator"
            form.query_one("#f-position").value = "-33.8688 151.2093"
            await pilot.pause()
            assert form.errors == {}
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: board_shows(app, "diesel generator"), "the offer")
            offer = _last(port, r.Kind.OFFER)
            assert isinstance(offer.body, r.Offer)
            assert offer.body.position == r.Position.from_degrees(-33.8688, 151.2093)

    asyncio.run(main())
