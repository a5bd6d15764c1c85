"""The production chain's lines write quantities as the factor lines do (the
demo's cutting link said 'has 15.92' beside '15.9 h available')."""

from __future__ import annotations

from meshaid.node.match.explain import _chain


def link(step: str, needed: float | None, available: float | None) -> dict[str, object]:
    return {"step": step, "offer": "b51a69c8-2", "text": "plasma cutting", "site": "Machine shop",
            "author_name": "Tomas", "needed": needed, "available": available, "unit": "h",
            "alternatives": []}


def test_chain_quantities_have_at_most_one_decimal() -> None:
    chain = {"complete": True, "why": "armour plate", "bottleneck": "welding",
             "links": [link("cutting", 2, 15.916666), link("welding", 4.0, 10.0),
                       link("paint", None, 0.25)]}
    out = _chain(chain)
    assert out[1].endswith("needs 2 h, has 15.9")
    assert out[2].endswith("needs 4 h, has 10  <- bottleneck")
    assert out[3].endswith("has 0.2 h") or out[3].endswith("has 0.3 h")
