"""Membership under attack (issue 9): each test is one finding of the audit, and
failed on the membership rules before the well-founded fixpoint."""

from __future__ import annotations

import itertools

from ledger_helpers import Actor, Net

from meshaid.node.ledger import membership
from meshaid.node.ledger import records as r

HLC_EARLY = 1 << 16


def actors() -> tuple[Actor, ...]:
    return tuple(Actor(n, s) for n, s in (("s", 2), ("m", 3), ("x", 4), ("y", 5), ("co", 6),
                                          ("co2", 7), ("t", 8)))


def derive(net: Net, events: list[r.Record],
           forked: tuple[tuple[bytes, int], ...] = ()) -> dict[bytes, membership.Member]:
    return membership.derive(net.charter, events, forked)


def summary(members: dict[bytes, membership.Member]) -> dict:
    return {k: (m.role, m.revoked_through, frozenset(m.vouchers)) for k, m in members.items()}


def same_in_every_order(net: Net, events: list[r.Record]) -> dict[bytes, membership.Member]:
    first = derive(net, events)
    for order in itertools.permutations(events):
        assert summary(derive(net, list(order))) == summary(first)
    return first


def test_a_steward_revoking_the_founder_who_vouched_for_it_changes_nothing() -> None:
    s, m, x, *_ = actors()
    net = Net()
    f = net.founder
    f.seq = 5
    admit_s = net.vouch(f, s, grant=1)  # founder's seq 6
    admit_m = net.vouch(f, m)  # seq 7
    later = net.vouch(f, x)  # seq 8
    coup = net.revoke(s, f, through_seq=2)  # below the vouch that made s a steward
    members = same_in_every_order(net, [admit_s, admit_m, later, coup])
    assert members[f.pub].revoked_through is None
    assert members[s.pub].role == "steward" and members[s.pub].revoked_through is None
    assert members[m.pub].role == "member" and members[x.pub].role == "member"


def test_a_steward_revoking_the_non_founding_steward_who_admitted_it_changes_nothing() -> None:
    s, m, x, _, _, _, t = actors()
    net = Net()
    f = net.founder
    events = [net.vouch(f, t, grant=1)]
    t.seq = 4
    events += [net.vouch(t, s, grant=1), net.vouch(t, m), net.vouch(t, x)]  # t's 5, 6, 7
    events.append(net.revoke(s, t, through_seq=1))  # s cuts its own voucher
    members = same_in_every_order(net, events)
    assert all(members[k.pub].revoked_through is None for k in (t, s, m, x))
    assert members[s.pub].role == "steward" and members[x.pub].role == "member"


def test_the_thiefs_backdated_counter_revoke_after_its_own_revocation_counts_for_nothing() -> None:
    s, m, *_ = actors()
    net = Net()
    f = net.founder
    admit_s = net.vouch(f, s, grant=1)
    honest = net.vouch(s, m)  # s's seq 1
    cut = net.revoke(f, s, through_seq=honest.seq)
    # The thief dates its revoke of the founder just after its own admission.
    counter = net.sign(s, r.Revoke(f.pub, 0, "coup"), at=admit_s.hlc + 1)
    members = same_in_every_order(net, [admit_s, honest, cut, counter])
    assert members[f.pub].revoked_through is None
    assert members[s.pub].revoked_through == honest.seq
    assert members[m.pub].role == "member"


def test_a_stolen_stewards_key_cannot_expel_a_member_it_did_not_admit() -> None:
    s, m, *_ = actors()
    net = Net()
    f = net.founder
    events = [net.vouch(f, s, grant=1), net.vouch(f, m), net.revoke(s, m, 0)]
    assert derive(net, events)[m.pub].revoked_through is None
    # vouching for it first does not make the thief the one who admitted it
    events += [net.vouch(s, m), net.revoke(s, m, 0)]
    assert same_in_every_order(net, events)[m.pub].revoked_through is None


def test_a_stolen_stewards_key_cannot_expel_another_steward_or_a_co_steward() -> None:
    s, m, x, _, co, *_ = actors()
    net = Net(costewards=(co,))
    f = net.founder
    events = [net.vouch(f, s, grant=1), net.vouch(f, x, grant=1), net.vouch(co, m),
              net.revoke(s, x, 0), net.revoke(s, co, 0), net.revoke(s, f, 0), net.revoke(s, m, 0)]
    members = same_in_every_order(net, events)
    assert all(members[k.pub].revoked_through is None for k in (f, co, x, m))


def test_a_co_steward_alone_cannot_undo_the_founder_but_two_can() -> None:
    *_, co, co2, _ = actors()
    net = Net(costewards=(co,))
    assert derive(net, [net.revoke(co, net.founder, 0)])[net.founder.pub].revoked_through is None
    net3 = Net(costewards=(co, co2))
    one = net3.revoke(co, net3.founder, 3)
    assert derive(net3, [one])[net3.founder.pub].revoked_through is None
    both = derive(net3, [one, net3.revoke(co2, net3.founder, 5)])
    assert both[net3.founder.pub].revoked_through == 5
    assert both[net3.founder.pub].role == "steward"  # still a steward for its seqs <= 5


def test_a_key_cannot_shield_itself_with_stewards_it_made() -> None:
    s, _, _, y, *_ = actors()
    net = Net()
    f = net.founder
    events = [net.vouch(f, s, grant=1)]
    honest = net.vouch(s, Actor("ok", 9))  # s's seq 1
    # the thief makes y a steward and has y vouch for s, then f cuts s
    events += [honest, net.vouch(s, y, grant=1), net.vouch(y, s, grant=1),
               net.revoke(f, s, through_seq=honest.seq)]
    members = same_in_every_order(net, events)
    assert members[s.pub].revoked_through == honest.seq
    assert y.pub not in members


