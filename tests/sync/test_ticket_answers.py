"""The responder's side of members' pull tickets (node/sync/ticket.py,
answers.py `send_paid`, PROTOCOL.md §9 "Members' pulls"): who is answered
beyond its own air, from which allowance, in which band, and what is paid
when the budget holds an answer back."""

from __future__ import annotations

import pytest

from meshaid.node.ledger import identity
from meshaid.node.sync import messages as m
from meshaid.node.sync import ticket as tk
from meshaid.node.sync.budget import BULK, CATCH_UP, NORMAL, SHARE
from meshaid.node.sync.serving import PARTS

from .harness import Ledger, Mesh, clone, rid


def _responder() -> tuple[Mesh, Ledger]:
    ledger = Ledger(4, seed=9, history=60)
    mesh = Mesh(ledger, [clone(ledger.full)], [], seed=2)
    mesh.run_for(10.0)
    return mesh, ledger


def _pull_answers(mesh: Mesh, ticket: bytes, sender: int) -> int:
    tag = mesh.ledger.network[:2]
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Pull(0, 0, 3, b"", ticket=ticket), tag), sender=sender)
    mesh.run_for(20.0)
    return sum(1 for s in mesh.sent[before:] if s.out.tag == "pull-records")


def test_a_ticket_buys_answers_only_for_the_node_and_key_it_names() -> None:
    mesh, ledger = _responder()
    tag = ledger.network[:2]
    good = tk.make(identity.signer(ledger.keys[2]), tag, 77, 0)
    # In another node's name (a replay under a number of the attacker's choice):
    # the signature does not cover it, so the short pull pays for nothing.
    assert _pull_answers(mesh, good, sender=78) == 0
    # Signed by a key nobody admitted: nothing either.
    stranger = identity.key_from_seed(bytes(32))
    assert _pull_answers(mesh, tk.make(identity.signer(stranger), tag, 79, 0), sender=79) == 0
    assert mesh.engines[0].stats.dropped["bad-ticket"] == 2
    # The member's own ticket, in its own name: up to `pull_batch` packets.
    assert 1 < _pull_answers(mesh, good, sender=77) <= mesh.engines[0].cfg.pull_batch


def test_the_allowance_is_bounded_per_member_and_a_bad_ticket_is_checked_once() -> None:
    checks = []

    def verify(short: bytes, msg: bytes, sig: bytes) -> bool:
        checks.append(short)
        return sig == b"ok" * 32

    allow = tk.Allowances(rate=0.01, cap=5.0)
    bad, good = b"abcd" + b"no" * 32, b"abcd" + b"ok" * 32
    assert not allow.check(1, bad, b"m", verify, 0.0)
    assert not allow.check(1, bad, b"m", verify, 1.0)
    assert len(checks) == 1  # a ticket that failed is not checked again
    assert not allow.spend(1, 1.0, 1.0)  # no checked ticket: no allowance
    assert allow.check(1, good, b"m", verify, 2.0)
    assert allow.check(1, b"", b"m", verify, 3.0)  # believed for the hour without it
    assert len(checks) == 2
    assert allow.spend(1, 4.0, 3.0) and not allow.spend(1, 2.0, 3.0)  # capped at 5 s
    assert allow.spend(1, 2.0, 103.0)  # refilled at 0.01 s a second
    allow.refund(1, 100.0)
    assert not allow.spend(1, 5.5, 103.0)  # a refund never exceeds the cap
    assert not allow.spend(1, 1.0, 2.0 + tk.HOLD + 1.0)  # the hour is over
    for who in range(2, 3 + tk.MAX_ALLOWED):  # as many keys, one number each
        allow.check(who, who.to_bytes(4, "big") + b"ok" * 32, b"m", verify, 10.0)
    assert len(allow) == tk.MAX_ALLOWED


