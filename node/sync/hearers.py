"""Among how many accounts a broadcast's air is shared (answers.py `heard`).

Theory of operation
-------------------
A broadcast credits its sender, at each listener, with its air time divided
by the number of nodes that heard it too, since each of them keeps an account
(credit.py): summed over the mesh, the credit is then the air the packet
took. What a listener heard is one radio's transmission: the sender's own at
hop 0, the last relay's after, and that radio's hearers are the ones among
whom the air is shared.

At hop 0 the listener's own count of direct peers stands for the sender's
hearers (PROTOCOL.md §9 says where that falls short), except in the pool all
strangers share (answers.py `heard`): a stranger's hearers are unknown, and
its air is shared there among the other nodes of our two-hop neighbourhood
(`others_kept`) at every hop count. Through relays it does
not: a header's hop count is anyone's to set, and one radio heard by many, an
attacker at the best-connected site claiming one relay, had each listener
credit the number it named with its share of what all of them heard
(`phantom-lack-hop1`: 3.97 times the attacker's air). So a packet heard
through relays is shared among the last relay's hearers:

* the header's `relay_node` (firmware 2.6 and later) gives the last byte of
  the number of the radio it came from. A ledger peer we hear directly whose
  number ends in that byte, and whose digest's neighbour list says whom it
  hears, shares it among those (at least our own direct peers, as any
  broadcast): the listeners that credit it are that peer's neighbours, so,
  whatever the packet claims, their credit sums to at most its air. After one
  relay the relay must hear the sender: a peer whose list does not name it
  did not relay it. Several peers with that byte: the most hearers of them.
* otherwise (a radio-only relay, a hilltop ROUTER, that sends no digests; no
  byte; a peer without a list, or with one cut at the most a digest holds;
  a byte no peer of ours has) its hearers are unknown. A far peer's packet
  (farpeers.py: a number that showed a member's proof, heard only through
  radio-only relays) is shared among our own direct peers, as at hop 0: a
  mast's hearers are many, and sharing far peers' asks among our two-hop
  neighbourhood left far sites behind the masts of town-40 without repairs
  (at its own seed delivered 0.988; villages-27's critical p95 772 -> 3,228
  s). Any other voice's is shared among our two-hop neighbourhood: our
  direct peers and every node their lists name. Every radio we hear is heard
  by nodes within two hops of us, so that count is at least the radio's
  hearers wherever the lists reach.

Where that falls short: a far peer's number is anyone's to speak in (its
proof travels in the clear), so an attacker near a mast, in far peers'
numbers through a byte no peer of ours has, is still credited by each
listener as at hop 0 (PROTOCOL.md §9).

The two-hop counts are kept until a peer is heard directly anew or a list is
learned, for at most `KEEP_S` seconds (peers fall silent meanwhile, a number
heard once is heard again): they are asked for every packet heard through
relays that no ledger peer relayed, and for every stranger's broadcast.
"""

from __future__ import annotations

from .farpeers import short
from .relays import Neighbourhood

KEEP_S = 60.0  # the two-hop count is counted again after this long


class Hearers:
    def __init__(self, hood: Neighbourhood) -> None:
        self.hood = hood
        self._two_hop, self._kept, self._at, self._seen = 0, 0, -1e18, -1

    def two_hop(self, now: float) -> int:
        """Our direct peers and the nodes their neighbour lists name (us too)."""
        self._count(now)
        return self._two_hop

    def others_kept(self, now: float) -> int:
        """`two_hop` less us and less numbers heard directly only once (made up for
        one packet, most likely: a fresh one every few minutes would otherwise
        thin what each stranger's air earns the pool, answers.py `heard`)."""
        self._count(now)
        return self._kept

    def _count(self, now: float) -> None:
        """Both counts, from one walk of the peers, kept as `two_hop` says."""
        hood = self.hood
        if 0.0 <= now - self._at < KEEP_S and hood.changes == self._seen:
            return
        ttl, me = hood.ttl, short(hood.node)
        listed: set[int] = set()
        once: set[int] = set()
        kept: set[int] = set()
        for n, p in hood.peers.items():
            if now - p.last_direct < ttl:
                (kept if p.packets > 1 else once).add(short(n))
                if p.neighbours:
                    listed |= p.neighbours
        kept |= listed
        self._two_hop = len(kept | once | {me})
        self._kept = len(kept - {me})
        self._at, self._seen = now, hood.changes

    def relayed(self, sender: int, hops: int, relay: int | None, now: float,
                snr: float | None = None) -> int:
        """The hearers of the radio a packet from `sender` came from after `hops`
        relays, the last of which had number byte `relay` (None: not said), heard
        here at `snr`."""
        most = -1
        if relay is not None:
            hood = self.hood
            ttl = hood.ttl
            for n, p in hood.peers.items():
                if n & 0xFF != relay or n == sender or now - p.last_direct >= ttl \
                        or not p.sounds_like(snr):
                    continue  # (not that peer's radio: its signal is not that peer's)
                heard = p.neighbours
                if heard is None:
                    return self.two_hop(now)  # one of them may be heard by anyone
                if hops == 1 and short(sender) not in heard:
                    continue  # it does not hear the sender: not its relay
                most = max(most, len(heard))
        if most >= 0:
            return most
        if self.hood.is_far(sender, now):
            return 0  # a far peer's, through a radio-only relay: our own peers' count
        return self.two_hop(now)
