"""Property tests of membership.derive over adversarial vouch/revoke graphs:
cycles, mutual revocation, backdating (any clock value), forks and stolen keys.

Records here are built unsigned (membership never looks at signatures), so
hypothesis can explore thousands of graphs quickly."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from membership_reference import exhaustive_cuts, forks_of, rec

from meshaid.node.ledger import identity, membership, trustgraph
from meshaid.node.ledger import records as r

KEYS = [identity.public_bytes(identity.key_from_seed(bytes([i + 1]) * 32)) for i in range(7)]
FOUNDER = KEYS[0]
SEQ_MAX = 6


def charter(admission: int, n_co: int) -> r.Record:
    return rec(FOUNDER, 1, r.Charter("Port", admission, tuple(KEYS[1:1 + n_co])))


key_index = st.integers(0, len(KEYS) - 1)
event = st.tuples(
    key_index,  # author
    st.integers(1, SEQ_MAX),  # seq
    st.booleans(),  # vouch (else revoke)
    key_index,  # subject
    st.integers(0, 1),  # grant
    st.integers(0, SEQ_MAX),  # through
    st.integers(0, 1 << 40),  # hlc: anything, backdated or not
)


def build(raw_events: list[tuple[int, int, bool, int, int, int, int]]) -> list[r.Record]:
    out = []
    for author, seq, is_vouch, subject, grant, through, at in raw_events:
        body: r.Body = (r.Vouch(KEYS[subject], grant) if is_vouch
                        else r.Revoke(KEYS[subject], through))
        out.append(rec(KEYS[author], seq, body, at))
    return out


def derive(ch: r.Record, events: list[r.Record],
           extra_forks: set[tuple[bytes, int]] | None = None) -> dict[bytes, membership.Member]:
    forked = forks_of(events) | (extra_forks or set())
    return membership.derive(ch, events, forked)


def summary(members: dict[bytes, membership.Member]) -> dict:
    return {k: (m.role, m.revoked_through, frozenset(m.vouchers)) for k, m in members.items()}


graphs = st.tuples(st.integers(1, 3), st.integers(0, 2), st.lists(event, max_size=24))
RANK = {"member": 0, "steward": 1}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs, st.randoms(use_true_random=False))
def test_same_answer_in_every_arrival_order_and_founders_stay(graph, rnd) -> None:
    admission, n_co, raw = graph
    ch = charter(admission, n_co)
    events = build(raw)
    expected = summary(derive(ch, events))
    shuffled = events[:]
    rnd.shuffle(shuffled)
    assert summary(derive(ch, shuffled)) == expected
    assert summary(derive(ch, shuffled + shuffled[:3])) == expected  # duplicates change nothing
    for key in KEYS[:1 + n_co]:
        assert expected[key][0] == "steward"
    if n_co < 2:
        assert expected[FOUNDER][1] is None  # nobody undoes the founder alone


def depends_on(ch: r.Record, events: list[r.Record], key: bytes) -> set[bytes]:
    """Keys whose standing needs `key`: members with it, not without its records."""
    with_key = derive(ch, events)
    without = derive(ch, [e for e in events if e.author != key])
    return {k for k in with_key if k not in without}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs, key_index, st.lists(event, max_size=10))
def test_one_stolen_key_cannot_expel_anyone_it_did_not_admit(graph, thief_i, attack) -> None:
    admission, n_co, raw = graph
    ch = charter(admission, n_co)
    honest = build(raw)
    thief = KEYS[thief_i]
    forged = build([(thief_i, *rest) for _, *rest in attack])
    before = derive(ch, honest)
    after = derive(ch, honest + forged)
    dependants = depends_on(ch, honest, thief)
    if thief == FOUNDER and n_co == 1:
        # below three founding stewards the founder is the root: it may cut the
        # co-steward, and so expel what only the co-steward admitted
        dependants |= {KEYS[1]} | depends_on(ch, honest, KEYS[1])
    revoked_by_someone = {e.body.subject for e in honest if isinstance(e.body, r.Revoke)}
    for key in revoked_by_someone & set(before):
        # the thief may join a revocation others began, and its subject's
        # dependants go with it
        dependants |= depends_on(ch, honest, key)
    for key, m in before.items():
        if key == thief or key in dependants or key in revoked_by_someone:
            continue
        assert key in after, "expelled by one key it did not depend on"
        assert RANK[after[key].role] >= RANK[m.role]
        assert after[key].revoked_through is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2), st.lists(event, max_size=16), st.integers(1, 6),
       st.integers(0, 3), st.lists(event, max_size=10))
def test_after_a_revocation_the_revoked_keys_new_records_never_add_standing(
        admission, raw, thief_i, through, attack) -> None:
    """The thief's key was admitted by the founder and cut through `through` by it;
    whatever the thief signs afterwards (past the cut, or forks at or below it,
    with any clock value) gives no one standing they did not have."""
    ch = charter(admission, 2)
    thief = KEYS[thief_i]
    base = [rec(FOUNDER, 50, r.Vouch(thief, 1)), rec(KEYS[1], 50, r.Vouch(thief, 1)),
            rec(KEYS[2], 50, r.Vouch(thief, 1))]
    # the thief's honest past: vouches only, and every seq 1..through that the
    # revokers hold (an offer where it made no vouch)
    honest = base + [e for e in build(raw) if e.author != thief or isinstance(e.body, r.Vouch)]
    honest = [e for e in honest if not (e.author == thief and e.seq > through)]
    honest = [e for e in honest if not (isinstance(e.body, r.Revoke) and e.body.subject == thief)]
    held = {e.seq for e in honest if e.author == thief}
    honest += [rec(thief, s, r.Offer(1, "stock")) for s in range(1, through + 1) if s not in held]
    cut = [rec(k, 60, r.Revoke(thief, through)) for k in (FOUNDER, KEYS[1], KEYS[2])]
    before = derive(ch, honest + cut)
    if thief not in before or before[thief].revoked_through != through:
        return  # the cut did not apply (the thief was not admitted in this graph)
    forged = build([(thief_i, *rest) for _, *rest in attack])
    after = derive(ch, honest + cut + forged)
    for key, m in after.items():
        assert key in before, "a revoked key's record admitted someone"
        assert RANK[m.role] <= RANK[before[key].role], "a revoked key's record made a steward"


def honest_past(raw: list[tuple[int, int, bool, int, int, int, int]], thief: bytes,
                through: int) -> list[r.Record]:
    """Honest records: the thief signed vouches only, none past `through`, and
    every seq 1..through that the revokers hold; nobody revoked the thief yet."""
    honest = [e for e in build(raw) if e.author != thief or isinstance(e.body, r.Vouch)]
    honest = [e for e in honest if not (e.author == thief and e.seq > through)]
    honest = [e for e in honest if not (isinstance(e.body, r.Revoke) and e.body.subject == thief)]
    held = {e.seq for e in honest if e.author == thief}
    return honest + [rec(thief, s, r.Offer(1, "stock")) for s in range(1, through + 1)
                     if s not in held]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2), st.integers(0, 2), st.lists(event, max_size=16), key_index,
       st.integers(0, 3), st.sets(key_index, min_size=1), st.lists(event, max_size=10))
def test_a_cut_holds_against_the_cut_keys_later_records_whoever_made_it(
        admission, n_co, raw, thief_i, through, revokers, attack) -> None:
    """Any set of keys that cut the thief (founding stewards, guardians, the
    council): whatever the thief signs afterwards, no one gains standing, no
    cut is loosened, and the thief's own cut stays."""
    ch = charter(admission, n_co)
    thief = KEYS[thief_i]
    honest = honest_past(raw, thief, through)
    cut = [rec(KEYS[k], 60, r.Revoke(thief, through)) for k in sorted(revokers)]
    before = derive(ch, honest + cut)
    if thief not in before or before[thief].revoked_through != through:
        return  # this set of revokers did not cut the thief in this graph
    forged = build([(thief_i, *rest) for _, *rest in attack])
    after = derive(ch, honest + cut + forged)
    for key, m in after.items():
        assert key in before, "a revoked key's record admitted someone"
        assert RANK[m.role] <= RANK[before[key].role], "a revoked key's record made a steward"
        was = before[key].revoked_through
        if was is not None:
            assert m.revoked_through is not None and m.revoked_through <= was, "cut loosened"


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 3), st.lists(event, min_size=40, max_size=60))
def test_dense_graphs_terminate(admission, raw) -> None:
    ch = charter(admission, 2)
    events = build(raw)
    assert summary(derive(ch, events)) == summary(derive(ch, list(reversed(events))))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs)
