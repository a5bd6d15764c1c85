"""Unmodified clients against the fake device: the `meshtastic` library and its CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from meshtastic.serial_interface import SerialInterface
from meshtastic.tcp_interface import TCPInterface

from meshaid.node.radio.fake_host import FakeRadios

from .helpers import eventually

MESHTASTIC = str(Path(sys.executable).with_name("meshtastic"))


@pytest.fixture
def radios(tmp_path: Path) -> Iterator[FakeRadios]:
    r = FakeRadios(2, speed=20, seed=5, link_dir=tmp_path)
    r.start()
    yield r
    r.stop()


def test_library_sessions_over_pty_and_tcp(radios: FakeRadios) -> None:
    ep = radios.endpoints()
    eventually(lambda: all(len(d.nodedb) == 1 for d in radios.devices), timeout=10)
    a = SerialInterface(ep[0].serial, timeout=5)
    b = TCPInterface("127.0.0.1", portNumber=ep[1].tcp_port, timeout=5)
    try:
        assert a.myInfo.my_node_num == radios.devices[0].cfg.node_num
        assert a.localNode.localConfig.lora.region == 3  # EU_868
        assert b.getLongName() == "fake1"
        assert set(b.nodes) == {ep[0].node_id, ep[1].node_id}
        heard: list[dict] = []
        # a plain list's append is a builtin: pubsub cannot subscribe it; use a function
        from pubsub import pub

        def on_receive(packet: dict, interface: object) -> None:
            if interface is b:
                heard.append(packet)

        pub.subscribe(on_receive, "meshtastic.receive.data.288")
        try:
            a.sendData(b"\x01need", portNum=288)
            eventually(lambda: heard, timeout=5)
        finally:
            pub.unsubscribe(on_receive, "meshtastic.receive.data.288")
        p = heard[0]
        assert p["decoded"]["payload"] == b"\x01need" and p["fromId"] == ep[0].node_id
        assert p["hopStart"] == 3 and p["hopLimit"] == 3 and p["rxSnr"] == 6.0
    finally:
        a.close()
        b.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MESHTASTIC, *args], capture_output=True, text=True, timeout=60,
                          check=False)


def test_official_cli_info_nodes_sendtext(radios: FakeRadios) -> None:
    ep = radios.endpoints()
    eventually(lambda: all(len(d.nodedb) == 1 for d in radios.devices), timeout=10)
    info = _cli("--port", ep[0].serial, "--info")
    assert info.returncode == 0, info.stdout + info.stderr
    assert "Owner: fake0 (fake)" in info.stdout
    assert '"firmwareVersion": "2.7.15.fake"' in info.stdout
    assert '"region": "EU_868"' in info.stdout and "Index 0: PRIMARY" in info.stdout
    info = _cli("--host", f"127.0.0.1:{ep[1].tcp_port}", "--info")
    assert info.returncode == 0 and "Owner: fake1 (fake)" in info.stdout, info.stderr
    nodes = _cli("--host", f"127.0.0.1:{ep[0].tcp_port}", "--nodes")
    assert nodes.returncode == 0
    assert ep[0].node_id in nodes.stdout and ep[1].node_id in nodes.stdout
    sent = _cli("--port", ep[1].serial, "--sendtext", "water at pier 3")
    assert sent.returncode == 0 and "Sending text message" in sent.stdout
    eventually(lambda: any(p.decoded.payload == b"water at pier 3"
                           for p in radios.devices[0].to_phone), timeout=5)


def test_fake_radio_command_prints_endpoints_and_unplugs(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "meshaid.node.cli", "fake-radio", "--nodes",
                             "2", "--link-dir", str(tmp_path), "--speed", "10"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().split() for _ in range(2)]
        assert [ln[0] for ln in lines] == ["fake0", "fake1"]
        link = tmp_path / "radio0"
        assert lines[0][2] == f"serial={link}" and lines[1][3].startswith("tcp=127.0.0.1:")
        first = os.readlink(link)
        proc.send_signal(signal.SIGUSR1)
        eventually(lambda: not link.exists() and not link.is_symlink(), timeout=5)
        proc.send_signal(signal.SIGUSR2)
        eventually(lambda: link.is_symlink(), timeout=5)
        assert os.path.exists(os.readlink(link)) and first != ""  # a pty behind the same link
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "fake0:" in err and "fake1:" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_fake_radio_refuses_bad_options() -> None:
    proc = subprocess.run([sys.executable, "-m", "meshaid.node.cli", "fake-radio", "--no-serial",
                           "--no-tcp"], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "nothing to serve" in proc.stderr
