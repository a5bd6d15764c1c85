"""The board: needs and offers, most urgent first, then oldest; filters and
full-text search; quarantined records hidden unless asked for, then marked."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from meshaid.node.store import StoreError

from ..data import BOARD_KINDS, BoardFilter
from ..format import age, remaining_cell, urgency_cell, what_cell
from ..widgets.filter_bar import FilterBar
from ..widgets.keyed_table import KeyedTable
from .base import LiveScreen

# Column widths at 80 cells; "what" takes the rest of the terminal's width.
FIXED = {"urg": 4, "kind": 5, "left": 16, "site": 12, "age": 4}
WHAT_MIN = 18
WIDE = {"left": 20, "site": 24}  # what these grow to on a wide terminal (past 100 cells)


def column_widths(screen_width: int) -> dict[str, int]:
    """Each column's width, in display order, so that the table fits
    `screen_width`: past 100 cells the site and 'left' columns grow (a site's
    whole name, '180/180 pcs' with its bar) before the text takes the rest."""
    grown = dict(FIXED)
    spare = max(0, screen_width - 100)
    for key, most in WIDE.items():
        grown[key] = min(most, FIXED[key] + spare // 3)
    padding = 2 * (len(FIXED) + 1)  # one cell each side of every column
    what = max(WHAT_MIN, screen_width - sum(grown.values()) - padding - 2)
    return {"urg": grown["urg"], "kind": grown["kind"], "what": what, "left": grown["left"],
            "site": grown["site"], "age": grown["age"]}


class BoardScreen(LiveScreen):
    """Needs and offers; enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "compose('need')", "Need"),
        Binding("o", "compose('offer')", "Offer"),
        Binding("p", "compose('pledge')", "Pledge"),
        Binding("u", "compose('update')", "Update", show=False),
        Binding("r", "renew", "Renew", show=False),  # the summary says "(r renews)" when due
        Binding("slash", "search", "Search"),
        Binding("escape", "to_table", "Table", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = BoardFilter()
        self.rows: dict[str, dict[str, Any]] = {}
        self.flags: dict[str, Any] = {"uncovered": [], "renew": [], "expired_pledges": [],
                                      "quiet": []}
        self._width = 0

    def compose_body(self) -> ComposeResult:
        yield FilterBar(self.filters)
        yield Static("reading the ledger...", id="summary")
        yield KeyedTable(id="board")

    def on_mount(self) -> None:
        self._set_columns(self.size.width or 80)
        super().on_mount()
        self.query_one(KeyedTable).focus()

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._set_columns(self.size.width)
            self._show_rows()

    def _set_columns(self, width: int) -> None:
        self._width = width
        table = self.query_one(KeyedTable)
        table.clear(columns=True)
        for key, w in column_widths(width).items():
            table.add_column(key, width=w, key=key)

    # ------------------------------------------------------------ data

    def reload(self) -> None:
        self._load(self.filters, self.node.clock())

    @work(thread=True, exclusive=True, group="board")
    def _load(self, filters: BoardFilter, now: float) -> None:
        rows, sites = self.node.ledger.board(filters, now)
        flags = self.node.ledger.attention(self.node.me, now)
        self.show_later(self._loaded, filters, rows, sites, flags)

    def _loaded(self, filters: BoardFilter, rows: list[dict[str, Any]], sites: list[str],
                flags: dict[str, Any]) -> None:
        if filters != self.filters:
            return  # a newer filter's read is under way
        self.flags = flags
        first = {need["id"]: i for i, need in enumerate(flags["uncovered"])}
        rows = sorted(rows, key=lambda row: first.get(row["id"], len(first)))  # stable
        self.rows = {row["id"]: row for row in rows}
        self.query_one(FilterBar).set_sites(sites)
        self._show_rows()

    def _show_rows(self) -> None:
        hc = self.node.high_contrast
        now = self.node.clock()
        widths = column_widths(self._width or 80)
        cells = []
        for rid, row in self.rows.items():
            what = what_cell(row)
            what.truncate(widths["what"], overflow="ellipsis")
            site = Text(row["site"] or "")
            site.truncate(widths["site"], overflow="ellipsis")
            cells.append((rid, (urgency_cell(row["urgency"], hc), row["kind"], what,
                                remaining_cell(row, hc, widths["left"]), site,
                                age(row["created"], now))))
        self.query_one(KeyedTable).sync(cells)
        self._summary()

    def _summary(self) -> None:
        f = self.filters
        needs = sum(1 for row in self.rows.values() if row["kind"] == "need")
        parts = [f"{needs} needs, {len(self.rows) - needs} offers", f"status {f.status}"]
        flags = self.flags
        if flags["uncovered"]:
            parts.insert(0, f"{len(flags['uncovered'])} UNCOVERED")
        if flags["renew"]:
            due = flags["renew"][0]
            parts.insert(0, f"{due['question']} '{due['text'][:20]}' (r renews)")
        if flags["expired_pledges"]:
            parts.append(f"{len(flags['expired_pledges'])} pledges on expired needs")
        if flags["quiet"]:
            parts.append("quiet: " + ", ".join(q["site"] or q["short"] for q in flags["quiet"]))
        if not f.quarantined:
            parts.append("quarantined hidden")
        if f.text:
            parts.append(f"search '{f.text}'")
        self.query_one("#summary", Static).update(" · ".join(parts))

    # ------------------------------------------------------------ events

    @on(FilterBar.Changed)
    def _filter(self, event: FilterBar.Changed) -> None:
        self.filters = event.filters
        self.reload()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            from .detail import DetailScreen

            self.app.push_screen(DetailScreen(str(event.row_key.value)))

    def action_renew(self) -> None:
        """Renew the selected need or offer if it is this node's, else the first of
        this node's that is about to expire (or expired)."""
        selected = self.query_one(KeyedTable).cursor_key
        row = self.rows.get(selected or "")
        if row and row["author"] == self.node.me and row["kind"] in BOARD_KINDS:
            target = row["id"]
        elif self.flags["renew"]:
            target = self.flags["renew"][0]["id"]
        else:
            self.notify("nothing of yours to renew", severity="warning")
            return
        self._renew(target)

    @work(thread=True, exclusive=True, group="renew")
    def _renew(self, rid: str) -> None:
        try:
            update = self.node.writer.renew(rid)
        except StoreError as error:
            self.show_later(self._told, f"not renewed: {error}", "error")
            return
        self.show_later(self._told, f"{rid} renewed (update {update})", "information")

    def _told(self, message: str, severity: str) -> None:
        self.notify(message, severity=severity)  # type: ignore[arg-type]

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_to_table(self) -> None:
        self.query_one(KeyedTable).focus()

    def action_compose(self, kind: str) -> None:
        from .compose import ComposeScreen

        selected = self.query_one(KeyedTable).cursor_key
        row = self.rows.get(selected or "")
        prefill: dict[str, str] = {}
        if kind == "pledge" and row and row["kind"] == "need":
            prefill = {"need": row["id"], "qty": str(row["remaining"] or "")}
        if kind == "update" and row and row["author"] == self.node.me:
            prefill = {"target": row["id"]}
        self.app.push_screen(ComposeScreen(kind, prefill))
