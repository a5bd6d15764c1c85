"""The vouch and revoke graph that membership is evaluated on
(node/ledger/membership.py drives it; node/PROTOCOL.md §4 is the specification).

Theory of operation
-------------------
`Graph` holds the charter's founding stewards and admission, the vouches and
revokes (sorted, so arrival order never matters) and the forked (author, seq)
pairs. Two operators: `standing(cuts)`, the least closure of the vouching
rules under given cuts (a breadth-first search from the founding stewards,
stewards at most MAX_DEPTH vouches deep), and `cuts(judge, guard)`, the cuts
the revokes justify when revokes are judged under `judge` and guardians are
taken under `guard`; membership.settle alternates them to the well-founded
fixpoint. Four views of a graph keep that cheap and exact: `core` (without
vouches for keys that sign nothing and are never revoked), `about(keys)` (the
records about one component of keys; the keys settled before it enter the
operators as *pins*, stewards at a fixed layer, and cuts), `around(x)` (only
the records x's cut depends on) and `without(x, n)` (x's records past n
and its forked ones removed: the world in which x's cut through n is judged).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .records import Charter, Record, Revoke, Vouch

Cuts = dict[bytes, int]
Pins = dict[bytes, int]  # steward -> layer, settled outside the graph evaluated


@dataclass(frozen=True)
class VouchEdge:
    author: bytes
    seq: int
    subject: bytes
    grant: int


@dataclass(frozen=True)
class RevokeEdge:
    author: bytes
    seq: int
    subject: bytes
    through: int


MAX_DEPTH = 8
"""Stewards are at most this many vouches away from a founding steward: a grant
further down admits a member only. It bounds the work a stolen steward key can
cause by minting long chains of stewards."""


@dataclass
class Standing:
    stewards: set[bytes]
    members: set[bytes]
    votes: dict[bytes, set[bytes]]  # subject -> stewards whose vouch for it is valid
    steward_votes: dict[bytes, set[bytes]]  # the same for grant 1, within MAX_DEPTH
    layer: dict[bytes, int]  # steward -> vouches away from a founding steward


class Graph:
    def __init__(self, body: Charter, author: bytes, events: Iterable[Record],
                 forked: frozenset[tuple[bytes, int]]) -> None:
        self.admission = body.admission
        # the last few standings computed: the alternating fixpoint asks for each twice
        self._recent: dict[tuple[frozenset[tuple[bytes, int]], ...], Standing] = {}
        self.founding: tuple[bytes, ...] = tuple(dict.fromkeys((author, *body.costewards)))
        self.forked = forked
        vouches: set[VouchEdge] = set()
        revokes: set[RevokeEdge] = set()
        for ev in events:
            if isinstance(ev.body, Vouch):
                vouches.add(VouchEdge(ev.author, ev.seq, ev.body.subject, ev.body.grant))
            elif isinstance(ev.body, Revoke):
                revokes.add(RevokeEdge(ev.author, ev.seq, ev.body.subject, ev.body.through_seq))
        self.vouches_by: dict[bytes, list[VouchEdge]] = {}
        for v in sorted(vouches, key=lambda v: (v.author, v.seq, v.subject, v.grant)):
            self.vouches_by.setdefault(v.author, []).append(v)
        # Only keys that could ever be stewards matter as authors.
        possible = self.standing({}).stewards
        # A revoke adds nothing when the same author revoked the same key through
        # the same seq at a lower, unforked seq: it is valid whenever this one is.
        first: dict[tuple[bytes, bytes, int], int] = {}
        for rv in revokes:
            if rv.author in possible and (rv.author, rv.seq) not in forked:
                k = (rv.author, rv.subject, rv.through)
                first[k] = min(first.get(k, rv.seq), rv.seq)
        self.revokes = sorted((rv for rv in revokes if rv.author in possible and first.get(
                                   (rv.author, rv.subject, rv.through), rv.seq) >= rv.seq),
                              key=lambda rv: (rv.subject, rv.author, rv.seq, rv.through))
        self.vouches_by = {a: vs for a, vs in self.vouches_by.items() if a in possible}
        self.subjects = sorted({rv.subject for rv in self.revokes})
        self._about: dict[bytes, tuple[list[VouchEdge], list[RevokeEdge]]] | None = None
        self._signed: dict[bytes, set[int]] | None = None  # seqs of vouches and revokes

    def _copy(self) -> Graph:
        world = copy.copy(self)
        world._about = world._signed = None
        world._recent = {}
        return world

    def without(self, x: bytes, through: int) -> Graph:
        """The same graph without x's records past `through` and x's forked ones."""
        def keep(author: bytes, seq: int) -> bool:
            return author != x or (seq <= through and (x, seq) not in self.forked)

        world = self._copy()
        world.vouches_by = dict(self.vouches_by)
        world.vouches_by[x] = [v for v in self.vouches_by.get(x, ()) if keep(x, v.seq)]
        world.revokes = [rv for rv in self.revokes if keep(rv.author, rv.seq)]
        world.subjects = sorted({rv.subject for rv in world.revokes})
        return world

    def core(self) -> Graph:
        """The same graph without the vouches for keys that sign nothing that
        counts and are never revoked: they change no one's cut (a cut depends
        on the standing of revokers, vouchers and revoked keys only), and
        dropping them makes every evaluation of the cuts cost the stewards'
        records, not the whole membership."""
        keep = set(self.vouches_by) | {rv.author for rv in self.revokes} | set(self.subjects)
        world = self._copy()
        world.vouches_by = {a: [v for v in vs if v.subject in keep]
                            for a, vs in self.vouches_by.items()}
        return world

    def _index(self) -> dict[bytes, tuple[list[VouchEdge], list[RevokeEdge]]]:
        """Vouches and revokes by subject."""
        if self._about is None:
            self._about = {}
            for vs in self.vouches_by.values():
                for v in vs:
                    self._about.setdefault(v.subject, ([], []))[0].append(v)
            for rv in self.revokes:
                self._about.setdefault(rv.subject, ([], []))[1].append(rv)
        return self._about

    def about(self, keys: Iterable[bytes]) -> Graph:
        """The graph of the vouches and revokes whose subject is one of `keys`."""
        vouches: list[VouchEdge] = []
        revokes: list[RevokeEdge] = []
        index = self._index()
        for key in keys:
            vs, rvs = index.get(key, ([], []))
            vouches += vs
            revokes += rvs
        return self._world(vouches, revokes)

    def _world(self, vouches: list[VouchEdge], revokes: list[RevokeEdge]) -> Graph:
        world = self._copy()
        world.vouches_by = {}
        for v in sorted(vouches, key=lambda v: (v.author, v.seq, v.subject, v.grant)):
            world.vouches_by.setdefault(v.author, []).append(v)
        world.revokes = sorted(revokes, key=lambda rv: (rv.subject, rv.author, rv.seq, rv.through))
        world.subjects = sorted({rv.subject for rv in world.revokes})
        return world

    def around(self, x: bytes) -> Graph:
        """The part of the graph x's cut depends on: the vouches and revokes
        whose subject is x, or (transitively) the author of such a record. A
        cut depends on the standing and cuts of the revoked key's revokers and
        vouchers, which depend on the records about them, and nothing else."""
        index = self._index()
        near = {x, *self.founding}
        stack = list(near)
        vouches: list[VouchEdge] = []
        revokes: list[RevokeEdge] = []
        while stack:
            vs, rvs = index.get(stack.pop(), ([], []))
            vouches += vs
            revokes += rvs
            for author in [v.author for v in vs] + [rv.author for rv in rvs]:
                if author not in near:
                    near.add(author)
                    stack.append(author)
        return self._world(vouches, revokes)

    def speaks_past(self, x: bytes, through: int) -> bool:
        """Has x a vouch or revoke that `without(x, through)` drops?"""
        if self._signed is None:
            self._signed = {}
            for rv in self.revokes:
                self._signed.setdefault(rv.author, set()).add(rv.seq)
            for a, vs in self.vouches_by.items():
                self._signed.setdefault(a, set()).update(v.seq for v in vs)
        return any(s > through or (x, s) in self.forked for s in self._signed.get(x, ()))

    def valid(self, author: bytes, seq: int, cuts: Mapping[bytes, int]) -> bool:
        cut = cuts.get(author)
        return cut is None or (seq <= cut and (author, seq) not in self.forked)

    def standing(self, cuts: Cuts, pins: Pins | None = None) -> Standing:
        """The least closure of the vouching rules under `cuts`. `pins`: keys
        whose standing was settled elsewhere (membership.resolve's earlier
        components), as steward -> layer; they vote from their layer on and are
        never derived again. The caller must not change the result."""
        memo = (frozenset(cuts.items()), frozenset((pins or {}).items()))
        if memo not in self._recent:
            if len(self._recent) >= 4:
                del self._recent[next(iter(self._recent))]
            self._recent[memo] = self._standing(cuts, pins)
        return self._recent[memo]

    def _standing(self, cuts: Cuts, pins: Pins | None) -> Standing:
        stewards = set(self.founding)
        members = set(self.founding)
        layer = dict.fromkeys(self.founding, 0)
        waiting: dict[int, list[bytes]] = {}
        for key, at in sorted((pins or {}).items()):
            if key not in layer:
                stewards.add(key)
                layer[key] = at
                waiting.setdefault(at, []).append(key)
        votes: dict[bytes, set[bytes]] = {}
        steward_votes: dict[bytes, set[bytes]] = {}
        frontier = list(self.founding) + waiting.pop(0, [])
        depth = 0
        while frontier or waiting:
            depth += 1
            grown: list[bytes] = []
            for author in frontier:
                for v in self.vouches_by.get(author, ()):
                    if not self.valid(author, v.seq, cuts):
                        continue
                    votes.setdefault(v.subject, set()).add(author)
                    if v.grant == 1 and depth <= MAX_DEPTH:
                        steward_votes.setdefault(v.subject, set()).add(author)
                    if (v.subject not in stewards
                            and len(steward_votes.get(v.subject, ())) >= self.admission):
                        stewards.add(v.subject)
                        layer[v.subject] = depth
                        grown.append(v.subject)
                    if v.subject not in members and len(votes[v.subject]) >= self.admission:
                        members.add(v.subject)
            frontier = grown + waiting.pop(depth, [])
        return Standing(stewards, members | stewards, votes, steward_votes, layer)

    def revote(self, st: Standing, changed: list[VouchEdge], cuts: Cuts) -> Standing | None:
        """The standing under `cuts`, given `st`, the standing under cuts that
        differ from them only in whether the vouches `changed` are valid, when
        that is cheap to say: every one of them member-only (or by a non-steward,
        which never counts) and not from a steward to one in a higher layer, the
        only vouches `dependants` follows. Then no steward, layer or steward vote
        changes, only the votes for their subjects; else None."""
        touched = set()
        for v in changed:
            if v.author not in st.stewards:
                continue
            if v.grant != 0 or st.layer.get(v.subject, -1) > st.layer[v.author]:
                return None
            touched.add(v.subject)
        if not touched:
            return st
        votes, members = dict(st.votes), set(st.members)
        for s in touched:
            got = {v.author for v in self._index().get(s, ((), ()))[0]
                   if v.author in st.stewards and self.valid(v.author, v.seq, cuts)}
            if got:
                votes[s] = got
            else:
                votes.pop(s, None)
            if s in st.stewards or len(got) >= self.admission:
                members.add(s)
            else:
                members.discard(s)
        return Standing(st.stewards, members, votes, st.steward_votes, st.layer)

    def cuts(self, judge: Cuts, guard: Cuts, found: Cuts | None = None,
             judge_pins: Pins | None = None, guard_pins: Pins | None = None) -> Cuts:
        """The cuts justified when revokes are judged valid under `judge` and the
        guardians are those under `guard` (antitone in `judge`, monotone in `guard`),
        with the cuts `found` already (membership.resolve) in force whatever the
        revokes; `judge_pins` and `guard_pins` are the settled stewards under each
        (see `standing`)."""
        out: Cuts = dict(found or {})
        st = self.standing(judge, judge_pins)
        said = {x: self.said_about(x, st, judge) for x in self.subjects}
        if not any(said.values()):
            return out
        gst = self.standing(guard, guard_pins)
        for x in self.subjects:
            cut = self.cut_of(x, st, gst, guard, said[x], out.get(x))
            if cut is not None:
                out[x] = cut
        return out

    def said_about(self, x: bytes, st: Standing, judge: Mapping[bytes, int]) -> dict[bytes, int]:
        """Revoker -> lowest through of its revokes of x valid under `judge`, for
        the revokers that are stewards in `st` (the standing under `judge`)."""
        said: dict[bytes, int] = {}
        for rv in self._index().get(x, ((), ()))[1]:
            if rv.author in st.stewards and self.valid(rv.author, rv.seq, judge):
                said[rv.author] = min(said.get(rv.author, rv.through), rv.through)
        return said

    def cut_of(self, x: bytes, st: Standing, gst: Standing, guard: Cuts,
               said: dict[bytes, int], found: int | None) -> int | None:
        """x's cut under `cuts`' rules: `st` the standing under the judge, `said`
        x's revokers there (`said_about`), `gst` the standing under `guard`,
        `found` x's cut already in force (or None)."""
        options: list[int] = [] if found is None else [found]
        council = sorted(said[f] for f in self.founding if f != x and f in said)
        if x in self.founding:
            others = [f for f in self.founding if f != x]
            enough = 2 if x == self.founding[0] else 1
            if len(others) >= enough and len(council) == len(others):
                options.append(council[-1])
        else:
            if len(council) >= 2:
                options.append(council[1])
            if any(g in said for g in st.votes.get(x, ())):  # initiated by a voter
                through = self._unanimous(x, guard, gst, said)
                if through is not None:
                    options.append(through)
                elif not gst.votes.get(x):  # no guardian left: the initiators decide
                    options.append(min(said[g] for g in st.votes[x] if g in said))
        return min(options) if options else None

    def _unanimous(self, x: bytes, guard: Cuts, gst: Standing,
                   said: dict[bytes, int]) -> int | None:
        """The highest through of x's guardians if every one of them revoked x,
        else None. Guardians: x's valid vouchers that do not owe x their standing;
        only vouchers no nearer the founders than x need that (linear) check."""
        vouchers = gst.votes.get(x, set())
        if not vouchers:
            return None
        near = gst.layer.get(x)
        unsure = {g for g in vouchers if near is not None and gst.layer[g] >= near}
        if any(g not in said for g in vouchers - unsure):
            return None
        top = max((said[g] for g in vouchers - unsure), default=None)
        if unsure and any(g not in said or top is None or said[g] > top for g in unsure):
            owing = self.dependants(x, guard, gst)
            unsure -= owing
            if any(g not in said for g in unsure):
                return None
            top = max((said[g] for g in (vouchers - owing)), default=None)
        return top

    def dependants(self, x: bytes, cuts: Cuts, st: Standing) -> set[bytes]:
        """The stewards that would not be stewards if x's vouches were ignored,
        recomputed only for the keys that may owe their standing to x: those
        x's vouches reach through ever higher layers (a derivation that uses x
        climbs layer by layer from it)."""
        cone = {x}
        stack = [x]
        while stack:
            a = stack.pop()
            for v in self.vouches_by.get(a, ()):
                n = st.layer.get(v.subject)
                if (n is not None and n > st.layer[a] and v.subject not in cone
                        and self.valid(a, v.seq, cuts)):
                    cone.add(v.subject)
                    stack.append(v.subject)
        cone.discard(x)
        inside = sorted(cone)
        again: dict[bytes, int] = {}  # cone keys that are stewards again, by layer

        def layer(g: bytes) -> int:
            if g in cone:
                return again.get(g, MAX_DEPTH)
            return st.layer.get(g, MAX_DEPTH)

        for depth in range(1, MAX_DEPTH + 1):  # the same layers as `standing`
            for c in inside:
                if c not in again:
                    near = sum(1 for g in st.steward_votes.get(c, ())
                               if g != x and layer(g) < depth)
                    if near >= self.admission:
                        again[c] = depth
        return cone - again.keys()
