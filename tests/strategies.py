"""Hypothesis strategies for valid record bodies of every kind."""

from __future__ import annotations

from hypothesis import strategies as st

from meshaid.node.ledger import records as r
from meshaid.node.ledger.identity import small_order
from meshaid.node.ledger.vocab import CATEGORIES, GRANTS, ROLES, STATUSES, UNITS
from meshaid.node.ledger.wire import fit_text


def text(max_bytes: int) -> st.SearchStrategy[str]:
    """Any text, made canonical and cut to fit, as the CLI does."""
    return st.text(max_size=max_bytes + 8).map(lambda s: fit_text(s, max_bytes))


# Public keys as a record carries them: any 32 bytes but the small-order points,
# which no record may carry (tests/ledger/test_small_order.py).
keys = st.binary(min_size=32, max_size=32).filter(lambda k: not small_order(k))
shorts = st.binary(min_size=4, max_size=4)
seqs = st.integers(min_value=1, max_value=r.SEQ_MAX)
qtys = st.integers(min_value=0, max_value=r.QTY_MAX)
minutes = st.integers(min_value=0, max_value=r.MINUTES_MAX)
positions = st.none() | st.builds(
    r.Position,
    st.integers(min_value=-9_000_000, max_value=9_000_000),
    st.integers(min_value=-18_000_000, max_value=18_000_000),
)
two_bits = st.integers(min_value=0, max_value=3)

charters = st.builds(
    r.Charter, text(r.NAME_MAX), st.integers(min_value=1, max_value=3),
    st.lists(keys, max_size=r.MAX_COSTEWARDS).map(tuple),
)
hellos = st.builds(r.Hello, text(r.NAME_MAX), text(r.SITE_MAX), st.sampled_from(sorted(ROLES)),
                   positions)
needs = st.builds(r.Need, st.sampled_from(sorted(CATEGORIES)), text(r.TEXT_MAX), qtys,
                  st.sampled_from(sorted(UNITS)), two_bits, minutes, text(r.SITE_MAX), positions)
offers = st.builds(r.Offer, st.sampled_from(sorted(CATEGORIES)), text(r.TEXT_MAX), qtys,
                   st.sampled_from(sorted(UNITS)), two_bits, two_bits, minutes, text(r.SITE_MAX),
                   positions)
pledges = st.builds(r.Pledge, shorts, seqs, qtys, minutes, text(r.TEXT_MAX))
packs = st.builds(r.Pack, st.integers(1, (1 << 7 * r.PACK_BYTES) - 1), st.sampled_from(sorted(UNITS)))


@st.composite
def windows(draw: st.DrawFn) -> tuple[r.Window, ...]:
    """1 to WINDOWS_MAX availability windows in time order, not overlapping."""
    out, start = [], draw(st.integers(0, 20_000))
    for _ in range(draw(st.integers(1, r.WINDOWS_MAX))):
        length = draw(st.integers(1, (1 << 7 * r.WINDOW_LEN_BYTES) - 1))
        out.append(r.Window(start, length))
        start += length + draw(st.integers(0, 5000))
    return tuple(out)


def _fit_all(draw: st.DrawFn, *limits: int) -> list[str]:
    """Texts with their own limits that also fit r.EXT_TEXTS_MAX together."""
    out, left = [], r.EXT_TEXTS_MAX
    for limit in limits:
        value = draw(text(min(limit, left)))
        left -= len(value.encode("utf-8"))
        out.append(value)
    return out


@st.composite
def needs_ext(draw: st.DrawFn) -> r.Need:
    """Needs with at least one extension (ICS-213RR fields)."""
    site, body, subst, deliver = _fit_all(draw, r.SITE_MAX, r.TEXT_MAX, r.SUBSTITUTES_MAX,
                                          r.DELIVER_TO_MAX)
    need = draw(needs)
    pack = draw(st.none() | packs)
    by = draw(st.integers(1, r.MINUTES_MAX))
    return r.Need(need.category, body, need.qty, need.unit, need.urgency, need.valid_for_min,
                  site, need.position, subst, deliver, by, pack)


@st.composite
def offers_ext(draw: st.DrawFn) -> r.Offer:
    """Capacity-style offers with inputs and windows (and maybe a pack)."""
    site, body = _fit_all(draw, r.SITE_MAX, r.TEXT_MAX)
    offer = draw(offers)
    inputs = tuple(sorted(draw(st.sets(st.sampled_from(sorted(CATEGORIES)), min_size=1,
                                       max_size=r.INPUTS_MAX))))
    return r.Offer(offer.category, body, offer.qty, offer.unit, offer.offer_type, offer.rate,
                   offer.valid_for_min, site, offer.position, draw(st.none() | packs), inputs,
                   draw(windows()))


pledges_ext = st.builds(r.Pledge, shorts, seqs, qtys, minutes, text(r.TEXT_MAX), seqs)
vouches = st.builds(r.Vouch, keys, st.sampled_from(sorted(GRANTS)))
revokes = st.builds(r.Revoke, keys, st.integers(min_value=0, max_value=r.SEQ_MAX),
                    text(r.REASON_MAX))


def updates(seq: int) -> st.SearchStrategy[r.Update]:
    """An update signed as record `seq` (>= 2) targets an earlier seq."""
    return st.builds(r.Update, st.integers(min_value=1, max_value=seq - 1),
                     st.sampled_from(sorted(STATUSES)), qtys, qtys, minutes, text(r.NOTE_MAX))


@st.composite
def signed_fields(draw: st.DrawFn) -> tuple[r.Body, int, int]:
    """(body, seq, hlc) for any kind; the seq is compatible with the body."""
    seq = draw(st.integers(min_value=2, max_value=r.SEQ_MAX) | st.integers(2, 200))
    body = draw(st.one_of(charters, hellos, needs, offers, pledges, updates(seq), vouches, revokes,
                          needs_ext(), offers_ext(), pledges_ext))
    at = draw(st.integers(min_value=0, max_value=(1 << 48) - 1))
    return body, seq, at
