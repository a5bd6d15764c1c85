"""What a fake Meshtastic device says about itself: identity, config and the handshake.

Theory of operation
-------------------
A client that sends ``want_config_id`` gets, in the firmware's order
(`PhoneAPI::getFromRadio`, 2.7): my_info, its own node_info, metadata, the 8
channels, the config sections (device, position, power, network, display,
lora, bluetooth, security), the module configs, the other node_infos and
finally ``config_complete_id`` echoing the nonce. The special nonces work as
in the firmware: 69420 skips the other node_infos, 69421 sends only the
node_infos. All messages are built with the protobufs the `meshtastic`
package ships, so the official client parses them as it would a real radio's.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

from meshtastic.protobuf import (
    channel_pb2,
    config_pb2,
    mesh_pb2,
    module_config_pb2,
    telemetry_pb2,
)

from .regions import duty_cycle_pct

NONCE_ONLY_CONFIG = 69420  # SPECIAL_NONCE_ONLY_CONFIG
NONCE_ONLY_NODES = 69421  # SPECIAL_NONCE_ONLY_NODES
FIRMWARE = "2.7.15.fake"
MAX_CHANNELS = 8



def node_id(num: int) -> str:
    """The "!1a2b3c4d" form of a node number."""
    return f"!{num:08x}"


def node_num_for(name: str) -> int:
    """A stable node number from a name (never 0, never broadcast, never reserved)."""
    return 0x10000000 | (zlib.crc32(name.encode()) & 0x0FFFFFFF)


@dataclass
class DeviceConfig:
    """The settings of one fake device (what a real one keeps in flash)."""

    node_num: int
    long_name: str
    short_name: str
    region: str = "EU_868"
    preset: str = "LONG_FAST"
    hop_limit: int = 3
    role: str = "CLIENT"
    rebroadcast_mode: str = "ALL"
    psk: bytes = b"\x01"  # the primary channel's key: 0x01 is the public default key
    tx_enabled: bool = True
    hw_model: str = "PORTDUINO"
    firmware: str = FIRMWARE
    tx_queue_len: int = 16  # MAX_TX_QUEUE
    to_phone_len: int = 32  # MAX_RX_TOPHONE
    reboot_count: int = 0
    public_key: bytes = field(default=b"")

    @property
    def duty_cycle_pct(self) -> float | None:
        """The region's legal transmit cap, or None."""
        return duty_cycle_pct(self.region)

    def user(self) -> mesh_pb2.User:
        """The `User` this device announces."""
        u = mesh_pb2.User(id=node_id(self.node_num), long_name=self.long_name,
                          short_name=self.short_name,
                          macaddr=self.node_num.to_bytes(6, "big"),
                          hw_model=mesh_pb2.HardwareModel.Value(self.hw_model),
                          role=config_pb2.Config.DeviceConfig.Role.Value(self.role))
        if self.public_key:
            u.public_key = self.public_key
        return u

    def lora(self) -> config_pb2.Config.LoRaConfig:
        """The lora config section (region, preset, hop limit)."""
        lc = config_pb2.Config.LoRaConfig
        return lc(use_preset=True, modem_preset=lc.ModemPreset.Value(self.preset),
                  region=lc.RegionCode.Value(self.region), hop_limit=self.hop_limit,
                  tx_enabled=self.tx_enabled, tx_power=27, sx126x_rx_boosted_gain=True)


def device_metrics(channel_util: float, air_util_tx: float,
                   uptime_s: float) -> telemetry_pb2.DeviceMetrics:
    """Device metrics as the firmware reports them (mains powered: battery 101)."""
    return telemetry_pb2.DeviceMetrics(battery_level=101, voltage=5.0,
                                       channel_utilization=channel_util,
                                       air_util_tx=air_util_tx, uptime_seconds=int(uptime_s))


