"""A quantity cell that is out of range is quoted as typed: float's rounding of
'99999999999999999999999' (99999999999999991611392) or the 309 digits of 1e308
are not what the user wrote."""

from __future__ import annotations

import pytest

from meshaid.node.actions import InvalidInput
from meshaid.node.interop import cells


@pytest.mark.parametrize(("cell", "said"), [
    ("99999999999999999999999", "at most 268435455, not 99999999999999999999999"),
    ("1e308", "at most 268435455, not 1e308"),
    ("9" * 5000, "not 99999999999999999999..."),
    ("-1e999", "at least 0, not -1e999"),
    ("268435456", "at most 268435455, not 268435456"),
])
def test_out_of_range_quantities_are_quoted_as_typed(cell: str, said: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        cells.quantity(cell)
    assert str(caught.value).endswith(said), str(caught.value)
    assert len(str(caught.value)) < 80


def test_quantities_in_range_still_read() -> None:
    assert [cells.quantity(c) for c in ("268435455", "1,200", " 7 ", "", "3.0")] == [
        268435455, 1200, 7, 0, 3]
