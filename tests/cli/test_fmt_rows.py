"""What `list` says in its quantity column: a closed need says what it was and
what was delivered, not how much is "left"; durations under a minute do not
read as zero ('usually every 0m')."""

from __future__ import annotations

from meshaid.node.cli import fmt


def need(status: str, **kw: object) -> dict:
    return {"kind": "need", "status": status, "qty": 2000, "unit": "L", "remaining": 800,
            "delivered": 1200, "per": "", **kw}


def test_a_closed_need_says_what_was_delivered_not_what_is_left() -> None:
    assert fmt.detail(need("fulfilled")) == "2000 L, 1200 delivered"
    assert fmt.detail(need("withdrawn", delivered=0)) == "2000 L"
    assert fmt.detail(need("partial")) == "800/2000 L left"
    assert fmt.detail(need("expired")) == "800/2000 L left"  # renewing reopens it


def test_spans_under_a_minute_are_not_zero() -> None:
    assert fmt.span(0) == "under 1m"
    assert fmt.span(59) == "under 1m"
    assert fmt.span(60) == "1m"
    assert fmt.span(3 * 3600 + 600) == "3h 10m"
    assert fmt.span(50 * 3600) == "2d 2h"
