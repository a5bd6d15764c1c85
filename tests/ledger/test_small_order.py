"""Public keys of small order: a signature nobody made verifies for them, so
they are refused where keys are loaded (identity.verify) and where records
carry keys (hello and charter authors, co-stewards, vouch and revoke subjects)."""

from __future__ import annotations

import pytest
from ledger_helpers import NOW, Actor, Net, World, resign

from meshaid.node.actions import members
from meshaid.node.actions.errors import InvalidInput
from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
from meshaid.node.ledger.wire import DecodeError

P = 2**255 - 19
D = (-121665 * pow(121666, P - 2, P)) % P
Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022  # order 8
TORSION_Y = {0, 1, P - 1, Y8, P - Y8}


def _x_of(y: int, sign: int) -> int | None:
    """x of the edwards25519 point with this y and sign bit (RFC 8032, 5.1.3)."""
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if (x * x - x2) % P:
        return None
    return P - x if x & 1 != sign else x


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2
    return ((x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P,
            (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def small_order_encodings() -> list[bytes]:
    """Every 32-byte encoding of a point P with 8·P = identity: the eight points
    of the 8-torsion subgroup with either sign bit, and y = p, p + 1 (0 and 1
    not reduced)."""
    out = []
    for y in (*TORSION_Y, P, P + 1):
        for sign in (0, 1):
            out.append(((y | sign << 255)).to_bytes(32, "little"))
    return sorted(set(out))


def test_the_table_is_exactly_the_eight_torsion_points() -> None:
    assert identity._SMALL_ORDER_Y == TORSION_Y
    points = set()
    for y in TORSION_Y:
        for sign in (0, 1):
            x = _x_of(y, sign)
            if x is None:
                continue
            q = (x, y)
            for _ in range(3):
                q = _add(q, q)
            assert q == (0, 1), f"8·P is not the identity for y={y}"
            points.add((x, y))
    assert len(points) == 8  # the whole 8-torsion subgroup of edwards25519


def test_every_small_order_encoding_is_refused_and_real_keys_are_not() -> None:
    for enc in small_order_encodings():
        assert identity.small_order(enc)
        # The classic forgery: R = the identity, S = 0 "signs" every message.
        forged = (1).to_bytes(32, "little") + bytes(32)
        assert not identity.verify(enc, forged, b"any message at all")
    for seed in range(200):
        key = identity.public_bytes(identity.key_from_seed(bytes([seed]) * 32))
        assert not identity.small_order(key)


def _with_author(raw: bytes, key: bytes, kind: r.Kind, network: bytes) -> bytes:
    """`raw` (a charter or hello) with its author replaced by `key`, signed R=O, S=0."""
    signed = raw[:1] + key + raw[33 : -r.SIG_LEN]
    return signed + (1).to_bytes(32, "little") + bytes(32)


def test_a_hello_by_a_small_order_key_is_refused() -> None:
    net = Net()
    hello = net.hello(Actor("x", 9))
    for enc in small_order_encodings():
        with pytest.raises(DecodeError) as err:
            codec.decode(_with_author(hello.raw, enc, r.Kind.HELLO, net.id), net.id, lambda s: ())
        assert err.value.reason == "out-of-range"


def test_vouch_revoke_and_co_steward_keys_of_small_order_are_refused() -> None:
    net = Net()
    victim = Actor("v", 9)
    enc = small_order_encodings()[3]
    for rec in (net.vouch(net.founder, victim), net.revoke(net.founder, victim, 1)):
        raw = rec.raw[: -r.SIG_LEN].replace(victim.pub, enc)
        bad = resign(raw, net.founder, rec.kind, net.id)
        with pytest.raises(DecodeError) as err:
            codec.decode(bad, net.id, lambda s: [net.founder.pub])
        assert err.value.reason == "out-of-range"
    charter = Net(costewards=(victim,)).charter
    raw = charter.raw[: -r.SIG_LEN].replace(victim.pub, enc)
    with pytest.raises(DecodeError):
        codec.decode(resign(raw, Actor("founder", 1), r.Kind.CHARTER, codec.NO_NETWORK),
                     codec.NO_NETWORK, lambda s: ())
    with pytest.raises(ValueError):
        codec.encode(r.Vouch(enc), net.founder.key, 9, 1, net.id)


def test_vouching_a_small_order_key_is_a_clear_input_error() -> None:
    w = World.build()
    store = w.store()
    enc = small_order_encodings()[0]
    for who in (enc, enc.hex()):
        with pytest.raises(InvalidInput, match="small order"):
            members.vouch(store, w.founder.key, who, now=NOW)
