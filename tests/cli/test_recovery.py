"""Recovery that never loses a node (issue 6), through the real CLI: paper-key
restore without a fork, export that never overwrites, damaged databases
reported instead of replaced, mistyped network codes, starting over without
rm -rf, read-only data directories, `meshaid check`."""

from __future__ import annotations

import ctypes
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import (
    _cmd,
    _env,
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

from meshaid.node.ledger import seqspace


def seqs(rows: list[dict]) -> list[int]:
    return sorted(int(row["id"].split("-")[1]) for row in rows)


def test_a_restored_paper_key_never_reuses_a_seq(tmp_path: Path) -> None:
    anna, bo, again = tmp_path / "anna", tmp_path / "bo", tmp_path / "again"
    stick, old, lost = tmp_path / "stick", tmp_path / "old", tmp_path / "lost"
    found(anna)
    code = code_of(anna)
    ok(anna, "export", str(stick))
    ok(bo, "init", "--join", code, "--name", "Bo")
    ok(bo, "import", str(stick))
    ok(bo, "post", "need", "first", "--category", "water")
    ok(bo, "export", str(old))  # the newest bundle the restored key will see
    ok(bo, "post", "need", "second", "--category", "water")
    ok(bo, "post", "need", "third", "--category", "water")
    ok(bo, "export", str(lost))  # what the lost node signed after it
    paper = ok(bo, "key", "export").strip()
    highest_lost = max(seqs(listing(bo)))

    # restore into an empty directory: key import, join, an old bundle
    assert "restored" in ok(again, "key", "import", paper)
    ok(again, "init", "--join", code, "--name", "Bo")
    assert ok(again, "import", str(old)).startswith("accepted 4,")
    ok(again, "post", "need", "w" * 72, "--category", "water", "--site", "s" * 24,
       "--lat", "-33.5", "--lon", "151.25", "--qty", str((1 << 28) - 1), "--unit", "L",
       "--urgency", "critical", "--valid-for", "1456d")
    ok(again, "post", "need", "after", "--category", "water")
    restored = seqs(listing(again))
    new = [s for s in restored if s > 2]
    assert len(new) == 2 and min(new) > highest_lost
    assert min(new) >= seqspace.restore_floor(0, highest_lost)
    assert new[1] == new[0] + 1  # the jump is taken once
    assert key_of(again) == key_of(bo)

    # the other node hears both the lost node's records and the restored ones: no fork
    ok(again, "export", str(stick), "--force")
    ok(anna, "import", str(lost))
    ok(anna, "import", str(stick))
    rows = [row for row in listing(anna) if row["author"] == key_of(bo).hex()]
    assert len(rows) == 5 and not any(row["forked"] for row in rows)
    assert not any(m["forked"] for m in json.loads(ok(anna, "members", "--json")))


def test_restoring_an_old_backup_jumps_too(tmp_path: Path) -> None:
    home, backups = tmp_path / "node", tmp_path / "backups"
    found(home)
    ok(home, "backup", str(backups))
    ok(home, "post", "need", "lost with the disk", "--category", "water")
    before = max(seqs(listing(home)))
    backup = next(backups.glob("ledger-*.db"))
    ok(home, "restore", str(backup), "--yes")
    ok(home, "post", "need", "after the restore", "--category", "water")
    assert max(seqs(listing(home))) > before + 1


def test_export_never_overwrites(port: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_text("precious")
    link = tmp_path / "link.bundle"
    link.symlink_to(port / "ledger.db")
    db_before = (port / "ledger.db").read_bytes()
    key_before = (port / "key.ed25519").read_bytes()
    results = meshaid_batch([
        (port, ["export", str(mine)]),
        (port, ["export", str(port / "ledger.db")]),
        (port, ["export", str(port / "ledger.db"), "--force"]),
        (port, ["export", str(port / "key.ed25519"), "--force"]),
        (port, ["export", str(link), "--force"]),
        (port, ["export", str(tmp_path)]),
    ])
    assert "--force" in one_line_error(results[0], 1)
    for proc in results[1:5]:
        assert "never writes over it" in one_line_error(proc, 1)
    assert "directory" in one_line_error(results[5], 2)
    assert mine.read_text() == "precious"
    assert (port / "key.ed25519").read_bytes() == key_before
    assert (port / "ledger.db").read_bytes() == db_before
    assert "exported 4 records" in ok(port, "export", str(mine), "--force")
    assert mine.read_text().startswith("meshaid-bundle 1 ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.bundle", "mine.txt"]  # no temp


def damaged(home: Path, how: str) -> None:
    db = home / "ledger.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    if how == "empty":
        db.write_bytes(b"")
    elif how == "truncated":
        db.write_bytes(db.read_bytes()[:4096 + 100])
    elif how == "overwritten":
        db.write_bytes(b"\x00" * 8192)


@pytest.mark.parametrize("how,message", [("empty", "is empty"), ("truncated", "truncated"),
                                         ("overwritten", "not a meshaid database")])
def test_a_damaged_database_is_reported_never_replaced(tmp_path: Path, how: str,
                                                       message: str) -> None:
    home, stick = tmp_path / "node", tmp_path / "stick"
    found(home)
    ok(home, "post", "need", "water", "--category", "water")
    code = code_of(home)
    ok(home, "export", str(stick))
    damaged(home, how)
    broken = (home / "ledger.db").read_bytes()
    listed, posted, checked = meshaid_batch([
        (home, ["list"]), (home, ["post", "need", "x", "--category", "water"]), (home, ["check"])])
    for proc in (listed, posted):
        line = one_line_error(proc, 1)
        assert message in line and "init --reset" in line
    assert message in checked.stdout and "meshaid restore" in checked.stdout
    assert checked.returncode == 1
    assert (home / "ledger.db").read_bytes() == broken  # nothing was changed
    # recover without rm -rf: start over keeping the broken file, import a bundle
    out = ok(home, "init", "--reset", "--join", code, "--name", "Anna")
    assert "kept as" in out
    backups = list(home.glob("ledger.db.before-reset-*"))
    assert [p.read_bytes() for p in backups if not p.name.endswith(("-wal", "-shm"))] == [broken]
    ok(home, "import", str(stick))
    assert [row["text"] for row in listing(home)] == ["water"]
    ok(home, "post", "need", "more water", "--category", "water")  # no fork with its past
    assert not any(row["forked"] for row in listing(home))


def test_a_mistyped_network_code_is_refused(port: Path, tmp_path: Path) -> None:
    code = code_of(port)
    i = 6
    typo = code[:i] + ("0" if code[i] != "0" else "1") + code[i + 1:]
    swap = code[:1] + code[2] + code[1] + code[3:] if code[1] != code[2] else typo
    fresh = tmp_path / "fresh"
    results = meshaid_batch([(fresh, ["init", "--join", typo, "--name", "Bo"]),
                             (fresh, ["init", "--join", swap, "--name", "Bo"])])
    for proc in results:
        assert "typo" in one_line_error(proc, 1)
    assert not fresh.exists()


def test_a_node_on_the_wrong_network_starts_over_without_rm(port: Path, tmp_path: Path) -> None:
    other, home, stick = tmp_path / "other", tmp_path / "node", tmp_path / "stick"
    found(other, "Elsewhere", "Eve")
    ok(home, "init", "--join", code_of(other), "--name", "Bo")
    key = key_of(home)
    ok(other, "export", str(stick))
    ok(home, "import", str(stick))
    assert "already exists" in one_line_error(
        meshaid(home, "init", "--join", code_of(port), "--name", "Bo"), 1)
    ok(home, "init", "--reset", "--join", code_of(port), "--name", "Bo")
    assert key_of(home) == key
    assert json.loads(ok(home, "whoami", "--json"))["network"] == code_of(port)
    assert any(p.name.startswith("ledger.db.before-reset-") for p in home.iterdir())


def test_a_reset_with_a_bad_name_moves_nothing(port: Path) -> None:
    """The name and site were checked after the reset had moved the ledger aside:
    a name too long left the node with no ledger (its board gone from every
    command) until someone found the file set aside."""
    before = counts(port)
    for args in (["--name", "x" * 400], ["--site", "y" * 400], ["--role", "pilot"]):
        proc = meshaid(port, "init", "--reset", "--new-network", "Again", *args)
        assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1, args
    assert not any(p.name.startswith("ledger.db.before-reset-") for p in port.iterdir())
    assert counts(port) == before


def _drop_file_capabilities() -> None:
    """In the child, before exec: root without the capabilities that bypass file
    permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER), so a
    read-only directory is read-only for it too."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def read_only_node(tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    """A node whose directory the test's commands cannot write (by its mode; when
    the tests run as root, the commands run without root's file capabilities)."""
    home = tmp_path / "node"
    found(home)
    ok(home, "post", "need", "water", "--category", "water")
    run_as: dict = {"preexec_fn": _drop_file_capabilities} if os.geteuid() == 0 else {}
    for path in home.iterdir():
        path.chmod(0o400)
    home.chmod(0o500)
    yield home, run_as
    home.chmod(0o700)


def test_a_read_only_data_dir_still_reads(read_only_node: tuple[Path, dict]) -> None:
    home, run_as = read_only_node
    out = home.parent / "out.bundle"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(_cmd(home, args), capture_output=True, text=True,
                              env=_env(None), timeout=60, check=False, **run_as)

    for args in (["list"], ["show", json.loads(run("list", "--json").stdout)[0]["id"]],
                 ["whoami"], ["members"], ["export", str(out)]):
        proc = run(*args)
        assert proc.returncode == 0 and not proc.stderr, (args, proc.stderr)
    assert out.read_text().startswith("meshaid-bundle")
    for args in (["post", "need", "x", "--category", "water"], ["import", str(out)],
                 ["init", "--reset", "--new-network", "X"]):
        assert "read-only" in one_line_error(run(*args), 1), args


def test_a_key_file_readable_by_others_warns(port: Path) -> None:
    key = port / "key.ed25519"
    key.chmod(0o644)
    try:
        proc = meshaid(port, "whoami")
    finally:
        key.chmod(0o600)
    assert proc.returncode == 0
    assert "chmod 600" in proc.stderr and "warning" in proc.stderr
    assert "warning" not in meshaid(port, "whoami").stderr


def test_a_group_readable_key_in_a_shared_setgid_dir_is_fine(port: Path) -> None:
    key = port / "key.ed25519"
    port.chmod(0o2770)  # the layout of deploy/install.sh: daemon and group share the node
    key.chmod(0o640)
    try:
        assert "warning" not in meshaid(port, "whoami").stderr
        key.chmod(0o644)  # readable by everyone: still a warning
        assert "warning" in meshaid(port, "whoami").stderr
    finally:
        key.chmod(0o600)
        port.chmod(0o700)


def test_check_rebuilds_derived_state_and_finds_bad_signatures(tmp_path: Path) -> None:
    home = tmp_path / "node"
    found(home)
    ok(home, "post", "need", "water", "--qty", "7", "--category", "water")
    assert "the ledger is sound" in ok(home, "check")
    conn = sqlite3.connect(home / "ledger.db")
    with conn:
        conn.execute("UPDATE objects SET qty = 0, trust = 'quarantine'")
        conn.execute("DELETE FROM keys")
    conn.close()
    out = ok(home, "check")
    assert "1 objects rows repaired" in out and "keys rows repaired" in out
    assert [(row["qty"], row["trust"]) for row in listing(home)] == [(7, "trusted")]
    conn = sqlite3.connect(home / "ledger.db")
    with conn:
        raw = conn.execute("SELECT raw FROM records WHERE kind = 2").fetchone()[0]
        conn.execute("UPDATE records SET raw = ? WHERE kind = 2",
                     [raw[:-1] + bytes([raw[-1] ^ 1])])
    conn.close()
    proc = meshaid(home, "check")
    assert "1 BAD" in proc.stdout and "bad signature" in proc.stdout
    assert "damaged" in one_line_error(proc, 1)
    assert counts(home)["records"] == 3
