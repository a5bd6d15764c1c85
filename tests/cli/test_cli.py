"""The meshaid command line, run as a real subprocess: the walkthrough of the
issue's "done when", bundles that must be refused, usage errors, key backup,
and help texts.

Each run costs a Python start-up, so independent commands run side by side
(`meshaid_many`) and facts the test can compute itself (a node's key, its
network code) are read from its files rather than asked for."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
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
_BATCH = """
import contextlib, io, json, sys
from meshaid.node.cli.main import main
results = []
for argv in json.load(sys.stdin):
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (exc.code is not None)
    results.append([int(code), out.getvalue(), err.getvalue()])
json.dump(results, sys.stdout)
"""


def meshaid_batch(calls: list[tuple[Path | None, list[str]]]) -> list[Run[str]]:
    """Like `meshaid_many`, but every command runs in one interpreter."""
    argvs = [_cmd(home, args)[3:] for home, args in calls]
    proc = subprocess.run([sys.executable, "-c", _BATCH], input=json.dumps(argvs),
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


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A founded node with one need and one offer, for commands that only read."""
    home = tmp_path_factory.mktemp("port") / "node"
    env_home = home.parent / "unused"
    ok(home, "init", "--new-network", "Port", "--name", "Anna", env_home=env_home)
    ok(home, "post", "need", "drinking water", "--qty", "9", "--category", "water",
       env_home=env_home)
    ok(home, "post", "offer", "bricks", "--category", "shelter", env_home=env_home)
    return home


# ------------------------------------------------------------------ walkthrough


def test_two_nodes_share_a_ledger_by_bundle(tmp_path: Path) -> None:
    one, two, stick = tmp_path / "clinic", tmp_path / "foundry", tmp_path / "stick.bundle"

    # 1. found a network, post a need, list it: signed by this node, trusted
    out = ok(one, "init", "--new-network", "Port", "--name", "Anna", "--site", "Pier 3 clinic")
    code = code_of(one)
    assert f"meshaid init --join {code}" in out
    assert stat.S_IMODE((one / "key.ed25519").stat().st_mode) == 0o600
    ok(one, "post", "need", "drinking water", "--qty", "200", "--unit", "L", "--category", "water",
       "--urgency", "critical", "--site", "Pier 3 clinic")
    anna = key_of(one)
    rows = listing(one)
    assert len(rows) == 1
    need = rows[0]
    assert need | {"kind": "need", "text": "drinking water", "qty": 200, "unit": "L",
                   "category": "water", "urgency": "critical", "site": "Pier 3 clinic",
                   "status": "open", "remaining": 200, "trust": "trusted",
                   "author": anna.hex()} == need
    assert need["id"] == f"{identity.short_id(anna).hex()}-3"  # charter 1, hello 2, need 3

    # 2. a second node joins by the network code and imports the bundle
    assert "exported 3 records" in ok(one, "export", str(stick))
    joined = ok(two, "init", "--join", code.lower().replace("-", ""), "--name", "Bo",
                "--site", "Foundry")
    assert f"waiting for the charter of network {code}" in joined
    assert ok(two, "import", str(stick)).startswith("accepted 3, duplicate 0, held 0, rejected 0")
    first, second = listings(one, two)
    assert second == first
    bo = key_of(two)
    bo_short = identity.short_id(bo).hex()
    me = json.loads(ok(two, "whoami", "--json"))
    assert (me["key"], me["network"], me["membership"]) == (bo.hex(), code, "not admitted")

    # 3. its hello travels back; the steward vouches; its records count on node 1
    ok(two, "post", "offer", "laser + brake, M6 brackets", "--qty", "40", "--per", "day",
       "--type", "capacity", "--category", "sheet-metal")
    ok(two, "pledge", need["id"], "--qty", "50", "--by", "4h", "--text", "water truck")
    ok(two, "export", str(stick))
    assert ok(one, "import", str(stick)).startswith("accepted 3, duplicate 3")  # hello+2
    quarantined = {row["kind"]: row for row in listing(one)}
    assert quarantined["offer"]["trust"] == quarantined["pledge"]["trust"] == "quarantine"
    assert quarantined["need"]["remaining"] == 200
    members = json.loads(ok(one, "members", "--json"))
    assert {m["name"]: m["status"] for m in members} == {"Anna": "steward", "Bo": "not admitted"}
    ok(one, "vouch", bo_short)
    trusted = {row["kind"]: row for row in listing(one)}
    assert trusted["offer"]["trust"] == trusted["pledge"]["trust"] == "trusted"
    assert trusted["offer"]["author"] == bo.hex()
    assert (trusted["need"]["remaining"], trusted["need"]["status"]) == (150, "partial")
    ok(one, "export", str(stick))
    ok(two, "import", str(stick))
    first, second = listings(one, two)
    assert second == first

    # 4. the steward revokes Bo: his records after the cut are quarantined, earlier ones stay
    ok(one, "revoke", bo_short, "--reason", "stolen radio")
    ok(two, "post", "offer", "more brackets", "--category", "sheet-metal")
    ok(two, "export", str(stick))
    ok(one, "import", str(stick))
    trust = {row["text"]: row["trust"] for row in listing(one)}
    assert trust == {"drinking water": "trusted", "laser + brake, M6 brackets": "trusted",
                     "water truck": "trusted", "more brackets": "quarantine"}
    assert not (Path(os.environ["MESHAID_HOME"]) / "unused").exists()


