"""`meshaid bridge` end to end: two nodes on separate (simulated) radios, each
bridging through a real Mosquitto; a need posted on one shows on the other,
`meshaid status` shows both bridges, SIGTERM exits 0. Bad bridge settings are
refused in one line."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from ..daemon.test_process import _cmd, _env, meshaid, texts, wait_for
from ..daemon.world import make_homes
from .conftest import USERS
from .mosquitto import Broker


def start_bridge(home: Path, air: Path, broker: Broker, name: str) -> subprocess.Popen[str]:
    secret = home / "bridge.pass"
    secret.write_text(USERS[name] + "\n")
    secret.chmod(0o600)
    return subprocess.Popen(
        _cmd(home, "bridge", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--radio",
             f"sim:{air}", "--name", name, "--password-file", str(secret)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=_env())


def bridge_status(home: Path) -> dict:
    proc = meshaid(home, "status", "--json")
    return json.loads(proc.stdout).get("bridge") or {}


def test_a_need_crosses_between_two_radios_through_the_broker(tmp_path: Path,
                                                              broker: Broker) -> None:
    a, b = (home.path for home in make_homes(tmp_path / "nodes", 2))
    procs = [start_bridge(a, tmp_path / "air-a", broker, "port"),
             start_bridge(b, tmp_path / "air-b", broker, "hills")]
    try:
        post = meshaid(a, "post", "need", "water filters across the bridge", "--qty", "5",
                      "--category", "water")
        assert post.returncode == 0, post.stderr
        assert wait_for(lambda: "water filters across the bridge" in texts(b))
        assert wait_for(lambda: bridge_status(b).get("to_radio", 0) >= 1, limit_s=15)
        assert wait_for(lambda: bridge_status(a).get("bridges") == ["hills"], limit_s=30)
        port, hills = bridge_status(a), bridge_status(b)
        assert port["link"] == "up" and port["to_ip"] >= 1 and port["bridges"] == ["hills"]
        assert hills["link"] == "up" and hills["last_exchange"] is not None
        lines = meshaid(b, "status").stdout
        assert "bridge: hills up" in lines and "other bridges heard: port" in lines
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=30) for proc in procs]
    errors = [proc.stderr.read() if proc.stderr else "" for proc in procs]
    assert codes == [0, 0], errors
    assert not any("Traceback" in e for e in errors), errors


def test_bad_bridge_settings_are_refused_in_one_line(tmp_path: Path) -> None:
    (home,) = (h.path for h in make_homes(tmp_path / "nodes", 1))
    cases = [
        (["--broker", "http://x"], "mqtt://HOST"),
        (["--broker", "mqtt://x:99999"], "port"),
        (["--broker", "mqtt://x", "--name", "a/b"], "bridge name"),
        (["--broker", "mqtt://x", "--name", "ok", "--password-file", str(tmp_path / "none")],
         "password file"),
    ]
    for args, words in cases:
        proc = meshaid(home, "bridge", "--radio", "sim:" + str(tmp_path / "air"), *args)
        assert proc.returncode != 0, args
        assert words in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = meshaid(home, "daemon", "--radio", "sim:" + str(tmp_path / "air"), "--name", "x")
    assert proc.returncode != 0 and "give --bridge" in proc.stderr
    help_text = meshaid(home, "bridge", "--help").stdout
    assert "Examples:" in help_text and "--password-file" in help_text
