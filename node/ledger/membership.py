"""Who is a member: a pure function of the charter and every vouch and revoke.

Theory of operation
-------------------
* The charter's author and its co-stewards are the founding stewards.
* A vouch or revoke counts only if its author is a steward *for that record*:
  admitted before it (in canonical order) and not revoked through a seq lower
  than the record's own seq.
* A key becomes a member once `admission` distinct stewards have vouched for
  it; it becomes a steward once that many vouched with grant=steward.
* A revoke sets the subject's `revoked_through` to the lowest seq any counted
  revoke names: its records with a higher seq are untrusted, and so are its
  vouches and revokes past that seq. Revocation is final for a key.
* Events are applied in the canonical order (hlc, author key, seq, raw bytes),
  with revocations found in force applied by seq from the start (a stolen key
  cannot backdate a vouch before its revocation), repeated to a fixpoint,
  so every node derives the same membership from the same set of records,
  whatever order they arrived in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import Charter, Record, Revoke, Vouch


@dataclass
class Member:
    role: str  # "steward" or "member"
    revoked_through: int | None = None
    vouchers: set[bytes] = field(default_factory=set)

    def trusts(self, seq: int) -> bool:
        """Is this key's record number `seq` trusted?"""
        return self.revoked_through is None or seq <= self.revoked_through


def derive(charter: Record | None, events: list[Record]) -> dict[bytes, Member]:
    """Members by key from the charter and vouch/revoke records (any order).

    A revocation cuts its subject by seq, whatever the timestamps say: a thief
    with a steward's key cannot backdate a vouch before the revocation. So the
    pass in canonical order is repeated with the revocations the previous pass
    found already in force, until they stop changing (a fixpoint, bounded).
    """
    if charter is None or not isinstance(charter.body, Charter):
        return {}
    ordered = sorted(events, key=lambda e: (e.hlc, e.author, e.seq, e.raw))
    known: dict[bytes, int] = {}
    members: dict[bytes, Member] = {}
    for _ in range(MAX_PASSES):
        members, found = _pass(charter, charter.body, ordered, known)
        if found == known:
            break
        known = found
    return members


MAX_PASSES = 8


def _pass(charter: Record, body_c: Charter, ordered: list[Record],
          known: dict[bytes, int]) -> tuple[dict[bytes, Member], dict[bytes, int]]:
    admission = body_c.admission
    members: dict[bytes, Member] = {}
    for key in (charter.author, *body_c.costewards):
        members[key] = Member("steward")
    member_votes: dict[bytes, set[bytes]] = {}
    steward_votes: dict[bytes, set[bytes]] = {}
    revoked: dict[bytes, int] = {}

    def steward_for(key: bytes, seq: int) -> bool:
        m = members.get(key)
        if m is None or m.role != "steward":
            return False
        limit = min(revoked.get(key, SEQ_INF), known.get(key, SEQ_INF))
        return seq <= limit

    for ev in ordered:
        if not steward_for(ev.author, ev.seq):
            continue
        body = ev.body
        if isinstance(body, Vouch):
            member_votes.setdefault(body.subject, set()).add(ev.author)
            if body.grant == 1:
                steward_votes.setdefault(body.subject, set()).add(ev.author)
            current = members.get(body.subject)
            if len(steward_votes.get(body.subject, ())) >= admission:
                if current is None:
                    members[body.subject] = Member("steward")
                else:
                    current.role = "steward"
            elif len(member_votes[body.subject]) >= admission and current is None:
                members[body.subject] = Member("member")
        elif isinstance(body, Revoke):
            prior = revoked.get(body.subject)
            revoked[body.subject] = body.through_seq if prior is None else min(prior, body.through_seq)
    for key, member in members.items():
        member.revoked_through = revoked.get(key)
        member.vouchers = member_votes.get(key, set())
    return members, revoked


SEQ_INF = 1 << 62
