"""codec: every kind round-trips, the 200-byte limit holds at every field's
limit, and each kind of bad input is refused with its reason."""

from __future__ import annotations

import pytest
from ledger_helpers import HLC0, Actor, Net

from meshaid.node.ledger import codec, hlc, identity
from meshaid.node.ledger import records as r
from meshaid.node.ledger.wire import DecodeError, encode_varint

FOUNDER = Actor("founder", 1)
MEMBER = Actor("member", 2)
NETWORK = bytes(range(32))
POS = r.Position.from_degrees(43.29612, 5.36978)


def lookup(short: bytes) -> list[bytes]:
    return [a.pub for a in (FOUNDER, MEMBER) if a.short == short]


SAMPLES: list[r.Body] = [
    r.Charter("Port"),
    r.Charter("Port of Marseille", 2, (MEMBER.pub, bytes(range(32)))),
    r.Hello("Anna"),
    r.Hello("Bo", "Foundry", 2, POS),
    r.Need(1, "drinking water", 200, 4, 3, 7 * 1440, "Pier 3 clinic"),
    r.Need(3, "splints", 30, 0, 2, 0, "", r.Position(-9_000_000, 18_000_000)),
    r.Offer(35, "laser + brake, M6 brackets", 40, 0, 1, 2, 1440, "Machine shop", POS),
    r.Offer(255, "translation", 0, 9, 2, 0),
    r.Pledge(MEMBER.short, 3, 50, 240, "water truck"),
    r.Update(1, 1, 150, 20, 60, "half came"),
    r.Vouch(MEMBER.pub),
    r.Vouch(MEMBER.pub, 1),
    r.Revoke(MEMBER.pub, 7, "stolen radio"),
]


def sign(body: r.Body, seq: int = 5, key: Actor = FOUNDER, at: int = HLC0) -> r.Record:
    network = codec.NO_NETWORK if isinstance(body, r.Charter) else NETWORK
    return codec.encode(body, key.key, seq, at, network)


def resign(signed: bytes, kind: r.Kind, key: Actor = FOUNDER, network: bytes = NETWORK) -> bytes:
    """`signed` plus a valid signature: structural errors must still be caught."""
    return signed + key.key.sign(codec.signing_message(kind, network, signed))


def split(rec: r.Record) -> tuple[bytes, bytes]:
    return rec.raw[: -r.SIG_LEN], rec.raw[-r.SIG_LEN :]


@pytest.mark.parametrize("body", SAMPLES, ids=lambda b: type(b).__name__)
def test_each_kind_round_trips(body: r.Body) -> None:
    rec = sign(body)
    back = codec.decode(rec.raw, NETWORK, lookup)
    assert back == rec
    assert back.body == body
    assert back.kind is r.KIND_OF_BODY[type(body)]
    assert back.author == FOUNDER.pub and back.seq == 5 and back.hlc == HLC0
    assert back.raw == rec.raw
    assert len(rec.raw) <= codec.MAX_RECORD
    # Ed25519 is deterministic: the same fields give the same bytes.
    assert sign(body).raw == rec.raw


def test_full_key_for_charter_and_hello_short_id_for_the_rest() -> None:
    assert sign(r.Hello("Anna")).raw[1:33] == FOUNDER.pub
    assert sign(r.Charter("Port")).raw[1:33] == FOUNDER.pub
    assert sign(SAMPLES[4]).raw[1:5] == FOUNDER.short
    assert codec.parse(sign(SAMPLES[4]).raw).author_short == FOUNDER.short
    assert codec.parse(sign(r.Hello("A")).raw).author_short == FOUNDER.short


def test_charter_is_signed_without_a_network_and_decodes_under_any() -> None:
    rec = sign(r.Charter("Port"))
    assert codec.decode(rec.raw, bytes(32), lookup) == rec
    assert codec.decode(rec.raw, b"\x55" * 32, lookup) == rec


