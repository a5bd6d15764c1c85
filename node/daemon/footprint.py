"""Measure what an idle `meshaid daemon` costs: resident memory and CPU.

    python -m meshaid.node.daemon.footprint [--records 2000] [--seconds 60]
                                            [--radio sim | fake | tcp:HOST:PORT | ...]

Builds a throw-away node holding `--records` needs (in a temporary directory),
starts `meshaid daemon` on it as a real process, waits until its status row
says the link is up, lets it settle, then samples /proc for `--seconds`: RSS
at the end and at its peak (VmHWM), and CPU time (user + system) over the
window as a share of one core. With the default `--radio sim` the daemon runs
on a sim:DIR air of its own; `--radio fake` starts one `meshaid fake-radio`
device and runs the daemon on it through the Meshtastic adapter (which loads
the meshtastic library); a tcp: or serial: spec measures it on that radio.
Prints one JSON object. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _node(root: Path, records: int) -> Path:
    from ..home import Home
    from ..ledger import records as r

    home = Home(root / "node")
    store = home.create(name="footprint", site="bench", role=0, new_network="Footprint")
    key = home.key()
    for i in range(records):
        store.author(r.Need(1 + i % 5, f"footprint need {i}", 1 + i % 300, 4, i % 3), key)
    store.outbox_done([_rid(raw) for raw in store.outbox()])  # as if long synced
    store.close()
    return home.path


def _rid(raw: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(raw).digest()[:8]


def _status(path: Path) -> dict[str, Any]:
    from ..store import Store
    from .status import read_status

    store = Store.open(path / "ledger.db", readonly=True)
    try:
        return read_status(store) or {}
    finally:
        store.close()


def _proc(pid: int) -> tuple[float, int, int]:
    """(cpu seconds, rss kB, peak rss kB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return cpu, int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def measure(records: int, seconds: float, radio: str, settle: float = 10.0) -> dict[str, Any]:
    """Run one daemon and return its numbers."""
    with tempfile.TemporaryDirectory(prefix="meshaid-footprint-") as tmp:
        root = Path(tmp)
        path = _node(root, records)
        spec = f"sim:{root / 'air'}" if radio == "sim" else radio
        fake = None
        if radio == "fake":  # one fake Meshtastic device, reached through the real adapter
            fake = subprocess.Popen(
                [sys.executable, "-m", "meshaid.node.cli", "fake-radio", "--nodes", "1",
                 "--link-dir", str(root / "radios"), "--no-tcp"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True)
            assert fake.stdout is not None
            fake.stdout.readline()
            spec = f"serial:{root / 'radios' / 'radio0'}"
        cmd = [sys.executable, "-m", "meshaid.node.cli", "--data-dir", str(path), "daemon",
               "--radio", spec]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            while _status(path).get("link") != "up":
                if proc.poll() is not None or time.monotonic() - t0 > 120:
                    raise RuntimeError("the daemon did not come up: " + (proc.stderr.read()
                                       if proc.stderr and proc.poll() is not None else ""))
                time.sleep(0.2)
            up_s = time.monotonic() - t0
            time.sleep(settle)
            cpu0, _, _ = _proc(proc.pid)
            w0 = time.monotonic()
            time.sleep(seconds)
            cpu1, rss, peak = _proc(proc.pid)
            window = time.monotonic() - w0
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
            if fake is not None:
                fake.send_signal(signal.SIGTERM)
                fake.communicate(timeout=30)
        return {"radio": radio, "records": records, "start_to_link_up_s": round(up_s, 2),
                "rss_mb": round(rss / 1024, 1), "peak_rss_mb": round(peak / 1024, 1),
                "idle_cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / window, 3),
                "window_s": round(window, 1), "exit_code": proc.returncode}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--radio", default="sim",
                        help="sim (default), fake (a fake device through the Meshtastic "
                             "adapter) or a --radio spec")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.records, args.seconds, args.radio), indent=2))


if __name__ == "__main__":
    main()
