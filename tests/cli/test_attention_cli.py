"""meshaid list shows what needs attention first; meshaid attention and renew.
The node's records are signed a few hours in the past (relative to the wall
clock the CLI reads), so the flags are due when the commands run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli_helpers import meshaid_batch, one_line_error

from meshaid.node import actions
from meshaid.node.home import Home


def test_list_attention_and_renew(tmp_path: Path) -> None:
    start = time.time() - 3 * 3600
    home = Home(tmp_path / "node")
    store = home.create(name="Anna", site="Pier 3 clinic", role=0, new_network="Port", now=start)
    key = home.key()
    try:
        oxygen = actions.post_need(store, key, "oxygen", category="health", qty=4,
                                   urgency="critical", valid_for=190, now=start + 60)
        pots = actions.post_offer(store, key, "stock pots", category="cooking", qty=40,
                                  valid_for="7d", now=start + 120)
    finally:
        store.close()
    need = actions.record_id(oxygen.short_author, oxygen.seq)
    offer = actions.record_id(pots.short_author, pots.seq)
    path = tmp_path / "node"
    listing, flags, renewed, nothing, after, bad, none = meshaid_batch([
        (path, ["list"]),
        (path, ["attention", "--json"]),
        (path, ["renew", need]),
        (path, ["renew", "--all"]),
        (path, ["attention", "--json"]),
        (path, ["renew", "deadbeef-2"]),
        (path, ["renew"]),
    ])
    lines = listing.stdout.splitlines()
    assert lines[0].startswith(f"UNCOVERED critical need {need} 'oxygen' at Pier 3 clinic: "
                               "no pledge after 2h 5")
    assert lines[1].startswith(f"RENEW? your need {need} 'oxygen' expires in ")
    assert lines[1].endswith(f"still needed? meshaid renew {need}")
    assert offer in listing.stdout and offer not in "\n".join(lines[:2])
    before = json.loads(flags.stdout)
    assert [n["id"] for n in before["uncovered"]] == [need]
    assert [n["id"] for n in before["renew"]] == [need] and before["renew"][0]["renew_min"] == 190
    assert renewed.returncode == 0 and renewed.stdout.startswith(f"renewed {need}")
    assert nothing.stdout.strip() == "nothing of yours is about to expire"
    later = json.loads(after.stdout)
    assert later["renew"] == [] and [n["id"] for n in later["uncovered"]] == [need]
    assert "no need, offer or pledge with id deadbeef-2" in one_line_error(bad, 1)
    assert "--all" in one_line_error(none, 2)


def test_renew_of_a_need_that_never_expires(tmp_path: Path) -> None:
    """Renewing a need posted to last for ever gave it a 7-day expiry; now it is
    refused unless a duration is given, which then sets one."""
    home = Home(tmp_path / "node")
    store = home.create(name="Anna", site="Pier 3", role=0, new_network="Port")
    key = home.key()
    try:
        water = actions.post_need(store, key, "water", category="water", qty=4,
                                  valid_for="never")
    finally:
        store.close()
    need = actions.record_id(water.short_author, water.seq)
    path = tmp_path / "node"
    plain, timed, shown = meshaid_batch([
        (path, ["renew", need]),
        (path, ["renew", need, "--for", "2d"]),
        (path, ["show", need, "--json"]),
    ])
    assert "never expires: nothing to renew" in one_line_error(plain, 1)
    assert timed.returncode == 0 and timed.stdout.startswith(f"renewed {need}")
    assert json.loads(shown.stdout)["valid_until"] is not None
