"""What a scenario file may contain: every key, its type and its range.

Theory of operation
-------------------
Each table of a scenario has a spec: key -> checker. A checker takes the value
and the key's full name ("topology.links[3]") and returns the value (converted
where harmless: an int where a float is wanted) or raises `ScenarioError`
naming the key. A key not in the spec is an error naming it, in every table
(including `[sync]`, checked against the engine's `SyncConfig` fields and the
baselines' settings). Nothing is coerced from a string: a string where a list
belongs is an error, not a list of characters.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable
from typing import Any

from ..sync.ports import SyncConfig
from .airtime import PRESETS

Checker = Callable[[Any, str], Any]


class ScenarioError(ValueError):
    """A scenario that cannot be run, with the reason."""


def num(lo: float | None = None, hi: float | None = None) -> Checker:
    def check(value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"'{key}' must be a number, not {_kind(value)}")
        if not math.isfinite(value):
            raise ScenarioError(f"'{key}' = {value} is not a finite number")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ScenarioError(f"'{key}' = {value} is out of range [{lo}, {hi}]")
        return float(value)
    return check


def integer(lo: int | None = None, hi: int | None = None) -> Checker:
    def check(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"'{key}' must be a whole number, not {_kind(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ScenarioError(f"'{key}' = {value} is out of range [{lo}, {hi}]")
        return value
    return check


def text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"'{key}' must be a string, not {_kind(value)}")
    return value


def flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"'{key}' must be true or false, not {_kind(value)}")
    return value


def choice(*options: str) -> Checker:
    def check(value: Any, key: str) -> str:
        if value not in options:
            raise ScenarioError(f"'{key}' must be one of {', '.join(options)} (got {value!r})")
        return str(value)
    return check


def list_of(item: Checker, min_len: int = 0, max_len: int | None = None) -> Checker:
    def check(value: Any, key: str) -> list[Any]:
        if not isinstance(value, list):
            raise ScenarioError(f"'{key}' must be a list, not {_kind(value)}")
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            size = f"{min_len}" + (f" to {max_len}" if max_len != min_len else "")
            raise ScenarioError(f"'{key}' must have {size} items, not {len(value)}")
        return [item(v, f"{key}[{i}]") for i, v in enumerate(value)]
    return check


def either(*checkers: Checker, what: str) -> Checker:
    def check(value: Any, key: str) -> Any:
        for c in checkers:
            try:
                return c(value, key)
            except ScenarioError:
                continue
        raise ScenarioError(f"'{key}' must be {what}, not {_kind(value)} {value!r}")
    return check


def table(spec: dict[str, Checker], required: tuple[str, ...] = ()) -> Checker:
    def check(value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ScenarioError(f"'{key}' must be a table, not {_kind(value)}")
        return checked(value, spec, key, required)
    return check


def checked(data: dict[str, Any], spec: dict[str, Checker], where: str,
            required: tuple[str, ...] = ()) -> dict[str, Any]:
    """`data` with every key checked against `spec` (unknown keys are errors)."""
    prefix = f"{where}." if where else ""
    unknown = sorted(set(data) - set(spec))
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(spec), n=1)
        hint = f" (known: {', '.join(sorted(spec))})" if len(spec) < 30 else \
            f" (did you mean '{prefix}{close[0]}'?)" if close else ""
        raise ScenarioError(f"unknown key '{prefix}{unknown[0]}'{hint}")
    for key in required:
        if key not in data:
            raise ScenarioError(f"'{prefix}{key}' is required")
    return {k: spec[k](v, prefix + k) for k, v in data.items()}


def _kind(value: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


NODE = integer(0, 9999)
NODES = list_of(NODE)
SELECTION = either(integer(0, 9999), num(0.0, 0.999), NODES,
                   what="a count, a fraction below 1 or a list of nodes")
PROB = num(0.0, 0.95)
LINK_TABLE = table({"a": NODE, "b": NODE, "snr_db": num(-30, 30), "rssi_dbm": num(-160, 0),
                    "loss": PROB, "mean_burst": num(1, 1000), "step_s": num(0.001, 86400),
                    "one_way": flag}, required=("a", "b", "snr_db"))
LINK = either(list_of(num(-160, 9999), 3, 5), LINK_TABLE,
              what="[a, b, snr_db], [a, b, snr_db, loss] or a table {a, b, snr_db, loss, ...}")

TOPOLOGY = {
    "kind": choice("random", "line", "grid", "links", "positions"),
    "nodes": integer(2, 1000),
    "avg_degree": num(1, 100),
    "rows": integer(1, 100),
    "cols": integer(1, 100),
    "diagonal": flag,
    "snr_db": num(-30, 30),
    "links": list_of(LINK, 1),
    "positions": list_of(list_of(num(-1e7, 1e7), 2, 2), 2, 1000),
    "path_loss_exponent": num(1.5, 6),
    "ref_loss_db": num(0, 120),
    "shadowing_db": num(0, 30),
    "tx_power_dbm": num(-10, 33),
    "noise_figure_db": num(0, 20),
    "gain_db": list_of(list_of(num(-30, 9999), 2, 2)),
    "relays": SELECTION,
    "routers": SELECTION,
    "mutes": NODES,
}
LOSS = {
    "model": choice("none", "bernoulli", "gilbert"),
    "p": PROB,
    "mean_burst": num(1, 1000),
    "step_s": num(0.001, 86400),
}
WORKLOAD = {
    "records_per_node_per_hour": num(0, 1000),
    "stop_fraction": num(0.01, 1),
    "critical_fraction": num(0, 1),
    "mix": table({k: num(0, 1000) for k in ("need", "offer", "pledge", "update")}),
}
MESH = {
    "hop_limit": integer(0, 7),
    "router_rebroadcast": choice("ALL", "LOCAL_ONLY", "KNOWN_ONLY", "NONE", "CORE_PORTNUMS_ONLY"),
    "queue": choice("wait", "drop"),
    "duty_mode": choice("firmware", "strict"),
    "packet_signatures": flag,
    "rate_limit_per_min": integer(0, 1000),
}
BACKGROUND = {
    "position_s": num(0, 86400),
    "telemetry_s": num(0, 86400),
    "nodeinfo_s": num(0, 86400),
}
# Settings the baselines read from SyncConfig.extra (see baselines.py).
BASELINE_SYNC = {"b0_period", "b2_period", "b2_full_every", "b2_batch", "b2_gap", "b2_repeat",
                 "baseline_backlog",
                 "b3_period", "b3_bits_per_id", "b3_answer_max", "b3_more", "b3_hops", "b3_adaptive",
                 "budget_share"}


def sync_spec() -> dict[str, Checker]:
    """Every SyncConfig field that a scenario may override, and the baselines' settings."""
    spec: dict[str, Checker] = {k: num(0, 1e9) for k in BASELINE_SYNC}
    spec["budget_share"] = num(0.01, 1)
    spec["b3_hops"] = integer(0, 7)
    spec["b3_adaptive"] = flag
    for f in dataclasses.fields(SyncConfig):
        if f.name in ("network_tag", "airtime", "extra"):
            continue
        default = getattr(SyncConfig(b"\0\0", lambda n: 0.0), f.name)
        if isinstance(default, bool):
            spec[f.name] = flag
        elif isinstance(default, int):
            spec[f.name] = integer(0, 10**9)
        elif isinstance(default, tuple):
            spec[f.name] = list_of(num(0, 1e9), len(default), len(default))
        else:
            spec[f.name] = num(0, 1e9)
    return spec


