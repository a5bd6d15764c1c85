"""`FilterBar`: full-text search and the board's filters (kind, category,
urgency, status, site, quarantined). It owns no data: it posts `Changed` with
a new `BoardFilter` whenever the user changes something."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Checkbox, Input, Select

from meshaid.node.ledger.vocab import CATEGORIES, URGENCIES

from ..data import STATUSES, BoardFilter


def _options(values: list[str]) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class FilterBar(Horizontal):
    """Two compact rows: search and 'quarantined too'; then the five menus."""

    DEFAULT_CSS = """
    FilterBar {
        height: 2;
        layout: grid;
        grid-size: 5 2;
        grid-columns: 1fr 1fr 1fr 1fr 1fr;
        grid-gutter: 0 1;
    }
    FilterBar #search { column-span: 3; }
    FilterBar #quarantined { column-span: 2; height: 1; border: none; padding: 0; }
    FilterBar Select { width: 1fr; }
    """

    class Changed(Message):
        def __init__(self, filters: BoardFilter) -> None:
            super().__init__()
            self.filters = filters

    def __init__(self, filters: BoardFilter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = filters

    def compose(self) -> ComposeResult:
        f = self.filters
        yield Input(f.text, placeholder="/ search text, site, notes", id="search", compact=True)
        yield Checkbox("show quarantined", f.quarantined, id="quarantined", compact=True)
        yield Select(_options(["need", "offer"]), prompt="kind: all", id="kind", compact=True,
                     value=f.kind or Select.NULL)
        yield Select(_options([c for c in CATEGORIES.values()]), prompt="categ.: all",
                     id="category", compact=True, value=f.category or Select.NULL)
        yield Select(_options([u for u in reversed(URGENCIES.values())]),
                     prompt="urgency: any", id="urgency", compact=True,
                     value=f.urgency or Select.NULL)
        yield Select(_options(list(STATUSES)), prompt="status", id="status", compact=True,
                     allow_blank=False, value=f.status)
        yield Select([], prompt="site: all", id="site", compact=True)

    def set_sites(self, sites: list[str]) -> None:
        """Offer these sites in the site menu, keeping the current choice."""
        menu = self.query_one("#site", Select)
        current = self.filters.site
        if current and current not in sites:
            sites = [*sites, current]
        options = _options(sites)
        if getattr(self, "_site_options", None) == options:
            return
        self._site_options = options
        with menu.prevent(Select.Changed):
            menu.set_options(options)
            if current:
                menu.value = current

    def _post(self, **changes: Any) -> None:
        new = self.filters.with_(**changes)
        if new != self.filters:
            self.filters = new
            self.post_message(self.Changed(new))

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        event.stop()
        self._post(text=event.value.strip())

    @on(Checkbox.Changed, "#quarantined")
    def _quarantined(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._post(quarantined=event.value)

    @on(Select.Changed)
    def _menu(self, event: Select.Changed) -> None:
        event.stop()
        name = event.select.id or ""
        value = None if event.value is Select.NULL else str(event.value)
        if name == "status":
            self._post(status=value or "active")
        else:
            self._post(**{name: value})
