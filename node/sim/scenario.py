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

SHIPPED = Path(__file__).resolve().parent / "scenarios"
EVENT_KINDS = {"post", "burst", "join", "leave", "return", "partition", "heal", "skew",
               "equivocate", "attacker"}


class ScenarioError(ValueError):
    """A scenario that cannot be run, with the reason."""


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
    initial_records: int = 0
    superseded_fraction: float = 0.0
    source: str = ""


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.toml"))


def load(name_or_path: str) -> Scenario:
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = SHIPPED / f"{name_or_path}.toml"
        if not path.exists():
            raise ScenarioError(f"no scenario named {name_or_path!r}; shipped: "
                                + ", ".join(shipped_names()))
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    return parse(data, str(path))


def _num(d: dict[str, Any], key: str, default: float | None, where: str,
         lo: float | None = None, hi: float | None = None) -> float:
    value = d.get(key, default)
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{where}: '{key}' must be a number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ScenarioError(f"{where}: '{key}' = {value} is out of range [{lo}, {hi}]")
    return float(value)


def parse(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a decoded TOML document into a Scenario."""
    known = {"name", "description", "seed", "duration_h", "preset", "duty_cycle_pct", "topology",
             "loss", "workload", "events", "sync", "initial_records", "superseded_fraction"}
    unknown = set(data) - known
    if unknown:
        raise ScenarioError(f"{source}: unknown keys {sorted(unknown)}")
    topo = dict(data.get("topology", {}))
    kind = topo.get("kind", "random")
    if kind not in ("random", "line", "grid", "links"):
        raise ScenarioError(f"{source}: topology.kind must be random, line, grid or links")
    if kind in ("random", "line"):
        _num(topo, "nodes", None, f"{source} topology", 2, 1000)
    if kind == "random":
        _num(topo, "avg_degree", 7, f"{source} topology", 1, 100)
    if kind == "grid":
        _num(topo, "rows", None, f"{source} topology", 1, 100)
        _num(topo, "cols", None, f"{source} topology", 1, 100)
    if kind == "links" and not isinstance(topo.get("links"), list):
        raise ScenarioError(f"{source}: topology.links must be a list of [a, b, snr_db]")
    loss = dict(data.get("loss", {}))
    model = loss.get("model", "none")
    if model not in ("none", "bernoulli", "gilbert"):
        raise ScenarioError(f"{source}: loss.model must be none, bernoulli or gilbert")
    if model != "none":
        _num(loss, "p", None, f"{source} loss", 0, 0.95)
    workload = dict(data.get("workload", {}))
    _num(workload, "records_per_node_per_hour", 0, f"{source} workload", 0, 1000)
    events = []
    for i, ev in enumerate(data.get("events", [])):
        where = f"{source} events[{i}]"
        if not isinstance(ev, dict) or ev.get("kind") not in EVENT_KINDS:
            raise ScenarioError(f"{where}: kind must be one of {sorted(EVENT_KINDS)}")
        at = _num(ev, "at_h", None, where, 0)
        events.append(Event(at * 3600.0, ev["kind"], {k: v for k, v in ev.items()
                                                       if k not in ("kind", "at_h")}))
    events.sort(key=lambda e: e.at_s)
    duty = data.get("duty_cycle_pct", 10.0)
    if duty is not None and duty != 0:
        duty = _num(data, "duty_cycle_pct", None, source, 0.1, 100)
    return Scenario(
        name=str(data.get("name", Path(source).stem)),
        description=str(data.get("description", "")),
        seed=int(_num(data, "seed", 1, source, 0)),
        duration_s=_num(data, "duration_h", 1, source, 0.01, 24 * 30) * 3600.0,
        preset=str(data.get("preset", "LONG_FAST")),
        duty_cycle_pct=float(duty) if duty else None,
        topology=topo,
        loss=loss,
        workload=workload,
        events=events,
        sync=dict(data.get("sync", {})),
        initial_records=int(_num(data, "initial_records", 0, source, 0, 100_000)),
        superseded_fraction=_num(data, "superseded_fraction", 0.0, source, 0, 0.9),
        source=source,
    )
