"""Air-time budget: never more than a configured share of the duty cycle.

Theory of operation
-------------------
The firmware refuses any transmission that would take a node past its
region's duty-cycle cap in the rolling hour. Sync must stay well inside that
(default: half of it), leave room for people's own messages, and never starve
the messages that matter most.

* A sliding one-hour window of our own transmissions (start, air time) is kept.
  A send of cost c at priority p is allowed when used + c <= limit x share(p):
  urgent traffic (revocations, critical needs) may use the whole limit, urgent
  records sent again (urgent.py: rechecks for neighbours never heard with
  one) 92 %, normal traffic 85 % of it, catch-up (answers a member's allowance paid for:
  members.py) 80 %, bulk (every other answer, repairs of history) 60 %. So
  answers can never crowd out urgent traffic, and those an unauthenticated
  asker paid for leave a quarter of the hour to the node's own news. The last
  8 % are for the first send of an urgent record (ours, or our relay of
  another's): under a flood, a bridge's rechecks of the needs it had relayed
  filled the hour, and a new critical need waited there for the window to roll.
* Burst control: within any 60 s at most `burst_s` seconds of air time, so a
  full hour's budget is never spent in one go.
* Politeness: above `polite_util_pct` measured channel utilisation only urgent
  traffic goes; above `busy_util_pct`, nothing but revocations.
* A send is charged when the engine hands it out and re-dated (`redate`) when
  the radio reports it on air: the window then holds every packet of ours that
  was on air in the last hour, plus those still queued, so the hour measured
  on air keeps inside the limit however long the radio's queue held them.
  `margin` keeps a little in hand for the wait that is never reported.
* `next_allowed(cost, p, now)` tells the engine when to try again, so it sleeps
  instead of polling.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field

URGENT, RESEND, NORMAL, CATCH_UP, BULK = 0, 1, 2, 3, 4
SHARE = {URGENT: 1.0, RESEND: 0.92, NORMAL: 0.85, CATCH_UP: 0.8, BULK: 0.6}


def _remove(window: deque[tuple[float, float]], send: tuple[float, float]) -> bool:
    """Remove the first `send` from a window (in order of time: appended as sent,
    re-dated by `insort`); False if it holds none. Found from its time on, not
    by a scan of the whole hour (this runs for every packet sent); a window whose
    times went out of order is scanned."""
    start = bisect_left(window, (send[0],))  # the first entry at that time or later
    for i in range(start, len(window)):
        entry = window[i]
        if entry == send:
            del window[i]
            return True
        if entry[0] != send[0]:
            break
    if send in window:  # (times out of order: a clock that went back)
        window.remove(send)
        return True
    return False


@dataclass
class Budget:
    limit_s: float  # air seconds allowed per rolling hour
    burst_s: float = 0.0  # air seconds allowed per rolling minute (0: limit_s / 12)
    polite_util_pct: float = 25.0
    busy_util_pct: float = 50.0
    channel_util_pct: float = 0.0
    # Packets leave the radio seconds after the engine counts them (contention, the
    # radio's queue): keep this share of the hour in hand so that the rolling hour
    # measured on air stays inside the limit too.
    margin: float = 0.0
    _sends: deque[tuple[float, float]] = field(default_factory=deque)
    _used: float = 0.0
    _recent: deque[tuple[float, float]] = field(default_factory=deque)  # the last minute
    _recent_used: float = 0.0

    @classmethod
    def for_region(cls, duty_cycle_pct: float | None, share: float = 0.5) -> Budget:
        """Budget for a region cap (percent; None or 0 = no legal cap, then a
        polite 10 % of air time is taken as the cap)."""
        cap = duty_cycle_pct if duty_cycle_pct else 10.0
        return cls(limit_s=3600.0 * cap / 100.0 * share)

    def _expire(self, now: float) -> None:
        while self._sends and self._sends[0][0] + 3600.0 <= now:
            self._used -= self._sends.popleft()[1]
        if not self._sends:
            self._used = 0.0

    def used(self, now: float) -> float:
        self._expire(now)
        return self._used

    def _minute(self, now: float) -> float:
        recent = self._recent
        while recent and recent[0][0] + 60.0 <= now:
            self._recent_used -= recent.popleft()[1]
        if not recent:
            self._recent_used = 0.0
        return self._recent_used

    def allowed(self, cost: float, priority: int, now: float) -> bool:
        self._expire(now)
        if self.channel_util_pct >= self.busy_util_pct and priority != URGENT:
            return False
        if self.channel_util_pct >= self.polite_util_pct and priority in (BULK, CATCH_UP):
            return False
        if self._used + cost > self.limit_s * SHARE[priority] * (1.0 - self.margin):
            return False
        burst = self.burst_s or self.limit_s / 12.0
        return self._minute(now) + cost <= max(burst, cost)

    def spend(self, cost: float, now: float) -> None:
        self._expire(now)
        self._sends.append((now, cost))
        self._used += cost
        self._minute(now)
        self._recent.append((now, cost))
        self._recent_used += cost

    def refund(self, cost: float, at: float) -> bool:
        """Take back a send of `cost` charged at `at` that never went on air;
        False if it is not in the window (any more)."""
        if not self._take(cost, at):
            return False
        self._used = max(0.0, self._used - cost)
        return True

    def redate(self, cost: float, at: float, when: float) -> bool:
        """A send of `cost` charged at `at` went on air at `when` (later, after
        waiting in the radio's queue): count it from then, so that the window
        holds every packet that was on air in the last hour. False if it is not
        in the window (any more)."""
        if when <= at or not self._take(cost, at):
            return False
        insort(self._sends, (when, cost))
        insort(self._recent, (when, cost))
        self._recent_used += cost
        return True

    def _take(self, cost: float, at: float) -> bool:
        """Take the send (at, cost) out of the windows (the hour's sum is the
        caller's to settle); False if the hour no longer holds it."""
        if _remove(self._recent, (at, cost)):
            self._recent_used = max(0.0, self._recent_used - cost)
        return _remove(self._sends, (at, cost))

    def snapshot(self, now: float) -> list[tuple[float, float]]:
        """The rolling hour as (age in seconds, cost) pairs, oldest first."""
        self._expire(now)
        return [(max(0.0, now - t), c) for t, c in self._sends]

    def restore(self, entries: list[tuple[float, float]], now: float) -> None:
        """Charge sends made before a restart: (age, cost) pairs, as `snapshot`
        gives them. Ages outside [0, 3600) are clamped or dropped."""
        for age, cost in sorted(entries, key=lambda e: -e[0]):
            age = max(0.0, age)
            if age >= 3600.0 or cost <= 0:
                continue
            self._sends.append((now - age, cost))
            self._used += cost
            if age < 60.0:
                self._recent.append((now - age, cost))
                self._recent_used += cost
        self._sends = deque(sorted(self._sends))
        self._recent = deque(sorted(self._recent))

    def next_allowed(self, cost: float, priority: int, now: float) -> float:
        """Earliest time at which `allowed` may turn true (channel utilisation aside)."""
        self._expire(now)
        if self.allowed(cost, priority, now):
            return now
        limit = self.limit_s * SHARE[priority] * (1.0 - self.margin)
        excess = self._used + cost - limit
        t_hour = now
        if excess > 0:
            freed = 0.0
            for t, c in self._sends:
                freed += c
                if freed >= excess:
                    t_hour = t + 3600.0
                    break
            else:
                t_hour = now + 3600.0
        burst = self.burst_s or self.limit_s / 12.0
        self._minute(now)
        recent = self._recent
        over = self._recent_used + cost - max(burst, cost)
        # (times are compared as `t + window <= now` everywhere, so that the time
        # returned here is exactly when `allowed` turns true)
        t_min = now
        if over > 0:
            freed = 0.0
            for t, c in recent:
                freed += c
                if freed >= over - 1e-9:  # (over = used + cost - cost: rounding)
                    t_min = t + 60.0
                    break
        nxt = max(t_hour, t_min)
        if self.channel_util_pct >= self.polite_util_pct:
            nxt = max(nxt, now + 30.0)  # utilisation is re-measured; look again later
        return max(nxt, now + 0.001)
