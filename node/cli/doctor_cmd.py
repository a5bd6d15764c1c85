"""`meshaid doctor`: check the connected radio's settings for meshaid."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import click

from .common import Finite, Refused


@click.command()
@click.option("--radio", "spec", default="serial", show_default=True,
              help="serial[:PATH] | tcp:HOST[:PORT], as for 'meshaid daemon'.")
@click.option("--channel", "channel_index", type=click.IntRange(0, 7), default=0,
              show_default=True, help="The channel index meshaid uses.")
@click.option("--timeout", type=Finite(1, 300), default=30.0, show_default=True,
              help="Seconds to wait for the radio's handshake.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(spec: str, channel_index: int, timeout: float, as_json: bool) -> None:
    """Read the radio's settings and say which ones will hurt meshaid.

    Checks region, transmit switch, rebroadcast mode (a ROUTER left on
    CORE_PORTNUMS_ONLY is deaf to meshaid), the channel and its key, the serial
    module, role, preset and hop limit, and prints the meshtastic command that
    fixes each problem. Exits 1 when something will stop meshaid from working.
    Stop the daemon first: the radio serves one client at a time.

    \b
    Examples:
      meshaid doctor                         # the USB radio
      meshaid doctor --radio tcp:localhost   # meshtasticd on a LoRa HAT
    """
    from ..radio.doctor import ERROR, diagnose, probe

    # The library logs a traceback when its heartbeat races our early close: a
    # one-shot probe has nothing to learn from its log.
    logging.getLogger("meshtastic").setLevel(logging.CRITICAL)
    try:
        settings = probe(spec, channel_index=channel_index, timeout=timeout)
    except (OSError, ValueError) as exc:
        raise Refused(f"cannot read the radio's settings: {exc}") from None
    findings = diagnose(settings)
    if as_json:
        click.echo(json.dumps({"settings": {k: v.hex() if isinstance(v, bytes) else v
                                            for k, v in asdict(settings).items()},
                               "findings": [asdict(f) for f in findings]}, indent=2))
    else:
        click.echo(f"radio {spec}: firmware {settings.firmware or 'unknown'}")
        for f in findings:
            click.echo(f"{f.level:<5} {f.setting}: {f.message}")
            if f.fix and f.level != "ok":
                click.echo(f"      fix: {f.fix}")
    if any(f.level == ERROR for f in findings):
        raise click.exceptions.Exit(1)


COMMANDS = [doctor]
