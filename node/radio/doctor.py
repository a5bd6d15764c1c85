"""`meshaid doctor`: read a radio's settings and say which ones will hurt meshaid.

Theory of operation
-------------------
`read_settings` turns what the official library learned in its handshake
(``localNode.localConfig``, ``moduleConfig``, the channels) into a plain
`RadioSettings`; `diagnose` is a pure function from those settings to a list
of `Finding`s, each with what is wrong, why it matters for meshaid, and the
exact `meshtastic` command that fixes it. The facts behind every check are
in firmware-notes/configure-a-radio.md (firmware 2.7.26, develop 2.8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .regions import duty_cycle_pct

ERROR, WARN, OK = "error", "warn", "ok"
DEFAULT_PSK = b"\x01"  # "AQ==": Meshtastic's public default channel key
QUIET_ROLES = {"TRACKER", "SENSOR", "TAK_TRACKER", "LOST_AND_FOUND"}
SLOW_PRESETS = {"LONG_SLOW", "VERY_LONG_SLOW", "LONG_MODERATE"}


@dataclass(frozen=True)
class RadioSettings:
    """The settings of a radio that matter to meshaid."""

    region: str
    preset: str
    use_preset: bool
    hop_limit: int
    tx_enabled: bool
    role: str
    rebroadcast_mode: str
    channel_index: int  # the channel meshaid uses
    channel_enabled: bool
    channel_psk: bytes
    serial_takes_console: bool  # the serial module took over the USB console
    firmware: str = ""


@dataclass(frozen=True)
class Finding:
    level: str  # error | warn | ok
    setting: str
    message: str
    fix: str = ""  # a meshtastic command, when there is one


def diagnose(s: RadioSettings) -> list[Finding]:
    """Every check on `s`, errors first: what will stop meshaid, then what will cost it."""
    out: list[Finding] = []
    if s.region == "UNSET":
        out.append(Finding(ERROR, "lora.region", "no region is set, so the radio does not "
                           "transmit at all", "meshtastic --set lora.region EU_868"))
    else:
        cap = duty_cycle_pct(s.region)
        out.append(Finding(OK, "lora.region", f"{s.region}" + (
            f", {cap:g} % duty cycle: meshaid spends at most half of it" if cap
            else ", no legal duty cycle: meshaid still keeps to 5 % of air time")))
    if not s.tx_enabled:
        out.append(Finding(ERROR, "lora.tx_enabled", "transmitting is switched off",
                           "meshtastic --set lora.tx_enabled true"))
    if s.rebroadcast_mode == "CORE_PORTNUMS_ONLY":
        out.append(Finding(
            ERROR, "device.rebroadcast_mode",
            "CORE_PORTNUMS_ONLY drops packets on private ports: this radio neither relays "
            "meshaid nor hands it to its own daemon (the ROUTER role sets this mode)",
            "meshtastic --set device.rebroadcast_mode ALL"))
    elif s.rebroadcast_mode in ("LOCAL_ONLY", "KNOWN_ONLY", "NONE"):
        out.append(Finding(
            WARN, "device.rebroadcast_mode",
            f"{s.rebroadcast_mode} does not relay other channels' traffic: meshaid packets "
            "from radios it has not met are not carried on", "meshtastic --set "
            "device.rebroadcast_mode ALL"))
    else:
        out.append(Finding(OK, "device.rebroadcast_mode", s.rebroadcast_mode))
    if not s.channel_enabled:
        out.append(Finding(ERROR, f"channel {s.channel_index}",
                           f"channel {s.channel_index}, which meshaid uses, is disabled",
                           f"meshtastic --ch-index {s.channel_index} --ch-enable"))
    elif s.channel_psk in (b"", DEFAULT_PSK):
        what = "no key" if not s.channel_psk else "Meshtastic's public default key"
        out.append(Finding(
            WARN, f"channel {s.channel_index}",
            f"the channel has {what}: anyone can read the ledger's traffic (records stay "
            "signed, so nobody can forge them); use a private channel with its own key",
            f"meshtastic --ch-index {s.channel_index} --ch-set psk random"))
    else:
        out.append(Finding(OK, f"channel {s.channel_index}", "a private key"))
    if s.serial_takes_console:
        out.append(Finding(ERROR, "serial.override_console_serial_port",
                           "the serial module has taken over the USB console: the daemon "
                           "cannot talk to the radio over USB",
                           "meshtastic --set serial.override_console_serial_port false"))
    if s.role in QUIET_ROLES:
        out.append(Finding(WARN, "device.role",
                           f"{s.role} sleeps and sends rarely: use CLIENT for a field node "
                           "or ROUTER_LATE for a relay", "meshtastic --set device.role CLIENT"))
    else:
        out.append(Finding(OK, "device.role", s.role))
    if s.use_preset and s.preset in SLOW_PRESETS:
        out.append(Finding(WARN, "lora.modem_preset",
                           f"{s.preset} carries a few records an hour at most: prefer "
                           "LONG_FAST or MEDIUM_FAST on every radio of the mesh",
                           "meshtastic --set lora.modem_preset LONG_FAST"))
    else:
        out.append(Finding(OK, "lora.modem_preset", s.preset if s.use_preset else "custom"))
    if s.hop_limit > 3:
        out.append(Finding(WARN, "lora.hop_limit",
                           f"{s.hop_limit}: every extra hop multiplies the air time of the "
                           "mesh's background traffic (meshaid sets its own per packet)",
                           "meshtastic --set lora.hop_limit 3"))
    else:
        out.append(Finding(OK, "lora.hop_limit", str(s.hop_limit)))
    order = {ERROR: 0, WARN: 1, OK: 2}
    return sorted(out, key=lambda f: order[f.level])


def read_settings(iface: Any, channel_index: int = 0) -> RadioSettings:
    """The settings of the radio behind a connected meshtastic interface."""
    from meshtastic.protobuf import channel_pb2, config_pb2

    cfg = config_pb2.Config
    local = iface.localNode
    lora, device = local.localConfig.lora, local.localConfig.device
    serial = local.moduleConfig.serial
    channel = None
    for ch in local.channels or []:
        if ch.index == channel_index:
            channel = ch
    enabled = channel is not None and channel.role != channel_pb2.Channel.Role.DISABLED
    meta = getattr(iface, "metadata", None)
    return RadioSettings(
        region=cfg.LoRaConfig.RegionCode.Name(lora.region),
        preset=cfg.LoRaConfig.ModemPreset.Name(lora.modem_preset),
        use_preset=bool(lora.use_preset),
        hop_limit=int(lora.hop_limit),
        tx_enabled=bool(lora.tx_enabled),
        role=cfg.DeviceConfig.Role.Name(device.role),
        rebroadcast_mode=cfg.DeviceConfig.RebroadcastMode.Name(device.rebroadcast_mode),
        channel_index=channel_index,
        channel_enabled=enabled,
        channel_psk=bytes(channel.settings.psk) if channel is not None else b"",
        serial_takes_console=bool(serial.enabled and serial.override_console_serial_port),
        firmware=meta.firmware_version if meta else "",
    )


def probe(spec: str, *, channel_index: int = 0, timeout: float = 30.0) -> RadioSettings:
    """Connect to the radio named by `spec` (serial[:PATH], tcp:HOST[:PORT]), read its
    settings and disconnect. Raises OSError or ValueError with a one-line message."""
    from meshtastic.mesh_interface import MeshInterface

    from .meshtastic_config import settings_from_spec
    from .meshtastic_iface import Hooks, open_interface

    s = settings_from_spec(spec, connect_timeout=timeout)
    hooks = Hooks(lambda _reason: None, lambda _status: None, lambda _line: None, timeout)
    try:
        iface = open_interface(s, hooks)
    except MeshInterface.MeshInterfaceError as exc:  # a silent device
        raise OSError(f"{s.describe()}: {exc}") from None
    try:
        return read_settings(iface, channel_index)
    finally:
        try:
            iface.close()
        except OSError:  # a radio unplugged mid-close: nothing left to close
            pass
