"""The per-key step of membership (node/ledger/membership.py, `_own_records_aside`)
where it is cheap to share: loops of revokes inside one component, when no vouch
can change validity. node/PROTOCOL.md §4 (Cost) is the specification.

Theory of operation
-------------------
Where no vouch of a component can change validity (`revoke_loops` says so),
every standing is the same whatever the cuts, in the ledger and in each per-key
world (which only drops revokes), and a key's cut depends on the others' only
through the revokes of it: in the alternating fixpoint, a key's lower cut is
J of its revokers' upper cuts, its upper cut J of their lower cuts. The keys
split into *loops*, the strongly connected components of "a revoked x".

A *ring* is a loop of two keys or more in which each key revokes exactly one
key of the loop, its successor (with any number of revoke records). In the
world of x's cut through n (x's records past n and its forked ones dropped),
only x's revokes of its successor change inside the ring; every other revoker
of a ring key is upstream of the ring and keeps its ledger bounds (the
well-founded fixpoint splits along components of revokes). So each ring key's
state, the pair (lower cut, upper cut), is a function of its predecessor's
alone (`_Ring.step`), and x's state in its world is a fixpoint of the
composition of those functions once around the ring, starting from x's
state with x's revokes clipped at n. The alternating fixpoint is the least
fixpoint in precision (lower only growing, upper only shrinking) of that
monotone map, reached by iterating it from the least precise pair (x's found
cut, cut through 0). The compositions are shared by every key of the ring:
the ring is numbered c0 .. c(L-1); the walk from c(k+1) to c(L-1)
(`_to_end`, memoised per entry state) and from c0 to ck (`_from_start`, one
walk per state of c(L-1)) make each key's judgment a few table look-ups, so a
ring costs a few linear passes, however long, where a world per key cost L^2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from .sccs import strongly_connected
from .trustgraph import Cuts, Graph, Pins

State = tuple[int | None, int | None]  # a key's (lower, upper) cut; None: not cut
Step = Callable[[bytes, bytes, State], State]  # (key, its revoker, revoker's state) -> key's


class Loops:
    """The loops of revokes of a component where no vouch can change validity:
    `inside` key -> the seqs of its revokes of keys in its own loop, `loops`
    the loops themselves (strongly connected components of "a revoked x")."""

    def __init__(self, inside: dict[bytes, list[int]], loops: list[list[bytes]],
                 succ: dict[bytes, set[bytes]]) -> None:
        self.inside = inside
        self.loops = loops
        self.succ = succ

    def rings(self) -> list[list[bytes]]:
        """The loops that are rings, each in ring order from its lowest key."""
        out = []
        for loop in self.loops:
            members = set(loop)
            nexts = {k: self.succ.get(k, set()) & members for k in loop}
            if len(loop) < 2 or any(len(n) != 1 for n in nexts.values()):
                continue
            order = [loop[0]]
            while len(order) < len(loop):
                order.append(next(iter(nexts[order[-1]])))
            out.append(order)
        return out


def revoke_loops(graph: Graph, keys: frozenset[bytes],
                 throughs: dict[bytes, set[int]]) -> Loops | None:
    """The loops of revokes among `keys`, when no vouch of the component can
    change validity (each vouch of a revoked key unforked and at or below its
    lowest through, the lowest cut it can get); else None. Then standing is
    the same whatever the cuts, in the graph and in every per-key world (which
    drops revokes only), and a cut depends on the others' through revokes
    alone: a key none of whose dropped revokes stays in its loop changes only
    keys downstream of it, so its cut there is its base cut."""
    for a, vs in graph.vouches_by.items():
        if a in throughs and any(v.seq > min(throughs[a]) or (a, v.seq) in graph.forked
                                 for v in vs):
            return None
    succ: dict[bytes, set[bytes]] = {}
    for rv in graph.revokes:
        if rv.author in keys:
            succ.setdefault(rv.author, set()).add(rv.subject)
    loops = strongly_connected(succ)
    loop = {k: i for i, comp in enumerate(loops) for k in comp}
    inside: dict[bytes, list[int]] = {}
    for rv in graph.revokes:
        if rv.author in keys and loop[rv.author] == loop[rv.subject]:
            inside.setdefault(rv.author, []).append(rv.seq)
    return Loops(inside, loops, succ)


class _With(Mapping[bytes, int]):
    """`cuts` with `key` cut through `cut` instead (None: not cut)."""

    def __init__(self, cuts: Cuts, key: bytes, cut: int | None) -> None:
        self.cuts, self.key, self.cut = cuts, key, cut

    def __getitem__(self, k: bytes) -> int:
        if k != self.key:
            return self.cuts[k]
        if self.cut is None:
            raise KeyError(k)
        return self.cut

    def get(self, k: bytes, default: int | None = None) -> int | None:  # type: ignore[override]
        if k == self.key:
            return self.cut
        return self.cuts.get(k, default)

    def __iter__(self) -> Iterator[bytes]:
        yield from (k for k in self.cuts if k != self.key)
        if self.cut is not None:
            yield self.key

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Rings:
    """Per-key judgments of the keys in rings of one component, given its
    alternating fixpoint on the ledger (`lower`, `upper`, with the cuts
    `found` in force) and the settled stewards' layers under each bound."""

    def __init__(self, graph: Graph, rings: list[list[bytes]], found: Cuts, lower: Cuts,
                 upper: Cuts, low_pins: Pins, up_pins: Pins) -> None:
        self.where: dict[bytes, tuple[_Ring, int]] = {}
        if not rings:
            return
        # the lower bound's pass judges under the upper bound, and the reverse
        up_st, low_st = graph.standing(upper, up_pins), graph.standing(lower, low_pins)

        def step(key: bytes, before: bytes, state: State) -> State:
            lo = graph.cut_of(key, up_st, low_st, lower,
                              graph.said_about(key, up_st, _With(upper, before, state[1])),
                              found.get(key))
            up = graph.cut_of(key, low_st, up_st, upper,
                              graph.said_about(key, low_st, _With(lower, before, state[0])),
                              found.get(key))
            return lo, up

        self.found = found
        for order in rings:
            ring = _Ring(order, step)
            self.where.update((k, (ring, i)) for i, k in enumerate(order))

    def __contains__(self, key: bytes) -> bool:
        return key in self.where

    def judge(self, x: bytes, n: int, height: int) -> int | None:
        """x's lower cut in the world without x's records past n and its forked
        ones. `height`: how many distinct cuts x can have (its revokes'
        throughs and its found cut), which bounds the iterations."""
        ring, k = self.where[x]
        state: State = (self.found.get(x), 0)
        for _ in range(2 * height + 3):
            again = ring.around(k, (n if state[0] is None else min(state[0], n),
                                    n if state[1] is None else min(state[1], n)))
            if again == state:
                return state[0]
            state = again
        raise AssertionError("the map around a ring is monotone: it cannot run this long")


