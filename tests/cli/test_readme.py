"""The README's "Use" section works as written, right after its install command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def use_block() -> str:
    text = README.read_text("utf-8")
    section = text[text.index("## Use\n"):]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match
    return match.group(1)


def test_the_use_section_runs_as_written(tmp_path: Path) -> None:
    script = use_block()
    assert script.startswith(". .venv/bin/activate\n")
    # the venv of this test run stands in for the README's .venv; the scratch
    # paths move into tmp_path
    venv = Path(sys.executable).parent.parent
    script = script.replace("/tmp/", f"{tmp_path}/")  # first: the venv itself may be in /tmp
    script = script.replace(". .venv/bin/activate", f". {venv}/bin/activate")
    env = dict(os.environ)
    env.pop("MESHAID_HOME", None)
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "drinking water" in proc.stdout and "fulfilled" in proc.stdout
    assert "40 pcs/day" in proc.stdout
    assert "the ledger is sound" in proc.stdout
    assert (tmp_path / "meshaid-try" / "ledger.db").exists()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    text = README.read_text("utf-8")
    section = text[text.index("**2. Install and run the tests:**"):]
    match = re.search(r"```sh\n(.*?)\n```", section, re.DOTALL)
    assert match
    ci = (README.parent / ".ci" / "run").read_text("utf-8").strip().splitlines()
    assert ci[-1] == match.group(1).strip()
    assert match.group(1).startswith("sh deploy/test-setup.sh && ")
