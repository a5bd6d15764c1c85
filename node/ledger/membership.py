"""Who is a member: a pure function of the charter, every vouch and revoke, and
the set of forked (author, seq) pairs. node/PROTOCOL.md §4 is the specification.

Theory of operation
-------------------
Standing.  The charter's author and co-stewards are the *founding stewards*.
A vouch counts when its author is a steward and the vouch is *valid*: its seq
is not past its author's cut, and, if its author is cut at all, that seq is not
forked. A key is a member once `admission` distinct stewards validly vouched
for it, a steward once that many did so with grant 1. Standing is the least
closure of these rules from the founding stewards (a breadth-first search over
vouches), at most MAX_DEPTH vouches deep for stewards; timestamps play no
part, so no one gains anything by backdating.

Cuts.  A key's *cut* (revoked through N) untrusts its records with seq > N and,
once it is cut, its forked seqs <= N as well (a thief reusing an old seq only
erases, never adds). A revoke counts only if it is valid in the same sense. A
key X is cut
* if X is a founding steward: when every other founding steward revoked X
  (through the highest of their throughs), and for the founder, at least two
  did: a co-steward alone never undoes the founder;
* otherwise, when a steward that vouched for X revoked it and so did every
  *guardian* of X: the stewards that validly vouched for X and keep their
  standing without X's own vouches (through the highest of the guardians'
  throughs); a key cannot shield itself with stewards it made;
* or when two founding stewards revoked X (through the second lowest).
So one key can only cut keys that it alone vouched for (among their
independent vouchers), and never a founding steward.

Evaluation.  Cuts and standing depend on each other (a cut can void the vouch
that gave the revoker its standing). They are computed as the well-founded
fixpoint of the alternating iteration (Van Gelder 1993): `lower` holds the
cuts that hold even if every possibly-valid cut applies, `upper` those that
may hold given only `lower`; `lower` only grows and `upper` only shrinks, so the
loop ends after at most twice the number of distinct (subject, through) pairs
plus two rounds, each a few linear passes. Cuts still undecided at the end
(self-defeating revocations such as a steward revoking its own voucher below
that vouch) do not apply. Events are sorted first, so the result is the same
for every arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .records import Charter, Record, Revoke, Vouch

Cuts = dict[bytes, int]


@dataclass
class Member:
    role: str  # "steward" or "member"
    revoked_through: int | None = None
    vouchers: set[bytes] = field(default_factory=set)
    founding: bool = False

    def trusts(self, seq: int, forked: bool = False) -> bool:
        """Is this key's record number `seq` trusted? `forked`: that seq has twins."""
        if self.revoked_through is None:
            return True
        return seq <= self.revoked_through and not forked


@dataclass(frozen=True)
class _Vouch:
    author: bytes
    seq: int
    subject: bytes
    grant: int


@dataclass(frozen=True)
class _Revoke:
    author: bytes
    seq: int
    subject: bytes
    through: int


MAX_DEPTH = 8
"""Stewards are at most this many vouches away from a founding steward: a grant
further down admits a member only. It bounds the work a stolen steward key can
cause by minting long chains of stewards."""


@dataclass
class _Standing:
    stewards: set[bytes]
    members: set[bytes]
    votes: dict[bytes, set[bytes]]  # subject -> stewards whose vouch for it is valid
    steward_votes: dict[bytes, set[bytes]]  # the same for grant 1, within MAX_DEPTH
    layer: dict[bytes, int]  # steward -> vouches away from a founding steward