def test_update_commands(tmp_path: Path) -> None:
    home = tmp_path / "node"
    found(home)
    ok(home, "post", "need", "bread", "--qty", "50", "--category", "food", "--unit", "meal")
    need_id = f"{identity.short_id(key_of(home)).hex()}-3"
    ok(home, "update", need_id, "--qty", "40", "--note", "fewer people")
    ok(home, "pledge", need_id, "--qty", "40")
    shown = json.loads(ok(home, "show", need_id, "--json"))
    assert (shown["qty"], shown["note"], shown["status"]) == (40, "fewer people", "covered")
    assert [p["qty"] for p in shown["pledge_list"]] == [40]
    ok(home, "update", need_id, "--fulfil")
    assert listing(home, "--kind", "need")[0]["status"] == "fulfilled"
    ok(home, "update", need_id, "--withdraw")
    withdrawn, text, table = meshaid_many([(home, ["list", "--json", "--status", "withdrawn"]),
                                           (home, ["list", "--json", "--text", "bread"]),
                                           (home, ["show", need_id])])
    assert [row["id"] for row in json.loads(withdrawn.stdout)] == [need_id]
    assert [row["kind"] for row in json.loads(text.stdout)] == ["need"]
    assert "bread" in table.stdout and "withdrawn" in table.stdout


# ------------------------------------------------------------------ bundles refused


def test_a_bundle_with_one_flipped_byte_refuses_only_that_record(tmp_path: Path) -> None:
    one, two, stick = tmp_path / "one", tmp_path / "two", tmp_path / "stick.bundle"
    found(one)
    ok(one, "post", "need", "drinking water", "--qty", "200", "--unit", "L", "--category", "water")
    ok(one, "export", str(stick))
    lines = stick.read_text().splitlines()
    raws = [base64.b64decode(line) for line in lines[1:]]
    index = next(i for i, raw in enumerate(raws) if codec.parse(raw).kind is r.Kind.NEED)
    damaged = bytearray(raws[index])
    damaged[len(damaged) - r.SIG_LEN - 3] ^= 0x20  # inside the need's text
    lines[1 + index] = base64.b64encode(bytes(damaged)).decode()
    stick.write_text("\n".join(lines) + "\n")

    ok(two, "init", "--join", code_of(one), "--name", "Bo")
    proc = meshaid(two, "import", str(stick), "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    line_no = index + 2  # the header is line 1
    assert (report["accepted"], report["rejected"]) == (len(raws) - 1, 1)
    assert [(p["line"], p["reason"]) for p in report["problems"]] == [(line_no, "bad-signature")]
    # nothing of that record is stored; the others are
    store = Store.open(two / "ledger.db")
    assert store.db.execute("SELECT COUNT(*) FROM records WHERE raw = ?",
                            [bytes(damaged)]).fetchone()[0] == 0
    assert (store.count("records"), store.count("held"), store.count("objects")) == (3, 0, 0)
    store.close()
    # the plain report names the line and the reason
    proc = meshaid(two, "import", str(stick))
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"accepted 0, duplicate {len(raws) - 1}, held 0, rejected 1")
    assert f"line {line_no}: rejected: bad-signature" in proc.stdout
    # a flipped byte in the author's short id makes an author nobody knows: a
    # record that cannot be from this bundle, so refused too, and not kept aside
    damaged = bytearray(raws[index])
    damaged[2] ^= 0x01
    lines[1 + index] = base64.b64encode(bytes(damaged)).decode()
    stick.write_text("\n".join(lines) + "\n")
    proc = meshaid(two, "import", str(stick))
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"accepted 0, duplicate {len(raws) - 1}, held 0, rejected 1")
    assert f"line {line_no}: rejected: unknown-author" in proc.stdout
    assert counts(two) == {"records": 3, "held": 0, "objects": 0}
    # the intact record still goes in later: the damaged copies left no trace
    ok(one, "export", str(stick))
    assert ok(two, "import", str(stick)).startswith("accepted 1,")
    assert [row["kind"] for row in listing(two)] == ["need"]


