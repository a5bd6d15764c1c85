"""Vouching for and revoking keys.

Both act on keys, never on a name alone: display names are chosen by their
owners, so a name resolves only when exactly one admitted member carries it
(names compare without regard to case). Anything else asks for the id, the
same 8-hex-digit short id that `members`, `whoami` and every record id show.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..ledger import identity
from ..ledger import records as r
from ..store import Store
from ..store import queries as q
from . import inputs
from .errors import ActionError, InvalidInput
from .posting import sign


def record_id_of(key: Ed25519PrivateKey, seq: int) -> str:
    """The id people type for this node's record `seq`."""
    return f"{person_id(identity.public_bytes(key))}-{seq}"


def person_id(key: bytes) -> str:
    """The id people see and type for a key: its short id in hex."""
    return identity.short_id(key).hex()


def _usable(key: bytes) -> bytes:
    if identity.small_order(key):
        raise InvalidInput(f"{key.hex()} is not a usable public key (a point of small order, "
                           "for which signatures nobody made verify)")
    return key


def resolve_key(store: Store, who: str | bytes) -> bytes:
    """The full key meant by `who`: 32 key bytes, 64 hex digits, an 8-hex-digit
    id, or the name of exactly one admitted member. Raises ActionError asking for
    the id when a name is shared or unconfirmed, or an id is ambiguous."""
    if isinstance(who, bytes):
        if len(who) != r.KEY_LEN:
            raise InvalidInput("a key is 32 bytes")
        return _usable(who)
    text = who.strip()
    if not text:
        raise InvalidInput("say whom: an id like 1a2b3c4d (see 'meshaid members')")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) == r.KEY_LEN:
        return _usable(raw)
    if len(raw) == r.SHORT_ID_LEN:
        found = q.keys_by_short(store, raw)
        if not found:
            raise ActionError(f"no known key has id {text.lower()}; its hello must arrive first "
                              "(import a bundle or sync)")
        if len(found) > 1:
            raise ActionError(f"id {text.lower()} is shared by {len(found)} keys: give the full "
                              "64-digit key (meshaid members --json)")
        return found[0].key
    found = q.keys_by_name(store, text)
    if not found:
        raise ActionError(f"no known key is called {text!r}; give its id "
                          "(see 'meshaid members')")
    ids = ", ".join(person_id(k.key) for k in found)
    if len(found) > 1:
        raise ActionError(f"{len(found)} keys call themselves {text!r} ({ids}): give the id "
                          "of the one you mean")
    if found[0].role is None or found[0].revoked:
        raise ActionError(f"{text!r} is a name its owner chose and no steward has confirmed: "
                          f"check the id {ids} with them, then give the id")
    return found[0].key


def vouch(store: Store, key: Ed25519PrivateKey, who: str | bytes, *, steward: bool = False,
          now: float | None = None) -> r.Record:
    """Admit a key to the network (a member, or a steward with `steward`).
    Refuses a revoked key, this node's own key, and a vouch this key already
    signed (a voucher counts once)."""
    subject = resolve_key(store, who)
    if subject == identity.public_bytes(key):
        raise ActionError("a key cannot vouch for itself")
    known = q.known_key(store, subject)
    if known is not None and known.revoked:
        raise ActionError(f"{person_id(subject)} was revoked (trusted through seq "
                          f"{known.revoked_through}); revocation is final for a key, so a new "
                          "key must be admitted instead")
    if known is not None and known.role == "steward":
        raise ActionError(f"{person_id(subject)} is already a steward")
    grant = r.Grant.STEWARD if steward else r.Grant.MEMBER
    mine = q.vouches_by(store, identity.public_bytes(key), subject).get(int(grant))
    if mine is not None:  # a voucher counts once: a second vouch changes nothing
        hint = ("; 'meshaid vouch --steward' makes it a steward"
                if not steward and known is not None and known.role == "member" else "")
        raise ActionError(f"you already vouched for {person_id(subject)} "
                          f"({record_id_of(key, mine)}): vouching again changes nothing{hint}")
    return sign(store, key, r.Vouch(subject, int(grant)), now)


def revoke(store: Store, key: Ed25519PrivateKey, who: str | bytes, *,
           through_seq: int | None = None, reason: str = "",
           now: float | None = None) -> r.Record:
    """Throw a key out: its records after `through_seq` (default: the top of the
    unbroken run of its seqs stored here, so a stray seq far above is cut) stop counting. Refuses revoking the last steward."""
    through = None if through_seq is None else inputs.seq(through_seq, "through-seq")
    why = inputs.text(reason, r.REASON_MAX, "reason")
    subject = resolve_key(store, who)
    known = q.known_key(store, subject)
    if through is None:
        through = q.seq_run(store, subject)
    if known is not None and known.revoked and known.revoked_through is not None \
            and known.revoked_through <= through:
        raise ActionError(f"{person_id(subject)} is already revoked through seq "
                          f"{known.revoked_through}")
    if known is not None and known.role == "steward" and not known.revoked \
            and q.stewards(store) == [subject]:
        raise ActionError(f"{person_id(subject)} is the last steward: revoking it would leave "
                          "nobody to admit or revoke keys; vouch another steward first")
    return sign(store, key, r.Revoke(subject, through, why), now)


def steward_note(store: Store, key: Ed25519PrivateKey) -> str | None:
    """A warning when this node's key is not a steward, so its vouches and revokes
    count on no node."""
    known = q.known_key(store, identity.public_bytes(key))
    if known is None or known.role != "steward" or known.revoked:
        return "you are not a steward, so other nodes will not count this"
    return None
