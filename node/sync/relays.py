"""Who our neighbours are, who theirs are, and which of them relay for us.

Theory of operation
-------------------
Every packet heard at hop 0 names a direct ledger peer. Digests now and then
carry the sender's own neighbour list (16-bit ids) and the subset it chose as
its *relays*: multipoint relays as in OLSR (RFC 3626 §8.3.1), a small set of
neighbours whose neighbours cover every node two hops away. A record heard
from S is relayed by us only if S chose us (when S has said), and only if some
neighbour of ours is not already covered by S or by the copies we heard since.
Flooding through multipoint relays costs close to the minimum connected
dominating set; anti-entropy repairs what a lost relay misses.

Lists are claims anyone may make in a node's name, and a node announces what
it hears, echoes included. So every rule errs toward relaying: a link covers
only when both its ends list it (OLSR's symmetric links: `denied`); a relay
choice that leaves one of our neighbours uncovered, when that neighbour's own
list names none of the chosen relays, is not followed (`orphaned`: it was made
from older lists, or on a link that is not there); and we announce, choose
relays from and count as our crowd only peers heard syncing with us (`known`),
not numbers heard only in what costs nothing to say in a far node's name.

Who we hear only through radio-only relays, and who sends records to them at
hop 1, is farpeers.py's (`FarPeers`, a part of `Neighbourhood`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import messages as m
from .farpeers import FAR_RAISE_S, FarPeers, short

# (neighbours, relays, far relays) of a list -> whether it goes on this digest
ListCheck = Callable[[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None], bool]

NEIGHBOUR_TTL_FACTOR = 4  # a neighbour is forgotten after 4 x trickle_imax unheard
REANNOUNCE_MIN_S = 600.0
CROWD_REANNOUNCE_S = 3600.0  # in a crowd, a changed list goes out at most this often
MAX_PEERS = 96  # peers remembered (the least recently heard go first)
SNR_TOLERANCE_DB = 4.0  # a packet this far from a neighbour's usual SNR is not its
# (or three times the neighbour's usual deviation, on a link that fades)


@dataclass
class Peer:
    count: int = 0
    fingerprint: int = 0
    hops: int = 0
    last: float = -1e9
    last_direct: float = -1e9
    boot: bool = False
    neighbours: frozenset[int] | None = None  # its direct ledger peers, from its digest
    relays: frozenset[int] | None = None  # the neighbours it chose to relay for it
    snr: float | None = None  # usual SNR of its packets heard directly
    snr_dev: float = 3.0  # their usual distance from it (a running mean)
    packets: int = 0  # plausible packets heard from it
    plausible: bool = True  # the last packet claiming to be it looked like it
    last_far: float = -1e9  # last heard through radio-only relays (hops > 0)
    digest_at: float = -1e9  # when its last plausible digest (count, fingerprint) was heard
    far_hops: int = 0  # the hops it was then heard at
    active: bool = False  # heard directly (plausibly) with our set or with records
    far_relays: frozenset[int] | None = None  # the far relays it chose (None: not said)
    far_low: float = -1e9  # last heard at `far_hops` (a higher count waits FAR_RAISE_S)
    proof: bytes = b""  # its membership proof (ticket.py ANYONE), checked, or empty
    proven: float = -1e9  # last heard while its proof held (far peers need one: farpeers.py)
    fresh_at: float = -1e9  # when it last brought us (directly) a record new to us
    brought_far: float = -1e9  # ... or through relays, a trusted one (filters.py `far`)

    def sounds_like(self, snr: float | None) -> bool:
        """Whether a packet heard at `snr` may be this neighbour's own transmission."""
        return snr is None or self.snr is None or \
            abs(snr - self.snr) <= max(SNR_TOLERANCE_DB, 3.0 * self.snr_dev)


