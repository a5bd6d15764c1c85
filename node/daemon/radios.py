"""`--radio` specs: which adapter the daemon runs, built lazily.

    serial            the one USB radio found (/dev/meshtastic, ttyACM*, ttyUSB*)
    serial:PATH       that serial device (or the pty of `meshaid fake-radio`)
    tcp:HOST[:PORT]   meshtasticd or a fake radio over TCP (port 4403 by default)
    sim:DIR           no radio: every daemon whose spec names DIR hears every
                      other, at once and losslessly (for trying things out)

The meshtastic library is imported only for serial and tcp.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..radio.base import Radio

TCP_PORT = 4403


class RadioSpecError(ValueError):
    """A --radio value that names no radio we can open."""


@dataclass(frozen=True)
class RadioSpec:
    kind: str  # serial | tcp | sim
    path: str = ""  # serial device or sim directory ("" for serial: find it)
    host: str = ""
    port: int = TCP_PORT

    def describe(self) -> str:
        if self.kind == "tcp":
            return f"tcp:{self.host}:{self.port}"
        return f"{self.kind}:{self.path}" if self.path else self.kind


def parse(text: str) -> RadioSpec:
    """Parse a --radio value; raises RadioSpecError with a one-line reason."""
    kind, _, rest = text.strip().partition(":")
    kind = kind.lower()
    if kind == "serial":
        return RadioSpec("serial", path=rest)
    if kind == "tcp":
        if not rest:
            raise RadioSpecError("tcp needs a host, as in tcp:127.0.0.1 or tcp:pi.local:4403")
        host, port = rest, TCP_PORT
        if rest.startswith("["):  # [ipv6]:port
            host, _, tail = rest[1:].partition("]")
            if tail.startswith(":"):
                port = _port(tail[1:])
        elif rest.count(":") == 1:
            host, port_text = rest.split(":")
            port = _port(port_text)
        if not host:
            raise RadioSpecError("tcp needs a host, as in tcp:127.0.0.1 or tcp:pi.local:4403")
        return RadioSpec("tcp", host=host, port=port)
    if kind == "sim":
        if not rest:
            raise RadioSpecError("sim needs a directory shared by the daemons, as in sim:/tmp/air")
        return RadioSpec("sim", path=rest)
    raise RadioSpecError(f"unknown radio {text!r}: use serial[:PATH], tcp:HOST[:PORT] or sim:DIR")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise RadioSpecError(f"{text!r} is not a TCP port")
    return int(text)


def build(spec: RadioSpec, *, node_hint: int) -> Radio:
    """The adapter for `spec`. `node_hint` numbers a sim node (stable per node key)."""
    if spec.kind == "sim":
        from ..radio.sim_radio import DirRadio

        return DirRadio(Path(spec.path), node_hint)
    import importlib

    try:  # the meshtastic library: only for real radios
        config = importlib.import_module("meshaid.node.radio.meshtastic_config")
        adapter = importlib.import_module("meshaid.node.radio.meshtastic_radio")
    except ImportError as exc:
        raise RadioSpecError(f"{spec.kind} radios are not available: {exc}") from None
    if spec.kind == "serial":
        settings = config.MeshtasticSettings(transport="serial", path=spec.path or None)
    else:
        settings = config.MeshtasticSettings(transport="tcp", host=spec.host, port=spec.port)
    radio: Radio = adapter.MeshtasticRadio(settings)
    return radio
