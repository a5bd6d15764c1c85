"""Fixtures of the interop tests: a port-like source ledger and fresh nodes,
all on the fixed clock of ledger_helpers (NOW)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from ledger_helpers import NOW, World

from meshaid.node import actions
from meshaid.node.ledger import identity
from meshaid.node.ledger import records as r
from meshaid.node.store import Store


@dataclass
class Fresh:
    store: Store
    key: Any

    @property
    def pub(self) -> bytes:
        return identity.public_bytes(self.key)


def fresh_node(seed: int = 9, now: float = NOW) -> Fresh:
    """A node that just founded its own network, its wall clock stopped at `now`."""
    store = Store.open(":memory:", wall=lambda: now)
    key = identity.key_from_seed(bytes([seed]) * 32)
    store.found_network(key, r.Charter("Relief"), now=now)
    store.set_meta("my_name", "Zed")
    store.set_meta("my_site", "Harbour office")
    actions.ensure_hello(store, key, now)
    return Fresh(store, key)


@pytest.fixture
def port() -> Store:
    """Needs, offers and pledges of the port story: a partly pledged critical
    need, a delivered pledge, a capacity offer with a position, a fulfilled
    need, a withdrawn offer and one record of a key that was never admitted."""
    w = World.build()
    net, anna, bo, cy = w.net, w.anna, w.bo, w.cy
    splints = net.need(anna, 60, "splints, aluminium", category=3, unit=0,
                       urgency=3, valid_for_min=2880, site="Pier 3 clinic",
                       substitutes="plaster casts", deliver_to="Ward B", needed_by_min=720,
                       pack=r.Pack(10, 0))
    water = net.need(anna, 2000, "drinking water, for 300 people", urgency=3,
                     valid_for_min=2880)
    blankets = net.need(bo, 180, "blankets, for 180 people", category=4, unit=0, urgency=2,
                        valid_for_min=0, site="School shelter",
                        position=r.Position.from_degrees(44.35012, 8.5214))
    bars = net.offer(bo, 140, "MSKU 448812: aluminium bar 20 mm, 6 m", category=9, unit=0,
                     valid_for_min=10080, site="Dock 4")
    blanks = net.offer(bo, 60, "cast aluminium blanks, up to 300 mm", category=34, unit=0,
                       offer_type=1, rate=2, valid_for_min=10080, site="Foundry",
                       position=r.Position.from_degrees(44.4, 8.9), inputs=(64,),
                       windows=(r.Window(0, 600), r.Window(1440, 600)))
    pots = net.offer(anna, 40, "stock pots 60 L", category=39, unit=0, valid_for_min=10080)
    records = [
        splints, water, blankets, bars, blanks, pots,
        net.pledge(bo, splints, 30, text="cast + machined", by_min=600),
        net.pledge(anna, splints, 24, text="PETG, printed overnight"),
    ]
    records.append(net.update(bo, records[-2], status=3, delivered=30, note="at the clinic"))
    records.append(net.update(anna, water, status=1))
    records.append(net.update(anna, pots, status=2))
    records.append(net.need(cy, 5, "unvetted request", valid_for_min=600))
    store = w.store(*records)
    store.wall = lambda: NOW
    return store
