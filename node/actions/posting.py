"""Posting needs and offers, pledging, updating, and the node's own hello.

Each action validates everything it was given before it looks at the ledger,
then checks the ledger's state, and only then signs: a refused action signs
and stores nothing.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..ledger import identity
from ..ledger import records as r
from ..ledger.records import Kind, Status
from ..ledger.vocab import CATEGORIES, OFFER_TYPES, RATE_PERIODS, STATUSES, UNITS, URGENCIES
from ..store import Store, StoreError, retention
from ..store import queries as q
from . import inputs
from .errors import ActionError, InvalidInput

DEFAULT_VALID_FOR = "7d"


def sign(store: Store, key: Ed25519PrivateKey, body: r.Body, now: float | None = None) -> r.Record:
    """Sign `body` as this key's next record and store it. Refuses a key that was
    revoked: nothing it signs would be trusted anywhere."""
    me = identity.public_bytes(key)
    known = q.known_key(store, me)
    if known is not None and known.revoked:
        raise ActionError(
            f"this node's key {known.short.hex()} was revoked (trusted through seq "
            f"{known.revoked_through}): nothing it signs now would count; see 'meshaid whoami'")
    if isinstance(body, (r.Need, r.Offer)):  # bounded live records per author
        try:
            retention.check_quota(store, me, 1, now)
        except StoreError as exc:
            raise ActionError(str(exc)) from None
    try:
        return store.author(body, key) if now is None else store.author(body, key, now)
    except StoreError as exc:
        raise ActionError(str(exc)) from None


def post_need(store: Store, key: Ed25519PrivateKey, text: str, *, category: str | int,
              qty: int = 0, unit: str | int = "pcs", urgency: str | int = "normal",
              valid_for: str | int | None = DEFAULT_VALID_FOR, site: str = "",
              lat: float | None = None, lon: float | None = None,
              substitutes: str = "", deliver_to: str = "", needed_by: str | int | None = None,
              pack: str | None = None, now: float | None = None) -> r.Record:
    """Sign and store a need. `valid_for` and `needed_by` are durations ('3d',
    minutes as int, 'never'); vocabulary fields take names (any case) or codes;
    `pack` is like '24 pcs'. Substitutes, deliver-to, needed-by and pack are the
    ICS-213RR fields (extensions: node/PROTOCOL.md)."""
    body = r.Need(
        category=inputs.vocab(CATEGORIES, category, "category"),
        text=_nonempty(inputs.text(text, r.TEXT_MAX, "text"), "need"),
        qty=inputs.quantity(qty),
        unit=inputs.vocab(UNITS, unit, "unit"),
        urgency=inputs.vocab(URGENCIES, urgency, "urgency"),
        valid_for_min=inputs.duration(valid_for, "valid-for"),
        site=inputs.text(site, r.SITE_MAX, "site"),
        position=inputs.position(lat, lon),
        substitutes=inputs.text(substitutes, r.SUBSTITUTES_MAX, "substitutes"),
        deliver_to=inputs.text(deliver_to, r.DELIVER_TO_MAX, "deliver-to"),
        needed_by_min=inputs.duration(needed_by, "needed-by"),
        pack=inputs.pack(pack),
    )
    if body.substitutes or body.deliver_to or body.needed_by_min or body.pack:
        inputs.ext_texts(body.site, body.text, body.substitutes, body.deliver_to)
    return sign(store, key, body, now)


def post_offer(store: Store, key: Ed25519PrivateKey, text: str, *, category: str | int,
               qty: int = 0, unit: str | int = "pcs", offer_type: str | int = "stock",
               per: str | int | None = None, valid_for: str | int | None = DEFAULT_VALID_FOR,
               site: str = "", lat: float | None = None, lon: float | None = None,
               pack: str | None = None, needs_inputs: tuple[str, ...] = (),
               windows: tuple[str, ...] = (), now: float | None = None) -> r.Record:
    """Sign and store an offer: stock, capacity (`per` hour, day or week), skill
    or service. A capacity can name the categories it consumes (`needs_inputs`)
    and its availability windows ('1d+8h': from a day after now, for 8 hours)."""
    body = r.Offer(
        category=inputs.vocab(CATEGORIES, category, "category"),
        text=_nonempty(inputs.text(text, r.TEXT_MAX, "text"), "offer"),
        qty=inputs.quantity(qty),
        unit=inputs.vocab(UNITS, unit, "unit"),
        offer_type=inputs.vocab(OFFER_TYPES, offer_type, "type"),
        rate=inputs.vocab(RATE_PERIODS, per, "per") if per else 0,
        valid_for_min=inputs.duration(valid_for, "valid-for"),
        site=inputs.text(site, r.SITE_MAX, "site"),
        position=inputs.position(lat, lon),
        pack=inputs.pack(pack),
        inputs=inputs.categories(needs_inputs, "input"),
        windows=inputs.windows(windows),
    )
    if body.pack or body.inputs or body.windows:
        inputs.ext_texts(body.site, body.text)
    return sign(store, key, body, now)


def _nonempty(text: str, what: str) -> str:
    if not text:
        raise InvalidInput(f"a {what} needs a text saying what it is")
    return text


def pledge(store: Store, key: Ed25519PrivateKey, need_id: str, qty: int, *,
           by: str | int | None = None, text: str = "", offer_id: str | None = None,
           now: float | None = None) -> r.Record:
    """Promise `qty` (at least 1) of the need `need_id`, optionally by a time and
    drawing on one of this key's own offers (`offer_id`: its stock or capacity
    window is reduced by it). Refuses offers, pledges, needs that are fulfilled
    or withdrawn, and an offer that is not this key's own open offer."""
    short, seq = inputs.record_id(need_id)
    offer_seq = _own_offer(store, key, offer_id) if offer_id else 0
    body = r.Pledge(short, seq, inputs.quantity(qty, "a pledge's quantity", minimum=1),
                    inputs.duration(by, "by"), inputs.text(text, r.TEXT_MAX, "text"), offer_seq)
    need = q.object_state(store, short, seq)
    if need is None:
        raise ActionError(f"no need with id {need_id.strip()} is known here")
    if need.kind is not Kind.NEED:
        raise ActionError(f"{need_id.strip()} is {_a(need.kind)}, not a need")
    if need.status in (Status.FULFILLED, Status.WITHDRAWN):
        raise ActionError(f"need {need_id.strip()} is {STATUSES[need.status]}: "
                          "it takes no more pledges")
    return sign(store, key, body, now)