class Neighbourhood(FarPeers):
    def __init__(self, node: int, ttl: float, announce_every: float, use_relays: bool) -> None:
        self.node = node
        self.ttl = ttl
        self.announce_every = announce_every
        self.use_relays = use_relays
        self.fanout = 6.0  # SyncConfig.relay_fanout (engine.py sets it)
        self.crowded = 12  # more known peers than this are a crowd (twice `fanout`)
        self.peers: dict[int, Peer] = {}
        self.last_announce = -1e9
        # heard_directly's count, and the times between which it stands
        self._direct_n, self._direct_at, self._direct_until = 0, 0.0, -1e18
        self.announced: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None] = (
            (), (), None)
        self.changes = 0  # counts peers heard directly anew and lists learned (hearers.py)
        self.init_far()

    def heard(self, sender: int, hops: int, now: float, snr: float | None = None) -> Peer:
        """Note a packet claiming to come from `sender`. Its `plausible` says whether
        it looked like the sender: anyone may claim any node number, but not its
        signal. A direct packet whose SNR is more than SNR_TOLERANCE_DB from the
        sender's usual SNR is implausible (and does not move the usual SNR much)."""
        peer = self.peers.pop(sender, None)
        if peer is None:
            peer = Peer()
            if len(self.peers) >= MAX_PEERS:
                # Forget a number heard once (made up, likely) before a real neighbour.
                first = next(iter(self.peers))
                once = next((n for n, p in self.peers.items() if p.packets <= 1), first)
                del self.peers[once]
                self._direct_until = -1e18  # (heard_directly counts again)
                self.changes += 1
        self.peers[sender] = peer  # most recently heard last
        peer.plausible = True
        if hops == 0 and snr is not None:
            if peer.snr is None:
                peer.snr = snr
            elif peer.sounds_like(snr):
                off = snr - peer.snr
                peer.snr += off * 0.2
                peer.snr_dev += (abs(off) - peer.snr_dev) * 0.2
            elif now - peer.last_direct < self.ttl:
                # Someone else: while the neighbour itself is heard, packets that
                # do not look like it never move its usual signal (an attacker
                # sending often in its name cannot take its place).
                peer.plausible = False
                return peer
            else:  # a link that changed, or a neighbour gone quiet: start again
                peer.snr = snr
                peer.snr_dev = 3.0
        peer.packets += 1
        peer.last = now
        peer.hops = hops
        if hops == 0:
            if now - peer.last_direct >= self.ttl:
                self._direct_until = -1e18  # one more heard directly: counted again
                self.changes += 1
            peer.last_direct = now
        else:
            # The fewest relays it was heard through lately: a header's hop count is
            # anyone's to claim, and a claim of more in a far peer's name would
            # have every packet of ours carried that much farther.
            if hops <= peer.far_hops or now - peer.far_low >= FAR_RAISE_S \
                    or now - peer.last_far >= self.ttl:
                if now - peer.last_far >= self.ttl or peer.packets == 2 \
                        or peer.far_hops != hops:
                    self._far_at = -1e9  # the far peers changed: far_scope looks again
                peer.far_hops = hops
                peer.far_low = now
            peer.last_far = now
        return peer

    def learn(self, peer: Peer, digest: m.Digest) -> None:
        if digest.has_neighbours or digest.neighbours:
            # A list of the most entries a digest holds may have been cut: its reach
            # is then unknown (the crowd's relay rules apply there anyway).
            full = len(digest.neighbours) < m.MAX_NEIGHBOURS
            self._far_at = -1e9  # links changed: far_scope looks again
            self.changes += 1
            peer.neighbours = frozenset(digest.neighbours) if full else None
            peer.relays = frozenset(digest.relays)
        if digest.far_relays is not None:
            peer.far_relays = frozenset(digest.far_relays)

    def neighbours(self, now: float) -> list[int]:
        return sorted(n for n, p in self.peers.items() if now - p.last_direct < self.ttl)

    def heard_directly(self, now: float) -> int:
        """How many peers we heard directly lately (`len(neighbours(now))`). Asked
        for every packet heard, so the count is kept until the first of them
        falls out of `ttl` (a microsecond early, clear of rounding) or a peer is
        heard directly again after that long, or forgotten."""
        if self._direct_at <= now < self._direct_until:
            return self._direct_n
        ttl = self.ttl
        count, until = 0, 1e18
        for p in self.peers.values():
            if now - p.last_direct < ttl:
                count += 1
                until = min(until, p.last_direct + ttl - 1e-6)
        self._direct_n, self._direct_at, self._direct_until = count, now, until
        return count

    def degree(self, now: float) -> int:
        """How many ledger peers we heard directly lately (`known` ones). Past a
        crowd's size (`crowded`), a peer counts only if it showed a membership
        proof (members.py `prove`) or was the first to bring us a record lately
        (`fresh_at`: a crowd's members post their own), but for `fanout` of those
        that did neither: a crowd thins every relay, and numbers made up to copy
        our digest cost an attacker nothing (40 of them made a mesh of degree 4
        relay as a crowd of 44, and held critical needs back for up to 40
        minutes)."""
        live = self._live(now)
        if len(live) <= self.crowded:
            return len(live)
        ttl = self.ttl
        shown = sum(1 for p in live if now - p.proven < ttl or now - p.fresh_at < ttl)
        return shown + min(len(live) - shown, int(self.fanout))

    def crowd_heard(self, now: float) -> bool:
        """Whether we hear more known peers than a crowd's size, proven or not:
        then our digests show our membership proof now and then (hops.py)."""
        return len(self._live(now)) > self.crowded

    def _live(self, now: float) -> list[Peer]:
        """The `known` peers' entries (`is_known` for each)."""
        ttl = self.ttl
        return [p for p in self.peers.values()
                if now - p.last_direct < ttl and p.packets >= 2 and p.active]

    def known(self, now: float) -> list[int]:
        """Neighbours heard more than once, at least once syncing with us (records
        or a digest of our set: `Peer.active`): what we announce, choose
        relays from and count as our crowd. A number made up for one spoofed
        packet is none of these, nor one heard only in pulls, MOREs, requests or
        digests of other sets: they cost nothing to say in a far node's name, and
        a far node announced as ours would make our real neighbours take it as
        covered and relay nothing on to it."""
        return [n for n in self.neighbours(now) if self.is_known(n, now)]

    def is_known(self, node: int, now: float) -> bool:
        """Whether `node` is among `known` (one lookup, not the list)."""
        p = self.peers.get(node)
        return p is not None and now - p.last_direct < self.ttl and p.packets >= 2 \
            and p.active

    def proven_near(self, node: int, now: float) -> bool:
        """Whether `node` is heard directly lately with a checked membership proof."""
        p = self.peers.get(node)
        return p is not None and now - p.last_direct < self.ttl and now - p.proven < self.ttl \
            and bool(p.proof) and p.hops == 0 and not p.boot

    def has_direct_peer(self, now: float) -> bool:
        return any(now - p.last_direct < self.ttl for p in self.peers.values())

    def far_but_near_others(self, node: int, now: float) -> bool:
        """Whether `node` is a far peer (farpeers.py) while we hear a ledger node
        directly: then its claims (a count far above ours, a sketch far ahead) buy
        no pull, MORE or filter walk (bootstrap.py, answers.py, filters.py), and
        its digest claiming more than we hold no sketch unless it chose us as a
        far relay (digests.py): all would go at the hops it claims for every
        radio around to repeat (stolen-far-sketch); only a house that hears no
        ledger node, the far peers all it has, asks."""
        return self.is_far(node, now) and self.has_direct_peer(now)

    def denied(self, sender: int, now: float) -> set[int]:
        """The 16-bit ids `sender`'s list names that deny the link: neighbours of
        ours (heard directly lately) whose own full list does not name `sender`. A link
        counts only when both ends list it (OLSR's symmetric links): a node
        hearing copies in far nodes' names (an echo) announces them, and without
        this its real neighbours would take them as covered and stop relaying."""
        peer = self.peers.get(sender)
        if peer is None or peer.neighbours is None:
            return set()
        me, them, ttl, listed = short(self.node), short(sender), self.ttl, peer.neighbours
        out = set()
        for n, p in self.peers.items():
            nid = n & 0xFFFF  # (`short`, inlined: asked for every copy heard)
            if (nid in listed and nid != me and p.neighbours is not None
                    and now - p.last_direct < ttl and them not in p.neighbours):
                out.add(nid)
        return out

    def coverage(self, sender: int, now: float) -> set[int] | None:
        """The 16-bit ids a transmission by `sender` reached, if its neighbours are
        known: those of its list whose own list (when we know it) names it too."""
        peer = self.peers.get(sender)
        if peer is None or peer.neighbours is None:
            return None
        return (set(peer.neighbours) - self.denied(sender, now)) | {short(sender)}

    def listing(self, node: int, senders: set[int]) -> int:
        """How many of `senders` announced `node` among their neighbours while
        `node`'s own list names them too (their transmissions reached it, most
        likely). Both ends, as for coverage (`denied`): a number announcing a real
        neighbour of ours that does not hear it (a lie, an echo) covers nothing,
        nor does any list while `node`'s own is not known."""
        target = self.peers.get(node)
        if target is None or target.neighbours is None:
            return 0
        nid = short(node)
        count = 0
        for sender in senders:
            peer = self.peers.get(sender)
            if peer is not None and peer.neighbours is not None and nid in peer.neighbours \
                    and short(sender) in target.neighbours:
                count += 1
        return count

    def listed_by_known(self, node: int, now: float) -> bool:
        """Whether a known neighbour's list names `node`: it is two hops from us
        over ledger links, and its own packets (at hop 0) do not reach us."""
        nid = short(node)
        return any(nid in (self.peers[n].neighbours or ()) for n in self.known(now))

    def sole_link(self, node: int, now: float) -> bool:
        """Whether `node` (a neighbour heard lately) hears none of our other known
        neighbours, by both ends' lists: we are its only link to them."""
        target = self.peers.get(node)
        if target is None or target.neighbours is None or now - target.last_direct >= self.ttl:
            return False
        return self.listing(node, set(self.known(now)) - {node}) == 0

    def uncovered(self, covered: set[int] | None, now: float) -> int:
        """How many of our neighbours are not known to have it (-1: unknown)."""
        if covered is None:
            return -1
        ttl, me = self.ttl, self.node & 0xFFFF
        return len({nid for n, p in self.peers.items() if now - p.last_direct < ttl
                    and (nid := n & 0xFFFF) != me and nid not in covered})

    def chosen_relay(self, sender: int, now: float) -> bool:
        """Did `sender` choose us among its relays? (True when it has not said.)"""
        peer = self.peers.get(sender)
        if peer is None or peer.relays is None or not self.use_relays:
            return True
        if peer.neighbours is not None and short(self.node) not in peer.neighbours:
            return True  # it chose its relays without knowing of us (a new link, a heal)
        if self.denied(sender, now):
            return True  # it chose them counting on a link the other end denies
        if short(self.node) in peer.relays:
            return True
        return self.orphaned(sender, now)

    def orphaned(self, sender: int, now: float) -> bool:
        """Whether a neighbour of ours that `sender` does not reach has, by its own
        list, none of the relays `sender` chose as a neighbour: nobody chosen will
        carry it on to that node. The sender chose from the lists it heard, which
        may be older than ours (ours gained that neighbour since, or an attacker
        had it count on a link that is not there): then we relay all the same."""
        peer = self.peers.get(sender)
        if peer is None or peer.relays is None:
            return False
        covered = self.coverage(sender, now)
        if covered is None:
            return False
        for n in self.known(now):
            p = self.peers[n]
            if short(n) not in covered and p.neighbours is not None \
                    and not p.neighbours & peer.relays:
                return True
        return False

    def choose_relays(self, now: float) -> tuple[int, ...]:
        """Multipoint relays: neighbours whose neighbours cover all known two-hop nodes.
        A neighbour whose own list is unknown is always chosen (its reach is unknown)."""
        me = short(self.node)
        mine = {short(n): n for n in self.known(now)}
        reach: dict[int, set[int]] = {}
        for nid, node in mine.items():
            peer = self.peers.get(node)
            # A list that does not name us is older than our link: its reach is unknown.
            if peer is not None and peer.neighbours is not None and me in peer.neighbours:
                reach[nid] = set(peer.neighbours) - set(mine) - {me}
        chosen: set[int] = {nid for nid in mine if nid not in reach}
        two_hop = set().union(*reach.values()) if reach else set()
        for target in sorted(two_hop):
            via = [nid for nid, r in reach.items() if target in r]
            if len(via) == 1:
                chosen.add(via[0])
        left = two_hop - set().union(*(reach.get(nid, set()) for nid in chosen))
        while left:
            best = max(sorted(reach), key=lambda nid: len(reach[nid] & left))
            if not reach[best] & left:
                break
            chosen.add(best)
            left -= reach[best]
        return tuple(sorted(chosen))

    def announcement(self, now: float, crowd: bool = False,
                     anyway: ListCheck | None = None
                     ) -> tuple[bool, tuple[int, ...], tuple[int, ...], tuple[int, ...] | None]:
        """(listed, neighbours, relays, far relays) for our next digest: lists go
        out when they changed (at most every 10 minutes), every `announce_every`,
        and when `anyway(neighbours, relays, far relays)` says so (a digest that
        goes to far peers with our proof, where the list fits too: they choose
        their far relays by our list, farpeers.py `far_choice`; hops.py).
        In a `crowd` (whose members relay by gossip, not by lists) a list is long
        and changes with every list learned: it goes out when the neighbours or our
        far relays changed, at most hourly."""
        current = tuple(short(n) for n in self.known(now))[: m.MAX_NEIGHBOURS]
        chosen = tuple(r for r in self.choose_relays(now) if r in current)
        far = self.far_choice(now)
        since = now - self.last_announce
        if crowd:
            changed = (current, far) != (self.announced[0], self.announced[2]) \
                and since > CROWD_REANNOUNCE_S
        else:
            changed = (current, chosen, far) != self.announced and since > REANNOUNCE_MIN_S
        listed = since > self.announce_every or changed or (
            anyway is not None and bool(current) and anyway(current, chosen, far))
        if not listed:
            return False, (), (), None
        self.last_announce = now
        self.announced = (current, chosen, far)
        return True, current, chosen, far
