"""Benchmark: what the Meshtastic adapter costs in memory and idle CPU.

    python -m meshaid.node.radio.footprint [--idle 20] [--transport serial|tcp]

Starts `meshaid fake-radio` (one device) in a subprocess, then in this process
measures the import of the adapter (time, resident memory), connects the
adapter to the fake device through the official library, and measures the
resident memory and the CPU used over ``--idle`` seconds of an idle link. It
also reports the fake device process's own memory and CPU over the same time.
Prints one line per number; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process (MB) from /proc."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Run the measurement and print the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle link measured")
    ap.add_argument("--transport", choices=["serial", "tcp"], default="serial")
    args = ap.parse_args()
    base = rss_mb()
    t0 = time.perf_counter()
    from .meshtastic_config import MeshtasticSettings
    from .meshtastic_radio import MeshtasticRadio
    t_import = time.perf_counter() - t0
    after_import = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        fake = subprocess.Popen([sys.executable, "-m", "meshaid.node.cli", "fake-radio",
                                 "--link-dir", tmp], stdout=subprocess.PIPE, text=True)
        try:
            assert fake.stdout is not None
            parts = dict(p.split("=", 1) for p in fake.stdout.readline().split()[2:])
            if args.transport == "serial":
                settings = MeshtasticSettings(transport="serial", path=parts["serial"])
            else:
                settings = MeshtasticSettings(transport="tcp", host="127.0.0.1",
                                              port=int(parts["tcp"].rsplit(":", 1)[1]))
            up = threading.Event()
            radio = MeshtasticRadio(settings)
            radio.start(lambda ev: up.set() if getattr(ev, "up", False) else None)
            if not up.wait(30):
                sys.exit("the adapter did not connect")
            connected = rss_mb()
            me0 = resource.getrusage(resource.RUSAGE_SELF)
            f0, w0 = cpu_s(fake.pid), time.monotonic()
            time.sleep(args.idle)
            me1 = resource.getrusage(resource.RUSAGE_SELF)
            wall = time.monotonic() - w0
            own = (me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime) / wall * 100
            fake_cpu = (cpu_s(fake.pid) - f0) / wall * 100
            print(f"python baseline RSS: {base:.1f} MB")
            print(f"import adapter: {t_import:.2f} s, RSS after import: {after_import:.1f} MB")
            print(f"adapter connected ({args.transport}): RSS {connected:.1f} MB, "
                  f"threads {threading.active_count()}")
            print(f"adapter idle CPU over {wall:.0f} s: {own:.2f} % of one core")
            print(f"fake-radio (1 device): RSS {rss_mb(fake.pid):.1f} MB, "
                  f"idle CPU {fake_cpu:.2f} % of one core")
            radio.close()
        finally:
            fake.terminate()
            fake.wait(10)


if __name__ == "__main__":
    main()
