"""Text that reads differently from what it says is not canonical: format
characters (bidi overrides and isolates, zero-width characters, the soft
hyphen, the BOM, tags), invisible fillers (Hangul fillers, the combining
grapheme joiner), controls and line or paragraph separators are refused
in every text field on decode, and counted as rejections by the store."""

from __future__ import annotations

import unicodedata

import pytest
from ledger_helpers import NOW, Actor, Net, World, resign

from meshaid.node.ledger import codec, textcode
from meshaid.node.ledger import records as r
from meshaid.node.ledger.wire import FORBIDDEN, DecodeError, clean_text

SPOOFS = ["\u202e", "\u2066", "\u200b", "\u200d", "\u00ad", "\ufeff", "\u2028", "\u2029",
          "\U000e0041", "\x1b", "\x85", "\u3164", "\u115f", "\u034f", "\uffa0"]
# the other default-ignorable code points of Unicode 14.0, variation selectors aside
INVISIBLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2065, 0x3164, 0xFFA0, 0xE0000,
             *range(0xE0002, 0xE0020), *range(0xE0080, 0xE0100), *range(0xE01F0, 0xE1000)}


def _swap_text(rec: r.Record, old: str, new: str, signer: Actor, net: Net) -> bytes:
    """`rec` with the text field `old` (as it travels: coded when shorter) replaced by
    `new` as plain UTF-8, re-signed."""
    a, b = textcode.pack(old), bytes([len(new.encode())]) + new.encode()
    signed = rec.raw[: -r.SIG_LEN]
    assert signed.count(a) == 1
    network = codec.NO_NETWORK if rec.kind is r.Kind.CHARTER else net.id
    return resign(signed.replace(a, b), signer, rec.kind, network)


def _padding(spoof: str) -> str:
    return "x" * len(spoof.encode())


@pytest.mark.parametrize("spoof", SPOOFS)
def test_every_text_field_with_a_spoofing_character_is_non_canonical(spoof: str) -> None:
    net = Net()
    anna = Actor("anna", 2)
    pad = _padding(spoof)
    need = net.need(anna, text=f"water{pad}", site=f"Pier{pad}")
    cases = [
        (net.hello(anna, name=f"an{pad}na"), f"an{pad}na", f"an{spoof}na"),
        (need, f"water{pad}", f"water{spoof}"),
        (need, f"Pier{pad}", f"Pier{spoof}"),
        (net.update(anna, need, note=f"tap{pad}"), f"tap{pad}", f"tap{spoof}"),
        (net.revoke(anna, net.founder, 1, reason=f"lost{pad}"), f"lost{pad}", f"lost{spoof}"),
        (net.sign(anna, r.Need(1, f"rice{pad}", 5, 1, substitutes=f"pasta{pad}")),
         f"pasta{pad}", f"pasta{spoof}"),
    ]
    keys = {anna.short: [anna.pub], net.founder.short: [net.founder.pub]}
    for rec, old, new in cases:
        codec.decode(rec.raw, net.id, lambda s: keys.get(s, []))  # the original is fine
        bad = _swap_text(rec, old, new, anna, net)
        with pytest.raises(DecodeError) as err:
            codec.decode(bad, net.id, lambda s: keys.get(s, []))
        assert err.value.reason == "non-canonical", (old, new)


def test_a_charter_name_with_a_bidi_override_is_refused() -> None:
    net = Net(name="Portxxx")
    bad = _swap_text(net.charter, "Portxxx", "Port\u202e", net.founder, net)
    with pytest.raises(DecodeError, match="non-canonical"):
        codec.decode(bad, codec.NO_NETWORK, lambda s: ())


def test_the_store_counts_spoofed_text_as_a_rejection() -> None:
    w = World.build()
    store = w.store()
    rec = w.net.need(w.anna, text="waterxxx")
    bad = _swap_text(rec, "waterxxx", "water\u202e", w.anna, w.net)
    outcome = store.ingest(bad, now=NOW)
    assert (outcome.status, outcome.reason) == ("rejected", "non-canonical")
    assert store.ingest(rec.raw, now=NOW).status == "accepted"


def test_forbidden_is_unicode_14_controls_formats_separators_and_fillers() -> None:
    """Exactly Cc, Cf, Zl and Zp of Unicode 14.0 (Python 3.11's tables) and the
    invisible fillers; a later Unicode may add format characters, which the
    fixed table leaves allowed."""
    exact = unicodedata.unidata_version == "14.0.0"
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        kind = unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or cp in INVISIBLE
        if FORBIDDEN.match(ch):
            assert kind, hex(cp)
        elif exact:
            assert not kind, hex(cp)


def test_clean_text_drops_format_characters_and_is_idempotent() -> None:
    assert clean_text("an\u200dna") == "anna"
    assert clean_text("\u202epay\u202c here") == "pay here"
    assert clean_text("line\u2028break") == "line break"
    assert clean_text("e\u200d\u0301") == "\u00e9"  # NFC after the joiner is gone
    assert clean_text("anna\u3164") == "anna"  # a Hangul filler reads as nothing
    assert clean_text("\u2764\ufe0f") == "\u2764\ufe0f"  # an emoji keeps its selector
    for s in ["\u00ad\u0301x", " \u2066 a\u0301 ", "x\u2029\u200by"]:
        once = clean_text(s)
        assert clean_text(once) == once
        assert not FORBIDDEN.search(once)
