"""Rateless IBLT: streamed symbols decode exactly the symmetric difference."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshaid.node.sync import riblt

PER_PACKET = 16  # symbols in one SKETCH packet (engine.SYMBOLS_PER_PACKET)
# 64-bit ids; 0 is left out: SHA-256 prefixes are never all zero in practice and an
# all-zero id XORs away to nothing (see test_the_zero_id_is_invisible).
ids = st.integers(1, (1 << 64) - 1)


def stream_until_complete(remote: set[int], local: set[int], size: int = 1024,
                          step: int = PER_PACKET) -> tuple[riblt.Decoded, int]:
    """What a receiver holding `local` gets from the sender of `remote`'s symbols
    0, 1, ... sent `step` at a time, until the difference decodes."""
    sender = riblt.Sketch(size, remote)
    receiver = riblt.Sketch(size, local)
    have: list[riblt.Symbol] = []
    while len(have) < size:
        have += riblt.parse_symbols(sender.encode(len(have), step))
        result = riblt.decode(have, 0, receiver)
        if result.complete:
            return result, len(have)
    raise AssertionError(f"no complete decode within {size} symbols")


@st.composite
def set_pairs(draw: st.DrawFn) -> tuple[set[int], set[int]]:
    """A and B: a shared part of up to 500 ids, up to 40 ids only in each."""
    n_shared = draw(st.integers(0, 500))
    n_a, n_b = draw(st.integers(0, 40)), draw(st.integers(0, 40))
    rng = random.Random(draw(st.integers(0, 2**32)))
    pool: set[int] = set()
    while len(pool) < n_shared + n_a + n_b:
        pool.add(rng.getrandbits(64) or 1)
    xs = sorted(pool)
    rng.shuffle(xs)
    shared, only_a, only_b = xs[:n_shared], xs[n_shared : n_shared + n_a], xs[n_shared + n_a :]
    return set(shared) | set(only_a), set(shared) | set(only_b)


@settings(max_examples=60)
@given(set_pairs())
def test_streaming_recovers_exactly_the_symmetric_difference(
    pair: tuple[set[int], set[int]],
) -> None:
    a, b = pair
    result, used = stream_until_complete(a, b)
    assert result.theirs == a - b
    assert result.ours == b - a
    d = len(a ^ b)
    # Rateless IBLT needs about 1.4-2 symbols per differing id; allow slack for small d.
    assert used <= PER_PACKET + 3 * d + PER_PACKET, (used, d)


@settings(max_examples=30)
@given(set_pairs(), st.integers(1, 5))
def test_symbol_by_symbol_streaming_never_claims_a_wrong_difference(
    pair: tuple[set[int], set[int]], step: int
) -> None:
    a, b = pair
    result, _used = stream_until_complete(a, b, step=step)
    assert (result.theirs, result.ours) == (a - b, b - a)


@pytest.mark.parametrize("seed", range(3))
def test_large_differences_in_both_directions(seed: int) -> None:
    rng = random.Random(seed)
    shared = {rng.getrandbits(64) | 1 for _ in range(2000)}
    a = shared | {rng.getrandbits(64) | 1 for _ in range(150)}
    b = shared | {rng.getrandbits(64) | 1 for _ in range(150)}
    result, used = stream_until_complete(a, b)
    assert (result.theirs, result.ours) == (a - b, b - a)
    assert used <= 2.2 * len(a ^ b)


@settings(max_examples=30)
@given(st.sets(ids, max_size=500))
def test_identical_sets_decode_complete_and_empty_from_one_symbol(s: set[int]) -> None:
    sender, receiver = riblt.Sketch(64, s), riblt.Sketch(64, s)
    result = riblt.decode(riblt.parse_symbols(sender.encode(0, 1)), 0, receiver)
    assert result.complete
    assert result.theirs == set() and result.ours == set()


def test_one_symbol_is_not_complete_when_sets_differ_by_two() -> None:
    a, b = {1, 2, 3}, {1}
    result = riblt.decode(riblt.parse_symbols(riblt.Sketch(64, a).encode(0, 1)), 0,
                          riblt.Sketch(64, b))
    assert not result.complete


@settings(max_examples=40)
@given(st.sets(ids, max_size=200), st.integers(0, 70), st.integers(0, 30))
def test_symbol_wire_round_trip(s: set[int], start: int, count: int) -> None:
    sketch = riblt.Sketch(64, s)
    data = sketch.encode(start, count)
    expected = max(0, min(start + count, 64) - start)
    assert len(data) == expected * riblt.SYMBOL_BYTES
    symbols = riblt.parse_symbols(data)
    assert [(x.ids, x.check, x.count) for x in symbols] == [
        (sketch.ids[i], sketch.checks[i], sketch.counts[i] % 256)
        for i in range(start, start + expected)
    ]
    # And re-serialising the parsed symbols gives the same bytes.
    again = b"".join(x.ids.to_bytes(8, "big") + x.check.to_bytes(4, "big") + bytes([x.count])
                     for x in symbols)
    assert again == data


@pytest.mark.parametrize("n", [1, 12, 14, 27])
def test_parse_symbols_rejects_partial_symbols(n: int) -> None:
    with pytest.raises(ValueError):
        riblt.parse_symbols(b"\x00" * n)


@settings(max_examples=30)
@given(st.lists(ids, unique=True, max_size=100), st.randoms(use_true_random=False))
def test_sketch_is_order_independent_and_removal_undoes_addition(
    xs: list[int], rnd: random.Random
) -> None:
    one = riblt.Sketch(128, xs)
    shuffled = list(xs)
    rnd.shuffle(shuffled)
    two = riblt.Sketch(128, shuffled)
    assert (one.ids, one.checks, one.counts, one.n) == (two.ids, two.checks, two.counts, two.n)
    for x in xs:
        one.add(x, -1)
    empty = riblt.Sketch(128)
    assert (one.ids, one.checks, one.counts, one.n) == (empty.ids, empty.checks, empty.counts, 0)


@settings(max_examples=50)
@given(ids, st.integers(1, 2000))
def test_indices_start_at_zero_increase_and_stay_below_the_limit(x: int, limit: int) -> None:
    out = riblt.indices(x, limit)
    assert out[0] == 0
    assert all(a < b for a, b in itertools.pairwise(out))
    assert all(i < limit for i in out)
    # A longer prefix extends, never changes, the sequence (that is what makes it rateless).
    assert riblt.indices(x, limit + 100)[: len(out)] == out


def test_index_density_falls_off() -> None:
    rng = random.Random(7)
    hits = [0] * 256
    for _ in range(2000):
        for i in riblt.indices(rng.getrandbits(64), 256):
            hits[i] += 1
    assert hits[0] == 2000
    assert hits[1] > hits[16] > hits[200]


def test_decode_refuses_symbols_not_from_zero_or_beyond_the_sketch() -> None:
    local = riblt.Sketch(32, {5})
    symbols = riblt.parse_symbols(riblt.Sketch(32, {5}).encode(0, 4))
    with pytest.raises(ValueError):
        riblt.decode(symbols, 1, local)
    with pytest.raises(ValueError):
        riblt.decode(symbols * 9, 0, local)


def test_the_zero_id_is_invisible() -> None:
    """Documents the one id the scheme cannot see (never a SHA-256 prefix in practice)."""
    result = riblt.decode(riblt.parse_symbols(riblt.Sketch(8, {0}).encode(0, 8)), 0,
                          riblt.Sketch(8))
    assert not result.complete


def test_deferred_ids_give_the_same_symbols_as_added_ones() -> None:
    rng = random.Random(3)
    xs = [rng.getrandbits(64) for _ in range(300)]
    eager = riblt.Sketch(256)
    for x in xs:
        eager.add(x)
    lazy = riblt.Sketch(256)
    lazy.defer(xs[:200])
    for x in xs[200:]:
        lazy.add(x)
    assert lazy.n == eager.n == 300
    assert lazy.encode(0, 256) == eager.encode(0, 256)
    assert (lazy.ids, lazy.checks, lazy.counts) == (eager.ids, eager.checks, eager.counts)
    assert riblt.Sketch(256, xs).encode(0, 256) == eager.encode(0, 256)


def test_a_frozen_stream_goes_on_coding_the_set_it_began_with() -> None:
    """A stream began from index 0 (`freeze`), then the set moved (ids added and
    removed, some of them those of the frozen set): the symbols asked for later
    still code the frozen set, so the stream decodes; past JOURNAL_MAX changes
    the frozen set is gone (None), never a mix of the two."""
    rng = random.Random(7)
    frozen = {rng.getrandbits(64) | 1 for _ in range(300)}
    live = riblt.Sketch(1024, frozen)
    live.freeze()
    for x in sorted(frozen)[:5]:
        live.add(x, -1)
    for _ in range(20):
        live.add(rng.getrandbits(64) | 1)
    assert live.encode(16, 16) != riblt.Sketch(1024, frozen).encode(16, 16)
    assert live.encode_frozen(16, 16) == riblt.Sketch(1024, frozen).encode(16, 16)
    # A listener that lacks 40 of the frozen set decodes them from the frozen stream.
    local = riblt.Sketch(1024, set(sorted(frozen)[40:]))
    have: list[riblt.Symbol] = []
    while not (result := riblt.decode(have, 0, local)).complete or not have:
        chunk = live.encode_frozen(len(have), 16)
        assert chunk is not None
        have += riblt.parse_symbols(chunk)
    assert result.theirs == set(sorted(frozen)[:40])
    for _ in range(riblt.JOURNAL_MAX):
        live.add(rng.getrandbits(64) | 1)
    assert live.encode_frozen(16, 16) is None
    live.freeze()  # a new stream: the set as it is now
    assert live.encode_frozen(0, 16) == live.encode(0, 16)
