"""Extensions (ICS-213RR fields, capacity, pledges drawing on offers): the largest
record of each kind measured, older records unchanged, and each kind of bad
extension refused with its reason."""

from __future__ import annotations

import pytest
from ledger_helpers import HLC0, Actor

from meshaid.node.ledger import codec, hlc
from meshaid.node.ledger import records as r
from meshaid.node.ledger.vocab import PRIORITIES, URGENCIES
from meshaid.node.ledger.wire import DecodeError

FOUNDER = Actor("founder", 1)
NETWORK = bytes(range(32))
POS = r.Position(-9_000_000, 18_000_000)
SEQ, AT = r.SEQ_MAX, hlc.HLC_MAX
PACK = r.Pack((1 << 7 * r.PACK_BYTES) - 1, 19)
LONG = (1 << 7 * r.WINDOW_LEN_BYTES) - 1


def lookup(short: bytes) -> list[bytes]:
    return [FOUNDER.pub] if short == FOUNDER.short else []


def size(body: r.Body) -> int:
    rec = codec.encode(body, FOUNDER.key, SEQ, AT, NETWORK)
    assert codec.decode(rec.raw, NETWORK, lookup).body == body
    return len(rec.raw)


def texts(*lengths: int) -> list[str]:
    return ["x" * n for n in lengths]


def test_the_largest_record_of_each_kind_fits_one_packet() -> None:
    """Every field at its widest: the numbers PROTOCOL.md quotes."""
    site, text, subst, deliver = texts(0, 24, 24, 24)  # 72 together, every length byte paid
    need = r.Need(255, text, r.QTY_MAX, 19, 3, r.MINUTES_MAX, site, POS, subst, deliver,
                  r.MINUTES_MAX, PACK)
    wins = tuple(r.Window((1 << 20) + i * (LONG + 1), LONG) for i in range(r.WINDOWS_MAX))
    offer = r.Offer(255, "x" * 72, r.QTY_MAX, 19, 3, 3, r.MINUTES_MAX, "", POS, PACK,
                    (64, 65, 66), wins)
    pledge = r.Pledge(FOUNDER.short, SEQ, r.QTY_MAX, r.MINUTES_MAX, "x" * r.TEXT_MAX, SEQ)
    plain_need = r.Need(255, "x" * r.TEXT_MAX, r.QTY_MAX, 19, 3, r.MINUTES_MAX,
                        "x" * r.SITE_MAX, POS)
    plain_pledge = r.Pledge(FOUNDER.short, SEQ, r.QTY_MAX, r.MINUTES_MAX, "x" * r.TEXT_MAX)
    sizes = {"need": size(need), "offer": size(offer), "pledge": size(pledge),
             "plain need": size(plain_need), "plain pledge": size(plain_pledge)}
    assert sizes == {"need": 184, "offer": 198, "pledge": 172, "plain need": 195,
                     "plain pledge": 167}
    assert max(sizes.values()) <= codec.MAX_RECORD


def test_a_record_without_extensions_is_unchanged() -> None:
    plain = r.Need(1, "drinking water", 200, 4, 3, 2880, "Pier 3 clinic")
    assert codec.encode(plain, FOUNDER.key, 4, HLC0, NETWORK).raw == codec.encode(
        r.Need(1, "drinking water", 200, 4, 3, 2880, "Pier 3 clinic", None, "", "", 0, None),
        FOUNDER.key, 4, HLC0, NETWORK).raw


def test_the_shared_text_budget_is_enforced_both_ways() -> None:
    over = r.Need(1, "x" * 60, 1, 0, 1, 0, "", None, "Q" * 13)
    with pytest.raises(ValueError, match="72 bytes"):
        codec.encode(over, FOUNDER.key, 5, HLC0, NETWORK)
    ok = codec.encode(r.Need(1, "x" * 60, 1, 0, 1, 0, "", None, "Q" * 12), FOUNDER.key, 5, HLC0,
                      NETWORK)
    signed = ok.raw[:-r.SIG_LEN]
    # Stretch the substitutes by one byte by hand (Q codes longer than plain, so the
    # text travels as plain UTF-8): the decoder refuses it too.
    head = signed.index(b"\x01\x0c" + b"Q" * 12)
    bad = signed[:head] + b"\x01\x0d" + b"Q" * 13 + signed[head + 14:]
    assert reason_of(resign(bad)) == "out-of-range"


