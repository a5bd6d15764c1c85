"""The meshaid command line, run as a real subprocess: the walkthrough of the
issue's "done when", bundles that must be refused, usage errors, key backup,
and help texts."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

from cli_helpers import (
    code_of,
    counts,
    found,
    key_of,
    listing,
    listings,
    meshaid,
    meshaid_batch,
    meshaid_many,
    ok,
    one_line_error,
)

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
from meshaid.node.store import Store

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
    assert "exported 3 records" in ok(one, "export", str(stick), "--force")
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
    ok(two, "export", str(stick), "--force")
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
    ok(one, "export", str(stick), "--force")
    ok(two, "import", str(stick))
    first, second = listings(one, two)
    assert second == first

    # 4. the steward revokes Bo: his records after the cut are quarantined, earlier ones stay
    ok(one, "revoke", bo_short, "--reason", "stolen radio")
    ok(two, "post", "offer", "more brackets", "--category", "sheet-metal")
    ok(two, "export", str(stick), "--force")
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
    ok(one, "export", str(stick), "--force")
    lines = stick.read_text().splitlines()
    raws = [base64.b64decode(line) for line in lines[1:]]
    index = next(i for i, raw in enumerate(raws) if codec.parse(raw).kind is r.Kind.NEED)
    damaged = bytearray(raws[index])
    damaged[len(damaged) - 3] ^= 0x20  # inside the need's signature (its text travels coded)
    lines[1 + index] = base64.b64encode(bytes(damaged)).decode()
    stick.write_text("\n".join(lines) + "\n")

    ok(two, "init", "--join", code_of(one), "--name", "Bo")
    proc = meshaid(two, "import", str(stick), "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    line_no = index + 2  # the header is line 1
    assert (report["accepted"], report["rejected"]) == (len(raws) - 1, 1)
    assert {reason: (entry["count"], entry["first_line"])
            for reason, entry in report["reasons"].items()} == {"bad-signature": (1, line_no)}
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
    assert f"rejected 1 x bad-signature, first at line {line_no}" in proc.stdout
    # a flipped byte in the author's short id makes an author nobody knows: a
    # record that cannot be from this bundle, so refused too, and not kept aside
    damaged = bytearray(raws[index])
    damaged[2] ^= 0x01
    lines[1 + index] = base64.b64encode(bytes(damaged)).decode()
    stick.write_text("\n".join(lines) + "\n")
    proc = meshaid(two, "import", str(stick))
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"accepted 0, duplicate {len(raws) - 1}, held 0, rejected 1")
    assert f"rejected 1 x unknown-author, first at line {line_no}" in proc.stdout
    assert counts(two) == {"records": 3, "held": 0, "objects": 0}
    # the intact record still goes in later: the damaged copies left no trace
    ok(one, "export", str(stick), "--force")
    assert ok(two, "import", str(stick)).startswith("accepted 1,")
    assert [row["kind"] for row in listing(two)] == ["need"]


def test_a_line_that_is_not_base64_is_reported(port: Path, tmp_path: Path) -> None:
    stick = tmp_path / "stick.bundle"
    ok(port, "export", str(stick), "--force")
    stick.write_text(stick.read_text() + "@@@ not base64 @@@\n")
    proc = meshaid(port, "import", str(stick))
    assert proc.returncode == 1
    assert "rejected 1 x bad-encoding, first at line 6" in proc.stdout


def test_a_bundle_for_another_network_is_refused_whole(port: Path, tmp_path: Path) -> None:
    other, joiner, stick = tmp_path / "other", tmp_path / "joiner", tmp_path / "other.bundle"
    found(other, "Elsewhere", "Eve")
    ok(other, "export", str(stick), "--force")
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
    ["show", "not-an-id"],
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
    ok(port, "export", str(stick), "--force")
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
