"""A simulated MQTT broker in virtual time, for tests and the bench.

Theory of operation
-------------------
It behaves as Mosquitto does with the settings meshaid uses (MQTT 5, QoS 1,
persistent sessions, no_local, message expiry), as far as a bridge can tell:

* Each client has a session that outlives its connection. A message
  published by a connected client reaches every other session after
  `latency` seconds: at once if that client is connected, else into its
  session queue.
* A session queue holds at most `queue_limit` messages; beyond that the
  *newest* are dropped, silently (Mosquitto's max_queued_messages). So a
  bridge must say its digest on every reconnect to find what was lost.
* A queued message whose expiry passed is dropped at delivery.
* `cut(name)` / `heal(name)` take one client's link down and up (publishes
  in flight from it are lost); `restart(down_s)` disconnects everyone and
  brings the broker back after `down_s`, sessions intact (persistence on).
* Counters: messages and bytes published and delivered, and dropped by
  reason, for the bench.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from ..sim.events import EventQueue
from .link import IpLinkState, IpReceived, IpSink, expiry_of

MQTT_OVERHEAD = 60  # bytes per PUBLISH beyond the payload: header, topic, properties


@dataclass
class _Session:
    name: str
    sink: IpSink | None = None
    connected: bool = False
    link_up: bool = True  # the client's own network path
    queue: deque[tuple[float, bytes, str]] = field(default_factory=deque)  # expires, payload, from


@dataclass
class BrokerStats:
    published: int = 0
    published_bytes: int = 0
    delivered: int = 0
    delivered_bytes: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    restarts: int = 0


class FakeBroker:
    """Sessions and delivery as described in the module doc."""

    def __init__(self, events: EventQueue, *, latency: float = 0.3, queue_limit: int = 1000,
                 reconnect_s: float = 5.0, persistent: bool = True) -> None:
        """`persistent` False: clean sessions (QoS 0, as Meshtastic's gateway uses):
        a client that is away gets nothing of what was published meanwhile."""
        self.events = events
        self.persistent = persistent
        self.latency = latency
        self.queue_limit = queue_limit
        self.reconnect_s = reconnect_s
        self.sessions: dict[str, _Session] = {}
        self.running = True
        self.stats = BrokerStats()

    def client(self, name: str) -> FakeLink:
        """The link a bridge called `name` uses."""
        self.sessions.setdefault(name, _Session(name))
        return FakeLink(self, name)

    # ------------------------------------------------------------ connections

    def _connect(self, name: str) -> None:
        s = self.sessions[name]
        if s.connected or not s.link_up or not self.running or s.sink is None:
            return
        s.connected = True
        s.sink(IpLinkState(True, "connected", self.events.now))
        while s.queue and s.connected:
            expires, payload, sender = s.queue.popleft()
            self._hand(s, expires, payload, sender)

    def _disconnect(self, name: str, why: str) -> None:
        s = self.sessions[name]
        if s.connected:
            s.connected = False
            if s.sink is not None:
                s.sink(IpLinkState(False, why, self.events.now))

    def cut(self, name: str) -> None:
        """The client's path to the broker fails."""
        self.sessions[name].link_up = False
        self._disconnect(name, "link cut")

    def heal(self, name: str) -> None:
        """The client's path is back; it reconnects after `reconnect_s`."""
        self.sessions[name].link_up = True
        self.events.schedule_in(self.reconnect_s, self._connect, name)

    def restart(self, down_s: float) -> None:
        """The broker stops and comes back after `down_s`, sessions kept."""
        self.running = False
        self.stats.restarts += 1
        for name in self.sessions:
            self._disconnect(name, "broker went away")
        self.events.schedule_in(down_s, self._back)

    def _back(self) -> None:
        self.running = True
        for name in sorted(self.sessions):
            self.events.schedule_in(self.reconnect_s, self._connect, name)

    # ------------------------------------------------------------ messages

    def publish(self, sender: str, payload: bytes, tag: str) -> None:
        s = self.sessions[sender]
        if not (s.connected and self.running):
            self.stats.dropped["sender-offline"] += 1
            return
        self.stats.published += 1
        self.stats.published_bytes += len(payload) + MQTT_OVERHEAD
        expires = self.events.now + expiry_of(tag)
        self.events.schedule_in(self.latency, self._route, sender, payload, expires)

    def _route(self, sender: str, payload: bytes, expires: float) -> None:
        if not self.running:
            self.stats.dropped["broker-down"] += 1
            return
        for name, s in sorted(self.sessions.items()):
            if name == sender:
                continue  # no_local
            if s.connected:
                self._hand(s, expires, payload, sender)
            elif not self.persistent:
                self.stats.dropped["clean-session"] += 1
            elif len(s.queue) >= self.queue_limit:
                self.stats.dropped["queue-full"] += 1  # the newest go, silently
            else:
                s.queue.append((expires, payload, sender))

    def _hand(self, s: _Session, expires: float, payload: bytes, sender: str) -> None:
        if expires <= self.events.now:
            self.stats.dropped["expired"] += 1
            return
        self.stats.delivered += 1
        self.stats.delivered_bytes += len(payload) + MQTT_OVERHEAD
        assert s.sink is not None
        s.sink(IpReceived(payload, sender, self.events.now))


class FakeLink:
    """One bridge's `IpLink` to a `FakeBroker`."""

    def __init__(self, broker: FakeBroker, name: str) -> None:
        self.broker = broker
        self.name = name

    def start(self, sink: IpSink) -> None:
        self.broker.sessions[self.name].sink = sink
        self.broker.events.schedule_in(0.0, self.broker._connect, self.name)

    def publish(self, payload: bytes, tag: str, urgent: bool = False) -> None:
        self.broker.publish(self.name, payload, tag)

    def close(self) -> None:
        self.broker._disconnect(self.name, "closed")
        self.broker.sessions[self.name].sink = None