def resign(signed: bytes, kind: r.Kind = r.Kind.NEED) -> bytes:
    return signed + FOUNDER.key.sign(codec.signing_message(kind, NETWORK, signed))


def reason_of(raw: bytes) -> str:
    with pytest.raises(DecodeError) as exc:
        codec.decode(raw, NETWORK, lookup)
    return exc.value.reason


BASE = r.Need(1, "water", 1, 0, 1, 0, "")


@pytest.mark.parametrize(("tail", "reason"), [
    (b"\x00", "trailing-bytes"),  # tag 0 is never an extension
    (b"\x05\x01\x40", "trailing-bytes"),  # inputs belong to offers, not needs
    (b"\x07\x01", "trailing-bytes"),  # offer seq belongs to pledges
    (b"\x02\x01a\x01\x01b", "non-canonical"),  # out of order
    (b"\x01\x01a\x01\x01b", "non-canonical"),  # repeated
    (b"\x01\x00", "non-canonical"),  # an empty text is absent, not empty
    (b"\x03\x00", "non-canonical"),  # a zero needed-by is absent
    (b"\x04\x00\x00", "non-canonical"),  # a pack of none
    (b"\x04\x02\x63", "out-of-range"),  # unknown pack unit
    (b"\x03\x80\x80\x80\x01", "out-of-range"),  # needed-by wider than 3 bytes
    (b"\x01\x05ab", "truncated"),
])
def test_bad_need_extensions_are_refused_with_a_reason(tail: bytes, reason: str) -> None:
    signed = codec.encode(BASE, FOUNDER.key, 5, HLC0, NETWORK).raw[:-r.SIG_LEN]
    assert reason_of(resign(signed + tail)) == reason


@pytest.mark.parametrize(("tail", "reason"), [
    (b"\x05\x00", "out-of-range"),  # no inputs
    (b"\x05\x04\x01\x02\x03\x04", "out-of-range"),  # four inputs
    (b"\x05\x02\x40\x01", "non-canonical"),  # not ascending
    (b"\x05\x01\x0a", "out-of-range"),  # unknown category
    (b"\x06\x02\x00\x0a\x05\x01", "out-of-range"),  # second window starts inside the first
    (b"\x06\x01\x00\x00", "out-of-range"),  # a window of no minutes
    (b"\x06\x01\x00\x80\x80\x01", "out-of-range"),  # length wider than 2 bytes
])
def test_bad_offer_extensions_are_refused_with_a_reason(tail: bytes, reason: str) -> None:
    offer = r.Offer(33, "welding", 8, 9, 1, 2)
    signed = codec.encode(offer, FOUNDER.key, 5, HLC0, NETWORK).raw[:-r.SIG_LEN]
    assert reason_of(resign(signed + tail, r.Kind.OFFER)) == reason


def test_encoder_refuses_what_the_decoder_would() -> None:
    for body in (r.Offer(33, "w", 1, 9, 1, 2, 0, "", None, None, (64, 33)),
                 r.Offer(33, "w", 1, 9, 1, 2, 0, "", None, None, (), (r.Window(10, 0),)),
                 r.Offer(33, "w", 1, 9, 1, 2, 0, "", None, None, (),
                         (r.Window(0, 10), r.Window(5, 10))),
                 r.Need(1, "w", 1, 0, 1, 0, "", None, pack=r.Pack(0, 0))):
        with pytest.raises(ValueError):
            codec.encode(body, FOUNDER.key, 5, HLC0, NETWORK)


def test_every_urgency_has_a_responder_priority() -> None:
    assert {URGENCIES[u]: PRIORITIES[u] for u in URGENCIES} == {
        "low": "Low", "normal": "Routine", "high": "Urgent", "critical": "Urgent"}
