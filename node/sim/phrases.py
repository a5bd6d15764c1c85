"""Free text for the bench's workload: what sites write in needs, offers and pledges.

Written for the bench, apart from the text coder's training lines
(node/ledger/textcorpus.py), so that the bytes the coder saves on a workload
are measured on text it was not tuned on. `{n}` is the posting node's number.
"""

from __future__ import annotations

NEED_TEXT = (
    "drinking water for the night shelter", "water containers, 10 L, with lids",
    "diesel, 200 L for the hospital generator", "batteries AA and AAA for torches",
    "rice and lentils for 80 people", "baby food, jars or powder", "hot soup for the queue",
    "painkillers and antiseptic cream", "gauze pads and elastic bandages",
    "a nurse to change dressings", "tarps to cover the broken roof",
    "timber to shore up the wall", "screws 5 x 60 and a drill", "a tow truck at bridge {n}",
    "a ride to the clinic for 3 patients", "spare fuse for the pump panel",
    "blankets for the gym, 60 people", "hygiene kits for women",
    "antenna cable, 10 m, N connectors", "charger for a Heltec radio",
    "clean bottles for the water plant", "gloves for the clean-up crew",
    "steel angle 40 x 40 for a frame", "aluminium tube 30 mm, 2 m",
    "brackets to mount solar panels", "bearing for the mill, 6204",
    "shelves for the depot {n}", "porridge oats for breakfast",
)

OFFER_TEXT = (
    "spare bunk beds at site {n}", "we weld trailers and frames",
    "turning and milling, small batches", "bent sheet brackets, zinc plated",
    "printed clips and enclosures", "tested relay boards, 868 MHz",
    "surplus lentils and beans", "two vans with drivers, mornings",
    "cold room for vaccines", "canned tomatoes, 30 boxes",
    "a generator we can lend at night", "repair of phones and radios",
    "sewing team: tarps and sacks", "stock of screws and bolts",
    "pumps and hoses for flooded cellars", "cooking for 150, lunch and dinner",
)

PLEDGE_TEXT = (
    "coming this afternoon", "with the van at 4", "bringing it by boat", "half now, half later",
    "pick it up at our gate", "from the dock stock", "after the night shift",
    "printing it now", "loaded on the truck",
)
