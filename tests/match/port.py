"""A fixture ledger built from the demo's port story (node/sim/demo_story.py):
the same sites, needs, offers, pledges and updates, signed on the test clock
of ledger_helpers and stored in one node, with the sites placed around the
harbour so that distances count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger_helpers import NOW, Actor, Net

from meshaid.node.ledger import records as r
from meshaid.node.sim.demo_story import SITES, STORY, body_for
from meshaid.node.store import Store

# Around the old port of Marseille, a few hundred metres apart.
PLACES = [(43.2951, 5.3740), (43.3010, 5.3620), (43.2990, 5.3800), (43.3050, 5.3900),
          (43.2900, 5.3850), (43.2920, 5.3700), (43.2850, 5.3950), (43.2870, 5.4000),
          (43.2980, 5.3680)]


@dataclass
class Port:
    """The port's network: actors by site slug, record ids by story label."""

    net: Net
    actors: dict[str, Actor]
    records: list[r.Record] = field(default_factory=list)
    labels: dict[str, tuple[int, str]] = field(default_factory=dict)

    def id(self, label: str) -> str:
        return self.labels[label][1]

    def add(self, store: Store, slug: str, body: r.Body, label: str = "",
            at: int | None = None) -> r.Record:
        """Sign `body` as the site `slug` (at HLC `at`, default the next tick),
        keep it, store it."""
        rec = self.net.sign(self.actors[slug], body, at=at)
        self.records.append(rec)
        assert store.ingest(rec.raw, now=NOW).status == "accepted"
        if label:
            self.labels[label] = (0, f"{rec.short_author.hex()}-{rec.seq}")
        return rec


def build(store: Store | None = None, upto: float = 1e9) -> tuple[Port, Store]:
    """The port ledger up to story time `upto`, in one store."""
    net = Net()
    actors = {SITES[0].slug: net.founder}
    actors.update({s.slug: Actor(s.slug, 10 + i) for i, s in enumerate(SITES) if i})
    port = Port(net, actors)
    store = store or Store.open(":memory:")
    store.expect_network(net.code)
    setup: list[r.Record] = [net.charter]
    for (lat, lon), site in zip(PLACES, SITES, strict=True):
        setup.append(net.sign(actors[site.slug], r.Hello(site.person, site.site, 0,
                                                         r.Position.from_degrees(lat, lon))))
    for site in SITES[1:]:
        setup.append(net.vouch(net.founder, actors[site.slug]))
    for rec in setup:
        store.ingest(rec.raw, now=NOW)
    port.records.extend(setup)
    for beat in STORY:
        if beat.at > upto or beat.action not in ("need", "offer", "pledge", "update"):
            continue
        body = body_for(beat, store, port.labels, NOW)
        port.add(store, SITES[beat.site].slug, body, beat.label)
    return port, store


def lines_with(result: dict[str, Any], word: str) -> list[str]:
    from meshaid.node.match.explain import lines

    return [line for line in lines(result) if word in line]
