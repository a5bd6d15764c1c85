"""Start-up and shutdown of `meshaid daemon`: one daemon per node, signals, exit code.

One daemon per data directory: an exclusive flock on `daemon.lock` (released
by the kernel when the process dies, however it dies). SIGTERM and SIGINT ask
the runner to drain and stop; the process then exits 0. Nothing the daemon
holds only in memory is needed after a crash: records and the outbox live in
the store, the budget window is saved at least once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..home import Home
from ..ledger import identity
from . import logs
from .loop import Runner
from .notify import Notifier
from .radios import RadioSpec, build
from .service import Daemon, Settings, network_tag

if TYPE_CHECKING:
    from ..bridge.host import BridgeHost, BridgeOptions

LOCK_FILE = "daemon.lock"


class AlreadyRunning(Exception):
    """Another daemon holds this node's lock."""


@contextlib.contextmanager
def node_lock(path: Path) -> Iterator[None]:
    """Hold the node's daemon lock for the block, or raise AlreadyRunning."""
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise AlreadyRunning(f"a daemon already runs for the node at {path} "
                                 f"(pid {other})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def serve(home: Home, spec: RadioSpec, *, budget_share: float = 0.5,
          verbose: bool = False, bridge: BridgeOptions | None = None) -> int:
    """Run the daemon for `home` on the radio `spec` (and, with `bridge`, an IP
    bridge through an MQTT broker) until SIGTERM/SIGINT; exit code."""
    log = logs.setup(verbose)
    store = home.open_store()
    try:
        with node_lock(home.path):
            tag = network_tag(store)  # refuses a node that belongs to no network
            short = identity.short_id(identity.public_bytes(home.key()))
            host = None
            if bridge is not None:
                from ..bridge.host import BridgeHost, open_link

                if store.network is None:
                    raise ValueError("a bridge needs the network's charter: import a bundle"
                                     " or sync over the radio first")
                host = BridgeHost(store, open_link(bridge, store.network), tag,
                                  ip_mb_per_hour=bridge.ip_mb_per_hour)
            radio = build(spec, node_hint=int.from_bytes(short, "big"))
            daemon = Daemon(store, radio, settings=Settings(budget_share=budget_share),
                            engine_factory=host.engine_factory if host is not None else None,
                            signer=identity.signer(home.key()),
                            announce=lambda: home.ensure_hello(store))
            if host is not None:
                host.attach(daemon)
            runner = Runner(daemon, notifier=Notifier())
            log.info("meshaid daemon for %s on radio %s%s", home.path, spec.describe(),
                     f", bridge {bridge.name} via {bridge.broker}" if bridge else "")
            asyncio.run(_run(runner, host))
    finally:
        store.close()
    return 0


async def _run(runner: Runner, host: BridgeHost | None = None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runner.request_stop)
    if host is not None:
        host.start(runner)
    try:
        await runner.run()
    finally:
        if host is not None:
            host.close()
