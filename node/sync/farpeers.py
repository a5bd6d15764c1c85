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

Relays of records are many, and each at hop 1 is carried again by the router
and the client radios around it. So each node names in its digests the few
far peers it wants to send records at hop 1 for it (`far_choice`); those
send each record from their side once at hop 1, and the others relay at
hop 0 unless some far peer has not said whom it chose (`far_duty`; PROTOCOL.md §7, "Far relays").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .relays import Peer

FAR_RECHECK_S = 60.0  # far_scope is recomputed at most this often
FAR_RELAYS = 4  # far peers a node chooses to send records at hop 1 for it (far_choice)


def short(node: int) -> int:
    return node & 0xFFFF


class FarPeers:
    """The far-peer half of `Neighbourhood` (relays.py), which owns the state."""

    node: int
    ttl: float
    peers: dict[int, Peer]
    _far: int  # far_scope's last answer, and when
    _far_at: float
    _far_nodes: set[int]

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
        far = [(short(n), p.far_hops) for n, p in self.peers.items()
               if p.packets >= 2 and now - p.last_far < self.ttl
               and now - p.last_direct >= self.ttl]
        self._far = 0
        self._far_nodes = set()
        if far:
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
        return min(most, self._far)

    def far_choice(self, now: float) -> tuple[int, ...] | None:
        """Our far relays, for our digest (None: we hear no far peer, nothing to
        say): the `FAR_RELAYS` far peers heard most often among those that may
        carry records of others to us, those whose lists name ledger neighbours of
        their own. A far peer with none (a lone house behind a mast) has only its
        own records to give, and its pushes go at its far scope anyway; one whose
        list we have not heard is not chosen either (a lone house chosen relayed
        every record at hop 1 and spent its budget on them: on town-40 its own
        records then never left it). None chosen, we say so (): a far peer that
        has not said whom it chose is sent records at hop 1 all the same."""
        self.far_scope(now, 0)
        if not self._far_nodes:
            return None
        me = short(self.node)
        able = [n for n in self._far_nodes
                if (lists := self.peers[n].neighbours) is not None and lists - {me}]
        best = sorted(able, key=lambda n: (-self.peers[n].packets, short(n)))
        return tuple(sorted(short(n) for n in best[:FAR_RELAYS]))

    def far_duty(self, now: float) -> tuple[bool, bool]:
        """What far peers ask of our relays: (some far peer chose us among its far
        relays, some far peer has not said whom it chose). Either way our relays
        go at our far scope (inbox.py `_plan_relay`)."""
        self.far_scope(now, 0)
        me = short(self.node)
        chosen = unsaid = False
        for n in self._far_nodes:
            theirs = self.peers[n].far_relays
            unsaid = unsaid or theirs is None
            chosen = chosen or (theirs is not None and me in theirs)
        return chosen, unsaid

    def is_far(self, node: int, now: float) -> bool:
        """Whether `node` is a ledger peer only radio-only relays reach (`far_scope`)."""
        self.far_scope(now, 0)
        return node in self._far_nodes

    def is_far_peer(self, peer: Peer, now: float) -> bool:
        """`is_far` for a peer's entry."""
        self.far_scope(now, 0)
        return any(self.peers.get(n) is peer for n in self._far_nodes)
