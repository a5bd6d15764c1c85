"""How clients reach a fake device: a pseudo-terminal (USB serial) and TCP (meshtasticd).

Theory of operation
-------------------
`PtyPort` opens a pseudo-terminal in raw mode; its slave side is the device's
"USB serial port". The fake keeps the slave open itself, so the pty stays
valid between clients, and can publish a stable symlink to it (like
/dev/serial/by-id or /dev/meshtastic), because the kernel picks a new
/dev/pts/N each time. Unplugging closes the pty: a client reading it gets an
I/O error, exactly as when a USB cable is pulled; plugging back opens a new
one and moves the symlink.

`TcpPort` listens on a loopback port the way meshtasticd serves 4403: one
client at a time, a new client kicks the old one. Dropping it closes the
listener and the client; bringing it back listens on the same port again.

`IoLoop` is one thread serving every port of the process with `select`:
bytes read are handed to the device (with the mesh lock held), and each
session's pending output is written without blocking. Devices wake the loop
through a pipe when they queue something for a client.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import threading
import tty
from pathlib import Path

from .fake_device import FakeDevice, Session

READ_CHUNK = 4096


class PtyPort:
    """The device's serial port: a pty, optionally behind a stable symlink."""

    def __init__(self, device: FakeDevice, link: str | None = None) -> None:
        """Not yet plugged; call `plug`."""
        self.device = device
        self.link = link
        self.master: int | None = None
        self._slave: int | None = None
        self.path = ""
        self.session: Session | None = None

    @property
    def plugged(self) -> bool:
        """Whether the pty exists."""
        return self.master is not None

    def plug(self) -> str:
        """Open a fresh pty (and point the symlink at it); return the path clients use."""
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        os.set_blocking(master, False)
        self.master, self._slave = master, slave
        self.path = os.ttyname(slave)
        if self.link:
            tmp = f"{self.link}.tmp{os.getpid()}"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.path, tmp)
            os.replace(tmp, self.link)
        self.session = Session("pty")
        self.device.sessions.append(self.session)
        return self.link or self.path

    def unplug(self) -> None:
        """Close the pty: the client's next read fails, as with a pulled cable."""
        if self.session is not None and self.session in self.device.sessions:
            self.device.sessions.remove(self.session)
        self.session = None
        for fd in (self.master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self._slave = None
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                if Path(self.link).is_symlink():
                    os.unlink(self.link)


class TcpPort:
    """The device's TCP API on a loopback port (one client at a time)."""

    def __init__(self, device: FakeDevice, port: int = 0, host: str = "127.0.0.1") -> None:
        """Not yet listening; call `plug`. ``port`` 0 picks a free one (kept across replugs)."""
        self.device = device
        self.host, self.port = host, port
        self.listener: socket.socket | None = None
        self.client: socket.socket | None = None
        self.session: Session | None = None

    @property
    def plugged(self) -> bool:
        """Whether the port is listening."""
        return self.listener is not None

    def plug(self) -> int:
        """Listen (again) and return the port number."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(4)
        s.setblocking(False)
        self.port = s.getsockname()[1]
        self.listener = s
        return self.port

    def accept(self) -> None:
        """Take a new client, kicking the previous one as meshtasticd does."""
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.drop_client()
        conn.setblocking(False)
        self.client = conn
        self.session = Session("tcp")
        self.device.sessions.append(self.session)
        self.device.count("tcp_clients")

    def drop_client(self) -> None:
        """Close the current client connection, if any."""
        if self.session is not None and self.session in self.device.sessions:
            self.device.sessions.remove(self.session)
        self.session = None
        if self.client is not None:
            with contextlib.suppress(OSError):
                self.client.close()
        self.client = None

    def unplug(self) -> None:
        """Stop listening and drop the client (meshtasticd went away)."""
        self.drop_client()
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.close()
        self.listener = None


class IoLoop:
    """One thread moving bytes between every port of the process and its device."""

    def __init__(self, lock: threading.RLock) -> None:
        """Serve nothing yet; add ports with `add`."""
        self.lock = lock
        self.ptys: list[PtyPort] = []
        self.tcps: list[TcpPort] = []
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stop = False
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Make the loop look at pending output now (any thread)."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def start(self) -> None:
        """Start the I/O thread."""
        self._thread = threading.Thread(target=self._run, name="fake-io", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then close every port."""
        self._stop = True
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.lock:
            for p in self.ptys:
                p.unplug()
            for t in self.tcps:
                t.unplug()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        while not self._stop:
            rlist: list[int | socket.socket] = [self._wake_r]
            wlist: list[int | socket.socket] = []
            with self.lock:
                for p in self.ptys:
                    p.device.pump()
                    if p.master is not None:
                        rlist.append(p.master)
                        if p.session is not None and p.session.out and not p.device.stalled:
                            wlist.append(p.master)
                for t in self.tcps:
                    t.device.pump()
                    if t.listener is not None:
                        rlist.append(t.listener)
                    if t.client is not None:
                        rlist.append(t.client)
                        if t.session is not None and t.session.out and not t.device.stalled:
                            wlist.append(t.client)
            try:
                r, w, _ = select.select(rlist, wlist, [], 0.5)
            except (OSError, ValueError):  # a port closed under us: rebuild the lists
                continue
            with self.lock:
                if self._wake_r in r:
                    with contextlib.suppress(BlockingIOError, OSError):
                        os.read(self._wake_r, 4096)
                for p in self.ptys:
                    self._serve_pty(p, p.master in r, p.master in w)
                for t in self.tcps:
                    self._serve_tcp(t, r, w)

    def _serve_pty(self, p: PtyPort, readable: bool, writable: bool) -> None:
        if p.master is None or p.session is None:
            return
        if readable:
            try:
                data = os.read(p.master, READ_CHUNK)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EIO):
                    raise
                data = b""
            if data:
                self._deliver(p.device, p.session, data)
        if writable and p.session.out:
            try:
                n = os.write(p.master, p.session.out)
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    raise
                n = 0
            del p.session.out[:n]

    def _serve_tcp(self, t: TcpPort, r: list, w: list) -> None:
        if t.listener is not None and t.listener in r:
            t.accept()
            return
        c, s = t.client, t.session
        if c is None or s is None:
            return
        if c in r:
            try:
                data = c.recv(READ_CHUNK)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                t.drop_client()
                return
            if data:
                self._deliver(t.device, s, data)
        if c in w and s.out:
            try:
                n = c.send(s.out)
            except BlockingIOError:
                n = 0
            except OSError:
                t.drop_client()
                return
            del s.out[:n]

    @staticmethod
    def _deliver(device: FakeDevice, s: Session, data: bytes) -> None:
        if device.stalled:
            device.count("ignored_while_stalled", len(data))
            return
        device.on_bytes(s, data)
