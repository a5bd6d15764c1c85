"""A terminal whose wall clock is far behind mesh time (no real-time clock, no
network time; issue 6) warns once, as the CLI does, and says nothing when the
clock is right. The ledger's records are dated at NOW; the app's clock is fixed."""

from __future__ import annotations

import asyncio

from ledger_helpers import NOW
from textual.widgets._toast import Toast

from meshaid.tui.app import MeshaidApp

from .helpers import Port, static_text, wait_for

DAY = 86400.0


def toasts(app: MeshaidApp) -> list[str]:
    return [static_text(t) for t in app.screen.query(Toast)]


def test_a_clock_ten_days_behind_the_mesh_is_warned_of_once(port: Port) -> None:
    async def main() -> None:
        app = port.app(clock=lambda: NOW - 10 * DAY)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await wait_for(pilot, lambda: app.clock_behind is not None, "the clock check")
            assert app.clock_behind is not None
            assert "behind the mesh" in app.clock_behind and "set the clock" in app.clock_behind
            await wait_for(pilot, lambda: any("behind the mesh" in t for t in toasts(app)),
                           "the clock warning")
            port.add(port.net.need(port.me, 5, "rice"))  # a change re-reads the status
            await pilot.pause(0.3)
            assert sum("behind the mesh" in t for t in toasts(app)) == 1
    asyncio.run(main())


def test_a_clock_that_is_right_gives_no_warning(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await wait_for(pilot, lambda: bool(app.where), "the status read")
            await pilot.pause(0.2)
            assert app.clock_behind is None
            assert not any("behind the mesh" in t for t in toasts(app))
    asyncio.run(main())