class _Graph:
    def __init__(self, body: Charter, author: bytes, events: Iterable[Record],
                 forked: frozenset[tuple[bytes, int]]) -> None:
        self.admission = body.admission
        self.founding: tuple[bytes, ...] = tuple(dict.fromkeys((author, *body.costewards)))
        self.forked = forked
        vouches: set[_Vouch] = set()
        revokes: set[_Revoke] = set()
        for ev in events:
            if isinstance(ev.body, Vouch):
                vouches.add(_Vouch(ev.author, ev.seq, ev.body.subject, ev.body.grant))
            elif isinstance(ev.body, Revoke):
                revokes.add(_Revoke(ev.author, ev.seq, ev.body.subject, ev.body.through_seq))
        self.vouches_by: dict[bytes, list[_Vouch]] = {}
        for v in sorted(vouches, key=lambda v: (v.author, v.seq, v.subject, v.grant)):
            self.vouches_by.setdefault(v.author, []).append(v)
        # Only keys that could ever be stewards matter as authors.
        possible = self.standing({}).stewards
        self.revokes = sorted((rv for rv in revokes if rv.author in possible),
                              key=lambda rv: (rv.subject, rv.author, rv.seq, rv.through))
        self.vouches_by = {a: vs for a, vs in self.vouches_by.items() if a in possible}
        self.subjects = sorted({rv.subject for rv in self.revokes})

    def valid(self, author: bytes, seq: int, cuts: Cuts) -> bool:
        cut = cuts.get(author)
        return cut is None or (seq <= cut and (author, seq) not in self.forked)

    def standing(self, cuts: Cuts, without: bytes | None = None) -> _Standing:
        """The least closure of the vouching rules under `cuts`, ignoring the
        vouches of `without`."""
        stewards = set(self.founding)
        members = set(self.founding)
        layer = dict.fromkeys(self.founding, 0)
        votes: dict[bytes, set[bytes]] = {}
        steward_votes: dict[bytes, set[bytes]] = {}
        frontier = list(self.founding)
        depth = 0
        while frontier:
            depth += 1
            grown: list[bytes] = []
            for author in frontier:
                if author == without:
                    continue
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
            frontier = grown
        return _Standing(stewards, members | stewards, votes, steward_votes, layer)

    def cuts(self, judge: Cuts, guard: Cuts) -> Cuts:
        """The cuts justified when revokes are judged valid under `judge` and the
        guardians are those under `guard` (antitone in `judge`, monotone in `guard`)."""
        st = self.standing(judge)
        # lowest valid through per (revoker, subject)
        said: dict[tuple[bytes, bytes], int] = {}
        for rv in self.revokes:
            if rv.author in st.stewards and self.valid(rv.author, rv.seq, judge):
                k = (rv.author, rv.subject)
                said[k] = min(said.get(k, rv.through), rv.through)
        if not said:
            return {}
        gst = self.standing(guard)
        out: Cuts = {}
        founding = set(self.founding)
        for x in self.subjects:
            options: list[int] = []
            council = sorted(said[(f, x)] for f in self.founding if f != x and (f, x) in said)
            if x in founding:
                others = [f for f in self.founding if f != x]
                enough = 2 if x == self.founding[0] else 1
                if len(others) >= enough and len(council) == len(others):
                    options.append(council[-1])
            else:
                if len(council) >= 2:
                    options.append(council[1])
                initiated = any((g, x) in said for g in st.votes.get(x, ()))
                if initiated:
                    through = self._unanimous(x, guard, gst, said)
                    if through is not None:
                        options.append(through)
                    elif not gst.votes.get(x):  # no guardian left: the initiators decide
                        options.append(min(said[(g, x)] for g in st.votes[x] if (g, x) in said))
            if options:
                out[x] = min(options)
        return out

    def _unanimous(self, x: bytes, guard: Cuts, gst: _Standing,
                   said: dict[tuple[bytes, bytes], int]) -> int | None:
        """The highest through of x's guardians if every one of them revoked x,
        else None. Guardians: x's valid vouchers that do not owe x their standing;
        only vouchers no nearer the founders than x need that (linear) check."""
        vouchers = gst.votes.get(x, set())
        if not vouchers:
            return None
        near = gst.layer.get(x)
        unsure = {g for g in vouchers if near is not None and gst.layer[g] >= near}
        if any((g, x) not in said for g in vouchers - unsure):
            return None
        top = max((said[(g, x)] for g in vouchers - unsure), default=None)
        if unsure and any((g, x) not in said or top is None or said[(g, x)] > top
                          for g in unsure):
            owing = self.dependants(x, guard, gst)
            unsure -= owing
            if any((g, x) not in said for g in unsure):
                return None
            top = max((said[(g, x)] for g in (vouchers - owing)), default=None)
        return top

    def dependants(self, x: bytes, cuts: Cuts, st: _Standing) -> set[bytes]:
        """The stewards that are not stewards in `standing(cuts, without=x)`,
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


def derive(charter: Record | None, events: list[Record],
           forked: Iterable[tuple[bytes, int]] = ()) -> dict[bytes, Member]:
    """Members by key from the charter, the vouch/revoke records (any order) and
    the (author, seq) pairs that have twins. Same answer for every order of
    `events`; bounded work for every input (see the module docstring)."""
    if charter is None or not isinstance(charter.body, Charter):
        return {}
    graph = _Graph(charter.body, charter.author, events, frozenset(forked))
    final = settle(graph)
    st = graph.standing(final)
    out: dict[bytes, Member] = {}
    for key in sorted(st.members):
        out[key] = Member(
            "steward" if key in st.stewards else "member",
            final.get(key),
            set(st.votes.get(key, set())),
            key in graph.founding,
        )
    return out


def settle(graph: _Graph) -> Cuts:
    """The well-founded cuts: the alternating fixpoint's lower bound."""
    lower: Cuts = {}
    upper = graph.cuts({}, _everything_cut(graph))
    for _ in range(2 * len(graph.revokes) + 4):
        new_lower = graph.cuts(upper, lower)
        new_upper = graph.cuts(new_lower, upper)
        if new_lower == lower and new_upper == upper:
            break
        lower, upper = new_lower, new_upper
    return lower


def _everything_cut(graph: _Graph) -> Cuts:
    """The strongest possible cuts: every key that appears, cut through 0."""
    keys = set(graph.founding) | set(graph.vouches_by) | set(graph.subjects)
    for vs in graph.vouches_by.values():
        keys.update(v.subject for v in vs)
    return dict.fromkeys(keys, 0)
