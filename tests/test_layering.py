"""Layering: the headless node never loads the TUI toolkit, the ledger is pure
(no SQLite layer, no radio), and nothing in node/ imports meshaid.tui."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

NODE = Path(__file__).resolve().parents[1] / "node"

# Imports every module of the named packages it can find, then reports what
# got loaded. A module of the core packages that fails to import is an error.
_PROBE = """
import importlib, json, pkgutil, sys
core, extra = json.loads(sys.argv[1]), json.loads(sys.argv[2])
imported, failed = [], {}
for root in core + extra:
    try:
        package = importlib.import_module(root)
    except ImportError as exc:
        failed[root] = repr(exc)
        continue
    imported.append(root)
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), root + "."):
        if info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
            imported.append(info.name)
        except ImportError as exc:
            failed[info.name] = repr(exc)
print(json.dumps({"imported": imported, "failed": failed, "modules": sorted(sys.modules)}))
"""

CORE = ["meshaid.node", "meshaid.node.ledger", "meshaid.node.store", "meshaid.node.cli"]


def probe(core: list[str], extra: list[str] = ()) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(core), json.dumps(list(extra))],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_importing_the_node_never_loads_textual() -> None:
    result = probe(CORE, ["meshaid.node.sync", "meshaid.node.sim"])
    core_failures = {name: err for name, err in result["failed"].items()
                     if any(name == c or name.startswith(c + ".") for c in CORE[1:])}
    assert not core_failures
    for module in ("meshaid.node.home", "meshaid.node.ledger.codec", "meshaid.node.store.store",
                   "meshaid.node.store.queries", "meshaid.node.cli.main"):
        assert module in result["imported"]
    assert not loaded(result["modules"], "textual")
    assert not loaded(result["modules"], "meshaid.tui")


def test_the_ledger_is_pure() -> None:
    result = probe(["meshaid.node.ledger"])
    assert not result["failed"]
    assert "meshaid.node.ledger.codec" in result["imported"]
    for forbidden in ("sqlite_utils", "sqlite3", "meshtastic", "serial", "textual", "click",
                      "meshaid.node.store"):
        assert not loaded(result["modules"], forbidden), forbidden
    # no clock and no randomness either (its benchmark aside): derived state is
    # a function of the records
    pattern = re.compile(r"^\s*(?:from|import)\s+(?:time|random|asyncio)\b", re.MULTILINE)
    sources = [p for p in sorted((NODE / "ledger").glob("*.py")) if p.name != "membench.py"]
    assert len(sources) >= 10
    assert [str(p) for p in sources if pattern.search(p.read_text("utf-8"))] == []


IMPORT_TUI = re.compile(
    r"^\s*(?:from\s+(?:meshaid\.tui|tui|\.{3,}tui)\b|import\s+(?:meshaid\.tui|tui)\b)", re.MULTILINE
)


def test_nothing_in_node_imports_the_tui() -> None:
    sources = sorted(NODE.rglob("*.py"))
    assert len(sources) > 20
    offenders = [str(path) for path in sources if IMPORT_TUI.search(path.read_text("utf-8"))]
    assert offenders == []
    assert IMPORT_TUI.search("from meshaid.tui.app import Board")
    assert IMPORT_TUI.search("    from ...tui import app")
    assert IMPORT_TUI.search("import meshaid.tui")
    assert not IMPORT_TUI.search("from meshaid.node import tuition")


def test_the_ledger_source_has_no_hidden_storage_or_radio_imports() -> None:
    """Catches imports inside functions, which importing the modules would miss."""
    pattern = re.compile(r"^\s*(?:from|import)\s+(?:sqlite_utils|sqlite3|meshtastic|serial)\b",
                         re.MULTILINE)
    sources = sorted((NODE / "ledger").rglob("*.py"))
    assert sources
    assert [str(p) for p in sources if pattern.search(p.read_text("utf-8"))] == []


def test_the_daemon_loads_neither_textual_nor_meshtastic_for_a_simulated_radio() -> None:
    """The daemon runs on a Pi Zero: the TUI toolkit never, the meshtastic library
    (about 36 MB) only for a real radio."""
    result = probe(["meshaid.node.cli", "meshaid.node.daemon", "meshaid.node.radio.sim_radio"])
    assert not result["failed"]
    assert "meshaid.node.daemon.loop" in result["imported"]
    assert "meshaid.node.cli.daemon_cmds" in result["modules"]
    for forbidden in ("textual", "meshaid.tui", "meshtastic"):
        assert not loaded(result["modules"], forbidden), forbidden


def _modules_after_importing(*names: str) -> list[str]:
    code = ("import importlib, json, sys\n"
            f"for n in {list(names)!r}: importlib.import_module(n)\n"
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_radio_port_is_light_and_adapters_never_load_the_tui() -> None:
    """node/radio/base.py is all the daemon needs to know: it loads no radio library;
    the adapters and the fake device load meshtastic but never textual or the TUI."""
    assert not loaded(_modules_after_importing("meshaid.node.radio.base"), "meshtastic")
    mods = _modules_after_importing("meshaid.node.radio.meshtastic_radio",
                                    "meshaid.node.radio.fake_host", "meshaid.node.sim.realtime")
    assert loaded(mods, "meshtastic")
    for forbidden in ("textual", "meshaid.tui", "sqlite_utils"):
        assert not loaded(mods, forbidden), forbidden


def test_only_the_tui_command_loads_the_tui_and_only_when_run() -> None:
    """`meshaid tui` (and the demo) import meshaid.tui by name at run time; no
    other module of node/ names it."""
    allowed = {NODE / "cli" / "tui_cmd.py"}
    naming = {path for path in NODE.rglob("*.py") if "meshaid.tui" in path.read_text("utf-8")}
    assert naming <= allowed, sorted(map(str, naming - allowed))
    result = probe(["meshaid.node.cli"])
    assert "meshaid.node.cli.tui_cmd" in result["imported"]
    assert not loaded(result["modules"], "textual")


def test_the_tui_package_imports_with_textual() -> None:
    result = probe(["meshaid.tui"])
    assert not result["failed"]
    assert "meshaid.tui.app" in result["imported"]
    assert loaded(result["modules"], "textual")


def test_the_bridge_core_loads_no_broker_client_radio_or_toolkit() -> None:
    """node/bridge: the glue, engines and IP side are sans-IO like node/sync (no
    asyncio, no clock, no MQTT client); only mqtt.py loads paho."""
    mods = _modules_after_importing("meshaid.node.bridge.glue", "meshaid.node.bridge.ipside",
                                    "meshaid.node.bridge.engines", "meshaid.node.bridge.link")
    for forbidden in ("paho", "textual", "meshaid.tui", "meshtastic", "asyncio"):
        assert not loaded(mods, forbidden), forbidden
    pattern = re.compile(r"^\s*(?:from|import)\s+(?:asyncio|time|paho|sqlite_utils|meshtastic)\b",
                         re.MULTILINE)
    core = [NODE / "bridge" / f for f in ("glue.py", "ipside.py", "engines.py", "link.py")]
    assert [str(p) for p in core if pattern.search(p.read_text("utf-8"))] == []


def test_interop_is_light_and_needs_no_optional_extra() -> None:
    """node/interop (HXL, CSV, EDXL-RM) reads the store through its queries: it
    loads neither SQLite's helper library nor radio or TUI code, and imports
    whether or not the optional `hxl` extra (libhxl) is installed."""
    result = probe(["meshaid.node.interop"])
    assert not result["failed"]
    assert "meshaid.node.interop.csvin" in result["imported"]
    pattern = re.compile(r"^\s*(?:from|import)\s+(?:sqlite_utils|meshtastic|textual|serial)\b",
                         re.MULTILINE)
    sources = sorted((NODE / "interop").rglob("*.py"))
    assert sources and [str(p) for p in sources if pattern.search(p.read_text("utf-8"))] == []
    for forbidden in ("textual", "meshaid.tui", "meshtastic"):
        assert not loaded(result["modules"], forbidden), forbidden


def test_matching_is_pure_over_the_store() -> None:
    """node/match reads the store through its Store object and nothing else: no
    SQLite layer of its own, no radio, no TUI, and (its benchmark aside) no clock:
    a match depends on the ledger and the `now` it is given only."""
    result = probe(["meshaid.node.match"])
    assert not result["failed"]
    assert "meshaid.node.match.engine" in result["imported"]
    for forbidden in ("textual", "meshaid.tui", "meshtastic", "asyncio"):
        assert not loaded(result["modules"], forbidden), forbidden
    pattern = re.compile(r"^\s*(?:from|import)\s+(?:sqlite_utils|sqlite3|meshtastic|serial|"
                         r"textual|asyncio|time|random)\b", re.MULTILINE)
    sources = [p for p in sorted((NODE / "match").rglob("*.py")) if p.name != "bench.py"]
    assert len(sources) >= 5
    assert [str(p) for p in sources if pattern.search(p.read_text("utf-8"))] == []
