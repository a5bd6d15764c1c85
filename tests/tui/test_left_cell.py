"""The board's 'left' column (16 cells) shows the figures whole: '█████ 180/180 pcs'
is 17 cells and was cut to '180/180 pc'; what does not fit drops the total (the
bar shows the share), and what fits is unchanged."""

from __future__ import annotations

from meshaid.tui.format import remaining_cell
from meshaid.tui.screens.board import FIXED


def need(left: int, qty: int, unit: str) -> dict[str, object]:
    return {"kind": "need", "qty": qty, "remaining": left, "unit": unit}


def test_figures_that_do_not_fit_drop_the_total() -> None:
    width = FIXED["left"]
    cell = remaining_cell(need(180, 180, "pcs"), width=width).plain
    assert cell == "█████ 180 pcs" and len(cell) <= width
    assert remaining_cell(need(800, 2000, "L"), width=width).plain == "██░░░ 800/2000 L"
    assert remaining_cell(need(6, 60, "pcs"), width=width).plain == "░░░░░ 6/60 pcs"
    assert remaining_cell(need(180, 180, "pcs")).plain == "█████ 180/180 pcs"  # detail: whole


def test_wide_terminals_give_site_and_left_room_first() -> None:
    """At 80 cells the columns keep their least widths; past 100 the site and
    'left' columns grow (to a site's whole name, to '180/180 pcs' with its bar)
    and the table still fits the terminal."""
    from meshaid.tui.screens.board import WIDE, column_widths

    narrow, wide = column_widths(80), column_widths(160)
    assert narrow == {**FIXED, "what": narrow["what"]} and list(narrow) == list(wide)
    assert (wide["site"], wide["left"]) == (WIDE["site"], WIDE["left"])
    for width in (80, 100, 120, 160, 240):
        cols = column_widths(width)
        assert sum(cols.values()) + 2 * len(cols) + 2 <= width
    cell = remaining_cell(need(180, 180, "pcs"), width=wide["left"]).plain
    assert cell == "█████ 180/180 pcs"


def test_ages_ahead_of_our_clock_fit_the_column() -> None:
    from meshaid.tui.format import age

    assert [age(1000 - s, 1000) for s in (5, 90, 7200, -30, -1200, -7200, -200000)] == [
        "5s", "1m", "2h", "0s", "+20m", "+2h", "+2d"]
    assert all(len(age(1000 + s, 1000)) <= FIXED["age"] for s in (61, 3000, 80000, 9e5))
