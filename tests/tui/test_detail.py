"""The detail screen: state, update history, pledges, trust, and first heard
over the radio with the hop count given as a lower bound."""

from __future__ import annotations

import asyncio

from ledger_helpers import NOW

from meshaid.node.store import Store
from meshaid.node.store.sync_port import SyncLedger
from meshaid.node.sync.ports import RxMeta
from meshaid.tui.screens.detail import DetailScreen

from .helpers import Port, board_shows, static_text, wait_for


def test_detail_shows_history_pledges_and_first_heard(port: Port) -> None:
    rush = port.net.need(port.bo, 8, "crucible tongs", category=34, unit=0, urgency=3,
                         site="Foundry")
    store = Store.open(port.home.db_path, wall=lambda: NOW)
    try:
        ledger = SyncLedger(store)
        result = ledger.sync_ingest(rush.raw, 0.0, RxMeta(sender=0xBEEF, snr=5.5, rssi=-91,
                                                          hops=2))
        assert result.status == "accepted"
    finally:
        store.close()
    port.add(port.net.update(port.bo, rush, qty=10, note="two more for the night shift"),
             port.net.pledge(port.me, rush, 4, text="from the clinic store"))

    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: board_shows(app, "crucible"), "the board")
            await pilot.press("down", "enter")  # critical, and newer than the water
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.record_id == f"{rush.short_author.hex()}-{rush.seq}"
            await wait_for(pilot, lambda: "first heard" in static_text(
                app.screen.query_one("#detail")), "the detail")
            text = static_text(app.screen.query_one("#detail"))
            assert "crucible tongs" in text
            assert "6/10 pcs" in text  # the update raised it to 10; 4 pledged
            assert "from node !0000beef, at least 2 hops, SNR 5.5 dB" in text
            assert "open qty 10 · two more for the night shift" in text
            assert "4 from Anna" in text and "from the clinic store" in text
            assert "trusted (author: member)" in text

    asyncio.run(main())