ONE_OR_MORE = {"node": NODE, "nodes": NODES}
EVENTS: dict[str, dict[str, Checker]] = {
    "post": {"node": NODE, "urgency": integer(0, 3), "mark": text},
    "burst": {"count": integer(1, 100000), "over_min": num(0, 100000), "nodes": NODES,
              "urgency": integer(0, 3)},
    "join": ONE_OR_MORE,
    "leave": ONE_OR_MORE,
    "return": ONE_OR_MORE,
    "partition": {"side": either(choice("half"), NODES, what='"half" or a list of nodes')},
    "heal": {},
    "skew": {"fraction": num(0, 1), "seconds": num(-1e9, 1e9)},
    "equivocate": {"node": NODE},
    "attacker": {"node": NODE, "mode": choice("junk", "forge", "spam"),
                 "rate_per_min": num(0.001, 6000), "until_h": num(0, 24 * 30)},
}

TOP = {
    "name": text,
    "description": text,
    "seed": integer(0, 2**62),
    "duration_h": num(0.01, 24 * 30),
    "preset": choice(*PRESETS),
    "duty_cycle_pct": num(0, 100),
    "initial_records": integer(0, 100_000),
    "superseded_fraction": num(0, 0.9),
    "baseline_budget": choice("share", "cap"),
    "topology": table(TOPOLOGY),
    "loss": table(LOSS),
    "workload": table(WORKLOAD),
    "sync": table(sync_spec()),
    "mesh": table(MESH),
    "background": table(BACKGROUND),
    "events": list_of(lambda v, k: v),  # each checked by its kind in scenario.parse
}
