"""What a deaf neighbour pays for: owed records, and being waited for again.

Theory of operation
-------------------
A neighbour heard with none of the last few urgent records it was waited for
is deaf (urgent.py): it relays nothing we hear, so it is not waited for in
rechecks. It is still owed what it missed: when a digest of its own shows a
lack, the record goes to it again (three sends in all). Both a digest like ours
(which ended deafness) and a digest short of ours (which makes owed records go)
cost an attacker nothing to copy or make up in a number of its choosing: six
made-up numbers doing so, one digest every 40 s, made every node that heard
them send each urgent record twice more for them, then three times more, at
5.2 times the attacker's air (the attack suite's fake-watchers, full size;
1.4 now). And a number that never brought us a trusted record (new or a
copy) is deaf after one silent watch, not three (urgent.py `deaf`): at the
small size, where the first three urgent records were all rechecked for the
made-up numbers, 2.4 times, now 0.7.

So a deaf neighbour pays from its credit account (credit.py: the air it spent
that we heard) for what it causes:

* a recheck or owed send waiting for it costs the record's air alone in a
  packet, shared by every neighbour the send waits for; deaf ones whose
  accounts do not cover their share are waited for no more, and a send left
  waiting for nobody does not go (`keep`, then `charge` once it went);
* a digest showing it holds what it was owed makes it waited for again only
  if its account pays for one recheck of a record of the mean size heard
  (`undeafen`), and then on probation: silent through the next watch, it is
  deaf again (what it paid for is one record's rechecks; paying does not make
  it a number that brings records, urgent.py `relayers`);
* a digest of its own unlike our set makes us sketch only if its account pays
  for a first sketch frame (digests.py `_mismatch`); our digest still goes
  soon, and it may sketch itself.

Neighbours that are not deaf pay nothing: an honest neighbour whose relays we
hear is waited for as before.
"""

from __future__ import annotations

from collections.abc import Callable

from .credit import Credits


def _share(waiting: set[int], cost: float, deaf: Callable[[int], bool], credits: Credits,
           now: float) -> tuple[set[int], float]:
    free = {n for n in waiting if not deaf(n)}
    payers = waiting - free
    while free or payers:
        share = cost / (len(free) + len(payers))
        able = {n for n in payers if credits.balance(n, now) + 1e-9 >= share}
        if able == payers:
            return free | payers, share
        payers = able
    return set(), 0.0


def keep(waiting: set[int], cost: float, deaf: Callable[[int], bool], credits: Credits,
         now: float) -> set[int]:
    """Whom a send costing `cost` s, waiting for `waiting`, still waits for: every
    neighbour that is not deaf, and the deaf whose accounts cover their share."""
    return _share(waiting, cost, deaf, credits, now)[0]


def charge(waiting: set[int], cost: float, deaf: Callable[[int], bool], credits: Credits,
           now: float) -> None:
    """The send went: debit each deaf neighbour it waits for its share."""
    kept, share = _share(waiting, cost, deaf, credits, now)
    for n in kept:
        if deaf(n):
            credits.spend(n, share, now)


def undeafen(n: int, cost: float, credits: Credits, now: float) -> Callable[[], bool]:
    """What makes deaf `n`, whose digest shows it holds what it was owed, waited
    for again: its account pays `cost` (one recheck)."""
    return lambda: credits.spend(n, cost, now)
