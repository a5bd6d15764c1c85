"""The demo's story lines give a pledge its unit, like `list` and `show` do
("pledge: 1200 L towards 'water'", not "1200 towards")."""

from __future__ import annotations

from meshaid.node.sim.demo import _describe
from meshaid.node.sim.demo_story import STORY


def test_every_pledge_line_names_the_unit_of_its_need() -> None:
    units = {beat.label: beat.args["unit"] for beat in STORY if beat.action == "need"}
    pledges = [beat for beat in STORY if beat.action == "pledge"]
    assert pledges
    for beat in pledges:
        line = _describe(beat)
        assert f"pledge: {beat.args['qty']} {units[beat.args['need']]} towards" in line, line
