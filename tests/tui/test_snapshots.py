"""Snapshots of every screen at 80x24 and 120x40 (pytest-textual-snapshot).

They are SVGs under __snapshots__/ next to this file; after an intended change
to what a screen shows, look at the report and run
`pytest tests/tui/test_snapshots.py --snapshot-update`."""

from __future__ import annotations

from typing import Any

import pytest

from meshaid.tui.widgets.keyed_table import KeyedTable

from .helpers import SIZES, Port, board_text, static_text, wait_for
from .test_members_status import write_status


async def _board(pilot: Any) -> None:
    await wait_for(pilot, lambda: "drinking water" in board_text(pilot.app), "the board")


async def _detail(pilot: Any) -> None:
    await _board(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: "first heard" in static_text(
        pilot.app.screen.query_one("#detail")), "the detail")


async def _match(pilot: Any) -> None:
    await _detail(pilot)
    await pilot.press("m")
    await wait_for(pilot, lambda: "considered" in static_text(
        pilot.app.screen.query_one("#match")), "the match")


async def _compose(pilot: Any) -> None:
    await _board(pilot)
    await pilot.press("n")
    pilot.app.screen.query_one("#f-text").value = "Diesel für den Generato"
    await pilot.press("r", "tab", "1", "x")
    await pilot.pause()


async def _mesh(pilot: Any) -> None:
    await pilot.press("2")
    await wait_for(pilot, lambda: "peers" in static_text(pilot.app.screen.query_one("#mesh")),
                   "the mesh")


async def _mesh_no_daemon(pilot: Any) -> None:
    await pilot.press("2")
    await wait_for(pilot, lambda: "No radio" in static_text(pilot.app.screen.query_one("#mesh")),
                   "the mesh")


async def _members(pilot: Any) -> None:
    await pilot.press("3")
    await wait_for(pilot, lambda: pilot.app.screen.query_one(KeyedTable).row_count == 3,
                   "the members")


SCREENS = {"board": _board, "detail": _detail, "match": _match, "compose": _compose,
           "mesh": _mesh,
           "mesh_no_daemon": _mesh_no_daemon, "members": _members}


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(port: Port, snap_compare: Any, screen: str, size: tuple[int, int]) -> None:
    if screen == "mesh":
        write_status(port)
    assert snap_compare(port.app(), terminal_size=size, run_before=SCREENS[screen])


def test_high_contrast_board(port: Port, snap_compare: Any) -> None:
    assert snap_compare(port.app(high_contrast=True), terminal_size=(80, 24), run_before=_board)
