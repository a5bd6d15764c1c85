"""Helpers for the TUI tests: a node directory holding a small port network
(deterministic keys and clock), and helpers to drive the app with Pilot.

The node's own key is the founder's (a steward). Bo (Foundry) is a member;
Cy (Dock) has said hello but is not admitted, so Cy's records are quarantined.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger_helpers import NOW, Actor, Net
from textual.css.query import NoMatches

from meshaid.node.home import Home
from meshaid.node.ledger import identity
from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.tui.app import MeshaidApp, create_app
from meshaid.tui.screens.compose import ComposeScreen

SIZES = [(80, 24), (120, 40)]


@dataclass
class Port:
    home: Home
    net: Net
    me: Actor
    bo: Actor
    cy: Actor
    water: r.Record
    splints: r.Record
    brackets: r.Record
    cy_need: r.Record

    def add(self, *records: r.Record) -> None:
        """Ingest records as another process would (its own connection)."""
        store = Store.open(self.home.db_path)
        try:
            for rec in records:
                outcome = store.ingest(rec.raw, NOW)
                assert outcome.ok, outcome
        finally:
            store.close()

    def app(self, **kwargs: Any) -> MeshaidApp:
        kwargs.setdefault("clock", lambda: NOW)
        kwargs.setdefault("poll_s", 0.05)
        return create_app(self.home.path, **kwargs)


def make_port(tmp_path: Path) -> Port:
    net = Net(name="Port")
    me, bo, cy = net.founder, Actor("Bo", 3), Actor("Cy", 4)
    home = Home(tmp_path / "node")
    home.path.mkdir()
    identity.write_key_file(home.key_path, me.key)
    store = Store.open(home.db_path)
    store.expect_network(net.code)
    store.set_meta("my_name", "Anna")
    store.set_meta("my_site", "Pier 3 clinic")
    store.close()
    water = net.need(me, 200, "drinking water", urgency=3, site="Pier 3 clinic")
    splints = net.need(me, 30, "splints, aluminium", category=3, unit=0, urgency=2)
    brackets = net.offer(bo, 40, "M6 brackets, laser + brake", offer_type=1, rate=2,
                         site="Machine shop")
    cy_need = net.need(cy, 12, "pallet jack wheels", category=9, unit=0, urgency=2, site="Dock")
    p = Port(home, net, me, bo, cy, water, splints, brackets, cy_need)
    p.add(net.charter, net.hello(me, "Anna", "Pier 3 clinic"), net.hello(bo, "Bo", "Foundry"),
          net.hello(cy, "Cy", "Dock"), net.vouch(me, bo), water, splints, brackets, cy_need)
    return p


async def wait_for(pilot: Any, condition: Callable[[], Any], what: str = "condition",
                   timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (workers, polls, messages). A
    condition that queries a widget the screen does not show yet does not hold
    (a key that pushes a screen pushes it a moment later)."""
    deadline = time.monotonic() + timeout

    def holds() -> bool:
        try:
            return bool(condition())
        except NoMatches:
            return False

    while not holds():
        if time.monotonic() > deadline:
            shown = [static_text(w) for w in pilot.app.screen.query("Static")]
            raise AssertionError(f"timed out waiting for {what} on {pilot.app.screen!r}: {shown}")
        await pilot.pause(0.02)


async def open_form(pilot: Any, key: str) -> ComposeScreen:
    """Press `key` and wait until its compose form has mounted and focused its
    first field: a value set before that is selected by the focus, and the
    next key typed replaces it."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ComposeScreen)
                   and pilot.app.screen.focused is not None, f"the form that {key!r} opens")
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, ComposeScreen)
    return form


def board_text(app: MeshaidApp) -> str:
    """The board table's rows as plain text, one line per row."""
    from meshaid.tui.widgets.keyed_table import KeyedTable

    table = app.screen.query_one(KeyedTable)
    lines = []
    for row in table.ordered_rows:
        cells = table.get_row(row.key)
        lines.append(" | ".join(getattr(c, "plain", str(c)) for c in cells))
    return "\n".join(lines)


def board_shows(app: MeshaidApp, text: str) -> bool:
    """Whether the board is the screen shown and one of its rows holds `text`
    (False, not an error, while a form that ctrl+s has posted is still closing)."""
    from meshaid.tui.widgets.keyed_table import KeyedTable

    return bool(app.screen.query(KeyedTable)) and text in board_text(app)


def env_without_tty() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MESHAID_DEBUG", None)
    return env


def static_text(widget: Any, width: int = 120) -> str:
    """What a Static shows, as plain text (rich renderables printed at `width`)."""
    import io

    from rich.console import Console

    shown = widget.render()
    if not hasattr(shown, "plain"):
        shown = widget.content
    if hasattr(shown, "plain"):
        return str(shown.plain)
    out = io.StringIO()
    if isinstance(shown, str):
        return shown
    Console(file=out, width=width, color_system=None).print(shown)
    return out.getvalue()
