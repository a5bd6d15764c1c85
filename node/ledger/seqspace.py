"""Sequence numbers after a key is restored (node/PROTOCOL.md, "Restoring a key").

Theory of operation
-------------------
A key restored from its paper backup, or a node put back from an old backup,
does not know the highest seq the lost node signed: the newest bundle it sees
may be older than the lost node. Reusing a seq would sign two records with the
same (author, seq), which every node flags as a fork.

So a restored key jumps to a **restore epoch**: its next seq is at least
`(hour + 2) << EPOCH_BITS`, where `hour` counts hours since the meshaid epoch
(2025-01-01 UTC) by the later of the wall clock and the newest record the node
holds. Every incarnation of a key signs on average fewer than 2^EPOCH_BITS
records an hour since it started (far above what a person or a LoRa duty cycle
allows), so by hour T every seq it signed is below `(T + 2) << EPOCH_BITS`,
whether it was the original key (which starts at 1) or an earlier restore, and
a restore at hour T starts above all of them. The jump is taken once, at the
first record signed after the restore, and kept as the key's seq floor.

Limits: the restoring node's clock must not be behind the lost node's last
record (the node uses its newest stored record when its wall clock is
behind); two restores of one key within the same hour that never see each
other's records can collide; epochs run out in 2054 (then the floor is the
highest seq seen plus 2^EPOCH_BITS, and a new key is the better cure).
"""

from __future__ import annotations

from .hlc import EPOCH_UNIX
from .records import SEQ_MAX

EPOCH_BITS = 10  # 1,024 seqs per hour of wall time


def restore_floor(unix_s: float, highest_seen: int) -> int:
    """The lowest seq a key restored at time `unix_s` may sign next, given the
    top of the run of that key's seqs this node holds (node/PROTOCOL.md, "Seq space")."""
    hour = max(0, int(unix_s - EPOCH_UNIX) // 3600)
    floor = (hour + 2) << EPOCH_BITS
    if floor > SEQ_MAX - (1 << 20):  # epochs exhausted: step past what was seen
        floor = highest_seen + (1 << EPOCH_BITS)
    return max(floor, highest_seen + 1)
