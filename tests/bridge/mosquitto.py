"""A real Mosquitto broker for tests: its own process on a loopback port with a
temporary configuration (deploy/mosquitto's, with its ACL and a password file),
stopped by its pid; and a TCP proxy in front of it that cuts and heals one
bridge's link."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """mosquitto -c CONFIG in `workdir`, persistent, with the example's pattern ACL:
    user NAME may write only meshaid/+/NAME and read meshaid/#."""

    def __init__(self, workdir: Path, users: dict[str, str],
                 tls: tuple[Path, Path] | None = None) -> None:
        """deploy/mosquitto/meshaid.conf and meshaid.acl as shipped, with only the
        listener (a free loopback port) and the file paths moved into `workdir`;
        `tls` (certificate, key) adds a TLS listener on `tls_port`."""
        self.dir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        passwords = workdir / "passwords"
        passwords.write_text("")
        for user, password in users.items():
            subprocess.run([PASSWD, "-b", str(passwords), user, password], check=True,
                           capture_output=True)
        (workdir / "acl").write_text((EXAMPLE / "meshaid.acl").read_text())
        (workdir / "data").mkdir(exist_ok=True)
        conf = (EXAMPLE / "meshaid.conf").read_text()
        assert "listener 1883\n" in conf and "/etc/mosquitto/meshaid.acl" in conf
        conf = conf.replace("listener 1883\n", f"listener {self.port} 127.0.0.1\n")
        conf = conf.replace("/etc/mosquitto/meshaid.passwd", str(passwords))
        conf = conf.replace("/etc/mosquitto/meshaid.acl", str(workdir / "acl"))
        (workdir / "mosquitto.conf").write_text(
            f"user {getpass.getuser()}\n"  # as root, stay root: it writes in workdir
            "persistence true\n"  # as Debian's own mosquitto.conf sets it
            f"persistence_location {workdir / 'data'}/\n"
            f"log_dest file {workdir / 'mosquitto.log'}\n" + conf)
        self.tls_port = 0
        if tls is not None:
            self.tls_port = free_port()
            with (workdir / "mosquitto.conf").open("a") as f:
                f.write(f"\nlistener {self.tls_port} 127.0.0.1\n"
                        f"certfile {tls[0]}\nkeyfile {tls[1]}\n")

    def start(self) -> None:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.dir / "mosquitto.log").read_text()) from None
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not listen within 10 s")

    def stop(self) -> None:
        """SIGTERM by pid (mosquitto saves its persistence file), then wait."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


class Proxy:
    """Forwards a loopback port to the broker; `cut()` drops every connection
    and refuses new ones until `heal()`."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = int(self.server.getsockname()[1])
        self.up = True
        self.socks: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data or not self.up:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> None:
        self.up = False
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def heal(self) -> None:
        self.up = True

    def close(self) -> None:
        self.stopped = True
        self.cut()
        self.server.close()
