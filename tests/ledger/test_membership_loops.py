"""The two loop shapes of revokes the shared ring walks do not cover (issue 9,
PROTOCOL.md §4 Cost): `membench --chain N --ring --closed --chords` (each link
also revokes a link further on) and `--past` (each link also vouches for a
link further on past its cut, so that cuts change whether vouches count).
Random small instances of both, with every link carrying a chord or a vouch
past its cut or both (not one now and then as in test_membership_rings.py),
mixed throughs, chords past the cut, vouches at, below and past the cut,
member-only and steward grants, links only a vouch of the loop admits, admission 2 with the founder's vouches,
and forks, compared with the exhaustive reference rule: these are what a
faster judgment of such loops (Graph.revote, the standings that only votes
change) must keep."""

from __future__ import annotations

import hashlib

from hypothesis import event, given, settings
from hypothesis import strategies as st
from membership_reference import exhaustive_cuts, fast_cuts, forks_of, rec

from meshaid.node.ledger import records as r


def key(i: int) -> bytes:
    return hashlib.sha256(b"loop" + i.to_bytes(4, "big")).digest()


FOUNDER, CO1, THIEF = key(0), key(1), key(2)

# Per link: the thief's through (None: not revoked), the link's revoke of the
# next (seq, through), its chord (offset, seq, through) or None, its vouch
# further on (offset, seq, grant) or None.
throughs = st.sampled_from((1, 1, 1, 2, 0))
link = st.tuples(st.sampled_from((1, 1, 1, 1, 2, 0, None)),
                 st.tuples(st.sampled_from((2, 2, 3)), throughs),
                 st.one_of(st.none(), st.tuples(st.integers(2, 7), st.sampled_from((5, 5, 6)),
                                                throughs)),
                 st.one_of(st.none(), st.tuples(st.integers(2, 7), st.sampled_from((12, 12, 13, 1, 2)),
                                                st.sampled_from((0, 0, 1)))))
loops = st.tuples(st.lists(link, min_size=2, max_size=7),
                  st.lists(st.sampled_from((1, 1, 1, 0, None)), min_size=7, max_size=7),
                  st.sampled_from(("chords", "past", "both", "mixed")),
                  st.sampled_from((True, True, True, False)),  # closed by a revoke
                  st.sampled_from((1, 1, 1, 2)),  # admission
                  st.lists(st.tuples(st.integers(0, 6), st.integers(1, 4)), max_size=1))  # forks


def build(case: tuple) -> tuple[r.Record, list[r.Record]]:
    links, grants, shape, closed, admission, forks = case
    m = len(links)
    ks = [key(10 + i) for i in range(m)]
    ch = rec(FOUNDER, 1, r.Charter("Loop", admission, (CO1,)), 0)
    out = [rec(f, 5, r.Vouch(THIEF, 1)) for f in (FOUNDER, CO1)]
    for i, (cut, (seq, through), chord, past) in enumerate(links):
        if shape in ("chords", "both") and chord is None:
            chord = (2, 5, 1)
        if shape in ("past", "both") and past is None:
            past = (2, 12, 0)
        if shape == "chords":
            past = None
        if shape == "past":
            chord = None
        if grants[i] is not None:  # else only a vouch of the loop can admit the link
            out.append(rec(THIEF, 10 + i, r.Vouch(ks[i], grants[i])))
        if admission == 2:
            out.append(rec(FOUNDER, 10 + i, r.Vouch(ks[i], 1)))
        if cut is not None:
            out.append(rec(THIEF, 100 + i, r.Revoke(ks[i], cut)))
        if i == m - 1 and not closed:
            continue
        nxt = ks[(i + 1) % m]
        out.append(rec(ks[i], 1, r.Vouch(nxt, 1)))
        out.append(rec(ks[i], seq, r.Revoke(nxt, through)))
        if chord is not None:
            off, at, t = chord
            out.append(rec(ks[i], at, r.Revoke(ks[(i + off) % m], t)))
        if past is not None:
            off, at, grant = past
            out.append(rec(ks[i], at, r.Vouch(ks[(i + off) % m], grant)))
    for a, seq in forks:  # a twin of whatever the link signed at that seq
        out.append(rec(ks[a % m], seq, r.Revoke(ks[(a + 1) % m], 1), 1))
    return ch, out


@settings(max_examples=300, deadline=None)
@given(loops)
def test_loops_with_chords_and_vouches_past_the_cuts_get_the_cuts_of_the_exhaustive_rule(
        case) -> None:
    ch, events = build(case)
    forked = forks_of(events)
    fast = fast_cuts(ch, events, forked)
    event("a link cut" if any(k in fast for k in (key(10 + i) for i in range(len(case[0]))))
          else "no link cut")
    assert fast == exhaustive_cuts(ch, events, forked)


def test_a_member_vouch_past_the_cut_changes_a_loops_cuts() -> None:
    """Three links closed by revokes, each cut by the thief through 2 and
    revoking the next at seq 3 through 1; link 0 also vouches (member only)
    for link 2. At seq 2 (at its cut) that vouch counts and link 0 is cut
    through 2; at seq 12 (past it) it does not and no link is cut. A judgment
    of the loop that took every vouch as valid, or none past a cut as a
    possible one, gets one of the two wrong."""
    answers = []
    for at in (2, 12):
        links = [(2, (3, 1), None, (2, at, 0))] + [(2, (3, 1), None, None)] * 2
        ch, events = build((links, [1] * 7, "mixed", True, 1, []))
        got = fast_cuts(ch, events, set())
        assert got == exhaustive_cuts(ch, events, set())
        answers.append(got)
    assert answers == [{key(10): 2}, {}]
