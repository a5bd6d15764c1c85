"""Online backups of a node's database, and restoring one.

A backup is made with SQLite's backup API from a read connection, so the
daemon, the TUI and the CLI keep working while it runs and the copy is a
consistent snapshot (never a file copy of a database in WAL mode, which can
miss what still sits in the write-ahead log). It is written to a temporary
file, checked with `PRAGMA integrity_check`, then renamed into place, so a
power cut leaves either the old set of backups or the new one.

Backups are named `ledger-YYYYmmddTHHMMSSZ.db`; `prune` keeps the newest N of
this node's (each backup notes the key of the node it was made of: several
nodes may share a backup directory; one nobody marked is never pruned).
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from .store import StoreError

NAME = re.compile(r"^ledger-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")
PAGES_PER_STEP = 256  # copy this many pages, then let writers in


@dataclass(frozen=True)
class Backup:
    path: Path
    records: int
    bytes: int


def _check(conn: sqlite3.Connection, what: str) -> int:
    """Integrity-check an open database and return its record count."""
    try:
        (verdict,) = conn.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise StoreError(f"{what} is damaged: {verdict}")
        return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{what} is not a meshaid database ({exc})") from None


def _fresh_name(directory: Path, wall: float) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(wall))
    path = directory / f"ledger-{stamp}.db"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"ledger-{stamp}-{n}.db"
    return path


def exclusive_temp(target: Path, mode: int = 0o600) -> Path:
    """Create an empty temporary file next to `target`, under a fresh random name,
    exclusively and never through a symlink planted there; return its path."""
    for _ in range(8):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name next to {target}")


OWNER = "backup_of"  # meta key: the public key (hex) of the node a backup was made of


def make(db_path: Path, directory: Path, *, wall: float | None = None,
         owner: str | None = None) -> Backup:
    """Copy the live database at `db_path` into `directory` as a new, checked
    backup, marked as `owner`'s (its key, hex) so that pruning takes only those."""
    if not db_path.is_file():
        raise StoreError(f"no database at {db_path}")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as exc:
        raise StoreError(f"cannot create {directory}: {exc.strerror}") from None
    target = _fresh_name(directory, time.time() if wall is None else wall)
    try:
        tmp = exclusive_temp(target, 0o640)
    except OSError as exc:
        raise StoreError(f"cannot write in {directory}: {exc.strerror or exc}") from None
    source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        dest = sqlite3.connect(str(tmp))
        try:
            source.backup(dest, pages=PAGES_PER_STEP)
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            if owner is not None:
                with dest:
                    dest.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                 (OWNER, owner))
            records = _check(dest, "the new backup")
        finally:
            dest.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        tmp.replace(target)
        _fsync_dir(directory)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup of {db_path} failed: {exc}") from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        source.close()
    return Backup(target, records, target.stat().st_size)


def existing(directory: Path) -> list[Path]:
    """The backups in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if NAME.match(p.name) and p.is_file()]

    def key(p: Path) -> tuple[str, int]:
        m = NAME.match(p.name)
        assert m is not None
        return m.group(1), int(m.group(2) or 1)

    return sorted(found, key=key)


def owner_of(path: Path) -> str | None:
    """The node a backup was made of (`make`'s owner), or None if unmarked or
    unreadable."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (OWNER,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def prune(directory: Path, keep: int, owner: str | None = None) -> list[Path]:
    """Delete all but the newest `keep` backups (with `owner`, of that node only:
    several nodes may back up into one directory, and a backup nobody marked is
    never taken for ours); return what was deleted."""
    if keep < 1:
        raise StoreError("keep at least one backup")
    mine = [p for p in existing(directory) if owner is None or owner_of(p) == owner]
    old = mine[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def restore(backup_path: Path, db_path: Path, *, wall: float | None = None) -> Path | None:
    """Replace the database at `db_path` with a checked copy of `backup_path`.

    The current database (with its -wal and -shm files) is moved aside to
    `ledger.db.before-restore-STAMP` rather than deleted; its path is returned
    (None when there was none). Stop the daemon first: a process that still
    holds the old file open would keep writing to the moved copy.
    """
    if not backup_path.is_file():
        raise StoreError(f"no backup at {backup_path}")
    try:
        probe = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
        try:
            _check(probe, str(backup_path))
        finally:
            probe.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{backup_path} cannot be read: {exc}") from None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if wall is None else wall))
    aside: Path | None = None
    try:
        tmp = exclusive_temp(db_path, stat.S_IMODE(db_path.stat().st_mode) if db_path.exists()
                             else 0o600)
    except OSError as exc:
        raise StoreError(f"restore into {db_path} failed: {exc.strerror or exc}") from None
    try:
        src = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
        dest = sqlite3.connect(str(tmp))
        try:
            src.backup(dest)
        finally:
            src.close()
            dest.close()
        if db_path.exists():
            aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
            db_path.replace(aside)
            for suffix in ("-wal", "-shm"):
                extra = db_path.with_name(db_path.name + suffix)
                if extra.exists():
                    extra.replace(aside.with_name(aside.name + suffix))
        tmp.replace(db_path)
        _fsync_dir(db_path.parent)
    except (sqlite3.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"restore into {db_path} failed: {exc}") from None
    return aside


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
