"""Two simulated meshes joined through a real Mosquitto on loopback: a 4-hour
split (simulated time) and a broker restart, then every node converges.

The meshes and engines run in virtual time; the MQTT traffic is real. Virtual
time stops while messages are in flight (`settle_ip`), so the IP link looks
instant to the meshes and the run does not depend on the machine's speed.
The broker runs as its own process with a temporary configuration (password
file, pattern ACL, persistence) and is stopped by its pid; a TCP proxy per
bridge cuts and heals each link. deploy/test-setup.sh installs mosquitto."""

from __future__ import annotations

import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from meshaid.node.bridge.mqtt import BrokerSpec, MqttLink, topic_root
from meshaid.node.bridge.simnet import BridgedSim, two_meshes

from .conftest import USERS
from .mosquitto import Broker, Proxy

HOUR = 3600.0


def settle_ip(sim: BridgedSim, idle: float = 0.03, limit: float = 10.0) -> None:
    """Real time passes, virtual time does not: handle what arrives until nothing
    is in flight and nothing arrived for `idle` seconds."""
    deadline = time.monotonic() + limit
    last = time.monotonic()
    while time.monotonic() < deadline:
        if sim.ip_events():
            last = time.monotonic()
            continue
        busy = any(side.up and side.link.inflight for side in sim.ips.values())  # type: ignore[attr-defined]
        if not busy and time.monotonic() - last >= idle:
            return
        time.sleep(0.003)


def advance(sim: BridgedSim, until: float, step: float = 1.0) -> None:
    """Run virtual time to `until`, letting real IP traffic settle whenever the
    bridges published or something arrived."""
    while sim.events.now < until:
        before = sum(side.stats.published for side in sim.ips.values())
        sim.events.run_until(min(until, sim.events.now + step))
        after = sum(side.stats.published for side in sim.ips.values())
        if after != before or sim.ip_inbox:
            settle_ip(sim)


def wait_links(sim: BridgedSim, up: bool, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sim.ip_events()
        if all(side.up == up for side in sim.ips.values()):
            return
        time.sleep(0.01)
    raise AssertionError(f"links not {'up' if up else 'down'} within {limit} s")


def converge(sim: BridgedSim, within: float) -> float:
    start = sim.events.now
    while sim.events.now < start + within:
        advance(sim, sim.events.now + 60.0)
        if sim.missing() == 0:
            return sim.events.now - start
    raise AssertionError(f"{sim.missing()} records still missing after {within:.0f} s")


def test_two_meshes_converge_through_mosquitto_after_a_4h_split_and_a_restart(
        broker: Broker) -> None:
    proxies = {name: Proxy(broker.port) for name in ("port", "hills")}
    links: dict[str, MqttLink] = {}

    def make_link(name: str, network: bytes) -> MqttLink:
        link = MqttLink(BrokerSpec("127.0.0.1", proxies[name].port), name, network,
                        password=USERS[name], reconnect_min_s=1, reconnect_max_s=1)
        links[name] = link
        return link

    sim = BridgedSim(two_meshes(6, hours=12.0, rate=1.0, history=40),
                     bridges={0: "port", 6: "hills"}, make_link=make_link)
    try:
        sim.begin()
        wait_links(sim, True)
        converge(sim, HOUR)
        for proxy in proxies.values():
            proxy.cut()
        wait_links(sim, False)
        advance(sim, sim.events.now + 4 * HOUR, step=60.0)
        assert sim.missing() > 40  # four hours of news on each side
        for proxy in proxies.values():
            proxy.heal()
        wait_links(sim, True)
        advance(sim, sim.events.now + 20.0)
        broker.stop()  # mid catch-up: persistent sessions survive the restart
        wait_links(sim, False)
        broker.start()
        wait_links(sim, True)
        took = converge(sim, HOUR)
        assert took < HOUR
        for n in (0, 6):
            counts = sim.glues[n].counts
            assert counts.to_ip > 0 and counts.to_radio > 0
            assert sim.ips[n].stats.connects >= 3
    finally:
        for link in links.values():
            link.close()
        for proxy in proxies.values():
            proxy.close()


def test_the_acl_keeps_a_bridge_from_posing_as_another(broker: Broker) -> None:
    network = bytes(range(16))
    root = topic_root(network)
    heard: list[str] = []
    spy = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="spy", protocol=mqtt.MQTTv5)
    spy.username_pw_set("spy", USERS["spy"])
    spy.on_message = lambda _c, _u, msg: heard.append(msg.topic)
    spy.connect("127.0.0.1", broker.port)
    spy.subscribe(f"{root}/+", qos=1)
    spy.loop_start()
    events: list[object] = []
    port = MqttLink(BrokerSpec("127.0.0.1", broker.port), "port", network, password="pw-port")
    try:
        port.start(events.append)
        deadline = time.monotonic() + 10
        while not any(getattr(e, "up", False) for e in events) and time.monotonic() < deadline:
            time.sleep(0.01)
        port.publish(b"\x11ab", "digest")  # its own topic: allowed
        forged = port.client.publish(f"{root}/hills", b"\x11ab", qos=1)  # another's: refused
        forged.wait_for_publish(5)
        port.publish(b"\x11cd", "digest")
        deadline = time.monotonic() + 5
        while heard.count(f"{root}/port") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard.count(f"{root}/port") == 2
        assert f"{root}/hills" not in heard
    finally:
        port.close()
        spy.loop_stop()
        spy.disconnect()
