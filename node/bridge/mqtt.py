"""The IP link through an MQTT broker (Mosquitto), with paho-mqtt 2.x.

Theory of operation
-------------------
One topic per network and bridge: `meshaid/<network>/<bridge name>`. A bridge
publishes on its own topic and subscribes to `meshaid/<network>/+` with
`no_local`, so it hears every other bridge and never itself. The broker's
ACL (deploy/mosquitto/) lets user NAME write only `meshaid/+/NAME`, so one
bridge cannot pose as another; the records inside carry their own signatures,
so the broker is trusted with nothing but delivery.

MQTT 5, QoS 1, a persistent session (`clean_start` off, a session expiry of
`SESSION_EXPIRY_S`): what others publish while this bridge is away waits at
the broker, each message for its own expiry (records for hours, digests and
sketches for a minute, link.py). The broker drops the newest messages of a
full session queue silently; the IP engine's digest after every reconnect
repairs that.

paho runs its network loop in its own thread and reconnects with back-off
(`reconnect_min_s` doubling to `reconnect_max_s`); its callbacks only hand
events to the sink. TLS (`mqtts://`, port 8883 by default) verifies the
broker against the system's CAs or `ca_file`; a client certificate is
optional; the password is read from a file (user = the bridge name).
"""

from __future__ import annotations

import os
import re
import ssl
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from .link import IpLinkState, IpReceived, IpSink, expiry_of

SESSION_EXPIRY_S = 7 * 86400  # the broker forgets a bridge silent this long
KEEPALIVE_S = 30
NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class BrokerSpecError(ValueError):
    """A --broker value or bridge setting that names no broker we can use."""


@dataclass(frozen=True)
class BrokerSpec:
    host: str
    port: int
    tls: bool = False

    def describe(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker(text: str) -> BrokerSpec:
    """Parse `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`; BrokerSpecError says why not."""
    try:
        url = urlsplit(text.strip())
    except ValueError:  # an unclosed '[' of an IPv6 address
        raise BrokerSpecError(f"{text!r}: not a URL like mqtt://HOST[:PORT]") from None
    if url.scheme not in ("mqtt", "mqtts"):
        raise BrokerSpecError(f"{text!r}: use mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    try:
        port = url.port
    except ValueError:
        raise BrokerSpecError(f"{text!r}: the port is not a number from 1 to 65535") from None
    if not url.hostname or url.path not in ("", "/") or url.username:
        raise BrokerSpecError(f"{text!r}: give a host and port only (the password goes in a"
                              " file: --password-file)")
    tls = url.scheme == "mqtts"
    return BrokerSpec(url.hostname, port or (8883 if tls else 1883), tls)


def check_name(name: str) -> str:
    """A bridge name: 1-32 letters, digits, '-' or '_' (it is an MQTT topic level)."""
    if not NAME.match(name):
        raise BrokerSpecError(f"bridge name {name!r}: use 1-32 letters, digits, '-' or '_'")
    return name


def read_password(path: str | Path) -> str:
    """The first line of a password file (which should be readable only by its owner)."""
    try:  # never blocks on a FIFO, never reads more than 4 KiB of a device
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise BrokerSpecError(f"the password file {path} is not a regular file")
            text = os.read(fd, 4096).decode("utf-8")
        finally:
            os.close(fd)
    except OSError as exc:
        raise BrokerSpecError(f"cannot read the password file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BrokerSpecError(f"the password file {path} is not UTF-8 text") from None
    password = text.splitlines()[0].strip() if text.strip() else ""
    if not password:
        raise BrokerSpecError(f"the password file {path} is empty")
    return password


def topic_root(network: bytes) -> str:
    return f"meshaid/{network[:8].hex()}"


class MqttLink:
    """An `IpLink` through an MQTT 5 broker (see the module doc)."""

    def __init__(self, spec: BrokerSpec, name: str, network: bytes, *,
                 password: str | None = None, ca_file: str | None = None,
                 cert_file: str | None = None, key_file: str | None = None,
                 reconnect_min_s: float = 1.0, reconnect_max_s: float = 60.0,
                 clock: Any = time.monotonic) -> None:
        self.spec = spec
        self.name = check_name(name)
        self.root = topic_root(network)
        self.topic = f"{self.root}/{self.name}"
        self.clock = clock
        self.sink: IpSink | None = None
        self.inflight: set[int] = set()  # QoS 1 publishes not yet acknowledged
        self._lock = threading.Lock()
        self.closed = False
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"meshaid-{self.name}",
                             protocol=mqtt.MQTTv5)
        client.username_pw_set(self.name, password)
        if spec.tls:
            client.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file,
                           cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=max(1, round(reconnect_min_s)),
                                   max_delay=max(1, round(reconnect_max_s)))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        self._unreachable = False  # said once per streak of failed attempts
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        self.client = client

    # ------------------------------------------------------------ the port

    def start(self, sink: IpSink) -> None:
        self.sink = sink
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(self.spec.host, self.spec.port, keepalive=KEEPALIVE_S,
                                  clean_start=False, properties=props)
        self.client.loop_start()

    def publish(self, payload: bytes, tag: str, urgent: bool = False) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = expiry_of(tag)
        info = self.client.publish(self.topic, payload, qos=1, properties=props)
        if info.rc == mqtt.MQTT_ERR_SUCCESS or info.rc == mqtt.MQTT_ERR_NO_CONN:
            with self._lock:
                self.inflight.add(info.mid)

    def close(self) -> None:
        self.closed = True
        self.sink = None
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()

    # ------------------------------------------------------------ paho callbacks

    def _emit(self, event: IpLinkState | IpReceived) -> None:
        sink = self.sink
        if sink is not None and not self.closed:
            sink(event)

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any,
                    _props: Any) -> None:
        if reason.is_failure:
            self._emit(IpLinkState(False, f"broker refused: {reason}", self.clock()))
            return
        self._unreachable = False
        client.subscribe(f"{self.root}/+", options=SubscribeOptions(qos=1, noLocal=True))
        present = getattr(flags, "session_present", False)
        self._emit(IpLinkState(True, f"connected to {self.spec.describe()}"
                               + (" (session resumed)" if present else ""), self.clock()))

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        """No TCP/TLS connection (refused, no route, unknown host): say so once,
        paho keeps retrying with back-off."""
        if not self._unreachable:
            self._unreachable = True
            self._emit(IpLinkState(False, f"cannot reach {self.spec.describe()}, retrying",
                                   self.clock()))

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any,
                       _props: Any) -> None:
        self._emit(IpLinkState(False, f"disconnected: {reason}", self.clock()))

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        root, _, sender = msg.topic.rpartition("/")
        if root != self.root or sender == self.name or not NAME.match(sender):
            return
        self._emit(IpReceived(bytes(msg.payload), sender, self.clock()))

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, _reason: Any,
                    _props: Any) -> None:
        with self._lock:
            self.inflight.discard(mid)
