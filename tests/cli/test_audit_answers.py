"""Cases an outside review of issues 6 and 11 found through the CLI: each one a
clear answer where there was a silent wrong, a loop or a missing fact.

- a zero duration with a unit ('0m') signed a record that never expires;
- a second vouch by the same steward for the same key signed a record that
  changes nothing (a voucher counts once);
- a bundle given up on at an enormous line did not say what was stored;
- `key import -` took '-' for the backup instead of reading stdin;
- `check` on a database SQLite reads only in part sent people to `check`;
- a pledge's second line in `list` was one column off."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from cli_helpers import (
    code_of,
    counts,
    found,
    key_of,
    listing,
    meshaid,
    meshaid_batch,
    ok,
    one_line_error,
)

from meshaid.node.ledger import identity


def test_zero_durations_are_refused_not_taken_for_never(port: Path) -> None:
    need_id = next(row["id"] for row in listing(port) if row["kind"] == "need")
    water = ["post", "need", "water", "--category", "water"]
    cases = [
        [*water, "--valid-for", "0m"],
        [*water, "--valid-for", "0d"],
        ["post", "offer", "drills", "--category", "machining", "--valid-for", "0w"],
        ["pledge", need_id, "--qty", "1", "--by", "0h"],
        ["update", need_id, "--renew", "0m"],
    ]
    before = counts(port)
    for args, proc in zip(cases, meshaid_batch([(port, args) for args in cases])):
        assert "is zero" in one_line_error(proc, 2), args
    assert counts(port) == before


def test_a_second_vouch_by_the_same_steward_is_refused(tmp_path: Path) -> None:
    anna, bo, stick = tmp_path / "anna", tmp_path / "bo", tmp_path / "stick"
    found(anna)
    setup = meshaid_batch([
        (anna, ["export", str(stick)]),
        (bo, ["init", "--join", code_of(anna), "--name", "Bo"]),
        (bo, ["import", str(stick)]),
        (bo, ["export", str(stick), "--force"]),
        (anna, ["import", str(stick)]),
        (anna, ["post", "need", "rice", "--qty", "5", "--category", "food"]),
    ])
    assert all(proc.returncode == 0 for proc in setup), [p.stderr for p in setup]
    need_id = setup[-1].stdout.split()[1]
    bo_id = identity.short_id(key_of(bo)).hex()
    first, again, by_name, steward, steward_again, pledge, board = meshaid_batch([
        (anna, ["vouch", bo_id]),
        (anna, ["vouch", bo_id]),
        (anna, ["vouch", "BO"]),
        (anna, ["vouch", bo_id, "--steward"]),
        (anna, ["vouch", bo_id, "--steward"]),
        (anna, ["pledge", need_id, "--qty", "2"]),
        (anna, ["list"]),
    ])
    assert first.returncode == 0 and bo_id in first.stdout
    vouch_id = first.stdout.split()[1]
    for proc in (again, by_name):
        line = one_line_error(proc, 1)
        assert "already vouched" in line and vouch_id in line and "--steward" in line
    assert steward.returncode == 0, steward.stderr
    assert "already" in one_line_error(steward_again, 1)

    # the list: a pledge (no category) keeps its second line in the column
    assert pledge.returncode == 0, pledge.stderr
    lines = board.stdout.splitlines()
    indents = {len(line) - len(line.lstrip(" ")) for line in lines[1::2]}
    assert len(indents) == 1, lines
    assert any(line.lstrip().startswith("@ ") for line in lines[1::2]), lines


def test_a_bundle_given_up_on_says_what_was_stored(port: Path, tmp_path: Path) -> None:
    stick = tmp_path / "stick"
    ok(port, "export", str(stick))
    lines = stick.read_text().splitlines()
    hostile = tmp_path / "hostile.bundle"
    hostile.write_text("\n".join([*lines, "!!not base64", "X" * (1 << 21), *lines[1:]]) + "\n")
    before = counts(port)
    line = one_line_error(meshaid(port, "import", str(hostile)), 1)
    assert f"line {len(lines) + 2} is over" in line and "stopped there" in line, line
    assert f"duplicate {len(lines) - 1}" in line and "rejected 1" in line, line
    assert counts(port) == before


def test_key_import_dash_reads_stdin(port: Path, tmp_path: Path) -> None:
    paper = identity.paper_backup(identity.read_key_file(port / "key.ed25519"))
    again = tmp_path / "again"
    proc = meshaid(again, "key", "import", "-", stdin=paper + "\n")
    assert proc.returncode == 0, proc.stderr
    assert key_of(again) == key_of(port)


def test_check_on_a_database_read_only_in_part_says_how_to_recover(port: Path,
                                                                   tmp_path: Path) -> None:
    home = tmp_path / "node"
    shutil.copytree(port, home)
    db = home / "ledger.db"
    data = bytearray(db.read_bytes())
    assert len(data) > 4096 * 12
    noise = random.Random(6).randbytes(4096 * 6)
    data[4096 * 4:4096 * 10] = noise  # inner pages: the header still reads
    db.write_bytes(bytes(data))
    proc = meshaid(home, "check")
    assert "the ledger is damaged" in one_line_error(proc, 1)
    assert "run 'meshaid check'" not in proc.stderr
    assert "is damaged" in proc.stdout and "to recover with 'meshaid restore" in proc.stdout


def test_a_key_admitted_before_its_hello_is_revoked_by_the_id_members_shows(
        tmp_path: Path) -> None:
    """`members` lists a key a vouch admitted before its hello came by its id;
    `revoke` (a stolen radio's key, say) and `vouch` found no key by that id."""
    anna = tmp_path / "anna"
    found(anna)
    stranger = identity.public_bytes(identity.generate_key())
    short = identity.short_id(stranger).hex()
    vouched, listed, steward, revoked, after = meshaid_batch([
        (anna, ["vouch", stranger.hex()]),
        (anna, ["members"]),
        (anna, ["vouch", short, "--steward"]),
        (anna, ["revoke", short, "--reason", "stolen radio"]),
        (anna, ["members", "--json"]),
    ])
    assert vouched.returncode == 0, vouched.stderr
    assert any(line.startswith(short) and "member" in line
               for line in listed.stdout.splitlines()), listed.stdout
    assert steward.returncode == 0 and short in steward.stdout, steward.stderr
    assert revoked.returncode == 0 and short in revoked.stdout, revoked.stderr
    row = next(m for m in json.loads(after.stdout) if m["key"] == stranger.hex())
    assert row["status"].startswith("revoked")
