"""A minimal stream client for the fake device tests: frames ToRadio, reads FromRadio."""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable

from meshtastic.protobuf import mesh_pb2

from meshaid.node.radio.framing import Deframer, frame


class RawClient:
    """Talks the stream protocol over a TCP socket or a pty path, nothing more."""

    def __init__(self, *, port: int | None = None, path: str | None = None) -> None:
        self.sock: socket.socket | None = None
        self.fd: int | None = None
        if port is not None:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        else:
            assert path is not None
            self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self.deframer = Deframer()
        self.inbox: list[mesh_pb2.FromRadio] = []

    def write(self, raw: bytes) -> None:
        if self.sock is not None:
            self.sock.sendall(raw)
        else:
            assert self.fd is not None
            os.write(self.fd, raw)

    def send(self, msg: mesh_pb2.ToRadio) -> None:
        self.write(frame(msg.SerializeToString()))

    def _read(self, timeout: float) -> bytes:
        src = self.sock if self.sock is not None else self.fd
        r, _, _ = select.select([src], [], [], timeout)
        if not r:
            return b""
        if self.sock is not None:
            return self.sock.recv(4096)
        assert self.fd is not None
        return os.read(self.fd, 4096)

    def wait_for(self, pred: Callable[[mesh_pb2.FromRadio], bool],
                 timeout: float = 5.0) -> mesh_pb2.FromRadio:
        """Read until a message matches (kept messages stay in inbox)."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.inbox:
                if pred(m):
                    self.inbox.remove(m)
                    return m
            left = deadline - time.monotonic()
            assert left > 0, f"no matching message; inbox: {[m.WhichOneof('payload_variant') for m in self.inbox]}"
            self._pull(min(left, 0.2))

    def handshake(self, nonce: int = 1234, timeout: float = 5.0) -> list[mesh_pb2.FromRadio]:
        """Send want_config_id and return everything up to config_complete_id (included);
        what came after stays in the inbox."""
        self.inbox.clear()
        self.send(mesh_pb2.ToRadio(want_config_id=nonce))
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if m.config_complete_id == nonce:
                    msgs, self.inbox = self.inbox[:i + 1], self.inbox[i + 1:]
                    return msgs
            assert time.monotonic() < deadline, "no config_complete_id"
            self._pull(0.2)

    def _pull(self, timeout: float) -> None:
        for body in self.deframer.feed(self._read(timeout)):
            m = mesh_pb2.FromRadio()
            m.ParseFromString(body)
            self.inbox.append(m)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.fd is not None:
            os.close(self.fd)


def routing_of(m: mesh_pb2.FromRadio) -> mesh_pb2.Routing | None:
    """The Routing message a FromRadio packet carries, or None."""
    if m.WhichOneof("payload_variant") != "packet" or m.packet.decoded.portnum != 5:
        return None
    r = mesh_pb2.Routing()
    r.ParseFromString(m.packet.decoded.payload)
    return r


def packet(payload: bytes, *, to: int = 0xFFFFFFFF, port: int = 288, pid: int = 0,
           want_ack: bool = False, channel: int = 0, hop_limit: int = 3) -> mesh_pb2.ToRadio:
    """A ToRadio carrying one MeshPacket as the library would build it."""
    p = mesh_pb2.MeshPacket(to=to, id=pid, want_ack=want_ack, channel=channel,
                            hop_limit=hop_limit,
                            decoded=mesh_pb2.Data(portnum=port, payload=payload))
    return mesh_pb2.ToRadio(packet=p)


def eventually(pred: Callable[[], object], timeout: float = 5.0, step: float = 0.02) -> None:
    """Poll until pred() is truthy (fails the test after timeout)."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(step)
