"""`Store`: open a node's database, ingest records, author local records.

Ingest promise: `ingest(raw)` is atomic and idempotent (`ingest_many` and
`ingest_stream`, stream.py: each record is). It answers
`accepted` (verified and stored, derived state updated), `duplicate` (these
exact bytes are already stored), `held` (well-formed but its author's key or
the network's charter is not known yet; kept aside and retried when they
arrive) or `rejected` with a reason (nothing of it is stored).

Sharing: the daemon, the TUI and the CLI open the same file at once. Every
write runs in `Store.write()`, which takes SQLite's write lock before its first
statement (BEGIN IMMEDIATE) and waits for it, so a writer is never refused for
having read a snapshot that another writer outdated. Long imports commit in
batches, so a concurrent writer waits milliseconds. What a Store caches (known
keys, the network id, the clock, whether anything is held) follows `PRAGMA
data_version`: when another connection committed, the caches are reloaded and
held records whose hello or charter arrived meanwhile are retried.

Clocks: the store stamps with its own wall clock `wall()` (unix seconds,
injectable); it never sees the sync engine's monotonic timer clock.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from ..ledger import hlc, identity
from ..ledger import records as r
from . import derive, feed, meshclock
from .authoring import Authoring
from .errors import Outcome, StoreError, parse_record_id, record_id
from .feed import Change, Heard
from .ingest import RxInfo
from .schema import get_meta, migrate, needs_migration, put_meta
from .sqlconst import CHARTER, HELLO, REVOKE, VOUCH
from .stream import Streaming

LOCK_WAIT_S = 30.0  # a writer waits this long for the write lock, then fails
BUSY_MS = 30_000  # other statements (WAL recovery, checkpoints) wait this long
CACHE_KIB = 32_768  # page cache per connection: the hot indexes of 100,000 records
CHECKPOINT_PAGES = 10_000  # WAL pages (about 40 MB) before a checkpoint
STATEMENTS = 256  # compiled statements kept per connection (batch look-ups: sqlconst.padded)

__all__ = ["Change", "Heard", "Outcome", "Store", "StoreError", "parse_record_id", "record_id"]


def _connect_ro(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_MS / 1000, isolation_level=None,
                           cached_statements=STATEMENTS)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


class Store(Streaming, Authoring):
    """One node's ledger database. Not thread-safe: one Store per thread."""

    def __init__(self, db: Database, *, wall: Callable[[], float] = time.time,
                 readonly: bool = False, slim: bool = False) -> None:
        self.db = db
        # A slim store is a simulated node's private in-memory database
        # (node/sim/world.py): it keeps only what the sync engine reads (no
        # objects rows for the board, search and totals, no first-heard rows)
        # and never waits for a lock no other connection can hold.
        self.slim = slim
        self.wall = wall
        self.readonly = readonly
        self._depth = 0  # write() nesting
        self._version: int | None = None  # data_version the caches reflect
        self._held_maybe: bool | None = None  # None: look at the held table
        self._retry_due = False
        self._checks = None
        self._present: set[bytes] = set()
        self._looked_up: set[bytes] = set()
        self._stores = 0
        self._tombs: set[bytes] = set()
        self._derive = derive.Batch(db, board=not slim)
        self._newest: dict[bytes, int] = {}
        self._newest_dirty = False
        conn = db.conn
        if conn.in_transaction:
            conn.commit()
        conn.isolation_level = None  # transactions are ours: see write()
        if readonly:
            if needs_migration(db):
                raise StoreError("this database was written by an older meshaid; "
                                 "open it once with write access to upgrade it")
        else:
            with self.write(follow=False):
                if needs_migration(db):
                    migrate(db)
        self._keys: dict[bytes, list[bytes]] = {}
        self._network: bytes | None = None
        self.clock = hlc.Clock(0)
        self.released: list[r.Record] = []
        self.generation = 0  # bumped whenever the caches were reloaded
        self._follow()

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False,
             wall: Callable[[], float] = time.time) -> Store:
        """Open (creating if needed, unless `readonly`) the database at `path`, or
        ':memory:'. `wall` is the store's wall clock (unix seconds)."""
        if str(path) == ":memory:":
            conn = sqlite3.connect(":memory:", isolation_level=None, cached_statements=STATEMENTS)
        elif readonly:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            try:
                conn = _connect_ro(uri)
            except sqlite3.Error as exc:
                # A WAL database in a directory this process cannot write has no
                # shared-memory index to open; nobody can be writing it through
                # this directory's permissions, so read it as immutable.
                try:
                    conn = _connect_ro(uri + "&immutable=1")
                except sqlite3.Error:
                    raise StoreError(f"cannot read {path}: {exc}") from None
        else:
            conn = sqlite3.connect(str(path), timeout=BUSY_MS / 1000, isolation_level=None,
                                   cached_statements=STATEMENTS)
        db = Database(conn)
        if str(path) != ":memory:" and not readonly:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = wal")
            db.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint less often: a long import rewrites its hot index pages
            # once per checkpoint, not once per 1,000 pages of log.
            db.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        db.execute("PRAGMA foreign_keys = ON")
        return cls(db, wall=wall, readonly=readonly)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ transactions

    @contextmanager
    def write(self, *, follow: bool = True) -> Iterator[None]:
        """Run the block as one write transaction, all or nothing. It holds the
        write lock from its first statement on (waiting up to LOCK_WAIT_S for
        another writer), so it never fails for a concurrent commit. Caches are
        brought up to date first. Nested blocks become savepoints."""
        if self.readonly:
            raise StoreError("this node's database is open read-only; nothing can be changed")
        conn = self.db.conn
        if self._depth:
            self._depth += 1
            name = f"w{self._depth}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                self._present.clear()  # may list what was rolled back
                self._looked_up.clear()
                self._derive.forget()
                raise
            else:
                conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            if follow:
                self._follow()
                if self._retry_due:
                    self._retry_due = False
                    self._retry_others(self.wall())
                    self._derive.flush()  # the block starts with nothing pending
            yield
            self._derive.flush()  # derived work deferred to the end of the transaction
            if self._newest_dirty:
                meshclock.save(self.db, self._newest)
                self._newest_dirty = False
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._version = None  # caches may hold what was rolled back: reload
            self._held_maybe = None
            self._derive = derive.Batch(self.db, board=not self.slim)
            self._newest_dirty = False  # reloaded from the meta table by _follow
            raise
        finally:
            self._depth = 0
            self._finish_batch()

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, retried every few milliseconds until LOCK_WAIT_S: SQLite's
        own busy handler sleeps up to 100 ms between tries, which lets a long
        import starve a waiting writer between its batches."""
        conn = self.db.conn
        if self.slim:  # private: no other connection ever holds the lock
            conn.execute("BEGIN IMMEDIATE")
            return
        deadline = time.monotonic() + LOCK_WAIT_S
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    text = str(exc)
                    if "locked" not in text and "busy" not in text:
                        if "readonly" in text.replace(" ", "") or "read-only" in text:
                            raise StoreError("this node's database is read-only; "
                                             "nothing can be changed") from None
                        raise
                    if time.monotonic() > deadline:
                        raise StoreError("the database stayed locked by another meshaid "
                                         f"process for {LOCK_WAIT_S:.0f} s; try again") from None
                    time.sleep(random.uniform(0.0005, 0.003))
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")

    def data_version(self) -> int:
        """Cheap: changes whenever another connection committed to this database."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def refresh(self) -> None:
        """Bring the caches up to date with what other connections committed."""
        if not self.db.conn.in_transaction:
            self._follow()

    def _follow(self) -> None:
        if self.slim and self._version is not None:
            return  # private: no other connection ever commits to it
        version = self.data_version()
        if version == self._version:
            return
        self._version = version
        self.generation += 1
        self._keys = {}
        for key, short in self.db.execute("SELECT key, short FROM keys").fetchall():
            self._keys.setdefault(bytes(short), []).append(bytes(key))
        net = self.meta("network_id")
        self._network = bytes.fromhex(net) if net else None
        # The clock resumes from the last value signed here and from mesh time
        # (node/store/meshclock.py), never from an outlier or a non-member's record.
        last = int(self.meta("hlc_last") or 0)
        self._newest = meshclock.load(self.db)
        self.clock.last = max(self.clock.last, last, meshclock.mesh_hlc(self._newest))
        self._held_maybe = None
        self._derive.invalidate()
        self._retry_due = True  # another process may have stored what held rows wait for

    # ------------------------------------------------------------ settings

    @property
    def network(self) -> bytes | None:
        """This node's network id, once its charter is stored (by any process)."""
        if self._network is None:
            self.refresh()
        return self._network

    def meta(self, key: str) -> str | None:
        return get_meta(self.db, key)

    def set_meta(self, key: str, value: str) -> None:
        with self.write():
            put_meta(self.db, key, value)

    def expect_network(self, code: str) -> None:
        """Accept only the charter whose network code is `code`."""
        self.set_meta("expect_code", identity.normalize_code(code))

    @property
    def network_code(self) -> str | None:
        return identity.network_code(self.network) if self.network else self.meta("expect_code")

    def charter_raw(self) -> bytes | None:
        row = self.db.execute(f"SELECT raw FROM records WHERE kind = {CHARTER} LIMIT 1").fetchone()
        return None if row is None else row[0]

    # ------------------------------------------------------------ ingest

    def ingest(self, raw: bytes, now: float | None = None,
               heard: RxInfo | None = None) -> Outcome:
        """Verify and store one record atomically. Never raises for bad bytes.
        `now` overrides the wall clock (unix seconds); `heard` is the radio
        metadata of the packet that brought it (kept if it is new)."""
        with self.write():
            stamp = self.wall() if now is None else now
            self._check_held()
            return self._ingest(bytes(raw), stamp, heard=heard)

    def has_forked(self, author: bytes) -> bool:
        """Whether a fork of `author` is stored, as of this connection's last
        transaction (cached: the forks table changes only with a fork stored)."""
        return self._derive.facts(author)[2]

    def take_released(self) -> list[r.Record]:
        """Records that left the held table (their author's hello or the charter
        arrived) since the last call: callers that mirror the record set need them."""
        out, self.released = self.released, []
        return out

    # ------------------------------------------------------------ reading

    def raw_records(self, kinds: Iterable[int] | None = None) -> Iterator[bytes]:
        """Every stored record in an order that ingests without holding:
        charter, hellos, vouches and revokes, then the rest by HLC."""
        order = (f"CASE kind WHEN {CHARTER} THEN 0 WHEN {HELLO} THEN 1 WHEN {VOUCH} THEN 2"
                 f" WHEN {REVOKE} THEN 2 ELSE 3 END")
        sql = f"SELECT raw FROM records ORDER BY {order}, hlc, id"
        if kinds is not None:
            wanted = ",".join(str(int(k)) for k in kinds)
            sql = f"SELECT raw FROM records WHERE kind IN ({wanted}) ORDER BY {order}, hlc, id"
        for (raw,) in self.db.execute(sql):
            yield raw

    # ------------------------------------------------------------ feed (feed.py)

    def last_cursor(self) -> int:
        """The change-feed cursor of the newest stored record (0: none)."""
        return feed.last_cursor(self.db)

    def changes(self, since: int, limit: int = 500) -> tuple[int, list[Change]]:
        """Records stored after cursor `since` (by any process), oldest first, at
        most `limit`; and the cursor to pass next time (`since` if none is new)."""
        return feed.changes(self.db, since, limit)

    def outbox(self) -> list[bytes]:
        """Raw records authored here that have not gone on air yet, oldest first."""
        return feed.outbox(self.db)

    def outbox_done(self, ids: Iterable[bytes]) -> None:
        """These records (8-byte ids, sha256(raw)[:8]) went on air: they leave the
        outbox. Ids that are not in it are ignored."""
        with self.write(follow=False):
            feed.outbox_done(self.db, ids)

    def heard(self, digest: bytes) -> Heard | None:
        """Where the record with this SHA-256 was first heard on the radio, if it was."""
        return feed.heard(self.db, digest)

    def save_budget(self, entries: Iterable[tuple[float, float]],
                    wall: float | None = None) -> None:
        """Persist the engine's air-time window: (age in seconds, air seconds)
        pairs as `Engine.budget_snapshot` gives them, aged from `wall` (default:
        the store's wall clock)."""
        with self.write(follow=False):
            feed.save_budget(self.db, entries, self.wall() if wall is None else wall)

    def load_budget(self) -> list[tuple[float, float]]:
        """The saved window as (age, air seconds), ages clamped to [0, 3600) by the
        store's wall clock, for `Engine.restore_budget`."""
        return feed.load_budget(self.db, self.wall())

    def count(self, table: str = "records") -> int:
        if table not in ("records", "objects", "held", "keys", "members", "outbox"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
