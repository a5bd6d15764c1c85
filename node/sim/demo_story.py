"""The port story that `meshaid demo` plays: eight sites of a blockaded port and
a late joiner, their radio links, and a timed script of what they post.

Times are virtual seconds from the moment the towers went down. Each beat is
one line of the narrative and at most one record (or one change to the mesh).
Records that later beats refer to (a pledge to a need, an update of one) carry
a label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ledger import records as r
from ..ledger.vocab import (
    CATEGORIES,
    OFFER_TYPES,
    RATE_PERIODS,
    STATUSES,
    UNITS,
    URGENCIES,
    code_for,
)
from ..store import Store
from ..store import queries as q
from ..store.store import parse_record_id


@dataclass(frozen=True)
class Site:
    slug: str  # directory name
    site: str  # what its hello says (at most 24 bytes)
    person: str


SITES = (
    Site("clinic", "Pier 3 clinic", "Anna"),  # 0: founded the network; the steward
    Site("dock", "Dock 4 manifests", "Rosa"),
    Site("machine-shop", "Machine shop", "Tomas"),  # 2: the user's seat
    Site("foundry", "Foundry", "Bo"),
    Site("print-farm", "3D-print farm", "Mei"),
    Site("pcb-shop", "PCB shop", "Ade"),
    Site("hydroponics", "Hydroponic farm", "Lena"),
    Site("kitchen", "Field kitchen", "Sami"),
    Site("shelter", "School shelter", "Ivo"),  # 8: joins late
)
STEWARD, SEAT, JOINER = 0, 2, 8
DISTRICT = (6, 7)  # the hydroponic farm and the field kitchen, across the canal bridge

# (a, b, SNR dB): who hears whom. The district hangs on two weak links.
LINKS = [
    [0, 1, 4.0], [0, 2, 2.0], [1, 2, 6.0], [2, 3, 7.0], [3, 4, 5.0], [2, 5, 3.0],
    [4, 5, 4.0], [5, 6, -3.0], [4, 7, -5.0], [6, 7, 8.0], [8, 0, 3.0], [8, 1, 1.0],
]


@dataclass(frozen=True)
class Beat:
    at: float
    site: int
    action: str  # need | offer | pledge | update | partition | heal | join | vouch | say
    say: str
    args: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def _need(text: str, qty: int, unit: str, category: str, urgency: str, **kw: Any) -> dict[str, Any]:
    return {"text": text, "qty": qty, "unit": unit, "category": category, "urgency": urgency,
            **kw}


def _offer(text: str, qty: int, unit: str, category: str, offer_type: str = "stock",
           per: str = "", **kw: Any) -> dict[str, Any]:
    return {"text": text, "qty": qty, "unit": unit, "category": category,
            "offer_type": offer_type, "per": per, **kw}


def _windows(*hours: tuple[int, int]) -> tuple[r.Window, ...]:
    """Availability windows from (start hour, length in hours) after posting."""
    return tuple(r.Window(start * 60, length * 60) for start, length in hours)


STORY = (
    Beat(0, STEWARD, "say", "The cell towers are down. The port's sites switch to their LoRa "
                             "radios; each keeps the whole ledger."),
    Beat(8, 1, "offer", "The dock lists a container from its manifests as stock",
         _offer("MSKU 448812: aluminium bar 20 mm, 6 m lengths", 140, "pcs", "logistics"),
         "bar"),
    Beat(11, 1, "offer", "The dock lists steel plate from a container",
         _offer("HLXU 730215: steel plate 6 mm, 2x1 m sheets", 30, "pcs", "metal",
                pack=r.Pack(2, code_for(UNITS, "m2", "unit"))), "steel"),
    Beat(14, STEWARD, "need", "The clinic needs drinking water, now",
         _need("drinking water, for 300 people", 2000, "L", "water", "critical"), "water"),
    Beat(22, STEWARD, "need", "The clinic needs splints",
         _need("splints, aluminium, adult size", 60, "pcs", "health", "critical"), "splints"),
    Beat(34, 1, "offer", "The dock lists bottled water from a stuck container",
         _offer("TGHU 120443: bottled water 1.5 L, 900 packs", 5400, "L", "water")),
    Beat(46, 7, "need", "The field kitchen needs cooking pots",
         _need("cooking pots, 50 L or more", 12, "pcs", "cooking", "high"), "pots"),
    Beat(52, STEWARD, "need", "The clinic needs armour plate for the ambulance",
         _need("armour plate, 6 mm, for the ambulance", 6, "m2", "transport", "high",
               substitutes="8 mm mild steel", needed_by_min=2 * 1440), "armour"),
    Beat(55, SEAT, "offer", "The machine shop offers cutting capacity",
         _offer("plasma cutting, steel to 12 mm", 8, "h", "cutting", "capacity", "day",
                inputs=(code_for(CATEGORIES, "metal", "category"),),
                windows=_windows((0, 10), (24, 10)))),
    Beat(58, 3, "offer", "The foundry offers casting capacity",
         _offer("cast aluminium blanks, up to 300 mm", 60, "pcs", "casting", "capacity",
                "day")),
    Beat(62, 3, "offer", "The foundry offers welding capacity",
         _offer("MIG welding, 2 bays, steel", 6, "h", "welding", "capacity", "day",
                inputs=(code_for(CATEGORIES, "metal", "category"),),
                windows=_windows((0, 12), (24, 12))), "welding"),
    Beat(66, 3, "pledge", "The foundry books welding for 2 m2 of the armour plate",
         {"need": "armour", "qty": 2, "by_min": 600, "text": "welds the first panel",
          "offer": "welding"}),
    Beat(70, 1, "pledge", "The dock pledges water from the container",
         {"need": "water", "qty": 1200, "by_min": 120, "text": "forklift to Pier 3"},
         "water-pledge"),
    Beat(84, 3, "pledge", "The foundry pledges splints cast from the dock's bar",
         {"need": "splints", "qty": 30, "by_min": 720, "text": "cast + machined"},
         "foundry-splints"),
    Beat(98, 4, "pledge", "The 3D-print farm pledges printed splints",
         {"need": "splints", "qty": 24, "by_min": 480, "text": "PETG, printed overnight"}),
    Beat(112, 1, "offer", "The dock lists kitchenware from a container",
         _offer("CMAU 991207: stock pots 60 L, steel", 40, "pcs", "cooking")),
    Beat(126, 1, "pledge", "The dock pledges pots to the field kitchen",
         {"need": "pots", "qty": 12, "by_min": 180, "text": "from CMAU 991207"}),
    Beat(140, 5, "need", "The PCB shop needs parts to build more relays",
         _need("SX1262 LoRa modules, for 10 relays", 10, "pcs", "electronics", "high"),
         "modules"),
    Beat(154, 4, "offer", "The 3D-print farm offers printing capacity",
         _offer("24 printers: PETG/ASA parts to 250 mm", 200, "pcs", "3d-printing",
                "capacity", "day")),
    Beat(170, SEAT, "say", "(Your seat is the machine shop: post an offer or pledge with n, o "
                           "or p on the board.)"),
    Beat(190, 6, "partition", "The canal bridge relay fails: the hydroponic farm and the "
                              "field kitchen are cut off"),
    Beat(205, 7, "need", "Cut off, the field kitchen needs fresh vegetables",
         _need("fresh vegetables, for 400 meals", 60, "kg", "food", "critical"), "veg"),
    Beat(220, 6, "pledge", "The hydroponic farm, cut off too, pledges greens",
         {"need": "veg", "qty": 45, "by_min": 240, "text": "lettuce, chard, herbs"}),
    Beat(232, SEAT, "say", "(The armour plate takes steel, cutting and welding: open it on "
                           "the board and press m for the chain of offers that makes it.)"),
    Beat(236, 1, "update", "Outside, the dock delivers the water it pledged",
         {"label": "water-pledge", "status": "delivered"}),
    Beat(250, 3, "update", "The foundry delivers its first splints",
         {"label": "foundry-splints", "status": "delivered", "delivered": 30}),
    Beat(266, STEWARD, "need", "The clinic needs oxygen concentrator repair",
         _need("oxygen concentrator: PCB fault, 2 units", 2, "pcs", "repair", "high"),
         "oxygen"),
    Beat(300, 6, "heal", "The bridge relay is back: the district and the rest catch up"),
    Beat(340, JOINER, "join", "The school shelter joins late with an empty ledger"),
    Beat(346, STEWARD, "vouch", "The clinic vouches for the school shelter's key"),
    Beat(366, JOINER, "need", "The school shelter needs blankets",
         _need("blankets, for 180 people", 180, "pcs", "shelter", "high")),
    Beat(400, 5, "pledge", "The PCB shop pledges to repair the oxygen concentrators",
         {"need": "oxygen", "qty": 2, "by_min": 1440, "text": "swap the mains boards"}),
    Beat(420, STEWARD, "update", "The clinic's water need is met: it marks it fulfilled",
         {"label": "water", "status": "fulfilled"}),
)
END_S = 480.0  # the story is over; the mesh keeps running


def body_for(beat: Beat, store: Store, labels: dict[str, tuple[int, str]], now: float) -> r.Body:
    """The record a need, offer, pledge or update beat signs; `labels` maps the
    labels of earlier beats to (site, record id)."""
    a = beat.args
    if beat.action == "need":
        return r.Need(code_for(CATEGORIES, a["category"], "category"), a["text"], a["qty"],
                      code_for(UNITS, a["unit"], "unit"),
                      code_for(URGENCIES, a["urgency"], "urgency"), 2 * 1440, "",
                      substitutes=a.get("substitutes", ""),
                      needed_by_min=a.get("needed_by_min", 0))
    if beat.action == "offer":
        return r.Offer(code_for(CATEGORIES, a["category"], "category"), a["text"], a["qty"],
                       code_for(UNITS, a["unit"], "unit"),
                       code_for(OFFER_TYPES, a["offer_type"], "type"),
                       code_for(RATE_PERIODS, a["per"], "per") if a["per"] else 0, 7 * 1440, "",
                       pack=a.get("pack"), inputs=a.get("inputs", ()),
                       windows=a.get("windows", ()))
    if beat.action == "pledge":
        short, seq = parse_record_id(labels[a["need"]][1])
        offer_seq = parse_record_id(labels[a["offer"]][1])[1] if "offer" in a else 0
        return r.Pledge(short, seq, a["qty"], a["by_min"], a["text"], offer_seq)
    if beat.action == "update":
        target = labels[a["label"]][1]
        current = q.get_object(store, target, now)
        status = {v: k for k, v in STATUSES.items()}[a["status"]]
        delivered = a.get("delivered", current["qty"] if a["status"] == "delivered" else 0)
        return r.Update(parse_record_id(target)[1], status, current["qty"], delivered, 0,
                        a.get("note", ""))
    raise ValueError(f"beat {beat.action!r} signs no record")