def test_a_line_that_is_not_base64_is_reported(port: Path, tmp_path: Path) -> None:
    stick = tmp_path / "stick.bundle"
    ok(port, "export", str(stick))
    stick.write_text(stick.read_text() + "@@@ not base64 @@@\n")
    proc = meshaid(port, "import", str(stick))
    assert proc.returncode == 1
    assert "line 6: rejected: bad-encoding" in proc.stdout


def test_a_bundle_for_another_network_is_refused_whole(port: Path, tmp_path: Path) -> None:
    other, joiner, stick = tmp_path / "other", tmp_path / "joiner", tmp_path / "other.bundle"
    found(other, "Elsewhere", "Eve")
    ok(other, "export", str(stick))
    ok(joiner, "init", "--join", code_of(port))
    before = counts(port)
    at_port, at_joiner = meshaid_many([(port, ["import", str(stick)]),
                                       (joiner, ["import", str(stick)])])
    line = one_line_error(at_port, 1)
    assert code_of(other) in line and code_of(port) in line
    assert counts(port) == before
    assert "expects" in one_line_error(at_joiner, 1)
    assert counts(joiner) == {"records": 0, "held": 0, "objects": 0}


def test_unreadable_bundles_are_refused_in_one_line(port: Path, tmp_path: Path) -> None:
    cases = {"empty": "", "bad first line": "hello\n", "version": "meshaid-bundle 9 00\n",
             "malformed network id": "meshaid-bundle 1 abc\n"}
    paths = {}
    for match, content in cases.items():
        paths[match] = tmp_path / f"{len(paths)}.bundle"
        paths[match].write_text(content)
    paths["cannot read"] = tmp_path / "missing.bundle"
    results = meshaid_batch([(port, ["import", str(path)]) for path in paths.values()])
    for match, proc in zip(paths, results):
        assert match in one_line_error(proc, 1)


# ------------------------------------------------------------------ errors

USAGE_ERRORS = [
    [],
    ["init"],
    ["init", "--new-network", "Port", "--join", "ABCD-EFGH-JKMN"],
    ["post"],
    ["post", "need", "water"],
    ["post", "need", "water", "--category", "water", "--unit", "furlong"],
    ["post", "need", "water", "--category", "nonsense"],
    ["post", "need", "water", "--category", "water", "--urgency", "whenever"],
    ["post", "need", "water", "--category", "water", "--qty", "lots"],
    ["post", "need", "water", "--category", "water", "--qty", "-1"],
    ["post", "need", "water", "--category", "water", "--qty", str(1 << 28)],
    ["post", "need", "water", "--category", "water", "--valid-for", "soon"],
    ["post", "need", "water", "--category", "water", "--lat", "12"],
    ["post", "offer", "bricks", "--category", "shelter", "--per", "fortnight"],
    ["list", "--kind", "bogus"],
    ["list", "--limit", "0"],
    ["pledge"],
    ["pledge", "1a2b3c4d-3"],
    ["frobnicate"],
    ["update", "1a2b3c4d-3", "--fulfil", "--withdraw"],
    ["key", "export", "--bogus"],
]


def test_usage_errors_exit_2_with_one_line(port: Path) -> None:
    before = counts(port)
    results = meshaid_batch([(port, args) for args in USAGE_ERRORS])
    for args, proc in zip(USAGE_ERRORS, results):
        assert "--help" in one_line_error(proc, 2), args
    # the same promise from a process of its own
    for args, proc in zip(USAGE_ERRORS[1:3], meshaid_many([(port, a) for a in USAGE_ERRORS[1:3]])):
        assert "--help" in one_line_error(proc, 2), args
    assert counts(port) == before


