"""The sync engine is sans-IO: no radio, database, UI or event loop behind it, and
no clock, thread, socket or file of its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SYNC = Path(__file__).resolve().parents[2] / "node" / "sync"
MODULES = ["engine", "messages", "riblt", "budget", "trickle", "ports"]
FORBIDDEN_MODULES = ["meshtastic", "sqlite_utils", "textual", "asyncio"]
FORBIDDEN_TEXT = [r"\bimport time\b", r"\btime\.time\b", r"\bthreading\b", r"\bsocket\b",
                  r"\bopen\("]

PROBE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module("meshaid.node.sync." + name)
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_engine_loads_no_io_library() -> None:
    every = sorted({f.stem for f in SYNC.glob("*.py")} - {"__init__"} | set(MODULES))
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(every)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    for name in every:
        assert f"meshaid.node.sync.{name}" in loaded
    for bad in FORBIDDEN_MODULES:
        assert not [m for m in loaded if m == bad or m.startswith(bad + ".")], bad


def test_no_clock_thread_socket_or_file_in_node_sync() -> None:
    files = sorted(SYNC.glob("*.py"))
    assert {f.stem for f in files} >= set(MODULES)
    found = []
    for path in files:
        for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            for pattern in FORBIDDEN_TEXT:
                if re.search(pattern, line):
                    found.append(f"{path.name}:{lineno}: {line.strip()}")
    assert found == []


def test_the_probe_would_notice() -> None:
    """The text check is not vacuous: it finds what it looks for."""
    sample = "import time\nx = time.time()\nimport threading, socket\nopen('f')\n"
    hits = [p for p in FORBIDDEN_TEXT if re.search(p, sample)]
    assert hits == FORBIDDEN_TEXT