class _Ring:
    def __init__(self, order: list[bytes], step_of: Step) -> None:
        self.keys = order
        self.step_of = step_of
        self.steps: dict[tuple[int, State], State] = {}
        self.ends: dict[tuple[int, State], State] = {}
        self.starts: dict[State, list[State]] = {}

    def step(self, i: int, before: State) -> State:
        """The state of key i given the state of key i - 1 (its one revoker in
        the ring)."""
        got = self.steps.get((i, before))
        if got is None:
            got = self.steps[(i, before)] = self.step_of(self.keys[i], self.keys[i - 1], before)
        return got

    def _to_end(self, i: int, before: State) -> State:
        """The state of the last key when key i's predecessor is in `before`."""
        path = []
        state = before
        while i < len(self.keys) and (i, state) not in self.ends:
            path.append((i, state))
            state = self.step(i, state)
            i += 1
        end = state if i == len(self.keys) else self.ends[(i, state)]
        for entry in path:
            self.ends[entry] = end
        return end

    def _from_start(self, last: State) -> list[State]:
        """Each key's state when the last key is in `last`, walking from key 0."""
        walk = self.starts.get(last)
        if walk is None:
            walk = []
            state = last
            for i in range(len(self.keys)):
                state = self.step(i, state)
                walk.append(state)
            self.starts[last] = walk
        return walk

    def around(self, k: int, clipped: State) -> State:
        """Key k's state after going once around from its successor, whose
        revoker (key k) is in the state `clipped`."""
        nxt = (k + 1) % len(self.keys)
        state = self.step(nxt, clipped)
        if nxt == 0:
            return self._to_end(1, state)
        return self._from_start(self._to_end(nxt + 1, state))[k]
