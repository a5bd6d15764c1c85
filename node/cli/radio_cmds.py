"""`meshaid fake-radio`: fake Meshtastic devices on simulated air, for benches and tests."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from ..sim.airtime import STANDARD_PRESETS
from .common import Finite, Refused

# Device roles and rebroadcast modes of config.proto (2.7), as the fake reports them.
ROLES = ["CLIENT", "CLIENT_MUTE", "CLIENT_HIDDEN", "ROUTER", "ROUTER_LATE", "TRACKER",
         "SENSOR", "TAK", "TAK_TRACKER", "LOST_AND_FOUND"]
REBROADCAST_MODES = ["ALL", "ALL_SKIP_DECODING", "LOCAL_ONLY", "KNOWN_ONLY", "NONE",
                     "CORE_PORTNUMS_ONLY"]
REGIONS = ["EU_868", "EU_433", "UA_868", "US", "ANZ", "IN", "CN", "JP", "KR", "TW", "RU"]


@click.command("fake-radio")
@click.option("--nodes", "count", type=click.IntRange(1, 64), default=1, show_default=True,
              help="How many devices share the simulated air.")
@click.option("--name", "names", multiple=True,
              help="Long name of each device, in order (default fake0, fake1, ...).")
@click.option("--region", type=click.Choice(REGIONS), default="EU_868", show_default=True,
              help="LoRa region (EU_868 caps each device at 10 % duty cycle).")
@click.option("--preset", type=click.Choice(sorted(STANDARD_PRESETS)), default="LONG_FAST",
              show_default=True, help="Modem preset: sets the air time of every frame.")
@click.option("--hop-limit", type=click.IntRange(0, 7), default=3, show_default=True)
@click.option("--speed", type=Finite(0.1, 1000.0), default=1.0, show_default=True,
              help="Run the air this many times faster than the wall clock (air time, "
                   "relay waits, the duty-cycle hour and telemetry all shrink).")
@click.option("--snr", type=Finite(), default=6.0, show_default=True,
              help="SNR (dB) of every link: all devices hear each other.")
@click.option("--loss", type=Finite(0.0, 1.0), default=0.0, show_default=True,
              help="Probability that a frame is lost on a link (besides collisions).")
@click.option("--link-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Publish a stable symlink DIR/radioN to each device's pty (it survives "
                   "unplugging, like /dev/serial/by-id).")
@click.option("--tcp-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="TCP port of the first device (the next get +1, +2, ...); 0 picks free ones.")
@click.option("--no-serial", is_flag=True, help="No pseudo-terminals, TCP only.")
@click.option("--no-tcp", is_flag=True, help="No TCP ports, pseudo-terminals only.")
@click.option("--seed", type=int, default=None, help="Seed of the air's random numbers.")
@click.option("--role", type=click.Choice(ROLES), default="CLIENT", show_default=True,
              help="Device role each device reports.")
@click.option("--rebroadcast-mode", type=click.Choice(REBROADCAST_MODES), default="ALL",
              show_default=True, help="Rebroadcast mode each device reports.")
@click.option("--channel-key", type=click.Choice(["default", "private"]), default="default",
              show_default=True,
              help="Primary channel key: Meshtastic's public default, or a private random one.")
def fake_radio(count: int, names: tuple[str, ...], region: str, preset: str, hop_limit: int,
               speed: float, snr: float, loss: float, link_dir: Path | None, tcp_port: int,
               no_serial: bool, no_tcp: bool, seed: int | None, role: str,
               rebroadcast_mode: str, channel_key: str) -> None:
    """Emulate Meshtastic devices that share simulated LoRa air.

    Each device speaks the real stream protocol (the protobufs of the
    `meshtastic` package) over a pseudo-terminal, like a USB radio, and over a
    loopback TCP port, like meshtasticd on port 4403. Frames cross the air with
    the simulator's air time, collisions, loss, relaying and duty-cycle rules.
    One line per device is printed once they are ready:

    \b
      fake0 !1a2b3c4d serial=/dev/pts/7 tcp=127.0.0.1:40123

    Example: one daemon (or the official client) per device; their packets
    cross the simulated air:

    \b
      meshaid fake-radio --nodes 2 --link-dir /tmp/mesh
      meshaid --data-dir a daemon --radio serial:/tmp/mesh/radio0
      meshaid --data-dir b daemon --radio serial:/tmp/mesh/radio1
      meshtastic --port /tmp/mesh/radio0 --info
      meshtastic --host 127.0.0.1:PORT --nodes

    Signals: SIGUSR1 unplugs every device (the ptys close, the TCP servers
    stop), SIGUSR2 plugs them back in (new ptys behind the same symlinks, the
    same TCP ports). SIGINT or SIGTERM stops. Counters go to stderr on exit.
    """
    from ..radio.fake_host import FakeRadios  # the protobufs load only when needed
    from ..sim.loss import Bernoulli

    if no_serial and no_tcp:
        raise Refused("nothing to serve: drop --no-serial or --no-tcp")
    if names and len(names) != count:
        raise Refused(f"{len(names)} names for {count} devices")
    if link_dir is not None:
        link_dir.mkdir(parents=True, exist_ok=True)
    if tcp_port and tcp_port + count - 1 > 65535:
        raise Refused(f"--tcp-port {tcp_port} leaves no room for {count} devices "
                      f"(ports {tcp_port} to {tcp_port + count - 1}; the last is 65535)")
    ports = [tcp_port + i for i in range(count)] if tcp_port else None
    try:
        radios = FakeRadios(count, names=list(names) or None, region=region, preset=preset,
                            hop_limit=hop_limit, speed=speed, snr_db=snr,
                            loss=Bernoulli(loss) if loss > 0 else None, serial=not no_serial,
                            link_dir=link_dir, tcp=not no_tcp, tcp_ports=ports, seed=seed,
                            settings={"role": role, "rebroadcast_mode": rebroadcast_mode,
                                      "psk": os.urandom(32) if channel_key == "private"
                                      else b"\x01"})
        endpoints = radios.start()
    except OSError as exc:
        raise Refused(f"cannot open the fake devices: {exc.strerror or exc}") from None
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGUSR1:
            for i in range(count):
                radios.unplug(i)
            click.echo("unplugged", err=True)
        elif signum == signal.SIGUSR2:
            for i in range(count):
                radios.replug(i)
            click.echo("plugged in", err=True)
        else:
            done.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, on_signal)
    for ep in endpoints:
        parts = [ep.name, ep.node_id]
        if ep.serial:
            parts.append(f"serial={ep.serial}")
        if ep.tcp_port:
            parts.append(f"tcp=127.0.0.1:{ep.tcp_port}")
        click.echo(" ".join(parts))
    sys.stdout.flush()

    try:
        while not done.wait(0.5):  # a timed wait lets the signal handlers run
            pass
    finally:
        radios.stop()
        for ep, st in zip(endpoints, radios.stats(), strict=True):
            click.echo(f"{ep.name}: " + ", ".join(f"{k}={v}" for k, v in sorted(st.items())),
                       err=True)


COMMANDS = [fake_radio]
