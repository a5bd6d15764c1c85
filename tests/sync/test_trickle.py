"""Trickle (RFC 6206) timer for digests."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshaid.node.sync.trickle import Trickle


def make(imin: float = 30.0, imax: float = 3600.0, k: int = 1, seed: int = 1) -> Trickle:
    return Trickle(imin, imax, k, random.Random(seed))


def run_quiet(t: Trickle, until: float) -> list[tuple[float, float, str | None]]:
    """Poll at every next_time() until `until`: (interval start, interval, result)."""
    seen = []
    now = t.start
    while now < until:
        now = t.next_time()
        start, interval = t.start, t.interval
        seen.append((start, interval, t.poll(now)))
    return seen


def test_intervals_double_up_to_imax_while_consistent() -> None:
    t = make(30.0, 3600.0)
    t.begin(1000.0)
    intervals = []
    while len(intervals) < 12:
        before = (t.start, t.interval)
        t.poll(t.next_time())
        if (t.start, t.interval) != before:
            intervals.append(before[1])
            assert t.start == pytest.approx(before[0] + before[1])
    assert intervals == [30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0, 3600.0, 3600.0,
                         3600.0, 3600.0]


def test_one_transmission_per_interval_in_its_second_half() -> None:
    t = make(30.0, 3600.0)
    t.begin(0.0)
    fires = []
    while t.start < 24 * 3600:
        start, interval, fire_at = t.start, t.interval, t.fire_at
        assert start + interval / 2 <= fire_at < start + interval
        assert t.next_time() == fire_at
        assert t.poll(fire_at) == "send"
        fires.append(fire_at)
        assert t.next_time() == start + interval  # then the end of the interval
        assert t.poll(start + interval) is None
    # About one digest per imax in steady state.
    assert len(fires) <= 8 + 24


@pytest.mark.parametrize("k", [1, 2, 3])
def test_k_consistent_digests_suppress(k: int) -> None:
    t = make(k=k)
    t.begin(0.0)
    for _ in range(k):
        t.consistent()
    assert t.poll(t.fire_at) == "suppressed"
    # The count starts again in the next interval.
    t.poll(t.start + t.interval)
    for _ in range(k - 1):
        t.consistent()
    assert t.poll(t.fire_at) == "send"


def test_fewer_than_k_consistent_digests_do_not_suppress() -> None:
    t = make(k=3)
    t.begin(0.0)
    t.consistent()
    t.consistent()
    assert t.poll(t.fire_at) == "send"


def test_polling_early_does_nothing() -> None:
    t = make()
    t.begin(0.0)
    state = (t.start, t.interval, t.fire_at, t.fired)
    assert t.poll(t.fire_at - 0.001) is None
    assert (t.start, t.interval, t.fire_at, t.fired) == state


def test_reset_returns_to_imin() -> None:
    t = make(30.0, 3600.0)
    t.begin(0.0)
    run_quiet(t, 20000.0)
    assert t.interval == 3600.0
    now = t.start + 100.0
    t.reset(now)
    assert t.interval == 30.0
    assert t.start == now
    assert now + 15.0 <= t.fire_at < now + 30.0
    assert not t.fired and t.heard == 0
    assert t.next_time() == t.fire_at


def test_reset_to_a_given_interval() -> None:
    t = make(30.0, 3600.0)
    t.begin(0.0)
    run_quiet(t, 20000.0)
    now = t.start + 5.0
    t.reset(now, 120.0)
    assert t.interval == 120.0 and t.start == now
    assert now + 60.0 <= t.fire_at < now + 120.0
    # It never goes below imin.
    t.reset(now + 500.0, 5.0)
    assert t.interval == 30.0
    # And doubles again from there.
    t.poll(t.start + t.interval)
    assert t.interval == 60.0


def test_soon_sends_one_digest_and_keeps_the_interval() -> None:
    """A neighbour far behind (a booting one) asks to hear one digest soon: one
    goes within the time given, the interval stays as long, and the next goes
    in the next interval as before. A reset instead restarted the doubling, and
    a made-up number saying it boots every 5 minutes cost each listener several
    digests for each (`python -m meshaid.node.sim.attacks --size full --seeds 8
    --attack boot-ping`: 1.58 times the attacker's air, 0.41 now)."""
    t = make(30.0, 3600.0)
    t.begin(0.0)
    run_quiet(t, 20000.0)
    start, interval = t.start, t.interval
    now = start + interval * 0.6
    t.poll(now)
    assert t.fired  # this interval's digest went already
    t.soon(now, 120.0)
    assert now + 60.0 <= t.next_time() < now + 120.0
    assert t.poll(t.next_time()) == "send"
    assert (t.start, t.interval) == (start, interval)
    assert t.next_time() == start + interval  # then the next interval, as long
    t.poll(start + interval)
    assert t.interval == 3600.0 and start + interval + 1800.0 <= t.fire_at


def test_soon_never_delays_a_digest_due_sooner() -> None:
    t = make(30.0, 3600.0)
    t.begin(0.0)
    due = t.fire_at
    t.soon(0.0, 120.0)
    assert t.fire_at == due < 30.0


def test_reset_never_goes_beyond_imax() -> None:
    """imin <= I <= imax always (RFC 6206 §4.1), even when the requested interval
    (SyncConfig.news_interval, mismatch_interval) is configured above imax."""
    t = make(30.0, 60.0)
    t.begin(0.0)
    t.reset(100.0, 120.0)
    assert t.interval <= 60.0
    assert t.fire_at < 100.0 + 60.0


def test_reset_at_imin_before_the_fire_time_changes_nothing() -> None:
    """RFC 6206 rule 6: if I is already Imin, an inconsistency does nothing."""
    t = make()
    t.begin(0.0)
    state = (t.start, t.interval, t.fire_at)
    t.reset(t.fire_at - 1.0)
    assert (t.start, t.interval, t.fire_at) == state


def test_a_consistent_neighbourhood_ends_up_at_one_digest_per_imax() -> None:
    t = make(30.0, 3600.0)
    t.begin(0.0)
    seen = run_quiet(t, 30 * 3600.0)
    late = [r for s, _i, r in seen if s >= 6 * 3600.0 and r is not None]
    hours = (seen[-1][0] - 6 * 3600.0) / 3600.0
    assert len(late) <= hours + 1


@settings(max_examples=60)
@given(st.floats(1.0, 100.0), st.integers(0, 8), st.integers(1, 3), st.integers(0, 2**32),
       st.lists(st.tuples(st.sampled_from(["poll", "consistent", "reset", "reset-to"]),
                          st.floats(0.0, 500.0)), max_size=80))
def test_invariants_under_any_event_sequence(
    imin: float, doublings: int, k: int, seed: int, events: list[tuple[str, float]]
) -> None:
    imax = imin * 2**doublings
    t = Trickle(imin, imax, k, random.Random(seed))
    now = 0.0
    t.begin(now)
    fired_in: set[tuple[float, float, float]] = set()
    for op, dt in events:
        now += dt
        if op == "poll":
            interval = (t.start, t.interval, t.fire_at)
            result = t.poll(now)
            if result is not None:
                assert interval not in fired_in, "at most one transmission per interval"
                fired_in.add(interval)
        elif op == "consistent":
            t.consistent()
        elif op == "reset":
            t.reset(now)
        else:
            t.reset(now, min(dt, imax))  # beyond imax: test_reset_never_goes_beyond_imax
        assert imin <= t.interval <= imax
        assert t.start <= now
        assert t.start + t.interval / 2 <= t.fire_at <= t.start + t.interval
        assert t.next_time() >= t.start
