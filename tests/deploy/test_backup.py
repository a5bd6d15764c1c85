"""Backups made while the ledger is in use, pruning, the bundle beside them,
and the documented restore, through the real CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from meshaid.node.store import backup as b


def meshaid(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshaid.node.cli", "--data-dir", str(home),
                           *args], capture_output=True, text=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)


def texts(home: Path) -> set[str]:
    proc = meshaid(home, "list", "--json")
    assert proc.returncode == 0, proc.stderr
    return {row["text"] for row in json.loads(proc.stdout)}


def test_backup_restore_round_trip(tmp_path: Path) -> None:
    node, backups = tmp_path / "node", tmp_path / "backups"
    assert meshaid(node, "init", "--new-network", "Port", "--name", "Anna").returncode == 0
    assert meshaid(node, "post", "need", "water", "--category", "water").returncode == 0
    # A reader holds the database open while the backup runs (the TUI, the daemon).
    reader = sqlite3.connect(node / "ledger.db")
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM records").fetchone()
    made = meshaid(node, "backup", str(backups), "--bundle")
    reader.rollback()
    reader.close()
    assert made.returncode == 0, made.stderr
    (copy,) = b.existing(backups)
    assert copy.with_suffix(".bundle").read_text().startswith("meshaid-bundle 1 ")
    assert oct(copy.stat().st_mode)[-3:] == "640"

    assert meshaid(node, "post", "need", "diesel", "--category", "energy").returncode == 0
    assert texts(node) == {"water", "diesel"}
    refused = meshaid(node, "restore", str(copy))
    assert refused.returncode == 1 and "--yes" in refused.stderr
    done = meshaid(node, "restore", "--yes", str(copy))
    assert done.returncode == 0, done.stderr
    assert texts(node) == {"water"}
    asides = list(node.glob("ledger.db.before-restore-*"))
    assert [p for p in asides if not p.name.endswith(("-wal", "-shm"))], "old ledger kept"
    # The node still works after a restore, and the bundle imports on a fresh node.
    assert meshaid(node, "post", "need", "bread", "--category", "food").returncode == 0
    other = tmp_path / "other"
    code = json.loads(meshaid(node, "whoami", "--json").stdout)["network"]
    assert meshaid(other, "init", "--join", code, "--name", "Bo").returncode == 0
    imported = meshaid(other, "import", str(copy.with_suffix(".bundle")))
    assert imported.returncode == 0, imported.stderr
    assert "water" in texts(other)


def test_keep_prunes_oldest_and_their_bundles(tmp_path: Path) -> None:
    node, backups = tmp_path / "node", tmp_path / "backups"
    assert meshaid(node, "init", "--new-network", "Port", "--name", "Anna").returncode == 0
    for _ in range(3):
        proc = meshaid(node, "backup", str(backups), "--keep", "2", "--bundle")
        assert proc.returncode == 0, proc.stderr
    kept = b.existing(backups)
    assert len(kept) == 2
    assert sorted(p.name for p in backups.iterdir()) == sorted(
        [p.name for p in kept] + [p.with_suffix(".bundle").name for p in kept])


def test_restore_refuses_damaged_or_foreign_files(tmp_path: Path) -> None:
    node = tmp_path / "node"
    assert meshaid(node, "init", "--new-network", "Port", "--name", "Anna").returncode == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    proc = meshaid(node, "restore", "--yes", str(junk))
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    missing = meshaid(node, "restore", "--yes", str(tmp_path / "nope.db"))
    assert missing.returncode == 1 and "no backup" in missing.stderr
    assert meshaid(node, "list").returncode == 0  # the ledger is untouched


def test_backup_of_a_missing_node_is_one_line(tmp_path: Path) -> None:
    proc = meshaid(tmp_path / "nothing", "backup", str(tmp_path / "b"))
    assert proc.returncode == 1 and "no database" in proc.stderr


def test_pruning_takes_only_this_nodes_backups(tmp_path: Path) -> None:
    """Finding (an outside audit of the CLI): two nodes backing up into one
    directory, `backup --keep 1` on one removed the other's backups too. Each
    backup now notes the key of the node it was made of; pruning takes only
    those, and never a backup nobody marked."""
    shared = tmp_path / "shared"
    homes = [tmp_path / "a", tmp_path / "b"]
    for i, home in enumerate(homes):
        init = meshaid(home, "init", "--new-network", f"Net{i}", "--name", f"N{i}")
        assert init.returncode == 0, init.stderr
    stranger = shared / "ledger-20200101T000000Z.db"  # made by an older meshaid: unmarked
    shared.mkdir()
    sqlite3.connect(stranger).close()
    for home in (homes[1], homes[1], homes[0], homes[0]):
        made = meshaid(home, "backup", str(shared), "--keep", "1")
        assert made.returncode == 0, made.stderr
    left = sorted(p.name for p in shared.glob("ledger-*.db"))
    owners = {b.owner_of(shared / name) for name in left}
    assert len(left) == 3 and stranger.name in left  # one of a's, one of b's, the stranger
    assert len(owners - {None}) == 2


def test_restore_refuses_another_nodes_backup_or_another_network(tmp_path: Path) -> None:
    """Finding (an outside audit of the CLI): restore put another node's ledger,
    of another network, in place without a word; the node then had a name and a
    network not its own and could not post."""
    anna, cara = tmp_path / "anna", tmp_path / "cara"
    assert meshaid(anna, "init", "--new-network", "Port", "--name", "Anna").returncode == 0
    assert meshaid(cara, "init", "--new-network", "Hill", "--name", "Cara").returncode == 0
    assert meshaid(anna, "backup", str(tmp_path / "bk")).returncode == 0
    (made,) = b.existing(tmp_path / "bk")
    other_net = meshaid(cara, "restore", "--yes", str(anna / "ledger.db"))
    assert other_net.returncode == 1 and "network" in other_net.stderr
    assert len(other_net.stderr.splitlines()) == 1
    other_node = meshaid(cara, "restore", "--yes", str(made))
    assert other_node.returncode == 1 and "backup of another node" in other_node.stderr
    assert "Cara" in meshaid(cara, "whoami").stdout  # untouched
    assert meshaid(anna, "restore", "--yes", str(made)).returncode == 0
