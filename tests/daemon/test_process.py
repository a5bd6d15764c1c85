"""Real `meshaid daemon` processes (radio sim:DIR): `meshaid status` before any
daemon ran, a need posted with the CLI on one node shows in `meshaid list` on
the other, one daemon per node, SIGTERM exits 0 and marks the status stopped.
(kill -9 and unplugging: test_fake_radio.py, through the real adapter.) Each
CLI run costs a Python start-up, so the waiting is done by reading the
databases in process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meshaid.node.daemon.status import read_status
from meshaid.node.store import Store

from .world import make_homes

LIMIT_S = 60.0


def _cmd(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "meshaid.node.cli", "--data-dir", str(home), *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("MESHAID_DEBUG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "JOURNAL_STREAM",
                "INVOCATION_ID"):
        env.pop(key, None)
    return env


def meshaid(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cmd(home, *args), capture_output=True, text=True, env=_env(),
                          timeout=60, check=False)


def start(home: Path, radio: str) -> subprocess.Popen[str]:
    """`meshaid daemon --radio RADIO` for the node at `home`; its log goes to `daemon_log(home)`,
    a file rather than a pipe nobody reads while it runs."""
    with daemon_log(home).open("a") as log:
        return subprocess.Popen(_cmd(home, "daemon", "--radio", radio),
                                stdout=subprocess.DEVNULL, stderr=log,
                                stdin=subprocess.DEVNULL, text=True, env=_env())


def daemon_log(home: Path) -> Path:
    return home.parent / f"{home.name}.daemon.log"


def logs(*homes: Path) -> str:
    """The daemons' logs of these nodes, for a failed assertion's message."""
    return "\n".join(f"--- {home.name}\n{daemon_log(home).read_text()[-4000:]}"
                     for home in homes if daemon_log(home).exists())


def texts(home: Path) -> set[str]:
    """Texts of the needs in a node's database (read in process: cheaper than a CLI run)."""
    store = Store.open(home / "ledger.db", readonly=True)
    try:
        return {text for (text,) in store.db.execute("SELECT text FROM objects")}
    finally:
        store.close()


def status(home: Path) -> dict[str, Any]:
    store = Store.open(home / "ledger.db", readonly=True)
    try:
        return read_status(store) or {}
    finally:
        store.close()


def outbox(home: Path) -> int:
    store = Store.open(home / "ledger.db", readonly=True)
    try:
        return store.count("outbox")
    finally:
        store.close()


def wait_for(cond: Callable[[], bool], limit_s: float = LIMIT_S, step: float = 0.2) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False


def stop(proc: subprocess.Popen[str], home: Path) -> str:
    """SIGTERM, a clean exit, and the daemon's log."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    err = daemon_log(home).read_text()
    assert proc.returncode == 0, err
    return err


def post(home: Path, text: str) -> None:
    run = meshaid(home, "post", "need", text, "--qty", "20", "--category", "health")
    assert run.returncode == 0, run.stderr


def test_daemon_processes_carry_a_cli_need_refuse_a_second_daemon_and_stop_cleanly(
        tmp_path: Path) -> None:
    a, b = (home.path for home in make_homes(tmp_path, 2))
    air = tmp_path / "air"
    told = meshaid(a, "status")
    assert told.returncode == 0 and told.stdout.startswith("daemon: none has run on this node")
    daemon_a, daemon_b = start(a, f"sim:{air}"), start(b, f"sim:{air}")
    try:
        assert wait_for(lambda: status(a).get("link") == "up" and status(b).get("link") == "up"), \
            logs(a, b)
        post(a, "drinking water")
        assert wait_for(lambda: "drinking water" in texts(b)), logs(a, b)
        shown = meshaid(b, "list", "--json")
        assert "drinking water" in [row["text"] for row in json.loads(shown.stdout)]
        assert wait_for(lambda: outbox(a) == 0, 10), logs(a, b)
        assert wait_for(lambda: bool(status(b)["peers"]), 10), logs(a, b)
        # A second daemon for the same node is refused, in one line.
        again = subprocess.run(_cmd(a, "daemon", "--radio", f"sim:{air}"), capture_output=True,
                               text=True, env=_env(), timeout=60, check=False)
        assert again.returncode == 1, again.stderr
        assert again.stderr.startswith("meshaid: a daemon already runs for the node")
        assert again.stderr.count("\n") == 1
    finally:
        errs = [stop(p, home) for p, home in ((daemon_a, a), (daemon_b, b)) if p.poll() is None]
    assert len(errs) == 2 and "stopped" in errs[0]
    assert status(a)["state"] == "stopped" and status(b)["state"] == "stopped"