def handshake(cfg: DeviceConfig, nonce: int, own: mesh_pb2.NodeInfo,
              others: list[mesh_pb2.NodeInfo]) -> list[mesh_pb2.FromRadio]:
    """Every FromRadio answering ``want_config_id = nonce``, in firmware order (ids unset)."""
    out: list[mesh_pb2.FromRadio] = []
    nodes_only = nonce == NONCE_ONLY_NODES
    if not nodes_only:
        out.append(mesh_pb2.FromRadio(my_info=mesh_pb2.MyNodeInfo(
            my_node_num=cfg.node_num, reboot_count=cfg.reboot_count, min_app_version=30200,
            device_id=cfg.node_num.to_bytes(4, "big") * 4, pio_env="native",
            nodedb_count=1 + len(others))))
    out.append(mesh_pb2.FromRadio(node_info=own))
    if not nodes_only:
        out.append(mesh_pb2.FromRadio(metadata=metadata(cfg)))
        out.extend(mesh_pb2.FromRadio(channel=c) for c in channels(cfg))
        out.extend(mesh_pb2.FromRadio(config=c) for c in configs(cfg))
        out.extend(mesh_pb2.FromRadio(moduleConfig=m) for m in module_configs())
    if nonce != NONCE_ONLY_CONFIG:
        out.extend(mesh_pb2.FromRadio(node_info=n) for n in others)
    out.append(mesh_pb2.FromRadio(config_complete_id=nonce))
    return out


def metadata(cfg: DeviceConfig) -> mesh_pb2.DeviceMetadata:
    """DeviceMetadata: firmware version, role and hardware model."""
    return mesh_pb2.DeviceMetadata(
        firmware_version=cfg.firmware, device_state_version=24, canShutdown=True,
        hasWifi=False, hasBluetooth=False, hasEthernet=True,
        role=config_pb2.Config.DeviceConfig.Role.Value(cfg.role), position_flags=811,
        hw_model=mesh_pb2.HardwareModel.Value(cfg.hw_model), hasPKC=True)


def channels(cfg: DeviceConfig) -> list[channel_pb2.Channel]:
    """The 8 channel slots: the primary channel with the device's key, the rest disabled."""
    out = [channel_pb2.Channel(index=0, role=channel_pb2.Channel.Role.PRIMARY,
                               settings=channel_pb2.ChannelSettings(psk=cfg.psk))]
    out += [channel_pb2.Channel(index=i, role=channel_pb2.Channel.Role.DISABLED)
            for i in range(1, MAX_CHANNELS)]
    return out


def configs(cfg: DeviceConfig) -> list[config_pb2.Config]:
    """The config sections, lora among them."""
    c = config_pb2.Config
    return [
        c(device=c.DeviceConfig(
            role=c.DeviceConfig.Role.Value(cfg.role), node_info_broadcast_secs=10800,
            rebroadcast_mode=c.DeviceConfig.RebroadcastMode.Value(cfg.rebroadcast_mode))),
        c(position=c.PositionConfig(position_broadcast_secs=900)),
        c(power=c.PowerConfig()),
        c(network=c.NetworkConfig()),
        c(display=c.DisplayConfig(screen_on_secs=600)),
        c(lora=cfg.lora()),
        c(bluetooth=c.BluetoothConfig(enabled=False)),
        c(security=c.SecurityConfig(serial_enabled=True)),
    ]


def module_configs() -> list[module_config_pb2.ModuleConfig]:
    """The module config sections (all at their defaults, telemetry every 30 min)."""
    m = module_config_pb2.ModuleConfig
    return [
        m(mqtt=m.MQTTConfig()), m(serial=m.SerialConfig()),
        m(external_notification=m.ExternalNotificationConfig()),
        m(store_forward=m.StoreForwardConfig()), m(range_test=m.RangeTestConfig()),
        m(telemetry=m.TelemetryConfig(device_update_interval=1800)),
        m(canned_message=m.CannedMessageConfig()), m(audio=m.AudioConfig()),
        m(remote_hardware=m.RemoteHardwareConfig()), m(neighbor_info=m.NeighborInfoConfig()),
        m(ambient_lighting=m.AmbientLightingConfig()),
        m(detection_sensor=m.DetectionSensorConfig()), m(paxcounter=m.PaxcounterConfig()),
    ]


def wall_now() -> int:
    """Seconds since the epoch, as the firmware's RTC gives them (for last_heard, rx_time)."""
    return int(time.time())
