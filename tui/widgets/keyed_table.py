"""`KeyedTable`: a DataTable brought up to date by key, so that a live feed
never makes the cursor or the scroll position jump."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable


class _Ordered(Text):
    """A first-column cell that carries its row's place in the wanted order
    (DataTable.sort hands the key function cell values, never row keys)."""

    place: int = 0


def _ordered(value: Any) -> _Ordered:
    text = value if isinstance(value, Text) else Text(str(value))
    cell = _Ordered(text.plain, style=text.style, justify=text.justify, end="")
    cell.spans = list(text.spans)
    return cell


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.spans == b.spans and str(a.style) == str(b.style)
    return bool(a == b)


class KeyedTable(DataTable[Any]):
    """A DataTable whose rows are replaced by `sync(rows)`: cells that changed
    are updated in place, rows are added and removed by key, and the rows are
    put in the given order; the cursor stays on the row it was on."""

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", False)
        super().__init__(**kwargs)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.row_count:
            return None
        row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if row_key.value is None else str(row_key.value)

    def sync(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Make the table show `rows` ((key, cells), in order) with as few changes
        as possible."""
        keep = self.cursor_key
        scroll = (self.scroll_x, self.scroll_y)
        wanted = {key for key, _ in rows}
        for row_key in list(self.rows):
            if row_key.value not in wanted:
                self.remove_row(row_key)
        columns = list(self.columns)
        for place, (key, cells) in enumerate(rows):
            first = _ordered(cells[0])
            first.place = place
            values = [first, *cells[1:]]
            if key in self.rows:
                old = self.get_row(key)
                for column, old_value, new_value in zip(columns, old, values):
                    if column == columns[0]:
                        if not _same(old_value, new_value):
                            self.update_cell(key, column, new_value)
                        else:
                            old_value.place = place
                    elif not _same(old_value, new_value):
                        self.update_cell(key, column, new_value)
            else:
                self.add_row(*values, key=key)
        if rows:
            self.sort(columns[0], key=lambda cell: cell.place)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)
        self.scroll_to(*scroll, animate=False, immediate=True)
