"""The match view: m on a need's detail screen shows the ranked offers with
their factors and the production chain with its bottleneck; it follows the
ledger live (a pledge booking welding shows up in the foundry's window)."""

from __future__ import annotations

import asyncio

from ledger_helpers import Actor

from meshaid.node.ledger import records as r
from meshaid.tui.screens.detail import DetailScreen
from meshaid.tui.screens.match import MatchScreen

from .helpers import Port, static_text, wait_for


def test_m_on_a_need_shows_its_chain_and_follows_pledges(port: Port) -> None:
    net, me, bo = port.net, port.me, port.bo
    dock = Actor("Rosa", 5)
    armour = net.sign(me, r.Need(6, "armour plate, 6 mm, ambulance", 6, 7, 2, 2880,
                                 needed_by_min=2880))
    steel = net.sign(dock, r.Offer(64, "steel plate 6 mm, 2x1 m sheets", 30, 0, 0, 0, 10080,
                                   pack=r.Pack(2, 7)))
    cutting = net.sign(bo, r.Offer(43, "plasma cutting, steel", 8, 9, 1, 2, 10080,
                                   inputs=(64,), windows=(r.Window(0, 600),)))
    welding = net.sign(bo, r.Offer(33, "MIG welding, steel", 6, 9, 1, 2, 10080,
                                   inputs=(64,), windows=(r.Window(0, 720),
                                                          r.Window(1440, 720))))
    port.add(net.hello(dock, "Rosa", "Dock 4"), net.vouch(me, dock), armour, steel, cutting,
             welding)
    need_id = f"{armour.short_author.hex()}-{armour.seq}"

    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(100, 40)) as pilot:
            await app.push_screen(DetailScreen(need_id))
            await wait_for(pilot, lambda: "armour plate" in static_text(
                app.screen.query_one("#detail")), "the detail")
            await pilot.press("m")
            assert isinstance(app.screen, MatchScreen)

            def shown() -> str:
                return static_text(app.screen.query_one("#match"))

            await wait_for(pilot, lambda: "chain" in shown(), "the match")
            text = shown()
            assert "chain: armour plate: steel plate (Dock 4) → cutting (Foundry) → welding" in text
            assert "bottleneck: welding" in text
            assert "metal does the 'steel plate' step of armour plate" in text
            assert "0 booked, 6 left" in text
            # The foundry books 2 h of welding for 2 m2: the view follows.
            port.add(net.sign(bo, r.Pledge(armour.short_author, armour.seq, 2, 600, "panel 1",
                                           welding.seq)))
            await wait_for(pilot, lambda: "2 booked, 4 left" in shown(), "the booked window")
            assert "remaining 4 m2" in shown()
            await pilot.press("escape")
            assert isinstance(app.screen, DetailScreen)

    asyncio.run(main())
