"""How far each of our packets goes, and which digests show our membership proof.

Theory of operation
-------------------
A packet goes at hop 0 unless a peer only radio-only relays reach may need it
(farpeers.py `far_scope`): then at that scope, if it may serve such a peer
(`_serves_far`). An answer for a far voice that has shown no proof yet goes at
hop 1 at least (`_reach`). A node that has heard no ledger peer directly since
PROBE_AFTER_S after starting sends at hop 1, so that a router in range carries
it (a probe). PROTOCOL.md §7.

A digest that goes beyond hop 0 shows our membership proof (a ticket for our
own number and nobody in particular, members.py `proof`): far peers count us
as theirs only with it. It goes on the first such digest, then every
PROOF_SOON_S for PROOF_NEW_S (a proof lost on a mast's busy link left a lone
house unknown behind it for half an hour while it heard everyone's), every
PROOF_SOON_S while candidates for far peers have shown none (they are likely
finding us too), else every PROOF_EVERY_S; and only where the digest still
fits one packet with it (a long neighbour list leaves it to the next digest).
A node that hears a crowd (relays.py `crowd_heard`) shows it at hop 0 too,
every PROOF_EVERY_S: in a crowd, peers count toward its size by their proofs.
And a node that knows no neighbour yet (at start, or alone) and hears a
stranger whose digest lacks a record it sent, its resend unpaid, shows it at
hop 0 soon, at most every PROOF_SOON_S, as an introduction (`introduce`).

This class is a part of `Engine` (engine.py, through outbox.py) and holds no
state of its own: the attributes it names are the engine's.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from . import messages as m
from .farpeers import PROOF_EVERY_S, PROOF_NEW_S, PROOF_SOON_S
from .ports import SyncConfig
from .relays import Neighbourhood

if TYPE_CHECKING:
    from .answers import Answers
    from .outbox import _Send
    from .reconcile import Reconciler
    from .ticket import Signer
    from .trickle import Trickle

PROBE_AFTER_S = 600.0  # alone this long (no ledger peer heard directly): send at hop 1


class Hops:
    cfg: SyncConfig
    hood: Neighbourhood
    answers: Answers
    recon: Reconciler
    started_at: float
    proof_sent: float  # when our membership proof last went in a digest
    proof_first: float  # when it first did
    intro_sent: float  # when it last went at hop 0 as an introduction (`_intro_due`)
    intro_asked: float  # when one was last called for (`introduce`)
    signer: Signer | None
    trickle: Trickle

    def _hop_limit(self, msg: m.Message, now: float, far: bool | None, reach: int) -> int:
        """The hop limit of `msg`: our far scope if it may serve a peer only
        radio-only relays reach (`far`; when None, judged by the message), else 0;
        at least `reach` (when 0, the message's own `_reach`); 1 for a probe."""
        scope = self.hood.far_scope(now, self.cfg.max_scope)
        if scope and not (self._serves_far(msg, now) if far is None else far):
            scope = 0
        scope = max(scope, reach or self._reach(msg, now))
        if not scope and now - self.started_at > PROBE_AFTER_S \
                and not self.hood.has_direct_peer(now):
            scope = 1  # no ledger peer heard in range: let relays carry us to one
        return scope

    def _reach(self, msg: m.Message, now: float) -> int:
        """The hop limit at least an answer needs for the far voice it names, not
        yet proven (farpeers.py `reach`): a request, MORE or PULL naming one, a
        sketch prompted by one or answering one."""
        if isinstance(msg, (m.Request, m.More, m.Pull)):
            return 0 if msg.target is None else self.hood.reach(msg.target, now)
        if isinstance(msg, m.Sketch):
            return int(self.recon.sketch_reach)
        return 0

    def _serves_far(self, msg: m.Message, now: float) -> bool:
        """Whether a packet other than our record sends may serve a peer only
        radio-only relays reach: a request, MORE or PULL naming one (or nobody), a
        sketch prompted by one or answering one, a filter naming one (filters.py);
        our digests if a far peer needs them (farpeers.py `far_needs_us`) or our
        proof is due; records always (a record the mast carried once may not have
        reached a weak island: a later copy is its second chance), but see
        `_records_far`."""
        if isinstance(msg, m.Filter):
            return self.hood.is_far(msg.target, now)
        if isinstance(msg, (m.Request, m.More, m.Pull)):
            return msg.target is None or self.hood.is_far(msg.target, now)
        if isinstance(msg, m.Sketch):
            return self.recon.sketch_far
        if isinstance(msg, m.Digest):
            # Our set matters beyond hop 0 to the far peers that chose us or whose
            # far relays do not hear us; our proof to every far peer (it lets them
            # count us, and choose).
            return self.hood.far_needs_us(now) or self._proof_due(now, True)
        return True

    def _records_far(self, sends: list[_Send], now: float) -> bool | None:
        """Whether a RECORDS packet of these sends goes at our far scope: not if
        all are relays the radios carry on anyway; our own pushes and rechecks
        only where a far peer needs them (farpeers.py `far_needs_us`; a recheck
        also while we hear no ledger node directly, or waits for a far peer);
        None: judged by the message (`_serves_far`)."""
        if all(s.carried for s in sends):
            return False
        if all(s.tag == "push" for s in sends):
            return self.hood.far_needs_us(now)
        if all(s.waiting is not None for s in sends):
            return self.hood.far_needs_us(now) or not self.hood.has_direct_peer(now) or any(
                self.hood.is_far(n, now) for s in sends for n in s.waiting or ())
        return None

    def _encode(self, msg: m.Message, scope: int, now: float) -> tuple[bytes, str | None]:
        """`msg`'s bytes, with our membership proof if it is a digest due to show
        it (`_proof_due`, or at hop 0 `_intro_due`) that has room; and which
        schedule it answered ("proof", "intro"), None if it carries none."""
        payload = m.encode(msg, self.cfg.network_tag)
        if not isinstance(msg, m.Digest) or len(payload) + m.TICKET_LEN > self.cfg.payload_cap:
            return payload, None
        kind = "proof" if self._proof_due(now, scope > 0) else \
            "intro" if scope == 0 and self._intro_due(now) else None
        proof = self.answers.members.proof() if kind else b""
        if not proof:
            return payload, None
        return m.encode(dataclasses.replace(msg, ticket=proof), self.cfg.network_tag), kind

    def _listed(self, bare: m.Digest, now: float) -> m.Digest:
        """`bare` (our count, fingerprint and boot flag) with our neighbour list
        when one is due (relays.py `announcement`), and on every digest that goes
        beyond hop 0 showing our proof, where both fit one packet: far peers choose
        their far relays by the lists they heard (farpeers.py `far_choice`), and
        lists otherwise went on digests that stayed at hop 0 (villages-27, seeds
        1-24: three short of full delivery, two with lists on proofs)."""
        hood, cfg = self.hood, self.cfg
        crowd = hood.degree(now) > 2 * cfg.relay_fanout

        def fits(nbrs: tuple[int, ...], relays: tuple[int, ...],
                 far: tuple[int, ...] | None) -> bool:
            full = dataclasses.replace(bare, neighbours=nbrs, has_neighbours=True,
                                       relays=relays, far_relays=far)
            return len(m.encode(full, cfg.network_tag)) + m.TICKET_LEN <= cfg.payload_cap

        far_proof = bool(hood.far_scope(now, cfg.max_scope)) and self._proof_due(now, True)
        listed, nbrs, relays, far = hood.announcement(now, crowd, fits if far_proof else None)
        return dataclasses.replace(bare, neighbours=nbrs, has_neighbours=listed, relays=relays,
                                   far_relays=far)

    def _proof_due(self, now: float, beyond: bool) -> bool:
        """Whether a digest of ours going beyond hop 0 (`beyond`), or at hop 0, is
        due to show our proof (the schedule above)."""
        since = now - self.proof_sent
        if not beyond:
            # At hop 0 only in a crowd, where the proof is what counts us in our
            # neighbours' crowd (relays.py `degree`).
            return since >= PROOF_EVERY_S and self.hood.crowd_heard(now)
        return since >= PROOF_EVERY_S or since >= PROOF_SOON_S and (
            self.hood.unproven_at > self.proof_sent or now - self.proof_first < PROOF_NEW_S)

    def introduce(self, now: float) -> bool:
        """A stranger heard directly lacks a record we sent, and its digest paid
        for no resend (digests.py `on_digest`): if we know no neighbour, nor
        introduced ourselves in the last PROOF_SOON_S, our digest goes soon with
        our proof (`_intro_due`); True if so. Two members' radios started
        together, each a stranger to the other, whose first push was lost,
        otherwise waited for their digests to earn a sketch from the strangers'
        pool: 150 to 210 s for one record. (Any differing stranger's digest
        once called for one: a near-digest in a fresh number every 2 minutes
        then drew one from each listener at start, slow-near-digest on the small
        mesh 0.45 -> 0.72 times its air.)"""
        if self.signer is None or now - max(self.intro_sent, self.intro_asked) < \
                PROOF_SOON_S or self.hood.known(now):
            return False
        self.intro_asked = now
        self.trickle.soon(now, self.cfg.trickle_imin / 2)
        return True

    def _intro_due(self, now: float) -> bool:
        """Whether a digest of ours at hop 0 is due to show our proof as an
        introduction (`introduce`): those who hear it pace what our digests
        prompt with their known neighbours', not paid from their strangers' pool
        (digests.py `prompter`). It leaves the schedule above alone."""
        return now - self.intro_asked < self.cfg.trickle_imin and self.intro_sent < \
            self.intro_asked and not self.hood.known(now)

    def _proof_shown(self, now: float, kind: str) -> None:
        """Our proof went out in a digest, on the schedule `kind` (`_encode`)."""
        if kind == "intro":
            self.intro_sent = now
            return
        self.proof_sent = now
        if self.proof_first < 0:
            self.proof_first = now
