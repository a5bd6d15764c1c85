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

Cost.  Every evaluation runs on the stewards' records only (`core`: vouches
for keys that sign nothing and are never revoked change no cut), and each
per-key judgment on the records x's cut depends on (`around`), only for keys
that signed a vouch or revoke past the through of a revoke of them. Events are
sorted first, so the result is the same for every arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .records import Charter, Record
from .trustgraph import Cuts, Graph


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
    """The cuts in force (node/PROTOCOL.md §4): the well-founded cuts, then for
    each revoked key x and each through N of a revoke of x, lowest first and
    below x's well-founded cut: x is cut when, in the graph without x's records
    past N (and its forked ones), x's well-founded cut is at most N. A key's own
    later records never defend it. When that step cuts a key, its records past
    the cut stop counting for everyone: the cuts found so far are kept in force
    and both steps run again, until the second finds nothing new."""
    graph = graph.core()
    throughs: dict[bytes, set[int]] = {}
    for rv in graph.revokes:
        throughs.setdefault(rv.subject, set()).add(rv.through)
    found: Cuts = {}
    for _ in range(len(graph.revokes) + 1):  # each round lowers or adds a cut
        base = settle(graph, found)
        possible = graph.cuts({}, _everything_cut(graph), found)  # no world cuts below
        more = _own_records_aside(graph, base, possible, throughs, found)
        if not more:
            return base
        found = {**base, **more}
    return found


def _own_records_aside(graph: Graph, base: Cuts, possible: Cuts,
                       throughs: dict[bytes, set[int]], found: Cuts) -> Cuts:
    """The keys the per-key step cuts lower than `base` does, with their cuts."""
    more: Cuts = {}
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
            local = local or graph.around(x)
            if not local.speaks_past(x, n):
                continue
            got = settle(local.without(x, n), found).get(x)
            if got is not None and got <= n:
                more[x] = got
                break
    return more


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