def test_the_short_cuts_of_resolve_change_no_cut(graph) -> None:
    admission, n_co, raw = graph
    ch = charter(admission, n_co)
    events = build(raw)
    forked = forks_of(events)
    assert isinstance(ch.body, r.Charter)
    fast = membership.resolve(trustgraph.Graph(ch.body, ch.author, events, frozenset(forked)))
    assert fast == exhaustive_cuts(ch, events, forked)


def test_rings_and_chains_of_dependent_revocations_match_the_exhaustive_rule() -> None:
    """Long dependency chains inside one component, where the passes of the
    alternating fixpoint are evaluated incrementally: a chain of revocations
    among the six non-founders (each vouches for the next at seq 1 and revokes
    it at seq 2, cut through 1), open, closed into a ring, and closed by a
    vouch past the cut."""
    ch = charter(1, 0)
    links = KEYS[1:]
    base = [rec(FOUNDER, 10 + i, r.Vouch(k, 1)) for i, k in enumerate(links)]
    base += [rec(FOUNDER, 20 + i, r.Revoke(k, 1)) for i, k in enumerate(links)]
    for a, b in itertools.pairwise(links):
        base += [rec(a, 1, r.Vouch(b, 1)), rec(a, 2, r.Revoke(b, 1))]
    closings = [([], 1),  # the founder alone admitted and revoked the first: cut
                ([rec(links[-1], 1, r.Vouch(links[0], 1))], None),  # a guardian that stays
                ([rec(links[-1], 3, r.Vouch(links[0], 1)),  # past the last one's cut
                  rec(links[-1], 4, r.Revoke(links[0], 1))], 1)]
    for close, first in closings:
        events = base + close
        graph = trustgraph.Graph(ch.body, ch.author, events, frozenset())
        assert (sorted(links) in membership.components(graph)) == bool(close)
        fast = membership.resolve(graph)
        assert fast == exhaustive_cuts(ch, events, set())
        cut = [fast.get(k) for k in links]
        assert cut[0] == first and all(cut[i] != cut[i + 1] for i in range(len(links) - 1))




