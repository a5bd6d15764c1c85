"""membership.derive: who is a member, from the charter, vouches and revokes."""

from __future__ import annotations

import itertools

from ledger_helpers import Actor, Net

from meshaid.node.ledger import membership
from meshaid.node.ledger import records as r

A, B, C, D = Actor("a", 2), Actor("b", 3), Actor("c", 4), Actor("d", 5)
HLC_EARLY = 1 << 16  # a timestamp long before anything else


def fresh() -> None:
    for actor in (A, B, C, D):
        actor.seq = 0


def derive(net: Net, *events: r.Record) -> dict[bytes, membership.Member]:
    return membership.derive(net.charter, list(events))


def test_founder_and_co_stewards_are_stewards() -> None:
    fresh()
    net = Net(costewards=(A,))
    members = derive(net)
    assert set(members) == {net.founder.pub, A.pub}
    assert {m.role for m in members.values()} == {"steward"}
    assert membership.derive(None, []) == {}


def test_a_stewards_vouch_admits() -> None:
    fresh()
    net = Net()
    members = derive(net, net.vouch(net.founder, B))
    assert members[B.pub].role == "member"
    assert members[B.pub].vouchers == {net.founder.pub}
    assert members[B.pub].trusts(1) and members[B.pub].trusts(10**6)


def test_admission_two_needs_two_distinct_stewards() -> None:
    fresh()
    net = Net(admission=2, costewards=(A,))
    once = net.vouch(net.founder, B)
    again = net.vouch(net.founder, B)
    assert B.pub not in derive(net, once)
    assert B.pub not in derive(net, once, again)  # the same steward twice is one voice
    second = net.vouch(A, B)
    members = derive(net, once, second)
    assert members[B.pub].role == "member"
    assert members[B.pub].vouchers == {net.founder.pub, A.pub}


def test_a_non_stewards_vouch_does_not_count() -> None:
    fresh()
    net = Net()
    admit_b = net.vouch(net.founder, B)
    b_vouches_c = net.vouch(B, C)
    outsider_vouches_d = net.vouch(D, C)
    members = derive(net, admit_b, b_vouches_c, outsider_vouches_d)
    assert B.pub in members
    assert C.pub not in members


def test_steward_grant_makes_vouches_count() -> None:
    fresh()
    net = Net()
    make_b_steward = net.vouch(net.founder, B, grant=1)
    b_vouches_c = net.vouch(B, C)
    members = derive(net, make_b_steward, b_vouches_c)
    assert members[B.pub].role == "steward"
    assert members[C.pub].role == "member"


def test_a_member_can_be_promoted_to_steward() -> None:
    fresh()
    net = Net()
    events = [net.vouch(net.founder, B), net.vouch(net.founder, B, grant=1)]
    assert derive(net, *events)[B.pub].role == "steward"
    assert derive(net, events[0])[B.pub].role == "member"


def test_revoke_cuts_records_after_through_seq() -> None:
    fresh()
    net = Net()
    events = [net.vouch(net.founder, B), net.revoke(net.founder, B, 4)]
    member = derive(net, *events)[B.pub]
    assert member.revoked_through == 4
    assert member.trusts(1) and member.trusts(4)
    assert not member.trusts(5)


def test_the_lowest_through_seq_of_several_revokes_wins() -> None:
    fresh()
    net = Net(costewards=(A,))
    events = [net.vouch(net.founder, B), net.revoke(A, B, 9), net.revoke(net.founder, B, 3)]
    assert derive(net, *events)[B.pub].revoked_through == 3


def test_a_non_stewards_revoke_does_not_count() -> None:
    fresh()
    net = Net()
    events = [net.vouch(net.founder, B), net.vouch(net.founder, C), net.revoke(C, B, 0)]
    assert derive(net, *events)[B.pub].revoked_through is None


def test_revoked_stewards_later_vouches_do_not_count() -> None:
    fresh()
    net = Net(costewards=(A,))
    A.seq = 3
    before = net.vouch(A, B)  # A's seq 4
    cut = net.revoke(net.founder, A, 4)
    after = net.vouch(A, C)  # A's seq 5, after the revoke
    late_revoke = net.revoke(A, B, 0)  # A's seq 6
    for events in ((before, cut, after, late_revoke), (late_revoke, after, cut, before)):
        members = derive(net, *events)
        assert members[B.pub].role == "member"
        assert members[B.pub].revoked_through is None  # A's revoke came too late to count
        assert C.pub not in members
        assert members[A.pub].revoked_through == 4
    assert C.pub in derive(net, before, after)  # without the revoke the vouch would count


def test_derive_does_not_depend_on_event_order() -> None:
    fresh()
    net = Net(admission=2, costewards=(A,))
    events = [
        net.vouch(net.founder, B, grant=1),
        net.vouch(A, B, grant=1),
        net.vouch(B, C),
        net.vouch(A, C),
        net.revoke(net.founder, C, 2),
        net.vouch(D, A),
    ]

    def summary(members: dict[bytes, membership.Member]) -> dict:
        return {k: (m.role, m.revoked_through, frozenset(m.vouchers)) for k, m in members.items()}

    expected = summary(derive(net, *events))
    assert expected[C.pub][0] == "member" and expected[B.pub][0] == "steward"
    for order in itertools.permutations(events):
        assert summary(derive(net, *order)) == expected


def test_a_stolen_steward_key_cannot_backdate_a_vouch_before_its_revocation() -> None:
    fresh()
    net = Net(costewards=(A,))
    honest = net.vouch(A, B)  # A's seq 1, fine
    revoke_a = net.revoke(net.founder, A, through_seq=honest.seq)
    # The thief signs A's next seq but stamps it far earlier than the revocation.
    backdated = net.sign(A, r.Vouch(D.pub), at=HLC_EARLY)
    assert backdated.seq > honest.seq and backdated.hlc < revoke_a.hlc
    for order in itertools.permutations([honest, revoke_a, backdated]):
        members = derive(net, *order)
        assert B.pub in members
        assert D.pub not in members
        assert members[A.pub].revoked_through == honest.seq
