"""A node's home: its data directory, key file and database, and the actions
the CLI (and later the daemon and TUI) perform on them.

Layout of a data directory (XDG data dir by default, or MESHAID_HOME), which
nobody but its owner (and, in the shared setgid layout of deploy/install.sh,
its group) may read:
  key.ed25519   32-byte Ed25519 seed, mode 0600
  ledger.db     the SQLite store (WAL mode), mode 0600

`init` builds the database under a temporary name and moves it into place only
when the node is complete, so an interrupted init leaves at most a key and a
hidden temporary file, and running init again just works.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import actions
from .ledger import identity
from .ledger import records as r
from .store import Store, StoreError, admin, check

KEY_FILE = "key.ed25519"
DB_FILE = "ledger.db"


def default_data_dir() -> Path:
    """MESHAID_HOME if set, else the XDG user data dir for meshaid."""
    env = os.environ.get("MESHAID_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("meshaid", appauthor=False))


RECOVER = ("recover with 'meshaid restore BACKUP' (a file from 'meshaid backup'), or "
           "'meshaid init --reset --join CODE' and then 'meshaid import BUNDLE' from another node")


@dataclass
class Home:
    path: Path

    @property
    def key_path(self) -> Path:
        return self.path / KEY_FILE

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    def exists(self) -> bool:
        return self.key_path.exists() and self.db_path.exists()

    def key(self) -> Ed25519PrivateKey:
        return identity.read_key_file(self.key_path)

    def writable(self) -> bool:
        """Can this process change the node (directory and database writable)?"""
        return os.access(self.path, os.W_OK) and (
            not self.db_path.exists() or os.access(self.db_path, os.W_OK))

    def open_store(self, readonly: bool = False) -> Store:
        """Open this node's store. Refuses, with a message saying how to recover, a
        database that is missing, empty, truncated or damaged (it is never treated
        as a new node), and a write when the data directory is read-only. A read
        (`readonly`) in a read-only directory opens the database read-only."""
        if not self.db_path.exists():
            if self.key_path.exists():
                raise StoreError(f"{self.path} has a key but no {DB_FILE}: run 'meshaid init "
                                 "--join CODE' (or --new-network NAME) to create it with this key")
            raise StoreError(f"no node at {self.path}; run 'meshaid init' first")
        problem = check.probe(self.db_path)
        if problem:
            raise StoreError(f"{self.db_path} {problem}; nothing was changed; "
                             + (self._disk_hint() if check.disk_trouble(problem) else RECOVER))
        writable = self.writable()
        if not readonly and not writable:
            raise StoreError(f"{self.path} is read-only, and this command changes the ledger "
                             "(list, show, whoami, members and export still work)")
        try:
            return Store.open(self.db_path, readonly=not writable)
        except sqlite3.DatabaseError as exc:
            if check.disk_trouble(str(exc)):
                raise StoreError(f"{self.db_path} cannot be read or written ({exc}); "
                                 f"nothing was changed; {self._disk_hint()}") from None
            raise StoreError(f"{self.db_path} is damaged ({exc}); {RECOVER}") from None

    def _disk_hint(self) -> str:
        return (f"the disk may be full or failing (df -h {self.path}): free some space "
                "and try again; the ledger itself is not damaged, do not reset it")

    def shared(self) -> bool:
        """Is the data directory setgid: the layout deploy/install.sh makes, where
        the daemon and the members of one group use the node?"""
        try:
            return bool(self.path.stat().st_mode & stat.S_ISGID)
        except OSError:
            return False

    def warnings(self) -> list[str]:
        """Problems worth a warning on every command: a key file others can read,
        a database everybody can read.

        In a setgid data directory (the shared layout deploy/install.sh makes:
        the daemon and the members of one group post with the node's key) the
        group may read both; nobody else ever should."""
        out = []
        shared = self.shared()
        try:
            mode = self.key_path.stat().st_mode
        except OSError:
            mode = 0
        if stat.S_ISREG(mode) and mode & (0o007 if shared else 0o077):
            out.append(f"{self.key_path} can be read by other users (mode {mode & 0o777:o}); "
                       f"run: chmod {'660' if shared else '600'} {self.key_path}")
        try:
            mode = self.db_path.stat().st_mode
        except OSError:
            mode = 0
        if mode & 0o007 and os.access(self.db_path, os.W_OK):
            out.append(f"{self.db_path} can be read by every user (mode {mode & 0o777:o}); "
                       f"run: chmod o-rwx {self.db_path}")
        return out

    # ------------------------------------------------------------ creation

    def create(
        self,
        *,
        name: str,
        site: str,
        role: int,
        new_network: str | None = None,
        join: str | None = None,
        key: Ed25519PrivateKey | None = None,
        now: float | None = None,
        reset: bool = False,
    ) -> Store:
        """Create the database and either a new network's charter or the
        expectation of an existing network's id (a typo in the code is refused).
        Uses the key already here (restored from paper, or left by an interrupted
        init) and then marks it restored, so it never reuses a seq; otherwise makes
        a new key. Refuses an existing database unless `reset`, which moves it
        aside (see `reset`) first."""
        code = identity.parse_network_code(join) if join else None
        if self.db_path.exists() or Path(f"{self.db_path}-wal").exists():
            if not reset:
                raise StoreError(f"a node already exists at {self.path} (to start it over, "
                                 "keeping the old ledger as a backup: meshaid init --reset ...)")
            self.reset()
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._close_to_others()
        restored = key is None and self.key_path.exists()
        if not restored:
            identity.write_key_file(self.key_path, key or identity.generate_key())
        tmp = self.path / f".{DB_FILE}.init-{secrets.token_hex(4)}"
        self._create_private(tmp)
        try:
            store = Store.open(tmp)
            try:
                if restored:
                    admin.mark_restored(store, identity.public_bytes(self.key()))
                with store.write():
                    store.set_meta("my_name", name)
                    store.set_meta("my_site", site)
                    store.set_meta("my_role", str(role))
                    if new_network is None and code is not None:
                        store.expect_network(code)
                if new_network is not None:
                    store.found_network(self.key(), r.Charter(new_network), now)
                self.ensure_hello(store, now)
                store.db.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            finally:
                store.close()
            self._move_into_place(tmp)
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{tmp}{suffix}")
        return Store.open(self.db_path)

    def _close_to_others(self) -> None:
        """Take away what others may do in the data directory, if it is ours."""
        with contextlib.suppress(OSError):
            info = self.path.stat()
            if info.st_uid == os.geteuid() and info.st_mode & 0o007:
                os.chmod(self.path, stat.S_IMODE(info.st_mode) & ~0o007)

    def _create_private(self, path: Path) -> None:
        """Create an empty file for a database, readable by the owner only (and the
        group in a shared setgid directory), never through a planted link."""
        mode = 0o660 if self.shared() else 0o600
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        os.fchmod(fd, mode)  # whatever the umask
        os.close(fd)

    def _move_into_place(self, tmp: Path) -> None:
        """The finished database becomes ledger.db, unless one appeared meanwhile."""
        try:
            os.link(tmp, self.db_path, follow_symlinks=False)
        except FileExistsError:
            raise StoreError(f"a node appeared at {self.path} meanwhile; nothing was "
                             "changed") from None
        except OSError:  # no hard links (a FAT stick): a rename, after a last look
            if os.path.lexists(self.db_path):
                raise StoreError(f"a node appeared at {self.path} meanwhile") from None
            os.replace(tmp, self.db_path)
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def reset(self) -> Path | None:
        """Move the database (and its WAL files) aside as ledger.db.before-reset-STAMP,
        keeping the key; return the backup's path (None if there was no database)."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path / f"{DB_FILE}.before-reset-{stamp}"
        n = 1
        while aside.exists():
            n += 1
            aside = self.path / f"{DB_FILE}.before-reset-{stamp}-{n}"
        moved = None
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.db_path}{suffix}")
            if src.exists():
                src.rename(Path(f"{aside}{suffix}"))
                moved = aside
        return moved

    def ensure_hello(self, store: Store, now: float | None = None) -> r.Record | None:
        """Sign this node's hello once the network's charter is known and whenever
        name, site or role changed. Returns the new hello, if any."""
        return actions.ensure_hello(store, self.key(), now)


def now_s() -> float:
    return time.time()
