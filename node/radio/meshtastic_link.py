"""Per-connection state of the Meshtastic adapter (node/radio/meshtastic_radio.py).

A `Link` is one interface generation: the library interface, its hooks, the
queue of sends the worker takes from, and the sends waiting for the radio's
QueueStatus or a routing ACK. When the link dies (`kill`), everything in it is
settled as failed and a new `Link` replaces it; nothing crosses generations.
Results that arrive before ``sendData`` returned the packet id are kept in
small bounded maps (`remember`) so a fast radio cannot lose them.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .meshtastic_config import error_name
from .meshtastic_iface import Hooks

EARLY_KEPT = 64  # results kept per map for packet ids not yet known


@dataclass(eq=False)
class SendJob:
    """One payload the caller asked to send; `token` comes back in its SendResult."""

    payload: bytes
    hop_limit: int
    priority: int
    token: int
    dest: int | None


@dataclass(eq=False)
class Link:
    """One interface generation and everything tied to it."""

    iface: Any
    hooks: Hooks
    me: int
    jobs: queue.Queue[SendJob] = field(default_factory=queue.Queue)
    dead: threading.Event = field(default_factory=threading.Event)
    reason: str = ""
    busy: SendJob | None = None
    busy_since: float = 0.0
    waiting_qs: dict[int, tuple[SendJob, float]] = field(default_factory=dict)  # id -> (job, since)
    waiting_ack: dict[int, tuple[SendJob, float]] = field(default_factory=dict)
    # QueueStatus results and routing errors that arrived before sendData returned the id
    early_qs: dict[int, int] = field(default_factory=dict)
    early_qs_at: dict[int, float] = field(default_factory=dict)  # when each came
    early_routing: dict[int, int] = field(default_factory=dict)
    probe_at: float = 0.0

    def kill(self, reason: str) -> None:
        if not self.dead.is_set():
            self.reason = reason
            self.dead.set()




    def decide(self, job: SendJob, pid: int, qs_res: int | None,
               routing_err: int | None) -> tuple[bool, str] | None:
        """What is known of a send (call with the adapter's lock held); None: still waiting."""
        if routing_err is not None:  # an ACK or a NAK is final
            return routing_err == 0, error_name(routing_err) if routing_err else ""
        if qs_res is None:
            self.waiting_qs[pid] = (job, time.monotonic())
            return None
        if qs_res:
            return False, error_name(qs_res)
        if job.dest is None:  # a broadcast queued in the radio: it will go on air
            return True, ""
        self.waiting_ack[pid] = (job, time.monotonic())
        return None

    def settle_all(self) -> tuple[list[SendJob], list[tuple[SendJob, tuple[bool, str]]]]:
        """At teardown (lock held): the sends that failed, and those known to have gone.

        The send worker is the only sender: a QueueStatus that came while it was
        stuck in sendData (busy-waiting for the next slot) answered its packet.
        """
        failed = [j for j, _ in self.waiting_qs.values()]
        failed += [j for j, _ in self.waiting_ack.values()]
        self.waiting_qs.clear()
        self.waiting_ack.clear()
        settled: list[tuple[SendJob, tuple[bool, str]]] = []
        job, self.busy = self.busy, None
        if job is not None:
            mine = [pid for pid, t in self.early_qs_at.items() if t >= self.busy_since]
            outcome = None
            if mine and job.dest is None:
                res = self.early_qs[mine[-1]]
                outcome = (res == 0, error_name(res) if res else "")
            if outcome is None:
                failed.append(job)
            else:
                settled.append((job, outcome))
        return failed, settled

    def unsent(self) -> list[SendJob]:
        """Empty the queue of sends the worker never took."""
        jobs: list[SendJob] = []
        while True:
            try:
                jobs.append(self.jobs.get_nowait())
            except queue.Empty:
                return jobs


def remember(early: dict[int, Any], pid: int, value: Any) -> None:
    """Keep `value` for packet id `pid`, dropping the oldest beyond EARLY_KEPT."""
    early[pid] = value
    while len(early) > EARLY_KEPT:
        early.pop(next(iter(early)))
