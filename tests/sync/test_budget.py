"""Air-time budget: rolling-hour limit, priority shares, burst cap, politeness."""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshaid.node.sync.budget import BULK, CATCH_UP, NORMAL, RESEND, SHARE, URGENT, Budget

EPS = 1e-9
HOUR = 3600.0


@st.composite
def attempts(draw: st.DrawFn) -> list[tuple[float, float, int]]:
    """Send attempts (time, cost 0.3-2.5 s, priority) over 3 hours, in time order:
    sparse, dense or bursty (several attempts at one instant)."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.integers(1, 400))
    max_gap = draw(st.sampled_from([2.0, 10.0, 30.0, 90.0]))
    same_instant = draw(st.sampled_from([0.0, 0.3]))
    t = rng.uniform(0.0, 100.0)
    out = []
    for _ in range(n):
        if rng.random() >= same_instant:
            t += rng.uniform(0.0, max_gap)
        if t > 3 * HOUR:
            break
        out.append((t, rng.uniform(0.3, 2.5), rng.choice([URGENT, RESEND, NORMAL, CATCH_UP, BULK])))
    return out


def window_sum(sent: list[tuple[float, float, int]], start: float, span: float) -> float:
    """Air time of the sends at times in [start, start + span)."""
    return sum(c for t, c, _p in sent if start <= t < start + span)


@settings(max_examples=150)
@given(attempts(), st.sampled_from([36.0, 90.0, 180.0]), st.sampled_from([0.0, 6.0]))
def test_a_sender_that_asks_first_never_exceeds_its_budget(
    tries: list[tuple[float, float, int]], limit: float, burst: float
) -> None:
    budget = Budget(limit_s=limit, burst_s=burst)
    cap_minute = burst or limit / 12.0
    sent: list[tuple[float, float, int]] = []
    for t, cost, prio in tries:
        if not budget.allowed(cost, prio, t):
            continue
        before = sum(c for ts, c, _p in sent if ts > t - HOUR)
        # At the moment of sending: bulk within 60 %, normal within 85 % of the limit.
        assert before + cost <= limit * SHARE[prio] + EPS
        assert before == pytest.approx(budget.used(t), abs=1e-6)
        budget.spend(cost, t)
        sent.append((t, cost, prio))
    for t0, _c, _p in sent:
        # Any rolling hour's worst case starts at a send: check them all, exactly.
        assert window_sum(sent, t0, HOUR) <= limit + EPS
        assert window_sum(sent, t0, 60.0) <= cap_minute + EPS


@settings(max_examples=150)
@given(attempts(), st.sampled_from([36.0, 90.0, 180.0]), st.integers(0, 2**32),
       st.sampled_from([5.0, 60.0, 600.0]))
def test_sends_held_in_the_radio_queue_keep_the_hour_on_air_within_the_limit(
    tries: list[tuple[float, float, int]], limit: float, seed: int, longest: float
) -> None:
    """The radio may hold a packet for a while after the budget counted it (a busy
    channel: the saturation scenario measured waits up to 87 s). Each send is
    re-dated to when it went on air; then every rolling hour *on air* keeps
    within the limit (and, while no wait exceeds a minute, every minute within
    the burst cap). Counting sends only when they were handed out, the hour
    measured on air went over (saturation: 5.13 % of a 5 % share)."""
    rng = random.Random(seed)
    budget = Budget(limit_s=limit)
    on_air: list[tuple[float, float, int]] = []
    queued: list[tuple[float, float, float]] = []  # (on air at, handed out at, cost)
    for t, cost, prio in tries:
        for air, at, c in sorted(q for q in queued if q[0] <= t):
            assert budget.redate(c, at, air) == (air > at)
            queued.remove((air, at, c))
        if not budget.allowed(cost, prio, t):
            continue
        budget.spend(cost, t)
        air = t + rng.choice([0.0, rng.uniform(0.0, longest)])
        queued.append((air, t, cost))
        on_air.append((air, cost, prio))
    for t0, _c, _p in on_air:
        assert window_sum(on_air, t0, HOUR) <= limit + EPS
        if longest <= 60.0:
            assert window_sum(on_air, t0, 60.0) <= limit / 12.0 + EPS


def test_redate_moves_a_send_and_knows_only_its_own() -> None:
    budget = Budget(limit_s=100.0, burst_s=100.0)
    budget.spend(40.0, 10.0)
    assert not budget.redate(40.0, 11.0, 50.0)  # not a send of ours
    assert not budget.redate(40.0, 10.0, 10.0)  # no later: nothing to move
    assert budget.redate(40.0, 10.0, 50.0)
    assert budget.used(3609.0) == 40.0  # it counts from 50 now
    assert not budget.allowed(61.0, URGENT, 3649.0)
    assert budget.next_allowed(61.0, URGENT, 3649.0) == 3650.0
    assert budget.used(3650.0) == 0.0
    assert not budget.redate(40.0, 10.0, 3700.0)  # gone from the window


def test_redate_finds_its_send_among_sends_of_the_same_time() -> None:
    """Sends are found from their time on (budget.py `_remove`): among several at
    the same second, whatever order their costs came in, the one named moves."""
    budget = Budget(limit_s=1000.0, burst_s=1000.0)
    for cost in (30.0, 10.0, 20.0):
        budget.spend(cost, 10.0)  # (same second: not in order of cost)
    budget.spend(5.0, 11.0)
    assert budget.redate(10.0, 10.0, 30.0)
    assert not budget.redate(10.0, 10.0, 31.0)  # moved already
    assert budget.redate(20.0, 10.0, 20.0)
    assert budget.used(3609.0) == 65.0
    assert budget.used(3611.0) == 30.0  # the 30 and the 5 are gone, 10 and 20 remain
    assert budget.used(3620.0) == 10.0
    assert budget.refund(10.0, 30.0)
    assert budget.used(3620.0) == 0.0


def test_refund_finds_a_send_in_a_window_whose_clock_went_back() -> None:
    budget = Budget(limit_s=1000.0, burst_s=1000.0)
    budget.spend(10.0, 50.0)
    budget.spend(20.0, 40.0)  # a clock that went back: the window is out of order
    assert budget.refund(20.0, 40.0)
    assert budget.refund(10.0, 50.0)
    assert not budget.refund(10.0, 50.0)
    assert budget.used(60.0) == 0.0


@settings(max_examples=150)
@given(attempts(), st.sampled_from([36.0, 90.0, 180.0]))
def test_next_allowed_is_when_the_send_becomes_allowed(
    tries: list[tuple[float, float, int]], limit: float
) -> None:
    """When refused, next_allowed(t) is a time at which the send is allowed (channel
    utilisation 0, nothing else sent meanwhile), and it is not much later than needed."""
    budget = Budget(limit_s=limit)
    for t, cost, prio in tries:
        if budget.allowed(cost, prio, t):
            assert budget.next_allowed(cost, prio, t) == t
            budget.spend(cost, t)
            continue
        when = budget.next_allowed(cost, prio, t)
        assert when > t
        assert when <= t + HOUR + EPS
        probe = copy.deepcopy(budget)  # asking about the future expires the past
        assert probe.allowed(cost, prio, when), (t, cost, prio, when)
        earlier = max(t, when - 0.01)
        if earlier > t:
            assert not copy.deepcopy(budget).allowed(cost, prio, earlier)


def test_next_allowed_exact_boundary_after_the_hour() -> None:
    """A send at t = 0.1 leaves the window at exactly t + 3600: float rounding of
    (0.1 + 3600) - 3600 must not keep it in."""
    budget = Budget(limit_s=10.0, burst_s=10.0)
    budget.spend(10.0, 0.1)
    when = budget.next_allowed(1.0, URGENT, 100.0)
    assert budget.allowed(1.0, URGENT, when)


def test_next_allowed_exact_boundary_after_the_minute() -> None:
    """Likewise for the minute window: 97.83024427866458 + 60 rounds down, so that
    (t + 60) - 60 < t and the send still counts in the minute at next_allowed."""
    t = 97.83024427866458
    budget = Budget(limit_s=100.0, burst_s=2.0)
    budget.spend(2.0, t)
    when = budget.next_allowed(1.0, URGENT, t + 10.0)
    assert budget.allowed(1.0, URGENT, when)


def test_shares_per_priority() -> None:
    budget = Budget(limit_s=100.0, burst_s=100.0)
    budget.spend(59.0, 0.0)
    assert budget.allowed(1.0, BULK, 1.0)
    assert not budget.allowed(1.5, BULK, 1.0)
    assert budget.allowed(26.0, NORMAL, 1.0)
    assert not budget.allowed(26.5, NORMAL, 1.0)
    assert budget.allowed(33.0, RESEND, 1.0)
    assert not budget.allowed(33.5, RESEND, 1.0)
    assert budget.allowed(41.0, URGENT, 1.0)
    assert not budget.allowed(41.5, URGENT, 1.0)
    # An hour later the spend has left the window.
    assert budget.used(3600.0) == 0.0
    assert budget.allowed(60.0, BULK, 3600.0)


def test_burst_cap_per_minute() -> None:
    budget = Budget(limit_s=120.0)  # burst: a twelfth, 10 s per minute
    for i in range(5):
        assert budget.allowed(2.0, URGENT, float(i))
        budget.spend(2.0, float(i))
    assert not budget.allowed(2.0, URGENT, 5.0)
    assert budget.next_allowed(2.0, URGENT, 5.0) == pytest.approx(60.0)
    assert budget.allowed(2.0, URGENT, 60.5)


def test_a_packet_longer_than_the_burst_is_still_possible() -> None:
    budget = Budget(limit_s=12.0)  # burst 1 s
    assert budget.allowed(2.5, URGENT, 0.0)


@pytest.mark.parametrize("util", [25.0, 40.0])
def test_polite_utilisation_blocks_bulk_only(util: float) -> None:
    budget = Budget(limit_s=180.0, channel_util_pct=util)
    assert not budget.allowed(1.0, BULK, 0.0)
    assert budget.allowed(1.0, NORMAL, 0.0)
    assert budget.allowed(1.0, URGENT, 0.0)
    assert budget.next_allowed(1.0, BULK, 0.0) >= 30.0  # look again later, no busy polling


@pytest.mark.parametrize("util", [50.0, 75.0, 100.0])
def test_busy_utilisation_blocks_all_but_urgent(util: float) -> None:
    budget = Budget(limit_s=180.0, channel_util_pct=util)
    assert not budget.allowed(1.0, BULK, 0.0)
    assert not budget.allowed(1.0, NORMAL, 0.0)
    assert budget.allowed(1.0, URGENT, 0.0)
    assert budget.next_allowed(1.0, NORMAL, 0.0) >= 30.0


def test_below_polite_utilisation_nothing_is_blocked() -> None:
    budget = Budget(limit_s=180.0, channel_util_pct=24.9)
    assert all(budget.allowed(1.0, p, 0.0) for p in (URGENT, NORMAL, CATCH_UP, BULK))


def test_urgent_traffic_is_never_crowded_out_by_bulk() -> None:
    budget = Budget(limit_s=100.0, burst_s=100.0)
    t = 0.0
    while budget.allowed(2.0, BULK, t):
        budget.spend(2.0, t)
        t += 1.0
    assert budget.used(t) <= 60.0
    assert budget.allowed(2.0, NORMAL, t)
    assert budget.allowed(2.0, URGENT, t)


@pytest.mark.parametrize(("cap", "share", "limit"), [(10.0, 0.5, 180.0), (1.0, 0.5, 18.0),
                                                     (None, 0.5, 180.0), (0.0, 1.0, 360.0)])
def test_for_region(cap: float | None, share: float, limit: float) -> None:
    assert Budget.for_region(cap, share).limit_s == pytest.approx(limit)


def test_next_allowed_for_a_packet_longer_than_the_burst_waits_for_the_minute() -> None:
    """A packet longer than the minute's cap goes once the minute is empty. The
    air to free was computed as (used + cost) - cost, which rounding can leave
    a hair above `used`: no send ever freed it, and next_allowed answered "now"
    (found by the property test above with smaller caps)."""
    budget = Budget(limit_s=12.0)  # burst 1 s
    budget.spend(2.2064360699699512, 46.57781460653106)
    cost = 2.392796632611333
    assert not budget.allowed(cost, URGENT, 50.63098864104336)
    when = budget.next_allowed(cost, URGENT, 50.63098864104336)
    assert when == pytest.approx(46.57781460653106 + 60.0)
    assert budget.allowed(cost, URGENT, when)
