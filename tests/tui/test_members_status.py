"""Vouching from the members screen (with a confirmation naming the person and
key id), the status bar and mesh screen following the daemon's status row,
and plain words when there is no daemon."""

from __future__ import annotations

import asyncio
import json
import os

from ledger_helpers import NOW

from meshaid.node.store import Store
from meshaid.tui.screens.confirm import Confirm
from meshaid.tui.screens.members import MembersScreen
from meshaid.tui.screens.mesh import MeshScreen
from meshaid.tui.widgets.keyed_table import KeyedTable
from meshaid.tui.widgets.status_bar import StatusBar

from .helpers import Port, board_shows, static_text, wait_for


def write_status(port: Port, **fields: object) -> None:
    """Write a status row as the daemon does (meta 'daemon.status', JSON)."""
    status = {"updated_at": NOW - 2, "pid": os.getpid(), "link": "up", "link_detail": "",
              "device": {"node_num": 0xA1B2C3D4, "node_id": "!a1b2c3d4",
                         "long_name": "Pier 3 clinic", "hw_model": "TBEAM",
                         "firmware": "2.7.15", "region": "EU_868", "preset": "LONG_FAST"},
              "peers": [{"node": "!0000beef", "snr": 6.2, "hops_at_least": 1,
                         "last_heard": NOW - 30, "count": 17, "holds": 7}],
              "outbox": 3, "airtime_used_s": 42.0, "airtime_budget_s": 180.0,
              "last_sync": NOW - 75, "rejected": {"bad-signature": 2}, "send_failed": {},
              "stopped": False}
    status.update(fields)
    store = Store.open(port.home.db_path)
    try:
        store.set_meta("daemon.status", json.dumps(status))
    finally:
        store.close()


def test_vouch_from_the_members_screen(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_shows(app, "drinking water"), "the board")
            await pilot.press("3")
            assert isinstance(app.screen, MembersScreen)
            table = app.screen.query_one(KeyedTable)
            await wait_for(pilot, lambda: table.row_count == 3, "the members")
            cy = port.cy.pub.hex()
            assert table.get_row(cy)[3] == "not admitted"
            await pilot.press("down", "down")
            assert table.cursor_key == cy
            await pilot.press("v")
            assert isinstance(app.screen, Confirm)
            question = static_text(app.screen.query_one("#question"))
            assert f"Vouch for Cy (Dock), key id {port.cy.short.hex()}?" in question
            await pilot.press("y")
            await wait_for(pilot, lambda: table.get_row(cy)[3] == "member", "Cy admitted")
            await pilot.press("1")
            await wait_for(pilot, lambda: board_shows(app, "pallet jack"), "Cy's need trusted")

    asyncio.run(main())


def test_refusing_the_confirmation_signs_nothing(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            table = app.screen.query_one(KeyedTable)
            await wait_for(pilot, lambda: table.row_count == 3, "the members")
            await pilot.press("down", "r")
            assert isinstance(app.screen, Confirm)
            assert "Revoke Bo (Foundry)" in static_text(app.screen.query_one("#question"))
            await pilot.press("escape")
            await pilot.pause(0.2)
            assert table.get_row(port.bo.pub.hex())[3] == "member"

    asyncio.run(main())


def test_status_bar_and_mesh_follow_the_status_row(port: Port) -> None:
    async def main() -> None:
        app = port.app()
        async with app.run_test(size=(80, 24)) as pilot:
            bar = app.screen.query_one(StatusBar)
            await wait_for(pilot, lambda: "no radio connected / no daemon" in static_text(bar),
                           "the no-daemon notice")
            await pilot.press("2")
            assert isinstance(app.screen, MeshScreen)
            assert "No radio connected / no daemon." in static_text(app.screen.query_one("#mesh"))
            write_status(port)
            bar = app.screen.query_one(StatusBar)
            await wait_for(pilot, lambda: "radio up" in static_text(bar), "link up")
            line = static_text(bar)
            assert "outbox 3" in line and "42/180s" in line and "sync 1m ago" in line
            mesh = static_text(app.screen.query_one("#mesh"))
            assert "!0000beef" in mesh and "at least 1" in mesh and "6.2" in mesh
            assert "bad-signature 2" in mesh and "23 %" in mesh
            assert "Pier 3 clinic !a1b2c3d4 · TBEAM · fw 2.7.15 · EU_868 LONG_FAST" in mesh
            assert "7: 2 fewer than here" in mesh  # its digest said 7; 9 records here
            write_status(port, link="down", outbox=5)
            await wait_for(pilot, lambda: "radio down" in static_text(bar), "link down")
            assert "outbox 5" in static_text(bar)
            write_status(port, peers=[], outbox=6)  # our posts went out, to nobody heard
            await wait_for(pilot, lambda: "outbox 6" in static_text(bar), "no peers")
            assert "no peer heard yet" in static_text(bar) and "sync" not in static_text(bar)
            write_status(port, updated_at=NOW - 1200)  # longer than the daemon's STALE_S
            await wait_for(pilot, lambda: "no daemon (silent for 20m)" in static_text(bar),
                           "stale")
            write_status(port, stopped=True)
            await wait_for(pilot, lambda: "no daemon (stopped)" in static_text(bar), "stopped")

    asyncio.run(main())
