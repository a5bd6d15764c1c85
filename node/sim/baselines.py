"""Baseline sync protocols (B0, B1, B2, B3), drop-in replacements for the sync engine.

Each class has the public interface of `meshaid.node.sync.engine.Engine`
(`start`, `local_record`, `receive`, `set_channel_utilization`, `poll`,
`next_timer`, `stats`, `count`), so the simulator runner can swap it in and
run it side by side with the real protocol.

Theory of operation
-------------------
The baselines are what people do today with Meshtastic: they lean on the
firmware's managed flooding (hop limit `config.extra["hop_limit"]`, default
3, a scenario setting shared with meshaid) instead of relaying records
themselves.

Budget. By default a baseline obeys the same rule as meshaid: its own packets
pass `node.sync.budget.Budget` with limit `config.budget_s_per_hour` (the
node's own share of the duty-cycle cap) at urgent priority -- the whole share,
and the same per-minute burst rule -- and the firmware's duty-cycle limit is
the backstop. The bench's `baseline_budget = "cap"` switch gives baselines
the firmware's full cap instead; the table says which rule was used.

* **B0 `FullStateFlood`.** Every `b0_period` seconds (`config.extra`, default
  3600; first time at a random offset in [0, period) per node) a node floods
  its whole record set, packed into Records packets, at the hop limit. New
  local records wait for the next full-state flood. It copies the naive
  periodic re-broadcast of whole state that Meshtastic itself uses for small
  state (NodeInfo, position), applied to a whole ledger.
* **B1 `PushOnly`.** A local record is flooded once (at the hop limit) after
  `push_delay`, batched with the other fresh ones. Received records are
  ingested and never re-sent. No repair: a lost flood is a lost record. It
  copies how a Meshtastic channel message travels today: one managed flood,
  no acknowledgement, no history.
* **B2 `PushAndIdLists`** (baseline_lists.py), at its best. B1's push, plus id
  lists to neighbours (hop 0): each round (`b2_period`, default 900 s, random
  first offset) a node lists only the ids it learned since its last list
  (authored, received or repaired), sooner if they fill a packet
  (`b2_batch`, default 28); every `b2_full_every` rounds (default 16: 4 h) it
  lists everything it holds, the safety net for lost lists and late joiners;
  and when a list shows it lacks `b2_gap` (default 8) or more ids, the
  neighbourhood has drifted apart (a healed partition, a reboot), so it lists
  everything once, soon (at most once a round).
  A neighbour that lacks some listed ids requests them (hop 0) after a
  random back-off in `repair_window` (default 0.5-8 s); every node that holds
  a requested record answers (Records, hop 0) after its own back-off, and
  cancels per record if it hears someone else send that record first.
  Pull-only: records that the lister lacks are not pushed to it. A repaired
  record is new to the node that got it, so its next list carries it one
  neighbourhood further. `b2_full_every = 1` is the naive B2 (full list each
  round). It copies the IHAVE/IWANT exchange of gossip protocols such as
  libp2p gossipsub (announce ids of recent messages, pull the missing ones),
  scoped to one radio hop.
* **B3 `FilterGossip`** (baseline_gossip.py). B1's push, plus every
  `b3_period` (default 900 s) a Bloom filter of the ids a node holds (one
  packet, about 1 % false positives, salted per round) with a since-cursor (the HLC range it
  covers, newest window every other round, older windows in turn); neighbours
  answer (at hop 0, or `b3_hops` where masts relay our port) with the
  records in that range the filter lacks, suppressing
  duplicate answers, and a node that got many answers asks again soon. It
  copies the gossip sync of bitchat (a Bluetooth LE mesh chat: TTL floods
  plus periodic filters of seen message ids answered by peers), the closest
  existing design to a signed board on a mesh.

Order. A node keeps its ids in the order it stored them (store order at
start-up, then authoring and arrival order), and floods, lists and answers in
that order, so an author's hello travels before the records that need it.

Pacing. An app sending through the Meshtastic API blocks while the device's
16-slot TX queue is full. The baselines model that with a virtual queue: a
packet is released only while the air time already released ahead of it is
at most `baseline_backlog` full packets (`config.extra`, default 8). This is
no budget: it never holds traffic back for longer than the channel needs to
carry it.

Held records. A record the ledger holds back (its author not yet known) is
remembered; at the next period (B0, B2) it joins the set if the ledger has
since accepted it.

Wire format. Records (type 1) and Request (type 4) packets are those of
`meshaid.node.sync.messages`. B2's id list is a baseline-only packet, type
0x0E (`ID_LIST`), with the same 3-byte header (`u8 version << 4 | 0x0E`,
2-byte network tag) followed by one or more 8-byte record ids
(`record_id(raw)`, the first 8 bytes of SHA-256 of the record): at most
(payload_cap - 3) // 8 = 28 ids per packet at the default cap.

Bad input never raises: it is counted in `stats.dropped` under its reason.
"""

from __future__ import annotations

from .baseline_base import (
    FILTER,
    ID_LIST,
    FullStateFlood,
    PushOnly,
    decode_id_list,
    encode_id_list,
)
from .baseline_gossip import FilterGossip
from .baseline_lists import PushAndIdLists

__all__ = ["FILTER", "ID_LIST", "FilterGossip", "FullStateFlood", "PushAndIdLists", "PushOnly",
           "decode_id_list", "encode_id_list"]
