"""Members' pull tickets: an admitted member catches up faster than its own air.

Theory of operation
-------------------
Every answer is paid by the air of what asked for it (credit.py): a PULL is
padded to the size of its answer. So a node catching up pulls at most its own
budget's worth of records: a late joiner on a busy mesh got 60-100 records an
hour while its budget refused thousands of sends. Its responders had air to
spare, but nothing told them the puller was anything more than a node number,
and a node number costs nothing to claim.

A member's signature does cost something: only the holder of an admitted key
can make one. A puller that holds such a key (`Signer`) carries a *ticket* in
its PULL: its author short id and its signature of (context, network tag, its
own node number, the asked node's number). The asked node checks it against
the keys it counts as admitted (members, not revoked), once per puller and
`HOLD` (a ticket that fails is remembered and not checked again), and then
answers that puller beyond the pull's own air: from an allowance of `share`
of its bulk band per hour (at most `burst` packets saved up), one per key
(every node number a key signs tickets for draws on the same one), at most
`pull_batch` packets per pull, for at most `MAX_ALLOWED` pullers at once,
at most `PER_KEY` of them in one key's numbers (a stolen key pulling in many
numbers takes two places, not all eight, from members catching up). The
pull answers other nodes send such a puller, followed as we overhear them
(members.py `overheard`), draw on its key's neighbourhood allowance: `HOOD`
allowances among all the responders in range of one another, so a key
pulling from every node it reaches draws HOOD there, not one per node.

What an attacker with the channel key alone can do with it: nothing new. It
cannot sign a ticket. A ticket it overheard names one puller and one
responder, so replayed it buys answers only in that puller's name, from that
responder, within that puller's allowance, and only while that puller's own
digest (at its own signal, §9) says it is behind; the answers are broadcast
records of the ledger, which the real puller, a neighbour, hears and uses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from . import messages as m

CONTEXT = b"meshaid pull ticket"
# The responder a membership proof names: nobody in particular. A DIGEST may carry
# its sender's ticket for (its own number, ANYONE): far peers must show one
# (farpeers.py). No node has this number, so no pull is ever answered for it.
ANYONE = 0xFFFFFFFF
HOLD = 3600.0  # seconds a checked ticket is believed
MAX_ALLOWED = 8  # pullers with a checked ticket at once
PER_KEY = 2  # of them in the numbers one key signs for (a node's new radio, its old one)
HOOD = 3  # allowances one key may draw from all the responders we hear it ask, together
MAX_BAD = 64  # (puller, ticket) pairs that failed, remembered so as not to check them again
Signer = Callable[[bytes], tuple[bytes, bytes]]  # bytes -> (author short id, signature)
Verifier = Callable[[bytes, bytes, bytes], bool]  # (short id, message, signature)


def message(tag: bytes, puller: int, responder: int) -> bytes:
    """The bytes a ticket signs."""
    return CONTEXT + tag + puller.to_bytes(4, "big") + responder.to_bytes(4, "big")


def make(signer: Signer, tag: bytes, puller: int, responder: int) -> bytes:
    """A ticket for `puller` to pull from `responder` (TICKET_LEN bytes)."""
    short, signature = signer(message(tag, puller, responder))
    ticket = short + signature
    if len(ticket) != m.TICKET_LEN:
        raise ValueError("a ticket is a 4-byte short id and a 64-byte signature")
    return ticket


@dataclass
class _Bucket:
    tokens: float
    at: float  # last refill


@dataclass
class _Allowance:
    bucket: _Bucket  # its key's: every number a key signs tickets for shares one
    hood: _Bucket  # its key's draw on the neighbourhood: ours and others' answers
    until: float  # the ticket is believed until then
    ticket: bytes  # (its first 4 bytes: the key's short id)


class Allowances:
    """Pullers whose tickets checked out, each drawing on its key's bucket of
    air seconds (refilled at `rate` per second, at most `cap`). One bucket per
    key, not per node number: a key signs tickets for any number it likes, so
    a stolen key pulling in 8 numbers drew 8 allowances; and at most PER_KEY
    numbers per key: it also held all 8 places."""

    def __init__(self, rate: float, cap: float) -> None:
        self.rate = rate
        self.cap = cap
        self.hood_rate = HOOD * rate
        self.hood_cap = HOOD * cap
        self._ok: OrderedDict[int, _Allowance] = OrderedDict()
        self._bad: OrderedDict[tuple[int, bytes], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ok)

    def check(self, who: int, ticket: bytes, msg: bytes, verify: Verifier, now: float) -> bool:
        """Whether `who` holds a believed ticket, checking `ticket` (signing
        `msg`) if it is new: a signature is checked once per puller and HOLD."""
        acc = self._ok.get(who)
        if acc is not None and acc.until > now and (not ticket or ticket == acc.ticket):
            return True
        if not ticket or (who, ticket) in self._bad:
            return acc is not None and acc.until > now
        if not verify(ticket[:4], msg, ticket[4:]):
            self._bad[(who, ticket)] = None
            while len(self._bad) > MAX_BAD:
                self._bad.popitem(last=False)
            return acc is not None and acc.until > now
        mine = [n for n, a in self._ok.items() if a.ticket[:4] == ticket[:4]]
        bucket = self._ok[mine[-1]].bucket if mine else _Bucket(self.cap, now)
        hood = self._ok[mine[-1]].hood if mine else _Bucket(self.hood_cap, now)
        self._ok.pop(who, None)
        mine = [n for n in mine if n != who]
        for n in mine[:max(0, len(mine) - PER_KEY + 1)]:
            del self._ok[n]  # that key's least recently checked numbers make room
        self._ok[who] = _Allowance(bucket, hood, now + HOLD, ticket)
        while len(self._ok) > MAX_ALLOWED:
            self._ok.popitem(last=False)  # the least recently checked
        return True

    def forget_bad(self) -> None:
        """Tickets that failed may check out now (a vouch came): check them again."""
        self._bad.clear()

    def key(self, who: int, now: float) -> bytes | None:
        """The short id of the key whose ticket `who` showed us, while believed."""
        acc = self._live(who, now)
        return acc.ticket[:4] if acc is not None else None

    def _live(self, who: int, now: float) -> _Allowance | None:
        """`who`'s allowance while its ticket is believed."""
        acc = self._ok.get(who)
        return acc if acc is not None and acc.until > now else None

    def refund(self, who: int, air: float) -> None:
        """Give back `air` debited from `who` for a packet never sent."""
        acc = self._ok.get(who)
        if acc is not None:
            acc.bucket.tokens = min(self.cap, acc.bucket.tokens + air)
            acc.hood.tokens = min(self.hood_cap, acc.hood.tokens + air)

    def spend(self, who: int, air: float, now: float) -> bool:
        """Debit `air` from `who`'s allowance; False (nothing debited) if it has
        no believed ticket or its allowance does not cover `air`."""
        acc = self._live(who, now)
        if acc is None:
            return False
        bucket, hood = acc.bucket, acc.hood
        _refill(bucket, self.rate, self.cap, now)
        _refill(hood, self.hood_rate, self.hood_cap, now)
        if bucket.tokens + 1e-9 < air or hood.tokens + 1e-9 < air:
            return False
        bucket.tokens -= air
        hood.tokens -= air
        return True

    def believed(self, who: int, now: float) -> bool:
        """Whether `who` holds a ticket we believe (no check: none is shown)."""
        return self._live(who, now) is not None

    def drawn(self, who: int, air: float, now: float) -> None:
        """`who`, believed here, was sent `air` of a pull answer by another node
        (overheard, members.py `overheard`): it draws on the key's neighbourhood
        allowance too. A stolen key pulling from every node in range drew an
        allowance from each (stolen-pull: 2.4 times its air at 10 % duty); a
        member catching up pulls its PARTS partitions from at most as many
        responders, so HOOD allowances leave it as fast as before."""
        acc = self._live(who, now)
        if acc is None:
            return
        _refill(acc.hood, self.hood_rate, self.hood_cap, now)
        acc.hood.tokens = max(-self.hood_cap, acc.hood.tokens - air)


def _refill(bucket: _Bucket, rate: float, cap: float, now: float) -> None:
    bucket.tokens = min(cap, bucket.tokens + (now - bucket.at) * rate)
    bucket.at = now