def test_every_number_a_key_signs_tickets_for_draws_on_one_allowance() -> None:
    """issue 9 (stolen key): a key signs tickets for any node number, so a thief
    pulling in several numbers drew one allowance for each; now they share the
    key's one. Another member's key has its own."""
    def verify(short: bytes, msg: bytes, sig: bytes) -> bool:
        return sig == b"ok" * 32

    allow = tk.Allowances(rate=0.0, cap=5.0)
    thief, other = b"abcd" + b"ok" * 32, b"wxyz" + b"ok" * 32
    for who in (1, 2):
        assert allow.check(who, thief, b"m", verify, 0.0)
    assert allow.check(4, other, b"m", verify, 0.0)
    assert allow.spend(1, 3.0, 0.0) and allow.spend(2, 1.5, 0.0)
    assert not allow.spend(2, 1.0, 0.0)  # the key's 5 s are spent, whichever number asks
    assert allow.spend(4, 5.0, 0.0)  # the other key's are its own
    allow.refund(2, 1.0)
    assert allow.spend(1, 1.0, 0.0) and not allow.spend(2, 0.6, 0.0)
    assert allow.check(1, thief, b"m", verify, 10.0)  # believed again: no fresh allowance
    assert not allow.spend(1, 0.6, 10.0)


def test_one_key_holds_at_most_two_of_the_places_for_members_catching_up() -> None:
    """issue 9 (stolen key): a thief signing tickets for many numbers took every
    one of the MAX_ALLOWED places, and members catching up lost theirs. Its
    numbers now make room for one another, at most PER_KEY of them."""
    def verify(short: bytes, msg: bytes, sig: bytes) -> bool:
        return sig == b"ok" * 32

    allow = tk.Allowances(rate=0.0, cap=5.0)
    members = [bytes([65 + k]) * 4 + b"ok" * 32 for k in range(tk.MAX_ALLOWED - tk.PER_KEY)]
    for k, ticket in enumerate(members):
        assert allow.check(100 + k, ticket, b"m", verify, 0.0)
    thief = b"abcd" + b"ok" * 32
    for who in range(1, 20):
        assert allow.check(who, thief, b"m", verify, float(who))
    assert len(allow) == tk.MAX_ALLOWED == len(members) + tk.PER_KEY
    for k in range(len(members)):
        assert allow.spend(100 + k, 1.0, 30.0)  # every member still draws on its own
    assert allow.spend(19, 1.0, 30.0) and allow.spend(18, 1.0, 30.0)  # its latest two
    assert not allow.spend(17, 0.1, 30.0)


def _past_bulk_band() -> tuple[Mesh, Ledger]:
    """A responder that has spent 70 % of its hour: past the bulk band (60 %),
    inside the catch-up band (80 %)."""
    mesh, ledger = _responder()
    eng = mesh.engines[0]
    eng.budget.spend(SHARE[BULK] * eng.budget.limit_s, mesh.now - 120.0)
    eng.budget.spend(0.1 * eng.budget.limit_s, mesh.now - 60.0)
    return mesh, ledger


def test_a_members_pull_is_answered_in_the_catch_up_band_a_paid_pull_in_bulk() -> None:
    """A responder that has spent 70 % of its hour (past the bulk band, 60 %,
    inside the catch-up band, 80 %) still answers a member's ticketed pull from
    its allowance, and no longer a pull paid by the asker's own air: its news
    keeps what is left. (In the bulk band, blockaded-port's joiner ended 150
    records short on 6 of 7 seeds, its responders' answers refused for the
    rolling hour.)"""
    answered = {}
    for who in ("member", "stranger"):
        mesh, ledger = _past_bulk_band()
        eng = mesh.engines[0]
        tag = ledger.network[:2]
        before = len(mesh.sent)
        if who == "member":
            pull = m.Pull(0, 0, PARTS, b"", ticket=tk.make(identity.signer(ledger.keys[2]),
                                                            tag, 77, 0))
        else:  # padded to its answer: its own air pays for one packet
            pull = m.pad_to(m.Pull(0, 0, PARTS, b""), eng.cfg.payload_cap, tag)
        mesh.inject(0, m.encode(pull, tag), sender=77)
        mesh.run_for(20.0)
        answered[who] = sum(1 for s in mesh.sent[before:] if s.out.tag == "pull-records")
    assert answered["stranger"] == 0
    assert 1 < answered["member"] <= mesh.engines[0].cfg.pull_batch
    assert SHARE[BULK] < 0.7 < SHARE[CATCH_UP] < SHARE[NORMAL]


