"""`meshaid bridge`: the sync daemon plus an IP bridge through an MQTT broker."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any

import click

from ..home import Home
from ..store import StoreError
from .common import Finite, Refused


def bridge_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options that describe a bridge (shared by `bridge` and `daemon --bridge`)."""
    for option in reversed([
        click.option("--name", "bridge_name", metavar="NAME",
                     help="This bridge's name on the broker (its MQTT user; letters, digits,"
                          " - and _). Default: the node's short id."),
        click.option("--password-file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="A file whose first line is the broker password for NAME."),
        click.option("--ca-file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="mqtts: the CA that signed the broker's certificate"
                          " (default: the system's CAs)."),
        click.option("--cert-file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="mqtts: a client certificate, if the broker asks for one."),
        click.option("--key-file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="mqtts: the client certificate's key."),
        click.option("--ip-budget-mb", type=Finite(0.01, 10000.0), default=20.0,
                     show_default=True, help="Megabytes per rolling hour the bridge may publish."),
    ]):
        fn = option(fn)
    return fn


def make_options(home: Home, broker: str, bridge_name: str | None, password_file: str | None,
                 ca_file: str | None, cert_file: str | None, key_file: str | None,
                 ip_budget_mb: float) -> Any:
    """BridgeOptions from the command line; a bad URL or name is refused in one line."""
    from ..bridge.host import BridgeOptions
    from ..bridge.mqtt import BrokerSpecError, check_name, parse_broker, read_password
    from ..ledger import identity

    try:
        parse_broker(broker)
        if password_file is not None:  # refused here, before the daemon logs its start
            read_password(password_file)
        _tls_files(broker, {"--ca-file": ca_file, "--cert-file": cert_file,
                            "--key-file": key_file})
        name = bridge_name or identity.short_id(identity.public_bytes(home.key())).hex()
        check_name(name)
    except BrokerSpecError as exc:
        raise Refused(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise Refused(f"cannot read this node's key for a bridge name: {exc}") from None
    return BridgeOptions(broker, name, password_file, ca_file, cert_file, key_file, ip_budget_mb)


def _tls_files(broker: str, files: dict[str, str | None]) -> None:
    """Each TLS file given is a regular file (a FIFO would block the TLS set-up,
    a missing one was 'cannot start: No such file or directory' without its
    name), and only with mqtts://."""
    for option, path in files.items():
        if path is None:
            continue
        if not broker.strip().lower().startswith("mqtts://"):
            raise Refused(f"{option} goes with an mqtts:// broker (TLS), not {broker}")
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise Refused(f"{option} {path}: {exc.strerror}") from None
        if not stat.S_ISREG(mode):
            raise Refused(f"{option} {path} is not a regular file")


def run_daemon(home: Home, radio_spec: str, budget_share: float, verbose: bool,
               bridge: Any) -> None:
    """Start the daemon (with `bridge`, if given); every failure is one line."""
    from ..bridge.mqtt import BrokerSpecError
    from ..daemon import main as daemon_main
    from ..daemon.radios import RadioSpecError, parse

    try:
        spec = parse(radio_spec)
    except RadioSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--radio") from None
    try:
        code = daemon_main.serve(home, spec, budget_share=budget_share, verbose=verbose,
                                 bridge=bridge)
    except (StoreError, RadioSpecError, daemon_main.AlreadyRunning, BrokerSpecError,
            ValueError) as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:  # the radio's socket or device, the lock file, a TLS file
        raise Refused(f"cannot start: {exc}") from None
    if code:
        raise click.exceptions.Exit(code)


@click.command()
@click.option("--broker", required=True, metavar="URL",
              help="mqtt://HOST[:PORT] (1883) or mqtts://HOST[:PORT] (TLS, 8883).")
@click.option("--radio", "radio_spec", required=True, metavar="SPEC",
              help="serial[:PATH] | tcp:HOST[:PORT] | sim:DIR")
@bridge_options
@click.option("--budget-share", type=Finite(0.01, 1.0), default=0.5,
              show_default=True, help="Share of the region's duty cycle sync may use on air.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.pass_obj
def bridge(home: Home, broker: str, radio_spec: str, bridge_name: str | None,
           password_file: str | None, ca_file: str | None, cert_file: str | None,
           key_file: str | None, ip_budget_mb: float, budget_share: float,
           verbose: bool) -> None:
    """Run the sync daemon on a radio and bridge this mesh to others over IP.

    Through an MQTT broker (Mosquitto: deploy/mosquitto/), every bridge of the
    network publishes under its own name and hears the others. Only signed
    records cross; whatever the broker drops, the bridges reconcile. Records
    from other meshes go on air as relays, paced inside the air-time budget.
    Same as 'meshaid daemon --radio SPEC --bridge URL'. 'meshaid status' shows
    the bridge.

    \b
    Examples:
      meshaid bridge --broker mqtt://10.0.0.1 --radio serial --name port
      meshaid bridge --broker mqtts://broker.example.org --radio tcp:localhost \\
          --name hills --password-file /etc/meshaid/bridge.pass
    """
    options = make_options(home, broker, bridge_name, password_file, ca_file, cert_file,
                           key_file, ip_budget_mb)
    run_daemon(home, radio_spec, budget_share, verbose, options)


COMMANDS = [bridge]
