"""`meshaid demo`: a scripted walkthrough of two sites sharing a ledger."""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import tempfile
from pathlib import Path

import click


def _run(home: Path, *args: str, capture: bool = False) -> str:
    """Run one meshaid command in-process, echoing it as a shell line."""
    from .main import cli

    click.secho(f"$ meshaid --data-dir {home.name} " + " ".join(shlex.quote(a) for a in args),
                fg="cyan")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf) if capture else contextlib.nullcontext():
        try:
            cli.main(args=["--data-dir", str(home), *args], prog_name="meshaid",
                     standalone_mode=False)
        except click.exceptions.Exit:
            pass
    return buf.getvalue()


@click.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Build the demo nodes in this directory and keep them.")
def demo(keep: Path | None) -> None:
    """Walk through two sites sharing needs and pledges by USB stick.

    \b
    Example:
      meshaid demo
    """
    with tempfile.TemporaryDirectory(prefix="meshaid-demo-") as tmp:
        base = keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        clinic, foundry, stick = base / "clinic", base / "foundry", base / "stick.bundle"
        click.secho("\n# The clinic founds the network and posts a critical need", bold=True)
        _run(clinic, "init", "--new-network", "Port", "--name", "Anna", "--site", "Pier 3 clinic")
        _run(clinic, "post", "need", "drinking water", "--qty", "200", "--unit", "L",
             "--category", "water", "--urgency", "critical")
        _run(clinic, "post", "need", "splints, aluminium", "--qty", "30", "--category", "health",
             "--urgency", "high")
        code = json.loads(_run(clinic, "whoami", "--json", capture=True))["network"]
        click.secho("\n# The foundry joins with the network id, read out over the fence", bold=True)
        _run(foundry, "init", "--join", code, "--name", "Bo", "--site", "Foundry")
        _run(clinic, "export", str(stick))
        _run(foundry, "import", str(stick))
        _run(foundry, "list")
        click.secho("\n# The foundry offers capacity and pledges; the stick goes back", bold=True)
        _run(foundry, "post", "offer", "cast + machined splint blanks", "--qty", "40",
             "--per", "day", "--type", "capacity", "--category", "casting")
        needs = json.loads(_run(foundry, "list", "--kind", "need", "--json", capture=True))
        splints = next(n["id"] for n in needs if n["text"].startswith("splints"))
        _run(foundry, "pledge", splints, "--qty", "20", "--by", "1d", "--text", "first batch")
        _run(foundry, "export", str(stick))
        _run(clinic, "import", str(stick))
        click.secho("\n# Until a steward vouches, the foundry's records are quarantined", bold=True)
        _run(clinic, "list")
        _run(clinic, "vouch", "Bo")
        _run(clinic, "show", splints)
        _run(clinic, "members")
        click.secho("\n# The same ledger over LoRa: 12 simulated sites sync for two hours", bold=True)
        _run(base, "bench", "--scenario", "ci-small", "--quiet")
        click.secho("\nDone. Every record above is signed; 'meshaid --help' lists the commands.",
                    bold=True)
