"""A broker nobody answers for (connection refused) is reported as such on the
link, once per streak of failed attempts: 'meshaid status' said only
'down (connecting)' and the log said nothing while paho retried."""

from __future__ import annotations

import socket
import time

from meshaid.node.bridge.link import IpLinkState
from meshaid.node.bridge.mqtt import MqttLink, parse_broker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_is_reported_once() -> None:
    port = free_port()  # closed again: connecting to it is refused
    link = MqttLink(parse_broker(f"mqtt://127.0.0.1:{port}"), "hills", bytes(16),
                    reconnect_min_s=1.0, reconnect_max_s=1.0)
    events: list[object] = []
    link.start(events.append)
    try:
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline and not events:
            time.sleep(0.02)
        assert events, "no link state while the broker refuses"
        state = events[0]
        assert isinstance(state, IpLinkState) and not state.up
        assert state.detail == f"cannot reach mqtt://127.0.0.1:{port}, retrying"
        time.sleep(2.5)  # more refused attempts (1 s apart) say nothing new
        assert len(events) == 1, events
    finally:
        link.close()
