"""Rings of revokes (issue 9): membership.resolve shares the per-key judgments
of a loop of revokes in which each key revokes only the next one
(node/ledger/revokerings.py). Property tests against the exhaustive reference
rule on random rings: open, closed by a vouch or by a revoke, of 2 to 9 keys,
with several revokes per link at any seq and through, chords (extra revokes
inside the ring, mutual revocation among them), forks, vouches past a cut,
admission 2, and revokes from outside the ring (a thief that admitted every
link, the council)."""

from __future__ import annotations

import hashlib
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from membership_reference import exhaustive_cuts, fast_cuts, forks_of, rec

from meshaid.node.ledger import membench, membership
from meshaid.node.ledger import records as r


def key(name: str) -> bytes:
    return hashlib.sha256(b"ring" + name.encode()).digest()


FOUNDER, CO1, CO2, THIEF = key("founder"), key("co1"), key("co2"), key("thief")


@st.composite
def rings(draw: st.DrawFn) -> tuple[r.Record, list[r.Record]]:
    size = draw(st.integers(2, 9))
    links = [key(f"link{i}") for i in range(size)]
    n_co = draw(st.integers(0, 2))
    admission = draw(st.sampled_from((1, 1, 1, 2)))
    ch = rec(FOUNDER, 1, r.Charter("Ring", admission, (CO1, CO2)[:n_co]))
    events = [rec(FOUNDER, 2, r.Vouch(THIEF, 1))]
    if n_co:
        events.append(rec(CO1, 2, r.Vouch(THIEF, 1)))
    # through 0 voids a link's vouch at seq 1: then a cut can change a vouch's validity
    through = st.sampled_from(draw(st.sampled_from(((1, 1, 2, 3),) * 3 + ((1, 2, 0),))))
    seq = {FOUNDER: 10, THIEF: 10}
    for link in links:  # the thief (and sometimes the founder) admitted every link
        seq[THIEF] += 1
        events.append(rec(THIEF, seq[THIEF], r.Vouch(link, 1)))
        if admission == 2 or draw(st.integers(0, 3)) == 0:
            seq[FOUNDER] += 1
            events.append(rec(FOUNDER, seq[FOUNDER], r.Vouch(link, 1)))
            if draw(st.integers(0, 3)):
                seq[FOUNDER] += 1
                events.append(rec(FOUNDER, seq[FOUNDER], r.Revoke(link, draw(through))))
    every = draw(st.booleans())
    for link in links:  # and revoked all of them, or most
        if every or draw(st.integers(0, 3)):
            seq[THIEF] += 1
            events.append(rec(THIEF, seq[THIEF], r.Revoke(link, draw(through))))
        if n_co == 2 and draw(st.integers(0, 5)) == 0:  # the council
            events += [rec(f, 30, r.Revoke(link, draw(through))) for f in (FOUNDER, CO1)]
    closing = draw(st.sampled_from(("open", "vouch") + ("revoke",) * 4))
    seq.update(dict.fromkeys(links, 1))  # each link's vouch at seq 1, its revokes above
    for i, a in enumerate(links):
        b = links[(i + 1) % size]
        if i == size - 1 and closing == "open":
            break
        events.append(rec(a, 1, r.Vouch(b, draw(st.sampled_from((1,) * 7 + (0,))))))
        if i == size - 1 and closing == "vouch":
            break
        for _ in range(draw(st.sampled_from((1, 1, 2)))):
            seq[a] += draw(st.sampled_from((1, 1, 2, 3)))  # often past the throughs
            events.append(rec(a, seq[a], r.Revoke(b, draw(through))))
    for _ in range(draw(st.sampled_from((0, 0, 0, 0, 1, 2)))):  # chords
        a, b = draw(st.sampled_from(links)), draw(st.sampled_from(links))
        seq[a] += 1
        events.append(rec(a, seq[a], r.Revoke(b, draw(through))))
    if draw(st.integers(0, 5)) == 0:  # a vouch past a cut: vouches may change validity
        a, b = draw(st.sampled_from(links)), draw(st.sampled_from(links))
        events.append(rec(a, 6, r.Vouch(b, 1)))
    if draw(st.integers(0, 5)) == 0:  # a twin of one of a link's records
        a, b = draw(st.sampled_from(links)), draw(st.sampled_from(links))
        events.append(rec(a, draw(st.integers(1, 3)), r.Revoke(b, 0)))
    return ch, events


