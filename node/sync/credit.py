"""Air-time credit: what a node may spend answering whoever claims to be X.

Theory of operation
-------------------
Every packet on the channel is unauthenticated, so a node cannot tell a
requester from an attacker using its number. It can count air time, which no
one can forge: a request that took t seconds on air cost its sender t
seconds. So each answering node keeps, per claimed sender, an account in air
seconds (a token bucket):

* a packet addressed to us (PULL, MORE, a targeted REQUEST or FILTER)
  credits its sender with its own air time; a broadcast packet (DIGEST,
  SKETCH, RECORDS, an untargeted REQUEST) credits it with its air time
  divided by the number of nodes that heard it too (our direct peers, at
  least one), since each of them keeps such an account; a packet addressed
  to another node, credited whole there, earns a share here only from a
  neighbour that syncs with us (answers.py `heard`);
* an answer to that sender is sent only if its account covers the answer's
  air time, which is then debited.

Summed over the mesh, the air honest nodes spend answering a sender is then
at most the air that sender spent (plus, for a spoofed sender, what the real
node of that number spent and did not use). An honest requester that wants a
large answer pads its request (zero ids, a padded PULL or MORE) to the size
of the answer: it pays for what it asks for.

The sketches that numbers we do not know, heard directly, prompt with their
digests are paid alike, from one pool all of them share (answers.py `pool`:
each may come in a fresh number). A stranger's broadcast earns both its
account and the pool; what is spent from either is gone from both
(`spent`, `take`), so its air pays once.

Accounts are capped at `cap` seconds, forgotten `hold` seconds after their
last credit, and at most `size` are kept (the least recently credited go
first), so spoofed senders cannot grow the table.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# What paid for an answer (answers.py `send_paid`), or why it did not go.
CREDIT = "credit"  # the asker's account: the bulk band
ALLOWANCE = "allowance"  # a member's allowance (ticket.py): the catch-up band
HELD = "held"  # our budget held it back: nothing paid, it waits


@dataclass
class _Account:
    tokens: float
    at: float  # last credit


class Credits:
    def __init__(self, cap: float, hold: float, size: int) -> None:
        self.cap = cap
        self.hold = hold
        self.size = size
        self._acc: OrderedDict[int, _Account] = OrderedDict()
        # Told of every debit (who, air, now): answers.py keeps the strangers' pool
        # in step with strangers' own accounts.
        self.spent: Callable[[int, float, float], None] | None = None

    def __len__(self) -> int:
        return len(self._acc)

    def _expire(self, now: float) -> None:
        acc = self._acc
        while acc:
            first = next(iter(acc.values()))
            if first.at + self.hold > now and len(acc) <= self.size:
                break
            acc.popitem(last=False)

    def earn(self, who: int, air: float, now: float) -> None:
        """Credit `who` with `air` seconds (capped)."""
        acc = self._acc.pop(who, None)
        if acc is None:
            acc = _Account(0.0, now)
        acc.tokens = min(self.cap, acc.tokens + air)
        acc.at = now
        self._acc[who] = acc
        self._expire(now)

    def balance(self, who: int, now: float) -> float:
        """What `who` may still be answered with, in air seconds."""
        self._expire(now)
        acc = self._acc.get(who)
        return 0.0 if acc is None else acc.tokens

    def spend(self, who: int, air: float, now: float) -> bool:
        """Debit `air` from `who`; False (and nothing debited) if it is not covered."""
        self._expire(now)
        acc = self._acc.get(who)
        if acc is None or acc.tokens + 1e-9 < air:
            return False
        acc.tokens -= air
        if self.spent is not None:
            self.spent(who, air, now)
        return True

    def take(self, who: int, air: float, now: float) -> None:
        """Debit `air` from `who`, or all it holds if less."""
        self._expire(now)
        acc = self._acc.get(who)
        if acc is not None:
            acc.tokens = max(0.0, acc.tokens - air)