def test_refused_input_exits_1_with_one_line(port: Path, tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    offer_id = next(row["id"] for row in listing(port) if row["kind"] == "offer")
    cases = [
        (nowhere, ["list"], "meshaid init"),
        (nowhere, ["init", "--join", "not-a-code"], "not 12 base32"),
        (port, ["init", "--new-network", "X"], "already exists"),
        (port, ["show", "00000000-1"], "no need"),
        (port, ["show", "not-an-id"], "record id"),
        (port, ["vouch", "nobody"], "no known key"),
        (port, ["pledge", offer_id, "--qty", "1"], "not a need"),
    ]
    before = counts(port)
    results = meshaid_batch([(home, args) for home, args, _ in cases])
    for (_, args, expected), proc in zip(cases, results):
        assert expected in one_line_error(proc, 1), args
    assert counts(port) == before
    assert not (nowhere / "key.ed25519").exists()


def test_only_the_author_can_update(port: Path, tmp_path: Path) -> None:
    other, stick = tmp_path / "other", tmp_path / "stick.bundle"
    offer_id = next(row["id"] for row in listing(port) if row["kind"] == "offer")
    ok(other, "init", "--join", code_of(port))
    ok(port, "export", str(stick))
    ok(other, "import", str(stick))
    assert "someone else" in one_line_error(meshaid(other, "update", offer_id, "--qty", "3"), 1)


def test_data_dir_comes_from_meshaid_home_unless_given(tmp_path: Path) -> None:
    from_env, from_option = tmp_path / "from-env", tmp_path / "from-option"
    ok(None, "init", "--new-network", "Port", env_home=from_env)
    assert (from_env / "key.ed25519").exists() and (from_env / "ledger.db").exists()
    # --data-dir wins over MESHAID_HOME: there is no node there
    assert "meshaid init" in one_line_error(meshaid(from_option, "whoami", env_home=from_env), 1)
    assert json.loads(ok(None, "whoami", "--json", env_home=from_env))["data_dir"] == str(from_env)


# ------------------------------------------------------------------ key backup


def test_key_export_then_import_restores_the_same_key(port: Path, tmp_path: Path) -> None:
    fresh, piped = tmp_path / "fresh", tmp_path / "piped"
    backup = ok(port, "key", "export").strip()
    assert identity.seed_bytes(identity.from_paper_backup(backup)) == (
        port / "key.ed25519").read_bytes()
    ok(fresh, "key", "import", backup)
    assert (fresh / "key.ed25519").read_bytes() == (port / "key.ed25519").read_bytes()
    assert stat.S_IMODE((fresh / "key.ed25519").stat().st_mode) == 0o600
    ok(piped, "key", "import", stdin=backup.lower().replace("-", " ") + "\n")
    assert (piped / "key.ed25519").read_bytes() == (port / "key.ed25519").read_bytes()
    exported, again = meshaid_many([(fresh, ["key", "export"]), (fresh, ["key", "import", backup])])
    assert exported.stdout.strip() == backup
    assert "already installed" in again.stdout
    other = identity.paper_backup(identity.key_from_seed(b"\x05" * 32))
    assert "--force" in one_line_error(meshaid(fresh, "key", "import", other), 1)
    ok(fresh, "key", "import", other, "--force")
    assert (fresh / "key.ed25519").read_bytes() == b"\x05" * 32


def test_a_mistyped_backup_is_refused(tmp_path: Path) -> None:
    backup = identity.paper_backup(identity.key_from_seed(b"\x05" * 32))
    typo = ("1" if backup[0] != "1" else "2") + backup[1:]
    fresh = tmp_path / "fresh"
    mistyped, short, export = meshaid_many([
        (fresh, ["key", "import", typo]),
        (fresh, ["key", "import", backup[:-5]]),
        (fresh, ["key", "export"]),
    ])
    assert "checksum" in one_line_error(mistyped, 1)
    assert "characters" in one_line_error(short, 1)
    assert "meshaid init" in one_line_error(export, 1)
    assert not (fresh / "key.ed25519").exists()


# ------------------------------------------------------------------ help


def all_commands() -> list[list[str]]:
    import click

    from meshaid.node.cli.main import cli

    found: list[list[str]] = [[]]

    def walk(group: click.Group, path: list[str]) -> None:
        for name, command in group.commands.items():
            found.append([*path, name])
            if isinstance(command, click.Group):
                walk(command, [*path, name])

    walk(cli, [])
    return found


def test_every_commands_help_has_an_example() -> None:
    commands = all_commands()
    names = {" ".join(c) for c in commands}
    assert {"init", "whoami", "post need", "post offer", "pledge", "update", "list", "show",
            "members", "vouch", "revoke", "export", "import", "key export",
            "key import"} <= names
    results = meshaid_batch([(None, [*c, "--help"]) for c in commands])
    for command, proc in zip(commands, results):
        assert proc.returncode == 0, (command, proc.stderr)
        assert "Example" in proc.stdout, command
        assert proc.stdout.startswith("Usage: meshaid"), command
