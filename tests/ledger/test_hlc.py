"""The hybrid logical clock: monotonic whatever the wall clock does, and a far
future remote clock cannot drag it along."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from meshaid.node.ledger import hlc

T0 = hlc.EPOCH_UNIX + 10_000_000


def test_pack_and_unpack() -> None:
    value = hlc.pack(1234, 5)
    assert hlc.seconds_of(value) == 1234
    assert value & hlc.COUNTER_MAX == 5
    assert hlc.unix_of(hlc.from_unix(T0 + 0.9)) == T0
    assert hlc.from_unix(0) == 0  # before the epoch clamps to zero


def test_now_follows_the_wall_clock() -> None:
    clock = hlc.Clock()
    assert clock.now(T0) == hlc.from_unix(T0)
    assert clock.now(T0 + 5) == hlc.from_unix(T0 + 5)


def test_now_is_strictly_monotonic_when_the_wall_clock_stalls_or_goes_back() -> None:
    clock = hlc.Clock()
    first = clock.now(T0)
    same = clock.now(T0)
    back = clock.now(T0 - 3600)
    assert first < same < back
    assert hlc.seconds_of(back) == T0 - hlc.EPOCH_UNIX  # stays at the high-water second


def test_counter_overflow_moves_to_the_next_second() -> None:
    clock = hlc.Clock(hlc.pack(100, hlc.COUNTER_MAX - 1))
    assert clock.now(0) == hlc.pack(100, hlc.COUNTER_MAX)
    assert clock.now(0) == hlc.pack(101, 0)


def test_observe_moves_past_a_remote_clock_that_is_slightly_ahead() -> None:
    clock = hlc.Clock()
    remote = hlc.from_unix(T0 + 600)
    clock.observe(remote, T0)
    assert clock.now(T0) > remote


def test_observe_clamps_a_far_future_remote() -> None:
    clock = hlc.Clock()
    clock.observe(hlc.from_unix(T0 + 365 * 86400), T0)
    limit = hlc.from_unix(T0 + hlc.MAX_AHEAD_S)
    assert clock.last == limit
    assert hlc.unix_of(clock.now(T0)) == T0 + hlc.MAX_AHEAD_S


def test_observe_never_moves_backwards() -> None:
    clock = hlc.Clock()
    mine = clock.now(T0)
    clock.observe(hlc.from_unix(T0 - 86400), T0)
    assert clock.last == mine


@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.integers(min_value=hlc.EPOCH_UNIX - 100, max_value=hlc.EPOCH_UNIX + 10**9),
            st.integers(min_value=0, max_value=hlc.HLC_MAX >> 1),
        ),
        max_size=40,
    )
)
def test_issued_timestamps_always_increase(steps: list[tuple[bool, int, int]]) -> None:
    clock = hlc.Clock()
    issued: list[int] = []
    floor = 0
    for is_now, wall, remote in steps:
        if is_now:
            value = clock.now(wall)
            assert value > floor
            issued.append(value)
            floor = value
        else:
            clock.observe(remote, wall)
            bound = hlc.from_unix(wall + hlc.MAX_AHEAD_S)
            floor = max(floor, min(remote, bound))
            assert clock.last >= floor
    assert issued == sorted(set(issued))
