"""The ring judgments of node/ledger/revokerings.py on long rings and with
undecided keys upstream (issue 9): random rings of 2..40 stewards that vouch
for and revoke each other in turn, open or closed, with chords, forks,
backdating, mixed throughs, council revokes, extra vouches and, upstream, a
ring of their own (an odd one stays undecided, so a ring key's guardian there
has two bounds, directly or through a steward only it made), compared with
membership.resolve judging every ring key in its own world (`general_cuts`)
and, up to 7 links, with the exhaustive rule. test_membership_rings.py
covers short rings whose worlds keep some of a key's revokes; these catch a
ring judgment that takes the other revokers' bounds, the settled stewards'
layers or the guardians' standing from the wrong bound."""

from __future__ import annotations

import hashlib
from unittest import mock

from hypothesis import event, given, settings
from hypothesis import strategies as st
from membership_reference import exhaustive_cuts, forks_of, rec

from meshaid.node.ledger import membership, revokerings, trustgraph
from meshaid.node.ledger import records as r


def key(i: int) -> bytes:
    return hashlib.sha256(b"ring" + i.to_bytes(4, "big")).digest()


FOUNDER, CO1, CO2, THIEF = key(0), key(1), key(2), key(3)

# Per link: does the thief vouch for it (grant), revoke it (through or None);
# the link's vouch for the next (seq, grant), its revokes of the next
# (seq, through), one or two.
link = st.tuples(st.sampled_from((1, 1, 1, 1, 0, None)),
                 st.sampled_from((1, 1, 1, 1, 2, 3, 0, None)),
                 st.tuples(st.sampled_from((1, 1, 1, 1, 1, 2)), st.sampled_from((1, 1, 1, 0))),
                 st.lists(st.tuples(st.integers(2, 6), st.sampled_from((1, 1, 1, 1, 2, 3, 0))),
                          min_size=1, max_size=2))
extra = st.tuples(st.integers(0, 39), st.integers(0, 39), st.sampled_from(("vouch", "revoke")),
                  st.integers(1, 9), st.sampled_from((1, 2, 3, 1, 2, 3, 0)))
rings = st.integers(2, 40).flatmap(lambda m: st.tuples(
    st.just(m),
    st.tuples(st.sampled_from((1, 1, 2, 3)), st.integers(2, 6)),  # the ring's through, seq
    st.lists(st.tuples(st.integers(0, m - 1), link), max_size=2),  # links unlike the rest
    st.sampled_from((True, True, True, False)),  # closed by a revoke
    st.sampled_from((1, 1, 1, 1, 1, 2)), st.integers(0, 2),  # admission, co-stewards
    st.lists(extra, max_size=1),  # a chord, an extra vouch (maybe past a cut)
    st.lists(st.tuples(st.integers(0, 39), st.sampled_from((2, 3, 4, 5, 6, 1))), max_size=1),
    st.lists(st.tuples(st.sampled_from((FOUNDER, CO1, CO2)), st.integers(0, 39),
                       st.sampled_from((1, 2, 3, 1, 2, 3, 0))), max_size=2),  # council
    st.sampled_from((None, None, 2, 3, 3)), st.integers(0, 39),  # an upstream ring, its link
    st.sampled_from((True, True, False)),  # plain: no through 0, no vouch past 1, forks of revokes only
    st.randoms(use_true_random=False)))