def test_maximal_records_fit_in_200_bytes() -> None:
    wide = "\u20ac"  # three bytes of UTF-8
    name, site = "n" * r.NAME_MAX, wide * (r.SITE_MAX // 3)
    text, note, reason = "t" * r.TEXT_MAX, "n" * r.NOTE_MAX, "r" * r.REASON_MAX
    far = r.Position(-9_000_000, -18_000_000)
    seq, qty, mins = r.SEQ_MAX, r.QTY_MAX, r.MINUTES_MAX
    bodies = [
        r.Charter(name, 3, (MEMBER.pub, FOUNDER.pub)),
        r.Hello(name, site, 3, far),
        r.Need(255, text, qty, 19, 3, mins, site, far),
        r.Offer(255, text, qty, 19, 3, 3, mins, site, far),
        r.Pledge(MEMBER.short, seq, qty, mins, text),
        r.Update(seq - 1, 3, qty, qty, mins, note),
        r.Vouch(MEMBER.pub, 1),
        r.Revoke(MEMBER.pub, seq, reason),
    ]
    assert {type(b) for b in bodies} == set(r.KIND_OF_BODY)
    sizes = {}
    for body in bodies:
        rec = sign(body, seq=seq, at=hlc.HLC_MAX)
        assert len(rec.raw) <= codec.MAX_RECORD, (type(body).__name__, len(rec.raw))
        assert codec.decode(rec.raw, NETWORK, lookup).body == body
        sizes[type(body).__name__] = len(rec.raw)
    # the charter with two co-stewards is the largest kind, then need and offer
    assert sizes["Charter"] == max(sizes.values())
    assert sizes["Need"] == sizes["Offer"] > sizes["Pledge"]


@pytest.mark.parametrize(
    "body",
    [
        r.Need(1, "t" * (r.TEXT_MAX + 1)),
        r.Need(1, "x", site="s" * (r.SITE_MAX + 1)),
        r.Need(1, "x", qty=r.QTY_MAX + 1),
        r.Need(1, "x", valid_for_min=r.MINUTES_MAX + 1),
        r.Need(0, "x"),  # category 0 is not in the vocabulary
        r.Need(1, "x", unit=200),
        r.Need(1, " not canonical"),
        r.Need(1, "x", urgency=4),
        r.Offer(1, "x", offer_type=4),
        r.Offer(1, "x", rate=4),
        r.Pledge(b"abcd", 0, 1),
        r.Update(5, 0, 0),  # signed as seq 5: an update must target an earlier seq
        r.Update(0, 0, 0),
        r.Need(1, "x", position=r.Position(9_000_001, 0)),
        r.Hello("n" * (r.NAME_MAX + 1)),
        r.Hello("Anna", role=4),
        r.Charter("Port", 0),
        r.Charter("Port", 4),
        r.Charter("Port", 1, (bytes(32),) * 3),
        r.Charter("Port", 1, (bytes(31),)),
        r.Pledge(b"abc", 1, 1),
        r.Update(1, 4, 0),
        r.Vouch(bytes(31)),
        r.Vouch(MEMBER.pub, 2),
        r.Revoke(MEMBER.pub, r.SEQ_MAX + 1),
        r.Revoke(MEMBER.pub, 1, "r" * (r.REASON_MAX + 1)),
    ],
)
def test_encoder_refuses_fields_out_of_range(body: r.Body) -> None:
    with pytest.raises(ValueError):
        sign(body)


@pytest.mark.parametrize(("seq", "at"), [(0, HLC0), (r.SEQ_MAX + 1, HLC0), (1, hlc.HLC_MAX + 1)])
def test_encoder_refuses_bad_envelope(seq: int, at: int) -> None:
    with pytest.raises(ValueError):
        sign(r.Hello("Anna"), seq=seq, at=at)


# ------------------------------------------------------------------ refusals


def reason_of(raw: bytes, network: bytes = NETWORK) -> str:
    with pytest.raises(DecodeError) as exc:
        codec.decode(raw, network, lookup)
    return exc.value.reason


def test_bad_version_and_unknown_kind() -> None:
    signed, _ = split(sign(SAMPLES[4]))
    for head in (0x02, 0x22, 0xF2):
        assert reason_of(resign(bytes([head]) + signed[1:], r.Kind.NEED)) == "bad-version"
    for kind in range(8, 16):
        assert reason_of(resign(bytes([0x10 | kind]) + signed[1:], r.Kind.NEED)) == "unknown-kind"


def test_truncated_trailing_and_too_long() -> None:
    rec = sign(SAMPLES[4])
    signed, _ = split(rec)
    assert reason_of(rec.raw[:10]) == "truncated"
    assert reason_of(b"") == "truncated"
    assert reason_of(resign(signed[:-3], r.Kind.NEED)) == "truncated"
    assert reason_of(resign(signed + b"\x00", r.Kind.NEED)) == "trailing-bytes"
    assert reason_of(rec.raw + b"\x00") == "trailing-bytes"  # shifts the signature
    assert reason_of(rec.raw + bytes(200)) == "too-long"
    assert reason_of(bytes(codec.MAX_RECORD + 1)) == "too-long"


def _envelope(kind: r.Kind, seq: int, body: bytes, key: Actor = FOUNDER) -> bytes:
    author = key.pub if kind in r.FULL_KEY_KINDS else key.short
    head = bytes([codec.VERSION << 4 | kind]) + author + encode_varint(seq, 4)
    return resign(head + HLC0.to_bytes(6, "big") + body, kind, key)


@pytest.mark.parametrize(
    ("kind", "seq", "body"),
    [
        (r.Kind.NEED, 1, b"\x00\x00\x01\x00\x00\x00\x01x"),  # category 0
        (r.Kind.NEED, 1, b"\x00\x01\x01\xc8\x00\x00\x01x"),  # unit 200
        (r.Kind.NEED, 1, b"\x08\x01\x01\x00\x00\x00\x01x"),  # reserved flag bit
        (r.Kind.NEED, 1, b"\x04\x01\x01\x00\x00\x00\x7f\xff\xff\xff\x00\x00\x00\x00\x01x"),  # lat
        (r.Kind.NEED, 1, b"\x00\x01\x80\x00\x00\x00\x00\x01x"),  # non-minimal qty
        (r.Kind.OFFER, 1, b"\x20\x01\x01\x00\x00\x00\x01x"),  # reserved flag bit
        (r.Kind.HELLO, 1, b"\x01A\x00\x08"),  # reserved flag bit
        (r.Kind.CHARTER, 1, b"\x01P\x00\x00"),  # admission 0
        (r.Kind.CHARTER, 1, b"\x01P\x04\x00"),  # admission 4
        (r.Kind.CHARTER, 1, b"\x01P\x01\x03"),  # three co-stewards
        (r.Kind.PLEDGE, 1, b"abcd\x00\x01\x00\x00"),  # need seq 0
        (r.Kind.UPDATE, 3, b"\x01\x04\x00\x00\x00\x00"),  # status 4
        (r.Kind.UPDATE, 3, b"\x03\x00\x00\x00\x00\x00"),  # targets itself
        (r.Kind.UPDATE, 3, b"\x05\x00\x00\x00\x00\x00"),  # targets a later seq
        (r.Kind.VOUCH, 1, bytes(32) + b"\x02"),  # grant 2
        (r.Kind.REVOKE, 1, bytes(32) + b"\x00\x29" + b"r" * 41),  # reason too long
        (r.Kind.HELLO, 0, b"\x01A\x00\x00"),  # seq 0
    ],
)
def test_fields_out_of_range_are_refused(kind: r.Kind, seq: int, body: bytes) -> None:
    assert reason_of(_envelope(kind, seq, body)) in ("out-of-range", "non-canonical")


def test_envelope_helper_builds_valid_records() -> None:
    """The hand-built envelopes above differ from valid ones only where intended."""
    rec = codec.decode(_envelope(r.Kind.NEED, 1, b"\x00\x01\x01\x00\x00\x00\x01x"), NETWORK, lookup)
    assert rec.body == r.Need(1, "x", 1, 0, 0, 0, "")
    rec = codec.decode(_envelope(r.Kind.UPDATE, 3, b"\x02\x00\x00\x00\x00\x00"), NETWORK, lookup)
    assert rec.body == r.Update(2, 0, 0)


def test_signature_binds_the_network() -> None:
    rec = sign(SAMPLES[4])
    assert reason_of(rec.raw, network=bytes(32)) == "bad-signature"
    hello = sign(r.Hello("Anna"))
    assert reason_of(hello.raw, network=b"\x01" * 32) == "bad-signature"


def test_wrong_signer_and_unknown_author() -> None:
    rec = sign(SAMPLES[4])
    with pytest.raises(DecodeError) as exc:
        codec.decode(rec.raw, NETWORK, lambda s: [])
    assert exc.value.reason == "unknown-author"
    with pytest.raises(DecodeError) as exc:
        codec.decode(rec.raw, NETWORK, lambda s: [MEMBER.pub])
    assert exc.value.reason == "bad-signature"
    forged = resign(split(rec)[0], r.Kind.NEED, key=MEMBER)  # member signs a founder record
    assert reason_of(forged) == "bad-signature"


def test_every_key_sharing_a_short_id_is_tried() -> None:
    """Short ids collide; verification tries each candidate until one signed it."""
    rec = sign(SAMPLES[4])
    impostors = [identity.public_bytes(identity.key_from_seed(bytes([s]) * 32)) for s in (7, 8)]
    back = codec.decode(rec.raw, NETWORK, lambda s: [*impostors, FOUNDER.pub, MEMBER.pub])
    assert back.author == FOUNDER.pub


def test_parse_checks_structure_without_keys() -> None:
    rec = sign(SAMPLES[8])
    p = codec.parse(rec.raw)
    assert p.kind is r.Kind.PLEDGE and p.author_ref == FOUNDER.short and p.seq == 5
    assert p.signed + p.signature == rec.raw
    assert p.body == SAMPLES[8]


def test_records_from_net_helper_verify_under_their_network() -> None:
    net = Net()
    a = Actor("a", 9)
    hello = net.hello(a)
    need = net.need(a)
    assert codec.decode(hello.raw, net.id, lambda s: []).seq == 1
    assert codec.decode(need.raw, net.id, lambda s: [a.pub]).seq == 2
    assert identity.network_id(net.charter.raw) == net.id