def test_an_answer_the_budget_holds_back_is_not_paid_for() -> None:
    """A member's padded pull, its account enough for one packet, reaches a
    responder past its bulk band: the answer goes in the catch-up band from the
    member's allowance, and the account is left whole (it was debited for a
    bulk-band send the budget refused, and never paid back). A stranger's
    padded pull there is not answered, and its account too is left whole, for
    its next pull."""
    for who in ("member", "stranger"):
        mesh, ledger = _past_bulk_band()
        eng = mesh.engines[0]
        tag = ledger.network[:2]
        ticket = tk.make(identity.signer(ledger.keys[2]), tag, 77, 0) if who == "member" else b""
        pull = m.pad_to(m.Pull(0, 0, PARTS, b"", ticket=ticket), eng.cfg.payload_cap, tag)
        before = len(mesh.sent)
        mesh.inject(0, m.encode(pull, tag), sender=77)
        paid = eng.answers.credits.balance(77, mesh.now)
        assert paid > 0
        mesh.run_for(20.0)
        answered = sum(1 for s in mesh.sent[before:] if s.out.tag == "pull-records")
        assert answered == (eng.cfg.pull_batch if who == "member" else 0), who
        assert eng.answers.credits.balance(77, mesh.now) == pytest.approx(paid), who


def test_answers_a_key_got_elsewhere_draw_on_its_neighbourhood_allowance() -> None:
    """A stolen key pulling from every node in range drew an allowance from each
    (stolen-pull: 2.4 times its air at 10 % duty). Each node follows the pull
    answers other nodes send a puller whose ticket it believes (the PULL names
    the responder and the record its answer goes on after; each packet names
    the record before its first one) and counts them against the key's
    neighbourhood allowance, HOOD of its own: past that, a pull is answered only
    as far as its own air paid. Answers to anyone else, or not chaining on the
    puller's cursor, count for nothing."""
    mesh, ledger = _responder()
    tag = ledger.network[:2]
    eng = mesh.engines[0]
    good = tk.make(identity.signer(ledger.keys[2]), tag, 77, 0)
    assert _pull_answers(mesh, good, sender=77) > 1  # believed: its allowance pays
    mesh.run_for(tk.HOLD / 4)  # (refilled)
    hood = eng.answers.members.allow.hood_cap
    raw = ledger.history[0]
    after = rid(raw)

    def answer(after: bytes, sender: int = 5) -> None:
        msg = m.Records((raw,), relay=False, end=False, after=after)
        mesh.inject(0, m.encode(msg, tag), sender=sender)

    # Node 5's answers to a pull of 78 (not believed here), and to nobody's pull.
    mesh.inject(0, m.encode(m.Pull(5, 0, PARTS, b""), tag), sender=78)
    for _ in range(40):
        answer(bytes(8))
    assert _pull_answers(mesh, b"", sender=77) > 1
    mesh.run_for(tk.HOLD / 4)
    # Node 5 answers 77's pull, packet after packet: the key's draw here too.
    mesh.inject(0, m.encode(m.Pull(5, 0, PARTS, b""), tag), sender=77)
    answer(bytes(8))
    air = eng.cfg.airtime(len(m.encode(m.Records((raw,), relay=False, end=False,
                                                 after=bytes(8)), tag)))
    for _ in range(int(hood / air) + 1):
        answer(after)
    assert _pull_answers(mesh, b"", sender=77) <= 1  # only what its pull's own air paid

