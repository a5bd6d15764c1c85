"""Far peers: ledger nodes we hear only through radio-only relays (a firmware
router on a mast), and who sends records to them at hop 1.

Theory of operation
-------------------
All packets go to neighbours only (hop limit 0) unless a node hears ledger
peers that only radio-only relays reach: then what may serve them goes at the
hop count they were heard at (`far_scope`; PROTOCOL.md §7). A ledger node that
our own relays reach (by the neighbour lists heard) does not count, however it
was heard: otherwise every node hearing a hop-1 packet would send at hop 1
too, and client radios would relay every packet.

A header's sender and hop count are anyone's to claim, so only a number whose
digest showed a member's proof (a ticket for its own number and nobody in
particular, checked by members.py `prove`) counts as a far peer: at most
FAR_PER_KEY per key, at the fewest hops heard within FAR_RAISE_S. Until its
proof arrives, a far voice's own asks are answered at hop 1 (`reach`) and
nothing else goes farther for it (PROTOCOL.md §7, "Far peers prove
membership").

Relays of records are many, and each at hop 1 is carried again by the router
and the client radios around it. So each node names in its digests the few
far peers it wants to send records at hop 1 for it (`far_choice`); those
send each record from their side once at hop 1, and the others relay at
hop 0 (`far_chosen`; PROTOCOL.md §7, "Far relays"); a far peer that has not
said whom it chose asks nothing of anyone's relays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .relays import Peer

FAR_RECHECK_S = 60.0  # far_scope is recomputed at most this often
FAR_RELAYS = 4  # far peers a node chooses to send records at hop 1 for it (far_choice)
FAR_RAISE_S = 3600.0  # a far peer heard at more hops counts at them only after this long
# at the fewer
FAR_PER_KEY = 2  # far peers counted in the numbers one member key proves (a stolen key)
PROOF_EVERY_S = 1800.0  # our membership proof rides on a digest sent beyond hop 0 this often,
PROOF_SOON_S = 300.0  # or this often while we hear far voices that showed none (unproven_at),
PROOF_NEW_S = 1800.0  # and for this long after the first


def short(node: int) -> int:
    return node & 0xFFFF


class FarPeers:
    """The far-peer half of `Neighbourhood` (relays.py): the state below is its
    own (`init_far`); `node`, `ttl` and `peers` are the neighbourhood's."""

    node: int
    ttl: float
    peers: dict[int, Peer]
    neighbours: Callable[[float], list[int]]  # ledger peers heard directly lately
    _far: int  # far_scope's last answer, and when
    _far_at: float
    _far_nodes: set[int]
    _unproven_far: set[int]  # candidates that showed no proof, not reached by our relays
    unproven_at: float  # when far_scope last found candidates for far peers with no proof

    def init_far(self) -> None:
        """Nobody heard through relays yet."""
        self._far = 0
        self._far_at = -1e9
        self._far_nodes = set()
        self._unproven_far = set()
        self.unproven_at = -1e9

    def far_scope(self, now: float, most: int) -> int:
        """The hop limit our packets need (at most `most`): the hops of the farthest
        ledger peer heard lately only through radio-only relays (a firmware router
        on a mast) that our own relays cannot reach: by the neighbour lists heard
        (direct peers' and far peers' alike, taken as links both ways), no chain of
        ledger links leads from us to it. A node three ledger hops away, heard
        because a router or a client radio carried its packet, is reached by our
        relays: sending at hop 1 for it would make the firmware relay every packet
        of the mesh. Numbers heard once do not count. Computed at most once a
        minute."""
        if now - self._far_at < FAR_RECHECK_S and now >= self._far_at:
            return min(most, self._far)
        self._far_at = now
        far, unproven = self._far_candidates(now)
        self._far = 0
        self._far_nodes = set()
        self._unproven_far = set()
        if far or unproven:
            links: dict[int, set[int]] = {}
            me = short(self.node)
            for n, p in self.peers.items():
                if now - p.last_direct < self.ttl:
                    links.setdefault(me, set()).add(short(n))
                    links.setdefault(short(n), set()).add(me)
                if p.neighbours is not None and now - p.last < self.ttl:
                    for x in p.neighbours:
                        links.setdefault(short(n), set()).add(x)
                        links.setdefault(x, set()).add(short(n))
            reached = {me}
            stack = [me]
            while stack:
                for y in links.get(stack.pop(), ()):
                    if y not in reached:
                        reached.add(y)
                        stack.append(y)
            self._far = max((hops for nid, hops in far if nid not in reached), default=0)
            beyond = {nid for nid, _hops in far} - reached
            self._far_nodes = {n for n in self.peers if short(n) in beyond}
            if unproven - reached:
                self.unproven_at = now  # they may lack ours too: it goes soon (outbox.py)
                self._unproven_far = {n for n in self.peers if short(n) in unproven - reached}
        return min(most, self._far)

    def _far_candidates(self, now: float) -> tuple[list[tuple[int, int]], set[int]]:
        """The candidates for far peers, heard more than once and lately only
        through relays: (short id, hops) of those that showed a member's proof
        lately, and the short ids of those that did not. A made-up number cannot
        show one: anyone with the channel key could otherwise claim far peers in
        made-up numbers, in headers claiming three relays, and have every
        listener send every packet at hop 3 for every radio around to carry (51
        times the attacker's air at 0.1 % duty on the bench mesh). At most
        FAR_PER_KEY numbers a key proves count, the most recently heard."""
        ttl = self.ttl
        heard = sorted(((p.last_far, n, p) for n, p in self.peers.items()
                        if p.packets >= 2 and now - p.last_far < ttl
                        and now - p.last_direct >= ttl), reverse=True)
        per_key: dict[bytes, int] = {}
        far, unproven = [], set()
        for _at, n, p in heard:
            if now - p.proven >= ttl:
                unproven.add(short(n))
                continue
            key = p.proof[:4]
            per_key[key] = per_key.get(key, 0) + 1
            if per_key[key] <= FAR_PER_KEY:
                far.append((short(n), p.far_hops))
        return far, unproven

    def proven(self, peer: Peer, proof: bytes, now: float) -> None:
        """`peer` showed (or still holds) a checked membership proof `proof`."""
        if now - peer.proven >= self.ttl or proof != peer.proof:
            self._far_at = -1e9  # a far peer may have come: far_scope looks again
        peer.proof = proof
        peer.proven = now

    def disproven(self, peer: Peer) -> None:
        """`peer`'s proof no longer holds (its key was revoked)."""
        if peer.proof:
            self._far_at = -1e9
        peer.proof = b""
        peer.proven = -1e9

    def far_choice(self, now: float) -> tuple[int, ...] | None:
        """Our far relays, for our digest (None: we hear no far peer, nothing to
        say): the `FAR_RELAYS` far peers heard most often among those that may
        carry records of others to us, those whose lists name ledger neighbours of
        their own. A far peer with none (a lone house behind a mast) has only its
        own records to give, and its pushes go at its far scope anyway; one whose
        list we have not heard is not chosen either (a lone house chosen relayed
        every record at hop 1 and spent its budget on them: on town-40 its own
        records then never left it). None chosen, we say so ()."""
        self.far_scope(now, 0)
        if not self._far_nodes:
            return None
        me = short(self.node)
        able = [n for n in self._far_nodes
                if (lists := self.peers[n].neighbours) is not None and lists - {me}]
        best = sorted(able, key=lambda n: (-self.peers[n].packets, short(n)))
        return tuple(sorted(short(n) for n in best[:FAR_RELAYS]))

    def far_chosen(self, now: float) -> bool:
        """Whether some far peer chose us among its far relays: then our relays of
        records from our side go at our far scope (inbox.py `_plan_relay`). A far
        peer that has not said whom it chose asks nothing of them: a stolen key's
        made-up far numbers saying nothing had every listener send every relay,
        digest and push at the hops they claimed (stolen-far-proof-600s: 6.6
        times the thief's air). An honest one says so once it hears us: our
        membership proof goes beyond hop 0 (hops.py) whether chosen or not."""
        me = short(self.node)
        return any(me in chose for chose in self._choices(now))

    def far_needs_us(self, now: float) -> bool:
        """Whether what we send from our side must go at our far scope to reach the
        far peers: some far peer chose us, or chose far relays none of which we
        hear directly (our packet at hop 0 reaches none of them, and so none sends
        it on at hop 1). Otherwise a relay it chose hears ours at hop 0 and sends
        it across (inbox.py `_plan_relay`). Asked for our own records, urgent
        relays, rechecks and digests (hops.py `_records_far`, `_serves_far`)."""
        choices = self._choices(now)
        if not choices:
            return False
        me = short(self.node)
        direct = {short(n) for n in self.neighbours(now)}
        return any(me in chose or not chose & direct for chose in choices)

    def _choices(self, now: float) -> list[frozenset[int]]:
        """The far relays chosen by each far peer that said whom it chose."""
        self.far_scope(now, 0)
        return [chose for n in self._far_nodes
                if (chose := self.peers[n].far_relays) is not None]

    def chose_us(self, node: int, now: float) -> bool:
        """Whether far peer `node` named us among its far relays (`far_choice`)."""
        if not self.is_far(node, now):
            return False
        theirs = self.peers[node].far_relays
        return theirs is not None and short(self.node) in theirs

    def is_far(self, node: int, now: float) -> bool:
        """Whether `node` is a ledger peer only radio-only relays reach (`far_scope`)."""
        self.far_scope(now, 0)
        return node in self._far_nodes

    def relayed_voice(self, node: int, now: float) -> bool:
        """Whether a SKETCH heard through relays in the number of `node`, a
        neighbour we heard directly lately and not a far peer, is taken as not its
        own (engine.py): a header's hop count skips the check of its signal
        (relays.py `heard`). A sketch of our set less our newest record at hop
        1, after a digest of that set, in real neighbours' numbers, had every
        listener repair it from that neighbour's account (phantom-lack-hop1:
        3.1 times the liar's air, 2.25 now), and one of our set plus an id that
        exists nowhere drew two padded asks (nbr-phantom-hop1: 2.8, 0 now).
        What it shows is still repaired and asked for, as far as the air of that
        voice pays. (A neighbour across a weak link, heard through a mast when
        its direct copy is lost, is then paid for as such a voice: villages-27,
        seeds 1-14, air -0.5 %, the same three seeds short, by other amounts.)"""
        peer = self.peers.get(node)
        return peer is not None and now - peer.last_direct < self.ttl \
            and not self.is_far(node, now)

    def relay_lies(self, sender: int, hops: int, relay: int | None, snr: float | None,
                   now: float) -> bool:
        """Whether a packet from `sender` after one relay, heard at `snr`, names as
        that relay (`relay`: the last byte of its number) only neighbours we hear
        directly that hear `sender` (by their lists) and whose signal this is not:
        someone else's radio sent it, and its header lies. (A byte is shared by
        one number in 256: a mast whose number ends like a neighbour's, relaying
        a far node that neighbour does not hear, is not taken for it.)"""
        if hops != 1 or relay is None or snr is None:
            return False
        ttl, nid, named = self.ttl, short(sender), False
        for n, p in self.peers.items():
            if n & 0xFF == relay and now - p.last_direct < ttl and p.snr is not None \
                    and p.neighbours is not None and nid in p.neighbours:
                if p.sounds_like(snr):
                    return False
                named = True
        return named

    def reach(self, node: int, now: float) -> int:
        """The hop limit an answer addressed to `node` needs beyond our far scope: 1
        for a far voice that has shown no proof yet (and is not reached by our
        relays), else 0. Its own digest, sketch, MORE or request gets its answer
        through the mast while its proof is on the way (a lost proof left a lone
        house behind a mast an hour without answers), but never more than one
        relay, whatever hops its header claims, and nothing else of ours goes
        farther for it."""
        self.far_scope(now, 0)
        return 1 if node in self._unproven_far else 0

    def reaches_peer(self, peer: Peer, now: float) -> bool:
        """`reach` for a peer's entry, as a yes or no."""
        self.far_scope(now, 0)
        return self._names(peer, self._unproven_far)

    def is_far_peer(self, peer: Peer, now: float) -> bool:
        """`is_far` for a peer's entry."""
        self.far_scope(now, 0)
        return self._names(peer, self._far_nodes)

    def _names(self, peer: Peer, nodes: set[int]) -> bool:
        """Whether one of `nodes` is `peer`'s entry."""
        return any(self.peers.get(n) is peer for n in nodes)
