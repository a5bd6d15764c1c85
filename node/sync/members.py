"""Members' tickets, both ways: ours for the nodes we ask, theirs for what they ask us.

Theory of operation
-------------------
A ticket (ticket.py) is an admitted member's signature of (puller, responder,
network): its holder's PULLs, and its REQUESTs and MOREs naming that
responder, may be answered beyond their own air, from a per-asker allowance
of the responder's bulk band (PROTOCOL.md §9, "Members' pulls").

As asker: `ticket(responder)` makes ours (one signature per responder, kept
for at most `MAX_ALLOWED` responders) and hands it out only while our own
ledger counts our key admitted (checked at most every `pull_timeout`): a
ticket nobody can check buys nothing, so a newcomer keeps paying with
padding; inside that padding goes its ticket all the same (`hopeful`): its
responders may count it admitted before its own ledger does.

As responder: `believe` checks a ticket heard in a packet naming us (once
per asker and `HOLD`, a pair that failed is not checked again until our
membership changes); `spend`
debits an answer from a believed asker's allowance, and `allowance` does so
for a pull answer's packet (or pays it back when the budget refused it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from . import messages as m
from . import ticket as tk
from .budget import BULK, SHARE
from .relays import Peer
from .serving import after_of

if TYPE_CHECKING:
    from .engine import Engine

ALLOW_SHARE = 1.0  # of our bulk band, per hour, that one member's asks may have beyond their air
ALLOW_SAVED = 900.0  # seconds of that allowance a member may save up
CHAINS = 32  # pull answers to other nodes followed at once (a believed puller's)
CHAIN_S = 120.0  # seconds an answer chain is followed after its last packet
SHOW_EVERY = 1800.0  # seconds between our tickets to a node that answered (it believes one an hour)


class Members:
    def __init__(self, engine: Engine, differs: Callable[[Peer], bool]) -> None:
        self.eng = engine
        self.differs = differs  # whether a peer's last digest still differs from our set
        cfg = engine.cfg
        rate = ALLOW_SHARE * SHARE[BULK] * cfg.budget_s_per_hour / 3600.0
        self.allow = tk.Allowances(rate, max(ALLOW_SAVED * rate,
                                             cfg.pull_batch * cfg.airtime(cfg.payload_cap)))
        self.tickets: dict[int, bytes] = {}  # responder -> our ticket for it
        self.admitted_at = -1e9  # when our own ledger last counted our key admitted
        self.checked_at = -1e9  # when we last asked it
        self.members_seen = 0  # admitted keys our ledger counted when we last checked a ticket
        # node asked -> (when our ticket last went to it in a REQUEST or MORE, whether
        # it answered one of our asks since)
        self.shown: dict[int, tuple[float, bool]] = {}
        self.proofs_seen = -1  # member_count when proofs were last checked against it
        self.bad_proofs: OrderedDict[tuple[int, bytes], None] = OrderedDict()
        # (responder, record an answer goes on after) -> (believed puller, when heard)
        self.chains: OrderedDict[tuple[int, bytes], tuple[int, float]] = OrderedDict()

    def ask(self, node: int) -> bytes | None:
        """How to ask `node` (a REQUEST or MORE naming it): None when we cannot
        show a ticket (pad the ask to its answer's size); else unpadded, with
        the ticket returned, or with none (b"") when `node` answered an ask of
        ours since our ticket last went to it, less than SHOW_EVERY ago."""
        mine = self.ticket(node)
        if not mine:
            return None
        now = self.eng.last_time
        at, answered = self.shown.get(node, (-1e9, False))
        if answered and now - at <= SHOW_EVERY:
            return b""
        if node not in self.shown and len(self.shown) >= tk.MAX_ALLOWED:
            self.shown.clear()
        self.shown[node] = (now, False)
        return mine

    def heard_answer(self, msg: m.Records | m.Sketch, sender: int,
                     wanted: Mapping[bytes, tuple[float, int, int | None]]) -> None:
        """A packet from `sender`: if it answers an ask of ours (symbols after
        index 0, records we wanted from it), it holds our ticket, if one went."""
        shown = self.shown.get(sender)
        if shown is None or shown[1]:
            return
        if isinstance(msg, m.Sketch) and msg.start or isinstance(msg, m.Records) and any(
                wanted.get(rid, (0, 0, None))[2] == sender for rid in msg.ids):
            self.shown[sender] = (shown[0], True)

    def believe(self, sender: int, ticket: bytes, now: float) -> bool:
        """Whether `sender` holds a believed ticket for asking us, checking `ticket`
        (heard in a packet naming us; may be empty) if it is new. A ticket that
        fails is counted (`bad-ticket`): its packet is answered as any, as paid."""
        eng = self.eng
        verify = getattr(eng.ledger, "member_signed", None)
        if verify is None or sender >> 32:
            return False  # (a voice not the sender's own, engine.py: no ticket is its)
        count = getattr(eng.ledger, "member_count", None)
        members = count() if count is not None else 0
        if members != self.members_seen:  # a vouch came: a ticket that failed may hold now
            self.members_seen = members
            self.allow.forget_bad()
        ok = self.allow.check(sender, ticket, tk.message(eng.cfg.network_tag, sender, eng.node),
                              verify, now)
        if ticket and not ok:
            eng.stats.dropped["bad-ticket"] += 1
        return ok

    def overheard(self, msg: m.Pull | m.Records, sender: int, size: int, now: float) -> None:
        """A PULL naming another node, or a pull answer, heard in its sender's own
        voice. We follow the answers to pullers whose ticket we believe: a PULL
        from such a puller names its responder and the record its answer goes
        on after, and each answer packet names the record before its first one
        (serving.py `after`). Each such packet another node sends draws on the
        puller's key's neighbourhood allowance here too (ticket.py `drawn`)."""
        chains = self.chains
        if isinstance(msg, m.Pull):
            if self.allow.believed(sender, now):
                chains[(msg.target, after_of(msg.cursor))] = (sender, now)
                while len(chains) > CHAINS:
                    del chains[next(iter(chains))]
            return
        if msg.after is None or msg.relay or not msg.records:
            return
        chain = chains.pop((sender, msg.after), None)
        if chain is None or now - chain[1] > CHAIN_S:
            return
        self.allow.drawn(chain[0], self.eng.cfg.airtime(size), now)
        if not msg.end:
            last = msg.ids[-1]
            chains[(sender, last)] = (chain[0], now)

    def prove(self, sender: int, peer: Peer, proof: bytes, now: float) -> None:
        """A plausible digest from `sender` (`peer`), carrying its membership
        proof `proof` (ticket.py ANYONE; may be empty): far peers must hold one
        (farpeers.py). A proof is checked once per number and membership
        change; one that fails is counted (`bad-ticket`) and remembered."""
        eng = self.eng
        verify = getattr(eng.ledger, "member_signed", None)
        count = getattr(eng.ledger, "member_count", None)
        if verify is None or count is None:
            return
        tag = eng.cfg.network_tag
        members = count()
        if members != self.proofs_seen:  # a vouch or a revocation: check every proof again
            self.proofs_seen = members
            self.bad_proofs.clear()
            for n, p in eng.hood.peers.items():
                if p.proof and not verify(p.proof[:4], tk.message(tag, n, tk.ANYONE),
                                          p.proof[4:]):
                    eng.hood.disproven(p)
        if proof and proof != peer.proof:
            if (sender, proof) in self.bad_proofs:
                return
            if not verify(proof[:4], tk.message(tag, sender, tk.ANYONE), proof[4:]):
                eng.stats.dropped["bad-ticket"] += 1
                self.bad_proofs[(sender, proof)] = None
                while len(self.bad_proofs) > tk.MAX_BAD:
                    self.bad_proofs.popitem(last=False)
                return
        elif not peer.proof:
            return  # (its stored proof failed the check against the new membership)
        eng.hood.proven(peer, proof or peer.proof, now)

    def proof(self) -> bytes:
        """Our membership proof for digests that go beyond hop 0 (empty when we hold
        no member key): our ticket for our own number and ANYONE."""
        return self.hopeful(tk.ANYONE)

    def allowed(self, who: int, air: float, now: float) -> bool:
        """Debit `air` from the allowance of `who`, a member asking us (a believed
        ticket), only while its own last plausible digest differs from our set: a
        ticket replayed in its name buys nothing once it is level with us."""
        peer = self.eng.hood.peers.get(who)
        return peer is not None and peer.count > 0 and self.differs(peer) \
            and self.allow.spend(who, air, now)

    def allowance(self, who: int, msg: m.Message, refund: bool) -> bool:
        """Debit (or, `refund`, give back) the air of `msg` from `who`'s member
        allowance; False if it has no checked ticket or not enough left."""
        eng = self.eng
        air = eng.cfg.airtime(len(m.encode(msg, eng.cfg.network_tag)))
        if refund:
            self.allow.refund(who, air)
            return True
        return self.allow.spend(who, air, eng.last_time)

    def hopeful(self, responder: int) -> bytes:
        """Our ticket for `responder` while our own ledger does not count our key
        admitted yet (empty when we hold no member key). A joiner meets its own
        vouch late in its pull of the membership class (on blockaded-port, two
        hours after joining, its padded pulls bound by its own budget all the
        while), yet its responders count it admitted from the start. So its
        padded pulls carry this ticket in their padding: they pay for themselves
        as any, and a responder that believes the ticket answers them from our
        allowance too (a responder that does not counts a bad ticket, once, and
        checks it again when its membership changes); and a responder that
        answered us is asked plain with it until such asks go unanswered
        (bootstrap.py `hoped`)."""
        if self.eng.signer is None:
            return b""
        if responder not in self.tickets:
            if len(self.tickets) >= tk.MAX_ALLOWED:
                self.tickets.clear()
            self.tickets[responder] = tk.make(self.eng.signer, self.eng.cfg.network_tag,
                                              self.eng.node, responder)
        return self.tickets[responder]

    def ticket(self, responder: int) -> bytes:
        """Our ticket for asking `responder`; empty when we hold no member key,
        or our own ledger does not count it admitted (yet: a joiner learns its own
        vouch from its first pulls, a newcomer waits for one), checked at most
        every `pull_timeout`: a ticket nobody can check buys nothing, and the
        ask must then pay for its answer."""
        eng = self.eng
        verify = getattr(eng.ledger, "member_signed", None)
        if eng.signer is None or verify is None:
            return b""
        now = eng.last_time
        mine = self.hopeful(responder)
        if now - self.admitted_at > tk.HOLD and now - self.checked_at >= eng.cfg.pull_timeout:
            self.checked_at = now
            if verify(mine[:4], tk.message(eng.cfg.network_tag, eng.node, responder), mine[4:]):
                self.admitted_at = now
        return mine if now - self.admitted_at <= tk.HOLD else b""
