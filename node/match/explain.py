"""A match result as plain lines of text, for the CLI and the TUI alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _qty(row: dict[str, Any]) -> str:
    if not row.get("qty"):
        return ""
    per = f"/{row['per']}" if row.get("per") else ""
    return f"{row['qty']} {row['unit']}{per}".strip()


def _windows(windows: list[dict[str, Any]], unit: str) -> list[str]:
    out = []
    for i, w in enumerate(windows, 1):
        over = f", OVER-COMMITTED by {w['over_committed']}" if w["over_committed"] else ""
        cap = "open-ended" if w["capacity"] is None else f"{w['capacity']} {unit}"
        left = "" if w["remaining"] is None else f", {w['remaining']} left"
        out.append(f"window {i} {_when(w['start'])} to {_when(w['end'])}: {cap}, "
                   f"{w['pledged']} booked{left}{over}")
    return out


def _factors(entry: dict[str, Any]) -> list[str]:
    return [f"{f['factor']:<9}{f['value']:.2f} x {f['weight']:.2f}  {f['why']}"
            for f in entry["factors"]]


def _num(x: float) -> str:
    """A quantity as the factor lines write it: whole, or one decimal (15.9, not 15.92)."""
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def _chain(chain: dict[str, Any]) -> list[str]:
    head = "chain" if chain["complete"] else "chain (incomplete)"
    out = [f"{head}: {chain['why']}"]
    for i, link in enumerate(chain["links"], 1):
        if link["offer"] is None:
            out.append(f"  {i}. {link['step']}: {link['why']}")
            continue
        where = link["site"] or link["author_name"]
        amounts = ""
        if link["needed"] is not None and link["available"] is not None:
            amounts = (f"  needs {_num(link['needed'])} {link['unit']}, "
                       f"has {_num(link['available'])}")
        elif link["available"] is not None:
            amounts = f"  has {_num(link['available'])} {link['unit']}"
        mark = "  <- bottleneck" if link["step"] == chain["bottleneck"] else ""
        out.append(f"  {i}. {link['step']}: {link['offer']} {link['text']} @ {where}"
                   f"{amounts}{mark}")
        if link.get("inputs_missing"):
            out.append(f"     consumes {', '.join(link['inputs_missing'])}, "
                       "which no earlier link supplies")
        if link["alternatives"]:
            out.append(f"     or: {', '.join(link['alternatives'])}")
    return out


def lines(result: dict[str, Any]) -> list[str]:
    """The result of `match` as lines of at most about 100 columns."""
    kind = result["kind"]
    head = (f"{kind} {result['id']}: {result['text']} ({_qty(result) or 'no quantity'}) "
            f"@ {result['site'] or result['author_name']}")
    out = [head]
    if result.get("note"):
        out.append(f"note: {result['note']}")
    left = result["left_out"]
    skipped = ", ".join(f"{n} {why}" for why, n in left.items() if n)
    if kind == "need":
        out.append(f"remaining {result['remaining']} {result['unit']}; deadline "
                   f"{_when(result['deadline'])} ({result['deadline_from']}); "
                   f"{result['candidates']} offers considered"
                   + (f", left out: {skipped}" if skipped else ""))
        if result.get("chain"):
            out += _chain(result["chain"])
        rows, label = result["offers"], "offers"
    else:
        if result.get("windows"):
            out += _windows(result["windows"], result["unit"])
        elif "remaining" in result:
            over = (f", OVER-COMMITTED by {result['over_committed']}"
                    if result["over_committed"] else "")
            out.append(f"stock {result['remaining']} {result['unit']} left after "
                       f"{result['drawn']} drawn by pledges{over}")
        out.append(f"{result['candidates']} needs considered"
                   + (f", left out: {skipped}" if skipped else ""))
        rows, label = result["needs"], "needs"
    if not rows:
        out.append(f"no {label} match")
    for i, row in enumerate(rows, 1):
        step = f" [{row['step']}]" if row.get("step") else ""
        urgency = f" {row['urgency']}" if row.get("urgency") else ""
        out.append(f"{i:>2}. {row['score']:.3f} {row['id']}{urgency} {row['text']} "
                   f"({_qty(row) or '-'}) @ {row['site'] or row['author_name']}{step}")
        out += [f"      {line}" for line in _factors(row)]
        if row.get("windows"):
            out += [f"      {line}" for line in _windows(row["windows"], row["unit"])]
    return out