@settings(max_examples=400)
@given(rings())
def test_rings_of_revokes_get_the_cuts_of_the_exhaustive_rule(ring) -> None:
    ch, events = ring
    forked = forks_of(events)
    assert fast_cuts(ch, events, forked) == exhaustive_cuts(ch, events, forked)


def tight_ring(thief: list[list[int]],
               links: list[list[tuple[int, int]]]) -> tuple[r.Record, list[r.Record]]:
    """A closed ring of len(links) keys, each admitted by the thief and
    revoked by it through each of `thief[i]`; key i vouches for the next at
    seq 1 and revokes it at each (seq, through) of `links[i]`."""
    keys = [key(f"tight{i}") for i in range(len(links))]
    ch = rec(FOUNDER, 1, r.Charter("Ring", 1, ()))
    events = [rec(FOUNDER, 2, r.Vouch(THIEF, 1))]
    for i, k in enumerate(keys):
        events.append(rec(THIEF, 10 + i, r.Vouch(k, 1)))
        events += [rec(THIEF, 20 + 3 * i + j, r.Revoke(k, t)) for j, t in enumerate(thief[i])]
    for i, k in enumerate(keys):
        after = keys[(i + 1) % len(keys)]
        events.append(rec(k, 1, r.Vouch(after, 1)))
        events += [rec(k, at, r.Revoke(after, t)) for at, t in links[i]]
    return ch, events


@st.composite
def tight_rings(draw: st.DrawFn) -> tuple[r.Record, list[r.Record]]:
    """Closed rings of 2 to 4 keys, each link with 1 to 3 revokes of the next
    at rising seqs and the thief with 0 to 2 revokes of each link, throughs 1
    to 4: a key's world often keeps some of its revokes of its successor, so
    the ring stays closed there and the map around it must be iterated."""
    size = draw(st.integers(2, 4))
    thief = [draw(st.lists(st.integers(1, 4), max_size=2)) for _ in range(size)]
    links = []
    for _ in range(size):
        at, revokes = 1, []
        for _ in range(draw(st.integers(1, 3))):
            at += draw(st.integers(1, 2))
            revokes.append((at, draw(st.integers(1, 4))))
        links.append(revokes)
    return tight_ring(thief, links)


@settings(max_examples=400)
@given(tight_rings())
def test_rings_that_stay_closed_in_a_keys_world_get_the_cuts_of_the_exhaustive_rule(
        ring) -> None:
    ch, events = ring
    assert fast_cuts(ch, events, set()) == exhaustive_cuts(ch, events, set())


def test_a_ring_whose_last_key_keeps_a_revoke_in_its_world_gets_the_exhaustive_cuts() -> None:
    """Three keys, each revoking the next through 1 past its cut; the last
    one also through 2 at seq 3, which its world through 2 keeps: the map
    around the ring is iterated from its least precise pair (a pass that
    judged the lower cut under the predecessor's lower instead of its upper
    runs forever here)."""
    ch, events = tight_ring([[1], [1], [1, 2]], [[(2, 1)], [(2, 1)], [(2, 1), (3, 2)]])
    assert fast_cuts(ch, events, set()) == exhaustive_cuts(ch, events, set())


def test_the_benchmarks_closed_rings_get_the_cuts_of_the_exhaustive_rule() -> None:
    """Also with chords and with vouches past the cuts (which the shared walks
    do not cover: the per-key step runs in a world per key there)."""
    for n, chords, past in itertools.product((6, 7), (False, True), (False, True)):
        ch, events = membench.build(12, 3, 0, chain=n, ring=True, closed=True,
                                    chords=chords, past=past)
        assert sum(e.seq == 3 for e in events if e.author == membench.key(95_000)) == chords
        assert sum(e.seq == 4 for e in events if e.author == membench.key(95_000)) == past
        assert fast_cuts(ch, events, set()) == exhaustive_cuts(ch, events, set())


def test_a_long_closed_ring_cuts_every_link_when_even_and_none_when_odd() -> None:
    """Each link is cut exactly when the one before it is not: an even ring has
    two such answers, so nothing is decided, and each link, judged without its
    own revoke past its cut, is cut (it and its neighbours lose their records
    past the cuts, as in a mutual revocation); an odd ring has no such answer,
    and judged without its own revoke a link stays."""
    for n, cut in ((120, 1), (121, None)):
        charter, events = membench.build(40, 10, 0, chain=n, ring=True, closed=True)
        after = membership.derive(charter, events)
        assert {after[membench.key(95_000 + i)].revoked_through for i in range(n)} == {cut}
