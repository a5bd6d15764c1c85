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
that gave the revoker its standing). The base answer is the well-founded
fixpoint of the alternating iteration (Van Gelder 1993): `lower` holds the
cuts that hold even if every possibly-valid cut applies, `upper` those that
may hold given only `lower`; `lower` only grows and `upper` only shrinks, so the
loop ends after at most twice the number of revokes plus four rounds, each a
few linear passes. Cuts undecided there do not apply.

Own records never defend.  Two keys that revoke each other leave both cuts
undecided, and a thief holding one of them could sign a counter-revoke past
its cut to make its new records count again. So a key's cut is judged without
the key's own records past it: for each revoked key x and each through N of a
revoke of x (lowest first, below x's base cut), x is cut when its base cut in
the graph without x's vouches and revokes past N (and without its forked ones)
is at most N; the first N that holds gives x's cut. In a mutual revocation
both keys are then cut; a self-defeating revoke (a steward revoking its own
voucher below that vouch) still counts for nothing, since without the
voucher's later vouch its author has no standing. A key cut this way may hold
up other cuts with its records past the cut (a vouch making it a guardian), so
the cuts found are kept in force and both steps run again until the second
finds nothing new: each round adds or lowers a cut, so at most revokes + 1.

Components.  A key's cut and standing depend only on the records about it and
on the cuts and standing of their authors, and so on up. So the keys are split
into the strongly connected components of "x depends on a" (a signed a vouch or
revoke of x) and resolved one component at a time, each after every component
it depends on, with their cuts (lower and upper bound) and steward layers
pinned: a chain of n revocations that each hang on the one before is n small
components, not n rounds over the whole graph. The rounds above run inside
each component, so a cut found there is judged with everything upstream of it
final.

Cost.  Each component is evaluated on the records about its keys only, and each
per-key judgment on the records x's cut depends on within it (`around`), only
for keys that signed a vouch or revoke past the through of a revoke of them.
Inside a component each pass of the alternating fixpoint re-evaluates only the
keys whose inputs changed (`_Step`), as long as no vouch changes validity
(then both standings are computed again, unless only member-only vouches
changed that `Graph.revote` can account for: then only their subjects' votes,
and their subjects are judged again). Work is therefore near-linear in
vouches + revokes when components are small, whatever their number. Where no
vouch can change validity, the per-key step runs only for keys that drop a
revoke of their own loop of revokes (`revokerings.revoke_loops`), and in a
*ring* (a loop in which each key revokes only the next) the judgments of its
keys share their walks around it (`revokerings.Rings`): a ring of n stewards
each revoking the next costs a few linear passes whether a vouch or a revoke
closes it. A loop with more revokes inside (chords) still costs a world per
key that needs the step, each about the size of the loop. Events are sorted
first, and components are found in key order, so the result is the same for
every arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .records import Charter, Record
from .revokerings import Rings, revoke_loops
from .sccs import strongly_connected
from .trustgraph import Cuts, Graph, Pins, Standing, VouchEdge


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


def derive(charter: Record | None, events: list[Record],
           forked: Iterable[tuple[bytes, int]] = ()) -> dict[bytes, Member]:
    """Members by key from the charter, the vouch/revoke records (any order) and
    the (author, seq) pairs that have twins. Same answer for every order of
    `events`; bounded work for every input (see the module docstring)."""
    if charter is None or not isinstance(charter.body, Charter):
        return {}
    graph = Graph(charter.body, charter.author, events, frozenset(forked))
    final = resolve(graph)
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


def resolve(graph: Graph) -> Cuts:
    """The cuts in force (node/PROTOCOL.md §4). Component by component, upstream
    first (`components`), with the components a component depends on settled:
    its well-founded cuts, then for each revoked key x of it and each through N
    of a revoke of x, lowest first and below x's well-founded cut: x is cut when,
    in the graph without x's records past N (and its forked ones), x's
    well-founded cut is at most N. A key's own later records never defend it.
    When that step cuts a key, its records past the cut stop counting for
    everyone: the cuts found so far are kept in force and both steps run again,
    until the second finds nothing new."""
    graph = graph.core()
    done = _Settled()
    for part in components(graph):
        _resolve_part(graph, part, done)
    return done.low


@dataclass
class _Settled:
    """What the components resolved so far hold, for those that depend on them:
    each key's cut in force (`low`) and the cut it may still have (`up`, the
    alternating fixpoint's upper bound), and its steward layer under each."""
    low: Cuts = field(default_factory=dict)
    up: Cuts = field(default_factory=dict)
    low_layer: Pins = field(default_factory=dict)
    up_layer: Pins = field(default_factory=dict)


@dataclass
class _Part:
    """One component's graph with the settled keys it reads: `keys` its keys,
    the settled authors' cuts and layers (lower and upper) pinned."""
    keys: frozenset[bytes]
    low: Cuts
    up: Cuts
    low_pins: Pins
    up_pins: Pins

    def settle(self, graph: Graph, found: Cuts) -> tuple[Cuts, Cuts, Cuts]:
        """(lower, upper, first upper) of the alternating fixpoint on `graph`
        with the cuts `found` (keys of this component) in force."""
        lo_found = {**found, **self.low}
        up_found = {**found, **self.up}
        first = graph.cuts(self.low, {**dict.fromkeys(self.keys, 0), **self.up},
                           up_found, self.low_pins, self.up_pins)
        lower, upper = dict(lo_found), dict(first)
        to_lower = _Step(graph, lo_found, self.up_pins, self.low_pins)  # J(upper, lower)
        to_upper = _Step(graph, up_found, self.low_pins, self.up_pins)  # J(lower, upper)
        lowered: _Changes = {}
        raised: _Changes = {}
        for _ in range(2 * len(graph.revokes) + 4):
            lowered = to_lower.run(upper, lower, raised, lowered)
            raised = to_upper.run(lower, upper, lowered, raised)
            if not lowered and not raised:
                break
        return lower, upper, first


_Changes = dict[bytes, tuple[int | None, int | None]]  # key -> (cut before, cut after)


class _Step:
    """One side of the alternating fixpoint, J(judge, guard) written into
    `out`, evaluated again only where its inputs changed since its last run:
    while no changed cut changes whether a vouch is valid, both standings stay
    as they were and only the keys revoked by a key whose cut changed can
    change (their revokes' validity did). So the passes of a long chain of
    dependent revocations inside one component cost its changes, not its size."""

    def __init__(self, graph: Graph, found: Cuts, judge_pins: Pins, guard_pins: Pins) -> None:
        self.graph = graph
        self.found = found
        self.pins = (judge_pins, guard_pins)
        self.st: Standing | None = None
        self.gst: Standing | None = None
        self.subjects = set(graph.subjects)
        self.revokes_by: dict[bytes, set[bytes]] = {}
        for rv in graph.revokes:
            self.revokes_by.setdefault(rv.author, set()).add(rv.subject)

    def _changed_vouches(self, changes: _Changes) -> list[VouchEdge]:
        g = self.graph
        out = []
        for key, (before, after) in changes.items():
            for v in g.vouches_by.get(key, ()):
                if (g.valid(key, v.seq, {} if before is None else {key: before})
                        != g.valid(key, v.seq, {} if after is None else {key: after})):
                    out.append(v)
        return out

    def run(self, judge: Cuts, guard: Cuts, judge_changes: _Changes,
            guard_changes: _Changes) -> _Changes:
        """Write J(judge, guard) into `out` and say what changed, given what
        changed in `judge` and `guard` since the last run (the first run
        evaluates everything). `out` is `guard` (J is applied in place)."""
        g = self.graph
        everything = self.st is None or self.gst is None
        voted: set[bytes] = set()  # keys whose votes alone changed (Graph.revote)
        for side, cuts, moved in ((0, judge, judge_changes), (1, guard, guard_changes)):
            was = self.st if side == 0 else self.gst
            changed = [] if was is None else self._changed_vouches(moved)
            now = None if was is None or everything else g.revote(was, changed, cuts)
            if now is None:
                now = g.standing(cuts, self.pins[side])
                everything = True
            voted.update(v.subject for v in changed)
            if side == 0:
                self.st = now
            else:
                self.gst = now
        assert self.st is not None and self.gst is not None
        if everything:
            dirty = g.subjects
        else:
            dirty = sorted({x for key in judge_changes for x in self.revokes_by.get(key, ())}
                           | (voted & self.subjects))
        new = {x: g.cut_of(x, self.st, self.gst, guard, g.said_about(x, self.st, judge),
                           self.found.get(x)) for x in dirty}
        changes: _Changes = {}
        for x, cut in new.items():
            if guard.get(x) != cut:
                changes[x] = (guard.get(x), cut)
        for x, (_, cut) in changes.items():
            if cut is None:
                del guard[x]
            else:
                guard[x] = cut
        return changes


def _resolve_part(whole: Graph, keys: list[bytes], done: _Settled) -> None:
    """Resolve the component `keys` of `whole` (every component it depends on
    is in `done`) and add its cuts and layers to `done`."""
    graph = whole.about(keys)
    if not graph.revokes and not graph.vouches_by:
        return
    outside = {v.author for vs in graph.vouches_by.values() for v in vs}
    outside |= {rv.author for rv in graph.revokes}
    outside -= set(keys)
    part = _Part(frozenset(keys),
                 {k: done.low[k] for k in outside if k in done.low},
                 {k: done.up[k] for k in outside if k in done.up},
                 {k: done.low_layer[k] for k in outside if k in done.low_layer},
                 {k: done.up_layer[k] for k in outside if k in done.up_layer})
    throughs: dict[bytes, set[int]] = {}
    for rv in graph.revokes:
        throughs.setdefault(rv.subject, set()).add(rv.through)
    found: Cuts = {}
    base, top = dict(part.low), dict(part.up)  # without revokes, nothing is cut
    rounds = len(graph.revokes) + 1 if graph.revokes else 0
    for _ in range(rounds):  # each round lowers or adds a cut
        settled = part.settle(graph, found)
        base, top = settled[:2]
        more = _own_records_aside(graph, part, settled, throughs, found)
        if not more:
            break
        found = {k: c for k, c in base.items() if k in part.keys} | more
    for k in keys:
        if k in base:
            done.low[k] = base[k]
        if k in top:
            done.up[k] = top[k]
    for cuts, pins, into in ((base, part.low_pins, done.low_layer),
                             (top, part.up_pins, done.up_layer)):
        layer = graph.standing(cuts, pins).layer
        into.update((k, layer[k]) for k in keys if k in layer)


def _own_records_aside(graph: Graph, part: _Part, settled: tuple[Cuts, Cuts, Cuts],
                       throughs: dict[bytes, set[int]], found: Cuts) -> Cuts:
    """The keys the per-key step cuts lower than the lower bound does, with
    their cuts. `settled`: the component's (lower, upper, first upper)."""
    base, top, possible = settled
    more: Cuts = {}
    loops = revoke_loops(graph, part.keys, throughs)
    rings: Rings | None = None
    for x in graph.subjects:
        floor, known = possible.get(x), base.get(x)
        if floor is None:
            continue
        local: Graph | None = None
        for n in sorted(throughs[x]):
            if known is not None and n >= known:
                break
            if n < floor or not graph.speaks_past(x, n):
                continue
            if loops is not None and not any(  # no revoke of its loop dropped
                    s > n or (x, s) in graph.forked for s in loops.inside.get(x, ())):
                continue
            if loops is not None:
                rings = rings or Rings(graph, loops.rings(), found, base, top,
                                       part.low_pins, part.up_pins)
            if rings is not None and x in rings:  # shared along its ring of revokes
                got = rings.judge(x, n, len(throughs[x]) + 1)
            else:
                local = local or graph.around(x)
                if not local.speaks_past(x, n):
                    continue
                got = part.settle(local.without(x, n), found)[0].get(x)
            if got is not None and got <= n:
                more[x] = got
                break
    return more


def components(graph: Graph) -> list[list[bytes]]:
    """The keys of `graph` in strongly connected components of "x depends on
    a" (a signed a vouch or revoke of x), each after every component it depends
    on; keys sorted within a component, the order fixed by the key bytes
    (Tarjan's algorithm, without recursion)."""
    succ: dict[bytes, set[bytes]] = {}
    for a, vs in graph.vouches_by.items():
        succ.setdefault(a, set()).update(v.subject for v in vs)
    for rv in graph.revokes:
        succ.setdefault(rv.author, set()).add(rv.subject)
    return strongly_connected(succ)


def settle(graph: Graph, found: Cuts | None = None) -> Cuts:
    """The well-founded cuts (the alternating fixpoint's lower bound), with the
    cuts `found` in force."""
    lower: Cuts = dict(found or {})
    upper = graph.cuts({}, _everything_cut(graph), found)
    for _ in range(2 * len(graph.revokes) + 4):
        new_lower = graph.cuts(upper, lower, found)
        new_upper = graph.cuts(new_lower, upper, found)
        if new_lower == lower and new_upper == upper:
            break
        lower, upper = new_lower, new_upper
    return lower


def _everything_cut(graph: Graph) -> Cuts:
    """The strongest possible cuts: every key that appears, cut through 0."""
    keys = set(graph.founding) | set(graph.vouches_by) | set(graph.subjects)
    for vs in graph.vouches_by.values():
        keys.update(v.subject for v in vs)
    return dict.fromkeys(keys, 0)