# Chains, rings and tangles of dependent revocations among the six
# non-founders: each link's vouches at its lowest seqs, its revokes above them,
# every revoke through 3 (mostly). Then no vouch can change validity unless a
# link signed more than three vouches, the through is 1 or a twin forks one,
# so resolve skips the per-key step of every key whose dropped revokes all
# leave its own loop of revokes (membership._revoke_loops); in about one graph
# in ten the per-key step cuts a key.
EDGE = st.sampled_from(("", "vouch", "both", "both", "revoke"))
link_edges = st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), EDGE, EDGE),
                      max_size=8, unique_by=lambda e: (min(e[:2]), max(e[:2]))).map(
    lambda pairs: [e for a, b, ab, ba in pairs for e in ((a, b, ab), (b, a, ba)) if e[2]])


def build_links(edges: list[tuple[int, int, str]], founder_revokes: list[bool],
                through: int, twin: bool) -> list[r.Record]:
    out = [rec(FOUNDER, 10 + i, r.Vouch(KEYS[i], 1)) for i in range(1, 7)]
    out += [rec(FOUNDER, 20 + i, r.Revoke(KEYS[i], through))
            for i in range(1, 7) if founder_revokes[i - 1]]
    seq = dict.fromkeys(range(1, 7), 0)
    for a, b, kind in edges:
        if kind != "revoke":
            seq[a] += 1
            out.append(rec(KEYS[a], seq[a], r.Vouch(KEYS[b], 1)))
    for a, b, kind in edges:
        if kind != "vouch":
            seq[a] += 1
            out.append(rec(KEYS[a], seq[a] + 3, r.Revoke(KEYS[b], through)))
    if twin and edges:
        a, b, _ = edges[0]
        out.append(rec(KEYS[a], 1, r.Revoke(KEYS[b], 0)))
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(link_edges, st.lists(st.sampled_from((True, True, True, False)), min_size=6, max_size=6),
       st.sampled_from((3, 3, 3, 1)), st.sampled_from((False, False, False, True)))
def test_skipping_per_key_steps_outside_revoke_loops_changes_no_cut(
        edges, founder_revokes, through, twin) -> None:
    ch = charter(1, 0)
    events = build_links(edges, founder_revokes, through, twin)
    forked = forks_of(events)
    assert isinstance(ch.body, r.Charter)
    fast = membership.resolve(trustgraph.Graph(ch.body, ch.author, events, frozenset(forked)))
    assert fast == exhaustive_cuts(ch, events, forked)
