"""Membership on a large adversarial graph (issue 9): the benchmark's ledger
(node/ledger/membench.py) with a stolen steward key that made hundreds of
stewards revoking each other in pairs and signed past its cut, and another
that chained dependent revocations. Checks the outcome, not the time."""

from __future__ import annotations

import random

from meshaid.node.ledger import membench, membership
from meshaid.node.ledger import records as r

ATTACK, CHAIN = 150, 120


def summary(members: dict[bytes, membership.Member]) -> dict:
    return {k: (m.role, m.revoked_through, frozenset(m.vouchers)) for k, m in members.items()}


def test_a_stolen_key_with_hundreds_of_conflicts_expels_only_what_it_made() -> None:
    charter, honest = membench.build(300, 60, 0)
    _, events = membench.build(300, 60, ATTACK, chain=CHAIN)
    before = membership.derive(charter, honest)
    after = membership.derive(charter, events)
    thief, chainer = membench.key(10 + 29), membench.key(10 + 28)
    founder_cut = [e.body.through_seq for e in events if e.author == membench.key(0)
                   and isinstance(e.body, r.Revoke) and e.body.subject == thief]
    assert founder_cut and after[thief].revoked_through == founder_cut[0]
    for i in range(ATTACK):
        for made in (membench.key(90_000 + i), membench.key(91_000 + i)):
            assert after[made].revoked_through == 0  # revoked by the thief before its cut
        assert membench.key(92_000 + i) not in after  # vouched for past the cut
    for i in range(CHAIN):  # the first is cut; each later one only if the one before is not
        assert (after[membench.key(95_000 + i)].revoked_through is not None) == (i % 2 == 0)
    for key, m in before.items():  # nobody honest loses anything
        if key in (thief, chainer):
            continue
        assert after[key].role == m.role
        assert after[key].revoked_through == m.revoked_through
    for founding in (membench.key(0), membench.key(1), membench.key(2)):
        assert after[founding].revoked_through is None


def test_the_large_graph_gives_the_same_answer_in_any_order() -> None:
    charter, events = membench.build(60, 20, 40, chain=30)
    expected = summary(membership.derive(charter, events))
    shuffled = events[:]
    random.Random(5).shuffle(shuffled)
    assert summary(membership.derive(charter, shuffled)) == expected
    assert summary(membership.derive(charter, events[::-1])) == expected


def test_a_ring_of_dependent_revocations_is_one_component_and_resolves_in_order() -> None:
    """The chain closed into a ring (its last link vouches for the first): the
    first link keeps a guardian that never revokes it, so it stays, and the
    cuts alternate from there, as in the chain but shifted by one."""
    charter, events = membench.build(60, 20, 0, chain=CHAIN, ring=True)
    after = membership.derive(charter, events)
    for i in range(CHAIN):
        assert (after[membench.key(95_000 + i)].revoked_through is not None) == (i % 2 == 1)
    shuffled = events[:]
    random.Random(6).shuffle(shuffled)
    assert summary(membership.derive(charter, shuffled)) == summary(after)
