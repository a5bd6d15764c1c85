"""`meshaid daemon` (run the sync daemon) and `meshaid status` (what it last said)."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from ..home import Home
from ..store import Store, StoreError
from . import bridge_cmd
from .bridge_cmd import bridge_options, make_options, run_daemon
from .common import Finite, Refused


@click.command()
@click.option("--radio", "radio_spec", required=True, metavar="SPEC",
              help="serial[:PATH] | tcp:HOST[:PORT] | sim:DIR")
@click.option("--budget-share", type=Finite(0.01, 1.0), default=0.5,
              show_default=True, help="Share of the region's duty cycle sync may use.")
@click.option("--bridge", "broker", metavar="URL",
              help="Also bridge to other meshes through this MQTT broker (see 'meshaid bridge').")
@bridge_options
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.pass_obj
def daemon(home: Home, radio_spec: str, budget_share: float, broker: str | None,
           bridge_name: str | None, password_file: str | None, ca_file: str | None,
           cert_file: str | None, key_file: str | None, ip_budget_mb: float,
           verbose: bool) -> None:
    """Run this node's sync daemon on a radio until SIGTERM or Ctrl-C.

    It sends records posted with the CLI or the TUI within seconds, keeps the
    ledger in step with its neighbours, and writes a status row that
    'meshaid status' shows. Logs go to stderr (journald-friendly under systemd).

    \b
    Examples:
      meshaid daemon --radio serial                  # the USB radio found
      meshaid daemon --radio serial:/dev/ttyACM0
      meshaid daemon --radio tcp:127.0.0.1:4403      # meshtasticd on a Pi HAT
      meshaid daemon --radio sim:/tmp/air            # no radio: daemons on this machine
      meshaid daemon --radio serial --bridge mqtt://10.0.0.1 --name port
    """
    options = None
    if broker is None and any((bridge_name, password_file, ca_file, cert_file, key_file)):
        raise Refused("--name, --password-file, --ca-file, --cert-file and --key-file"
                      " describe a bridge: give --bridge mqtt://HOST too")
    if broker is not None:
        options = make_options(home, broker, bridge_name, password_file, ca_file, cert_file,
                               key_file, ip_budget_mb)
    run_daemon(home, radio_spec, budget_share, verbose, options)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status row as JSON.")
@click.pass_obj
def status(home: Home, as_json: bool) -> None:
    """Show what this node's daemon last reported: radio link, peers, outbox, air time.

    \b
    Example:
      meshaid status
    """
    from ..daemon.status import read_status

    if not home.db_path.exists():
        raise Refused(f"no node at {home.path}; run 'meshaid init' first")
    try:
        store = Store.open(home.db_path, readonly=True)
    except StoreError as exc:
        raise Refused(str(exc)) from None
    try:
        row = read_status(store)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(row if row is not None else {"state": "none"}, indent=2))
        return
    for line in describe(row, time.time()):
        click.echo(line)


def _ago(then: float | None, now: float) -> str:
    if then is None:
        return "never"
    s = max(0.0, now - then)
    if s < 90:
        return f"{s:.0f} s ago"
    if s < 5400:
        return f"{s / 60:.0f} min ago"
    if s < 172800:
        return f"{s / 3600:.1f} h ago"
    return f"{s / 86400:.0f} days ago"


def describe(row: dict[str, Any] | None, now: float) -> list[str]:
    """The status row as lines for people."""
    if row is None:
        return [("daemon: none has run on this node; start one with "
                "'meshaid daemon --radio serial' (or tcp:HOST, sim:DIR)")]
    state = row.get("state")
    updated = _ago(row.get("updated_at"), now)
    if state == "running":
        lines = [f"daemon: running (pid {row.get('pid')}), status from {updated}"]
    elif state == "stopped":
        lines = [f"daemon: not running (stopped cleanly {updated}); this is what it last saw"]
    else:
        lines = [(f"daemon: not running, or stuck (pid {row.get('pid')}, last status {updated});"
                 " this is what it last saw")]
    device = row.get("device") or {}
    link = row.get("link", "?")
    detail = f" ({row['link_detail']})" if row.get("link_detail") else ""
    lines.append(f"radio: {link}{detail}")
    if device:
        fields = [f"{device.get('long_name', '')} {device.get('node_id', '')}".strip()]
        for key, label in (("hw_model", "hardware"), ("firmware", "firmware"),
                           ("region", "region"), ("preset", "preset"), ("role", "role")):
            if device.get(key):
                fields.append(f"{label} {device[key]}")
        lines.append("device: " + ", ".join(fields))
    lines.append(f"outbox: {row.get('outbox', 0)} records waiting to go on air")
    used, budget = row.get("airtime_used_s", 0.0), row.get("airtime_budget_s", 0.0)
    lines.append(f"air time: {used:.0f} s used in the last hour of {budget:.0f} s allowed")
    sent = row.get("sent") or {}
    if sent:
        lines.append("sent since start: " + ", ".join(
            f"{tag} {n} ({air:.0f} s)" for tag, (n, air) in sent.items()))
    lines.append(f"last sync: {_ago(row.get('last_sync'), now)}")
    peers = row.get("peers") or []
    if peers:
        lines.append(f"peers heard: {len(peers)} (hops are at least this many: relays may not count)")
        for p in peers[:20]:
            holds = f", holds {p['holds']} records" if p.get("holds") is not None else ""
            lines.append(f"  {p['node']}  SNR {p['snr']:+.1f} dB  hops >= {p['hops_at_least']}"
                         f"  heard {_ago(p.get('last_heard'), now)}  {p['count']} packets{holds}")
    else:
        lines.append("peers heard: none yet")
    lines += describe_bridge(row.get("bridge"), now)
    for key, label in (("rejected", "rejected packets"), ("send_failed", "failed sends")):
        counts = row.get(key) or {}
        if counts:
            lines.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return lines


def describe_bridge(bridge: dict[str, Any] | None, now: float) -> list[str]:
    """The bridge part of the status row as lines (none without a bridge)."""
    if not bridge:
        return []
    detail = f" ({bridge['detail']})" if bridge.get("detail") else ""
    others = bridge.get("bridges") or []
    return [
        f"bridge: {bridge.get('name')} {bridge.get('link', '?')}{detail}",
        (f"  last exchange {_ago(bridge.get('last_exchange'), now)}; records crossed:"
         f" {bridge.get('to_ip', 0)} to IP, {bridge.get('to_radio', 0)} from IP"
         f" ({bridge.get('backlog', 0)} waiting for air time)"),
        (f"  other bridges heard: {', '.join(others) if others else 'none'};"
         f" IP bytes out {bridge.get('ip_bytes_out', 0)}, in {bridge.get('ip_bytes_in', 0)}"),
    ]


COMMANDS = [daemon, status, bridge_cmd.bridge]