def test_a_revoked_stewards_fork_at_its_cut_does_not_make_a_sybil_a_steward() -> None:
    s, _, _, y, *_ = actors()
    net = Net()
    f = net.founder
    admit = net.vouch(f, s, grant=1)
    honest = net.offer(s)  # s's seq 1
    cut = net.revoke(f, s, through_seq=1)
    sybil = net.sign(s, r.Vouch(y.pub, 1), seq=1)  # reuses seq 1
    forked = ((s.pub, 1),)
    members = derive(net, [admit, cut, sybil], forked)
    assert y.pub not in members
    assert derive(net, [admit, sybil])[y.pub].role == "steward"  # before the cut it counted
    assert members[s.pub].trusts(1) is True and members[s.pub].trusts(1, forked=True) is False
    del honest


def test_co_stewards_can_clean_up_after_a_key_whose_every_voucher_was_cut() -> None:
    s, m, *_, co, _, _ = actors()
    net = Net(costewards=(co,))
    f = net.founder
    events = [net.vouch(f, s, grant=1), net.vouch(s, m), net.revoke(f, s, 1),
              net.revoke(f, m, 0)]
    assert derive(net, events)[m.pub].revoked_through is None  # f is not m's guardian
    events.append(net.revoke(co, m, 2))
    assert same_in_every_order(net, events)[m.pub].revoked_through == 2  # the council


def test_all_independent_vouchers_must_agree_to_revoke() -> None:
    s, m, _, _, _, _, t = actors()
    net = Net()
    f = net.founder
    events = [net.vouch(f, s, grant=1), net.vouch(f, t, grant=1), net.vouch(s, m),
              net.vouch(t, m), net.revoke(s, m, 4)]
    assert derive(net, events)[m.pub].revoked_through is None
    events.append(net.revoke(t, m, 2))
    assert same_in_every_order(net, events)[m.pub].revoked_through == 4


def test_a_cut_co_stewards_counter_revoke_does_not_bring_back_its_new_vouch() -> None:
    """The smallest example of the hole of mutual revocation between founding
    co-stewards (node/PROTOCOL.md §4): the founder revokes k2 through 0; the
    founder, k2 and k1 itself revoke k1 through 0 at seq 60; a thief holding
    k1 then signs at seq 1 a revoke of k2 through 0 and at seq 2 a vouch for k3."""
    *_, k1, k2, k3 = actors()
    net = Net(costewards=(k1, k2))
    f = net.founder
    honest = [net.revoke(f, k2, 0)]
    f.seq = k1.seq = k2.seq = 59
    honest += [net.revoke(f, k1, 0), net.revoke(k2, k1, 0), net.revoke(k1, k1, 0)]
    before = derive(net, honest)
    assert before[k1.pub].revoked_through == 0 and before[k2.pub].revoked_through is None
    counter = net.sign(k1, r.Revoke(k2.pub, 0, "coup"), seq=1)
    sybil = net.sign(k1, r.Vouch(k3.pub, 0), seq=2)
    members = same_in_every_order(net, [*honest, counter, sybil])
    assert k3.pub not in members
    assert members[k1.pub].revoked_through == 0
    assert members[f.pub].revoked_through is None
    # k2, which the founder had revoked too, loses its revocations past 0 as well:
    # in a conflict both sides are cut (the trade-off written in PROTOCOL.md §4)
    assert members[k2.pub].revoked_through == 0
    assert derive(net, [*honest[1:], counter, sybil])[k2.pub].revoked_through is None


def test_stewards_that_revoke_each_other_are_both_cut() -> None:
    """Two stewards a thief made and then revoked (not enough alone: each has
    the other as a guardian) revoke each other: neither revocation may be
    voided by the other's, so both hold and neither key's vouches count."""
    s, m, x, y, *_ = actors()
    net = Net()
    f = net.founder
    events = [net.vouch(f, s, grant=1), net.vouch(s, x, grant=1), net.vouch(s, y, grant=1),
              net.revoke(s, x, 0), net.revoke(s, y, 0), net.vouch(x, y, grant=1),
              net.vouch(y, x, grant=1), net.revoke(x, y, 0), net.revoke(y, x, 0), net.vouch(x, m)]
    members = derive(net, events)
    assert members[x.pub].revoked_through == 0 and members[y.pub].revoked_through == 0
    assert m.pub not in members
    assert summary(derive(net, events[::-1])) == summary(members)


def test_a_cut_keys_vouches_past_its_cut_shield_no_one_from_a_revocation() -> None:
    """Found by a random search: the founder admits m and makes x a steward,
    revokes m through 0 (m's guardian is the founder alone) and x through 0. The
    thief holding x then vouches, past its cut, for m (to be m's second
    guardian) and for x itself (to be its own). Neither vouch counts, so m and x
    stay cut."""
    s, m, x, *_ = actors()
    net = Net()
    f = net.founder
    honest = [net.vouch(f, m), net.vouch(f, x, grant=1), net.revoke(f, m, 0),
              net.revoke(f, x, 0)]
    before = derive(net, honest)
    assert before[m.pub].revoked_through == 0 and before[x.pub].revoked_through == 0
    shields = [net.vouch(x, m), net.vouch(x, x), net.revoke(x, f, 0)]
    members = same_in_every_order(net, honest + shields)
    assert members[m.pub].revoked_through == 0
    assert members[x.pub].revoked_through == 0
    assert members[f.pub].revoked_through is None
    del s
