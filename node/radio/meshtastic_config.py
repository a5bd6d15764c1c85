"""Settings of the Meshtastic adapter, device discovery and what the device says about itself.

Defaults suit a real radio: the application port 288 (private range 256-511;
256 PRIVATE_APP and 257 ATAK_FORWARDER are the only ones portnums.proto 2.7
names there), the primary channel (index 0), hop limit 3, a 30 s connect
timeout (the library's own), serial autodetection in the order /dev/meshtastic,
/dev/ttyUSB*, /dev/ttyACM* (a path is always passed to the library), TCP port
4403 (meshtasticd). Tests shorten every timeout.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError
from meshtastic.protobuf import config_pb2, mesh_pb2, telemetry_pb2

from .base import DeviceInfo, Metrics
from .regions import duty_cycle_pct

APP_PORT = 288
TCP_PORT = 4403
SERIAL_GLOBS = ("/dev/ttyUSB*", "/dev/ttyACM*")
STABLE_LINK = "/dev/meshtastic"
ERRNO_UNKNOWN = 32  # the firmware's reply when its TX queue refuses a packet


@dataclass(frozen=True)
class MeshtasticSettings:
    """How to reach the radio and how to use it. Defaults suit a real device."""

    transport: str = "serial"  # "serial" or "tcp"
    path: str | None = None  # serial: explicit device; None: /dev/meshtastic, ttyUSB*, ttyACM*
    host: str = "127.0.0.1"  # tcp
    port: int = TCP_PORT  # tcp
    app_port: int = APP_PORT
    channel_index: int = 0
    hop_limit: int = 3  # ceiling on what the engine asks for (0..7)
    connect_timeout: float = 30.0  # handshake (and TCP dial) must finish within this
    send_timeout: float = 30.0  # one sendData call, or waiting for its QueueStatus
    ack_timeout: float = 60.0  # a direct message's ACK (3 tries about 10 s apart)
    liveness_s: float = 120.0  # silence before a heartbeat probe
    probe_timeout: float = 10.0  # the probe must be answered within this
    backoff_min: float = 1.0
    backoff_max: float = 60.0
    tick: float = 0.2  # watchdog period

    def describe(self) -> str:
        """Where the radio is, for logs and link states."""
        if self.transport == "tcp":
            return f"tcp:{self.host}:{self.port}"
        return f"serial:{self.path or 'auto'}"


def find_serial(explicit: str | None) -> str | None:
    """The serial device to open: the explicit path, else /dev/meshtastic, else the
    first /dev/ttyUSB* or /dev/ttyACM*; None when there is none."""
    if explicit:
        return explicit
    if os.path.exists(STABLE_LINK):
        return STABLE_LINK
    for pattern in SERIAL_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def error_name(res: int) -> str:
    """The firmware's name for a routing error or queue result."""
    if res == ERRNO_UNKNOWN:
        return "QUEUE_FULL"
    try:
        return str(mesh_pb2.Routing.Error.Name(res))
    except ValueError:
        return f"ERROR_{res}"


def device_info(iface: Any) -> DeviceInfo:
    """What the connected device says about itself."""
    user = iface.getMyUser() or {}
    lora = iface.localNode.localConfig.lora
    cfg = config_pb2.Config
    region = cfg.LoRaConfig.RegionCode.Name(lora.region)
    meta = iface.metadata
    return DeviceInfo(
        node_num=iface.myInfo.my_node_num, node_id=user.get("id", ""),
        long_name=user.get("longName", ""), short_name=user.get("shortName", ""),
        hw_model=user.get("hwModel", ""), firmware=meta.firmware_version if meta else "",
        region=region, preset=cfg.LoRaConfig.ModemPreset.Name(lora.modem_preset),
        role=cfg.DeviceConfig.Role.Name(iface.localNode.localConfig.device.role),
        hop_limit=lora.hop_limit, duty_cycle_pct=duty_cycle_pct(region))


NO_METRICS = Metrics(0.0, 0.0, 0.0)  # a well-formed telemetry frame without device metrics


def device_metrics(payload: bytes, now: float) -> Metrics | None:
    """The radio's own channel figures from a TELEMETRY_APP payload.

    None for bytes that do not parse; NO_METRICS for other telemetry
    (environment, power) that carries no device metrics.
    """
    t = telemetry_pb2.Telemetry()
    try:
        t.ParseFromString(payload)
    except DecodeError:
        return None
    if not t.HasField("device_metrics"):
        return NO_METRICS
    dm = t.device_metrics
    return Metrics(dm.channel_utilization, dm.air_util_tx, now)


def node_info_metrics(info: dict[str, Any] | None, now: float) -> Metrics | None:
    """The device metrics the radio reported in its node info at connect, if any."""
    dm = (info or {}).get("deviceMetrics") or {}
    if not dm:
        return None
    return Metrics(float(dm.get("channelUtilization", 0.0)), float(dm.get("airUtilTx", 0.0)), now)


def settings_from_spec(spec: str, **overrides: Any) -> MeshtasticSettings:
    """Settings from ``serial``, ``serial:PATH``, ``tcp:HOST`` or ``tcp:HOST:PORT``
    (other fields from ``overrides``); ValueError with a one-line message otherwise."""
    kind, _, rest = spec.partition(":")
    if kind == "serial":
        return MeshtasticSettings(transport="serial", path=rest or None, **overrides)
    if kind == "tcp" and rest:
        host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
        if not port.isdigit() or not 0 < int(port) < 65536:
            if port:
                raise ValueError(f"bad TCP port in {spec!r}")
            host, port = rest, str(TCP_PORT)
        return MeshtasticSettings(transport="tcp", host=host, port=int(port), **overrides)
    raise ValueError(f"radio must be serial[:PATH] or tcp:HOST[:PORT], not {spec!r}")


ROUTER_ROLES = frozenset({"ROUTER", "ROUTER_LATE", "REPEATER"})
NODE_STALE_S = 24 * 3600.0  # a node not heard for a day is not counted as near


def routers_near(nodes: dict[str, Any] | None, me: int, wall_now: float) -> int:
    """How many nodes of the library's node list (`iface.nodes`) are firmware
    routers heard directly lately: role ROUTER, ROUTER_LATE or REPEATER in their
    node info, hopsAway 0 (the library leaves a zero out, so a missing field is
    0), heard in the last day. Malformed entries count for nothing."""
    count = 0
    for entry in (nodes or {}).values():
        if not isinstance(entry, dict) or entry.get("num") == me:
            continue
        user = entry.get("user")
        role = user.get("role") if isinstance(user, dict) else None
        hops = entry.get("hopsAway", 0)
        heard = entry.get("lastHeard")
        if role in ROUTER_ROLES and hops == 0 and isinstance(heard, int | float) \
                and wall_now - heard < NODE_STALE_S:
            count += 1
    return count
