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
