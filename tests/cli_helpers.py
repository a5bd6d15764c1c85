"""Running the real `meshaid` command line in tests: as a subprocess, several at
once, or many argvs through the real entry point in one interpreter; and the
facts a test can read from a node's files itself.

Each run costs a Python start-up, so independent commands run side by side
(`meshaid_many`) and facts the test can compute itself (a node's key, its
network code) are read from its files rather than asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from meshaid.node.ledger import identity
from meshaid.node.store import Store

Run = subprocess.CompletedProcess


def _env(env_home: Path | None) -> dict[str, str]:
    """MESHAID_HOME is `env_home` if given, else a directory no test creates."""
    env = dict(os.environ)
    env.pop("MESHAID_DEBUG", None)
    env["MESHAID_HOME"] = str(env_home or Path(os.environ["MESHAID_HOME"]) / "unused")
    return env


def _cmd(home: Path | None, args: list[str] | tuple[str, ...]) -> list[str]:
    cmd = [sys.executable, "-m", "meshaid.node.cli"]
    if home is not None:
        cmd += ["--data-dir", str(home)]
    return [*cmd, *args]


def meshaid(home: Path | None, *args: str, stdin: str | None = None,
            env_home: Path | None = None) -> Run[str]:
    """Run `python -m meshaid.node.cli [--data-dir HOME] ARGS`."""
    return subprocess.run(_cmd(home, args), capture_output=True, text=True, input=stdin,
                          env=_env(env_home), timeout=60, check=False)


def meshaid_many(calls: list[tuple[Path | None, list[str]]]) -> list[Run[str]]:
    """Run independent commands at the same time."""
    procs = [
        subprocess.Popen(_cmd(home, args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True, env=_env(None))
        for home, args in calls
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        done.append(Run(proc.args, proc.returncode, out, err))
    return done


# Runs the real entry point once per argv inside one fresh interpreter, for the
# many checks of one-line errors and help texts, which would otherwise pay a
# Python start-up each. Anything escaping main() crashes it with a traceback.
# Each argv comes with a wall clock (unix seconds) or None for the real one:
# time.time is patched before meshaid is imported, so every default clock reads it.
_BATCH = """
import contextlib, io, json, sys, time
real, clock = time.time, [None]
time.time = lambda: real() if clock[0] is None else clock[0]
from meshaid.node.cli.main import main
results = []
for at, argv in json.load(sys.stdin):
    clock[0] = at
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (exc.code is not None)
    results.append([int(code), out.getvalue(), err.getvalue()])
json.dump(results, sys.stdout)
"""


def meshaid_batch(calls: list[tuple[Path | None, list[str]]],
                  at: list[float] | None = None) -> list[Run[str]]:
    """Like `meshaid_many`, but every command runs in one interpreter; with
    `at`, command i sees the wall clock at[i] (fixed dates, never today's)."""
    argvs = [_cmd(home, args)[3:] for home, args in calls]
    clocks: list[float | None] = list(at) if at is not None else [None] * len(argvs)
    proc = subprocess.run([sys.executable, "-c", _BATCH],
                          input=json.dumps([list(pair) for pair in zip(clocks, argvs)]),
                          capture_output=True, text=True, env=_env(None), timeout=120,
                          check=False)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return [Run(["meshaid", *argv], code, out, err)
            for argv, (code, out, err) in zip(argvs, json.loads(proc.stdout))]


def ok(home: Path | None, *args: str, **kw: object) -> str:
    proc = meshaid(home, *args, **kw)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc.stdout


def one_line_error(proc: Run[str], code: int) -> str:
    """The promise for every failure: exit `code`, one line on stderr, no traceback."""
    assert proc.returncode == code, (proc.args, proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, (proc.args, proc.stderr)
    assert lines[0].startswith("meshaid: ")
    return lines[0]


def listing(home: Path, *args: str) -> list[dict]:
    return json.loads(ok(home, "list", "--json", *args))


def listings(*homes: Path) -> list[list[dict]]:
    results = meshaid_many([(home, ["list", "--json"]) for home in homes])
    for proc in results:
        assert proc.returncode == 0, proc.stderr
    return [json.loads(proc.stdout) for proc in results]


def key_of(home: Path) -> bytes:
    return identity.public_bytes(identity.read_key_file(home / "key.ed25519"))


def code_of(home: Path) -> str:
    store = Store.open(home / "ledger.db")
    try:
        return str(store.network_code)
    finally:
        store.close()


def counts(home: Path) -> dict[str, int]:
    store = Store.open(home / "ledger.db")
    try:
        return {t: store.count(t) for t in ("records", "held", "objects")}
    finally:
        store.close()


def found(home: Path, name: str = "Port", who: str = "Anna") -> None:
    ok(home, "init", "--new-network", name, "--name", who, "--site", "Pier 3 clinic")