def build(case: tuple) -> tuple[r.Record, list[r.Record]]:
    m, (through, seq), unlike, closed, admission, n_co, extras, forks, council, side, at, plain, \
        rnd = case
    links = [(1, through, (1, 1), [(seq, through)])] * m
    for i, odd in unlike:
        links[i] = odd
    if plain:  # then the ring is judged along it unless a chord or a fork breaks it
        links = [(g, c and max(c, 1), (1, vg), [(s, max(t, 1)) for s, t in revs])
                 for g, c, (_, vg), revs in links]
        extras = [(a, b, kind, 1 if kind == "vouch" else n, max(t, 1))
                  for a, b, kind, n, t in extras]
        forks = [(a, max(n, 2)) for a, n in forks]
        council = [(f, b, max(t, 1)) for f, b, t in council]
    ch = rec(FOUNDER, 1, r.Charter("Ring", admission, (CO1, CO2)[:n_co]), 0)
    ks = [key(10 + i) for i in range(m)]
    hlc = lambda: rnd.randrange(1 << 40)
    out = [rec(f, 5, r.Vouch(THIEF, 1), hlc()) for f in (FOUNDER, CO1, CO2)[:1 + n_co]]
    for i, (grant, cut, (vseq, vgrant), revs) in enumerate(links):
        nxt = ks[(i + 1) % m]
        if grant is not None:
            out.append(rec(THIEF, 1 + i, r.Vouch(ks[i], grant), hlc()))
        if cut is not None:
            out.append(rec(THIEF, 100 + i, r.Revoke(ks[i], cut), hlc()))
        if i < m - 1 or closed or rnd.random() < 0.5:  # an open ring: closed by a vouch
            out.append(rec(ks[i], vseq, r.Vouch(nxt, vgrant), hlc()))
        if i < m - 1 or closed:
            out += [rec(ks[i], seq, r.Revoke(nxt, through), hlc()) for seq, through in revs]
    for a, b, kind, seq, through in extras:
        body: r.Body = (r.Vouch(ks[b % m], 1) if kind == "vouch"
                        else r.Revoke(ks[b % m], through))
        out.append(rec(ks[a % m], seq, body, hlc()))
    for a, seq in forks:  # a twin of whatever the link signed at that seq
        out.append(rec(ks[a % m], seq, r.Revoke(ks[(a + 1) % m], 1), 1 + hlc()))
    out += [rec(f, 200 + i, r.Revoke(ks[b % m], through), hlc())
            for i, (f, b, through) in enumerate(council)]
    if side:  # a ring of its own, upstream, whose first key is a guardian of one link: an
        # odd ring stays undecided there, so that link's guardian has two bounds
        ps = [key(500 + i) for i in range(side)]
        for i, p in enumerate(ps):
            out += [rec(THIEF, 300 + i, r.Vouch(p, 1), hlc()), rec(THIEF, 400 + i, r.Revoke(p, 1), hlc()),
                    rec(p, 1, r.Vouch(ps[(i + 1) % side], 1), hlc()),
                    rec(p, 3, r.Revoke(ps[(i + 1) % side], 1), hlc())]
        guardian = ps[0]
        if at >= 20:  # through a steward that only ps[0] made, past ps[0]'s cut
            guardian = key(600)
            out.append(rec(ps[0], 2, r.Vouch(guardian, 1), hlc()))
        out += [rec(guardian, 5, r.Vouch(ks[at % m], 1), hlc()),
                rec(guardian, 6, r.Revoke(ks[at % m], 1), hlc())]
    rnd.shuffle(out)
    return ch, out


def general_cuts(graph: trustgraph.Graph) -> trustgraph.Cuts:
    """membership.resolve judging every key of a ring in its own world."""
    with mock.patch.object(revokerings.Loops, "rings", lambda self: []):
        return membership.resolve(graph)


def graph_of(ch: r.Record, events: list[r.Record]) -> trustgraph.Graph:
    assert isinstance(ch.body, r.Charter)
    return trustgraph.Graph(ch.body, ch.author, events, frozenset(forks_of(events)))


def judged_along(charter: r.Record, events: list[r.Record]) -> tuple[trustgraph.Cuts, set[bytes]]:
    """resolve's cuts and the keys it judged along their ring."""
    judged: set[bytes] = set()
    real = revokerings.Rings.judge

    def spy(self: revokerings.Rings, x: bytes, n: int, height: int) -> int | None:
        judged.add(x)
        return real(self, x, n, height)

    with mock.patch.object(revokerings.Rings, "judge", spy):
        return membership.resolve(graph_of(charter, events)), judged


@settings(max_examples=300)
@given(rings)
def test_long_rings_get_the_cuts_of_a_world_per_key(case) -> None:
    ch, events = build(case)
    fast, judged = judged_along(ch, events)
    event("a ring key judged" if judged else "no ring key judged")
    event("a judged ring key cut" if judged & set(fast) else "no judged ring key cut")
    assert fast == general_cuts(graph_of(ch, events))
    if case[0] <= 7:
        assert fast == exhaustive_cuts(ch, events, forks_of(events))
