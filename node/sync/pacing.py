"""Pacing the reactions nobody pays for: who may make us sketch, and whom we ask MORE.

Theory of operation
-------------------
Two reactions of the protocol are its own rather than answers paid for by
credit (credit.py), and both cost more than the packet that causes them:

* a DIGEST unlike our set makes us plan a SKETCH (reconcile.py): over a
  hundred bytes of symbols for a digest of twenty. Lying digests whose count
  is close to ours (read as a small difference, not as a bootstrap) made
  every listener sketch: 1.8 times the attacker's air (the attack suite's
  `near-digest`);
* a SKETCH we cannot decode makes us ask its sender MORE (a padded, full
  packet), and while we drive a stream we plan no sketch of our own: forged
  sketches in made-up names, each after a digest in the same name, kept
  honest nodes asking nobody and reconciling with nobody, and critical
  needs went missing for hours (`near-sketch`).

An honest prompter takes our sketch up: it REQUESTs what it lacks from us
(records we hold: a request for an id we do not hold decoded nothing of
ours), sends records new to us (repairs), or asks us MORE. An honest sketcher
answers our MORE with symbols. A liar does neither without spending air of its
own. So for each reaction a `Pacer` keeps, per counterpart, a streak of
reactions left untaken for `FRUIT_S`; with a streak of L, the counterpart gets
the reaction again only `REST_S` * 2^(L-1) after the last (at most
`REST_MAX_S`): never shut out, paced. Any take-up ends the streak.
Counterparts are named as digests.py `prompter` names them: a known neighbour
(heard more than once, syncing with us: relays.py `known`) by its number
once it brought us a trusted record (urgent.py `relayers`), else under one
name all such share (six made-up numbers copying our digest took turns
prompting a sketch each: fake-watchers), every other number under one
shared name, so that numbers made up afresh for every packet are paced
together; those heard directly get one reaction at a
time (`waiting`; digests.py `_mismatch`). At most `PACED` entries are kept (the least recently used go
first).

What an honest neighbour loses when paced: its differing digest still resets
our Trickle, so our digest goes soon, differs from its set, and it sketches
itself; its next sketch still decodes if the first packet suffices.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

FRUIT_S = 300.0  # a reaction untaken this long was fruitless
REST_S = 300.0  # after one fruitless reaction, the next comes this much later
REST_MAX_S = 7200.0  # ... doubling with each further one, up to this
PACED = 64  # entries kept per pacer
STRANGERS = -1  # the name of every number that is not a known neighbour
UNPROVEN = -2  # ... and of known ones never heard with a trusted record (urgent.py)
FAR_KEYS = -3  # far peers: this less the first 4 bytes of the key that proves them


@dataclass
class _Entry:
    streak: int = 0  # fruitless reactions in a row
    at: float = -1e9  # when the last reaction to it began
    waiting: bool = False  # that reaction is not taken up yet


class Pacer:
    def __init__(self) -> None:
        self.table: OrderedDict[int, _Entry] = OrderedDict()

    @staticmethod
    def _settle(e: _Entry, now: float) -> None:
        if e.waiting and now - e.at > FRUIT_S:
            e.waiting = False
            e.streak += 1

    def allowed(self, who: int, now: float) -> bool:
        """May we react to `who` now?"""
        e = self.table.get(who)
        if e is None:
            return True
        self._settle(e, now)
        return e.streak == 0 or now - e.at >= min(REST_MAX_S, REST_S * 2 ** (e.streak - 1))

    def reacted(self, names: list[int], now: float) -> None:
        """We reacted to these (a sketch for their digests, a MORE for a sketch);
        a reaction still waiting to be taken up keeps its start."""
        for who in dict.fromkeys(names):
            e = self.table.pop(who, None) or _Entry()
            self._settle(e, now)
            if not e.waiting:
                e.at, e.waiting = now, True
            self.table[who] = e
        while len(self.table) > PACED:
            self.table.popitem(last=False)

    def waiting(self, who: int, now: float) -> bool:
        """Whether our last reaction to `who` still waits to be taken up."""
        e = self.table.get(who)
        if e is None:
            return False
        self._settle(e, now)
        return e.waiting

    def took_up(self, who: int) -> None:
        """`who` acted on our reaction: its streak ends."""
        e = self.table.get(who)
        if e is not None:
            e.streak, e.waiting = 0, False

    def took_up_all(self, names: list[int]) -> None:
        """`took_up` for each of `names`."""
        for who in names:
            self.took_up(who)

    def __len__(self) -> int:
        return len(self.table)