def _a(kind: Kind) -> str:
    """'an offer', 'a pledge': a kind's name with its article."""
    return ("an " if kind.label[0] in "aeiou" else "a ") + kind.label


def _own_offer(store: Store, key: Ed25519PrivateKey, offer_id: str) -> int:
    """The seq of `offer_id` when it is an open offer of `key`'s own."""
    short, seq = inputs.record_id(offer_id)
    offer = q.object_state(store, short, seq)
    shown = offer_id.strip()
    if offer is None:
        raise ActionError(f"no offer with id {shown} is known here")
    if offer.kind is not Kind.OFFER:
        raise ActionError(f"{shown} is {_a(offer.kind)}, not an offer")
    if offer.author != identity.public_bytes(key):
        raise ActionError(f"{shown} is someone else's offer: a pledge draws on its author's own")
    if offer.status is not Status.OPEN:
        raise ActionError(f"offer {shown} is {STATUSES[offer.status]}")
    return seq


def update(store: Store, key: Ed25519PrivateKey, record_id: str, *, qty: int | None = None,
           delivered: int | None = None, fulfil: bool = False, withdraw: bool = False,
           renew: str | int | None = None, note: str | None = None,
           now: float | None = None) -> r.Record:
    """Change one of this key's own needs, offers or pledges: quantity, delivered
    (pledges), fulfilled/delivered, withdrawn, or renewed for a duration from now
    (which reopens it). A note not given keeps the current one. Refuses an update
    that changes nothing."""
    if fulfil and withdraw:
        raise InvalidInput("fulfil and withdraw exclude each other")
    short, seq = inputs.record_id(record_id)
    new_qty = None if qty is None else inputs.quantity(qty)
    new_delivered = None if delivered is None else inputs.quantity(delivered, "delivered")
    renew_min = inputs.duration(renew, "renew")
    if renew is not None and not renew_min:
        raise InvalidInput("renew needs a duration like 12h or 3d")
    new_note = None if note is None else inputs.text(note, r.NOTE_MAX, "note")
    obj = q.object_state(store, short, seq)
    shown = record_id.strip()
    if obj is None:
        raise ActionError(f"no need, offer or pledge with id {shown} is known here")
    if obj.author != identity.public_bytes(key):
        raise ActionError(f"{shown} was written by someone else; only its author can update it")
    if new_delivered is not None and obj.kind is not Kind.PLEDGE:
        raise InvalidInput("delivered applies to pledges only")
    status = obj.status
    final_qty = obj.qty if new_qty is None else new_qty
    final_delivered = obj.delivered if new_delivered is None else new_delivered
    if withdraw:
        status = Status.WITHDRAWN
    elif fulfil:
        status = Status.DELIVERED if obj.kind is Kind.PLEDGE else Status.FULFILLED
        if obj.kind is Kind.PLEDGE and new_delivered is None:
            final_delivered = final_qty
    elif renew_min:
        status = Status.OPEN
    if obj.kind is Kind.PLEDGE and final_delivered > final_qty:
        raise InvalidInput(f"delivered ({final_delivered}) is more than the pledge "
                           f"({final_qty}); raise its quantity first")
    final_note = obj.note if new_note is None else new_note
    if not renew_min and (status, final_qty, final_delivered, final_note) == (
            obj.status, obj.qty, obj.delivered, obj.note):
        raise InvalidInput(f"nothing to change: {shown} is already {STATUSES[obj.status]} "
                           f"with quantity {obj.qty}" + (
                               f", {obj.delivered} delivered" if obj.kind is Kind.PLEDGE else ""))
    body = r.Update(seq, int(status), final_qty, final_delivered, renew_min, final_note)
    return sign(store, key, body, now)


def ensure_hello(store: Store, key: Ed25519PrivateKey, now: float | None = None) -> r.Record | None:
    """Sign this node's hello once the network's charter is known and whenever the
    name, site or role it keeps in its settings changed. Returns the new hello."""
    if store.network is None:
        return None
    me = identity.public_bytes(key)
    wanted = (store.meta("my_name") or "", store.meta("my_site") or "",
              int(store.meta("my_role") or 0))
    if q.hello_of(store, me) == wanted:
        return None
    known = q.known_key(store, me)
    if known is not None and known.revoked:
        return None  # a revoked key's new hello would count for nothing
    return sign(store, key, r.Hello(*wanted), now)
