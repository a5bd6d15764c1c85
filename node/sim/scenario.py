"""Scenario files: TOML, documented in node/sim/SCENARIOS.md.

`load(name_or_path)` takes a shipped scenario name (node/sim/scenarios/NAME.toml)
or a path, and returns a validated `Scenario`; any mistake raises
`ScenarioError` naming the file and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scenario_schema import EVENTS, TOP, ScenarioError, checked, num

__all__ = ["EVENT_KINDS", "SHIPPED", "Event", "Scenario", "ScenarioError", "load", "parse",
           "shipped_names"]

SHIPPED = Path(__file__).resolve().parent / "scenarios"
EVENT_KINDS = set(EVENTS)


@dataclass
class Event:
    at_s: float
    kind: str
    args: dict[str, Any]


@dataclass
class Scenario:
    name: str
    description: str
    seed: int
    duration_s: float
    preset: str
    duty_cycle_pct: float | None
    topology: dict[str, Any]
    loss: dict[str, Any]
    workload: dict[str, Any]
    events: list[Event]
    sync: dict[str, Any] = field(default_factory=dict)
    mesh: dict[str, Any] = field(default_factory=dict)  # hop_limit, router_rebroadcast, queue
    background: dict[str, Any] = field(default_factory=dict)  # Meshtastic's own traffic
    baseline_budget: str = "share"  # "share": baselines get meshaid's share; "cap": the cap
    initial_records: int = 0
    superseded_fraction: float = 0.0
    source: str = ""


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.toml"))


MAX_FILE_BYTES = 4 << 20  # a scenario file: positions of 1,000 sites take about 20 KiB
MAX_NODES = 1000


def load(name_or_path: str) -> Scenario:
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = SHIPPED / f"{name_or_path}.toml"
        if not path.exists():
            raise ScenarioError(f"no scenario named {name_or_path!r}; shipped: "
                                + ", ".join(shipped_names()))
    try:
        if path.exists():
            if not path.is_file():  # a device or a FIFO would be read for ever
                raise ScenarioError(f"{path}: not a regular file")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB")
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    return parse(data, str(path))


def node_count(topo: dict[str, Any]) -> int:
    """How many nodes a (checked) topology table describes."""
    kind = topo.get("kind", "random")
    if kind == "grid":
        return int(topo["rows"]) * int(topo["cols"])
    if kind == "positions":
        return len(topo["positions"])
    if kind == "links":
        ends = [max(link["a"], link["b"]) for link in topo["links"]]
        return int(topo.get("nodes", 1 + max(ends)))
    return int(topo["nodes"])


def _links(raw: list[Any], where: str) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, list):
            if any(v != int(v) for v in item[:2]):
                raise ScenarioError(f"'{where}[{i}]': a and b must be node numbers")
            link: dict[str, Any] = {"a": int(item[0]), "b": int(item[1]), "snr_db": item[2]}
            if len(item) > 3:
                if not 0 <= item[3] <= 0.95:
                    raise ScenarioError(f"'{where}[{i}]': loss {item[3]} is out of [0, 0.95]")
                link["loss"] = item[3]
            if len(item) > 4:
                link["mean_burst"] = item[4]
        else:
            link = dict(item)
        if link["a"] == link["b"]:
            raise ScenarioError(f"'{where}[{i}]': a link needs two different nodes")
        out.append(link)
    return out


def _check_topology(topo: dict[str, Any]) -> int:
    kind = topo.setdefault("kind", "random")
    needs = {"random": ("nodes",), "line": ("nodes",), "grid": ("rows", "cols"),
             "links": ("links",), "positions": ("positions",)}[kind]
    for key in needs:
        if key not in topo:
            raise ScenarioError(f"'topology.{key}' is required for kind = \"{kind}\"")
    if "links" in topo:
        topo["links"] = _links(topo["links"], "topology.links")
    n = node_count(topo)
    if n > MAX_NODES:
        raise ScenarioError(f"'topology': {n} nodes, at most {MAX_NODES}")
    refs: list[tuple[str, int]] = []
    for link in topo.get("links", []):
        refs += [("topology.links", link["a"]), ("topology.links", link["b"])]
    for key in ("relays", "routers", "mutes"):
        if isinstance(topo.get(key), list):
            refs += [(f"topology.{key}", int(x)) for x in topo[key]]
    for node, _gain in topo.get("gain_db", []):
        if node != int(node):
            raise ScenarioError("'topology.gain_db': each item is [node, dB]")
        refs.append(("topology.gain_db", int(node)))
    for key, node in refs:
        if not 0 <= node < n:
            raise ScenarioError(f"'{key}': node {node} does not exist (nodes 0..{n - 1})")
    if kind == "random" and n > 1 and round(n * topo.get("avg_degree", 7) / 2) < n - 1:
        raise ScenarioError(f"'topology.avg_degree': a connected mesh of {n} nodes needs at "
                            f"least {2 * (n - 1) / n:.2f} (a tree)")
    return n


def _check_events(raw: list[Any], n: int) -> list[Event]:
    events = []
    for i, ev in enumerate(raw):
        where = f"events[{i}]"
        if not isinstance(ev, dict):
            raise ScenarioError(f"'{where}' must be a table")
        kind = ev.get("kind")
        if kind not in EVENTS:
            raise ScenarioError(f"'{where}.kind' must be one of {', '.join(sorted(EVENTS))}")
        if "at_h" not in ev:
            raise ScenarioError(f"'{where}.at_h' is required")
        args = checked({k: v for k, v in ev.items() if k not in ("kind", "at_h")}, EVENTS[kind],
                       where)
        at = checked({"at_h": ev["at_h"]}, {"at_h": num(0, 24 * 30)}, where)["at_h"]
        for key in ("node", "nodes", "side"):
            value = args.get(key)
            for node in value if isinstance(value, list) else [value] if key != "side" else []:
                if node is not None and not 0 <= node < n:
                    raise ScenarioError(f"'{where}.{key}': node {node} does not exist")
        events.append(Event(float(at) * 3600.0, kind, args))
    events.sort(key=lambda e: e.at_s)
    return events


def parse(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a decoded TOML document into a Scenario; ScenarioError names the key."""
    try:
        d = checked(data, TOP, "")
        topo = dict(d.get("topology", {}))
        n = _check_topology(topo)
        loss = dict(d.get("loss", {}))
        if loss.get("model", "none") != "none" and "p" not in loss:
            raise ScenarioError("'loss.p' is required unless loss.model is none")
        events = _check_events(d.get("events", []), n)
        mesh = dict(d.get("mesh", {}))
        if topo.get("routers") and "router_rebroadcast" not in mesh:
            mesh["router_rebroadcast"] = "ALL"
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    duty = d.get("duty_cycle_pct", 10.0)
    return Scenario(
        name=str(d.get("name", Path(source).stem)),
        description=str(d.get("description", "")),
        seed=int(d.get("seed", 1)),
        duration_s=float(d.get("duration_h", 1.0)) * 3600.0,
        preset=str(d.get("preset", "LONG_FAST")),
        duty_cycle_pct=float(duty) if duty else None,
        topology=topo,
        loss=loss,
        workload=dict(d.get("workload", {})),
        events=events,
        sync=dict(d.get("sync", {})),
        mesh=mesh,
        background=dict(d.get("background", {})),
        baseline_budget=str(d.get("baseline_budget", "share")),
        initial_records=int(d.get("initial_records", 0)),
        superseded_fraction=float(d.get("superseded_fraction", 0.0)),
        source=source,
    )
