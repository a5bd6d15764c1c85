"""Ingest: verify one record, store it and update derived state, or hold it.

Every function here runs inside a `Store.write()` transaction. Checks come
before the first write of a record, so a record is either stored with all its
derived state or not at all. A record whose author's hello (or the network's
charter) is not known yet is held and retried when that arrives, here or in
another process sharing the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol

from sqlite_utils import Database

from ..ledger import codec, hlc, identity
from ..ledger import records as r
from ..ledger.wire import DecodeError
from . import derive, gc, members, meshclock
from .checks import Checks
from .errors import Outcome
from .schema import get_meta, put_meta
from .sqlconst import CHARTER, HELLO

HELD_MAX = 10_000
# A single record's look-up: held already, and a tombstone under its id (gc.py)
_SEEN = ("SELECT EXISTS (SELECT 1 FROM records WHERE hash = ?1),"
         " EXISTS (SELECT 1 FROM collected WHERE id = ?2)")


class RxInfo(Protocol):
    """Radio metadata of the packet that brought a record (sync.ports.RxMeta)."""

    @property
    def sender(self) -> int: ...

    @property
    def snr(self) -> float: ...

    @property
    def rssi(self) -> float: ...

    @property
    def hops(self) -> int: ...


class Ingester:
    """The ingest half of `Store` (a mixin: `Store` owns the attributes)."""

    db: Database
    clock: hlc.Clock
    _keys: dict[bytes, list[bytes]]
    _network: bytes | None
    _held_maybe: bool | None
    _checks: Checks | None  # early work of the batch being stored (checks.py)
    _present: set[bytes]  # of the digests looked up for this batch, those stored
    _looked_up: set[bytes]
    _derive: derive.Batch
    released: list[r.Record]
    _newest: dict[bytes, int]  # meshclock: top trusted authors by newest clock value
    _newest_dirty: bool  # changed since it was last saved
    generation: int  # bumped whenever the caches were reloaded (Store)
    _stores: int  # records this Store inserted (so far)
    _tombs: set[bytes]  # 8-byte ids of the batch's records that have a tombstone (gc.py)
    slim: bool  # no objects or first-heard rows (Store)
    refresh: Callable[[], None]
    wall: Callable[[], float]

    def _finish_batch(self) -> None:
        if self._checks is not None:
            self._checks.cancel()
            self._checks = None
        self._derive.parsed = {}
        self._tombs = set()
        self._present.clear()
        self._looked_up.clear()
        self._derive.end()

    def _ingest(self, raw: bytes, now: float, local: bool = False,
                heard: RxInfo | None = None, digest: bytes | None = None) -> Outcome:
        if digest is None:
            digest = hashlib.sha256(raw).digest()
        gone = None  # collected here (node/store/gc.py)
        if digest in self._looked_up:
            if digest in self._present:
                return Outcome("duplicate")
            if digest[:8] in self._tombs:  # (a batch looked its ids up at once: _prepare)
                gone = gc.tombstoned(self.db, digest, raw)
        else:
            held, tomb = self.db.execute(_SEEN, [digest, digest[:8]]).fetchone()
            if held:
                return Outcome("duplicate")
            if tomb:
                gone = gc.tombstoned(self.db, digest, raw)
        if gone:
            return Outcome("duplicate")
        if gone is False:  # no longer superseded: stored again; the pairs' look-ups are stale
            self._derive.end()
        checks = self._checks
        try:
            parsed = (checks.parsed.get(raw) if checks else None) or codec.parse(raw)
        except DecodeError as exc:
            return Outcome("rejected", exc.reason, exc.detail)
        if parsed.kind is r.Kind.CHARTER:
            return self._ingest_charter(parsed, digest, now, local)
        if self._network is None:
            return self._hold(parsed, digest, "unknown-network", now)
        try:
            rec = (checks.verified(raw) if checks else None) or codec.verify_parsed(
                parsed, self._network, self._keys_for
            )
        except DecodeError as exc:
            if exc.reason == "unknown-author":
                return self._hold(parsed, digest, exc.reason, now)
            return Outcome("rejected", exc.reason, exc.detail)
        self._store(rec, digest, now, parsed, local, heard)
        if self._held_maybe:
            self.db.execute("DELETE FROM held WHERE hash = ?", [digest])
        if rec.kind is r.Kind.HELLO:
            self._retry_held(rec.short_author, now)
        return Outcome("accepted", record=rec)

    def _check_held(self) -> None:
        """Look whether anything is held, unless known (our own holds set the flag;
        another process's commit clears what we knew)."""
        if self._held_maybe is None:
            self._held_maybe = bool(
                self.db.execute("SELECT EXISTS(SELECT 1 FROM held)").fetchone()[0])

    def _keys_for(self, short: bytes) -> list[bytes]:
        return self._keys.get(short, [])

    def _ingest_charter(self, parsed: codec.Parsed, digest: bytes, now: float,
                        local: bool) -> Outcome:
        try:
            rec = codec.verify_parsed(parsed, codec.NO_NETWORK, lambda s: ())
        except DecodeError as exc:
            return Outcome("rejected", exc.reason, exc.detail)
        net = identity.network_id(rec.raw)
        if self._network is not None:
            return Outcome("rejected", "other-network", "this node already has its charter")
        expected = get_meta(self.db, "expect_code")
        if expected is None or identity.network_code(net) != expected:
            return Outcome(
                "rejected",
                "other-network",
                f"charter of network {identity.network_code(net)}, expected {expected}",
            )
        self._network = net
        put_meta(self.db, "network_id", net.hex())
        put_meta(self.db, "network_name", rec.body.name if isinstance(rec.body, r.Charter) else "")
        self._store(rec, digest, now, None, local)
        self._retry_held(None, now)
        return Outcome("accepted", record=rec)

    def _hold(self, parsed: codec.Parsed, digest: bytes, reason: str, now: float) -> Outcome:
        count = self.db.execute("SELECT COUNT(*) FROM held").fetchone()[0]
        if count >= HELD_MAX:
            self.db.execute(
                "DELETE FROM held WHERE hash IN "
                "(SELECT hash FROM held ORDER BY received_at ASC LIMIT ?)",
                [count - HELD_MAX + 1],
            )
        self._held_maybe = True
        self.db.execute(
            "INSERT OR IGNORE INTO held (hash, raw, short, reason, received_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [digest, parsed.raw, parsed.author_short, reason, now],
        )
        detail = "kept aside until its author's hello arrives"
        if reason == "unknown-network":
            detail = "kept aside until this network's charter arrives"
        return Outcome("held", reason, detail)

    def _retry_held(self, short: bytes | None, now: float) -> None:
        self._check_held()
        if not self._held_maybe:
            return
        if short is None:
            rows = self.db.execute("SELECT hash, raw FROM held ORDER BY received_at").fetchall()
        else:
            rows = self.db.execute(
                "SELECT hash, raw FROM held WHERE short = ? ORDER BY received_at", [short]
            ).fetchall()
        self._retry_rows(rows, now)

    def _retry_rows(self, rows: list[tuple[bytes, bytes]], now: float) -> None:
        for held_hash, raw in rows:
            self.db.execute("DELETE FROM held WHERE hash = ?", [held_hash])
            outcome = self._ingest(bytes(raw), now)
            if outcome.status == "accepted" and outcome.record is not None:
                self.released.append(outcome.record)

    def _retry_others(self, now: float) -> None:
        """Another process stored hellos or the charter: retry what they free."""
        self._check_held()
        if not self._held_maybe:
            return
        rows = self.db.execute(
            "SELECT hash, raw FROM held WHERE short IN (SELECT short FROM keys)"
            " OR (? AND reason = 'unknown-network') ORDER BY received_at",
            [self._network is not None],
        ).fetchall()
        self._retry_rows(rows, now)

    def _store(self, rec: r.Record, digest: bytes, now: float,
               parsed: codec.Parsed | None = None, local: bool = False,
               heard: RxInfo | None = None) -> None:
        body = rec.body
        ref_short = ref_seq = subject = None
        if isinstance(body, r.Pledge):
            ref_short, ref_seq = body.need_author, body.need_seq
        elif isinstance(body, r.Update):
            ref_seq = body.target_seq
        elif isinstance(body, (r.Vouch, r.Revoke)):
            subject = body.subject
        critical = isinstance(body, r.Need) and body.urgency == r.CRITICAL
        twins = self._derive.holds(rec.author, rec.seq)
        short = parsed.author_short if parsed is not None else rec.short_author
        cursor = self.db.execute(
            "INSERT INTO records (hash, raw, kind, author, short, seq, hlc, received_at,"
            " ref_short, ref_seq, subject, local, critical)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [digest, rec.raw, int(rec.kind), rec.author, short, rec.seq, rec.hlc,
             now, ref_short, ref_seq, subject, int(local), int(critical)],
        )
        row_id = cursor.lastrowid
        self._stores += 1
        self._derive.stored(rec.author, rec.seq, ref_seq if rec.kind is r.Kind.UPDATE else None)
        self._present.add(digest)
        self._looked_up.add(digest)
        if local:
            self.db.execute("INSERT OR IGNORE INTO outbox (rid, record, queued_at)"
                            " VALUES (?, ?, ?)", [digest[:8], row_id, now])
        if heard is not None and not self.slim:
            self.db.execute("INSERT OR IGNORE INTO heard (record, node, snr, rssi, hops, heard_at)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            [row_id, heard.sender, heard.snr, heard.rssi, heard.hops, now])
        if not local:  # the clock follows mesh time only (node/store/meshclock.py)
            is_member, through, _forked = self._derive.facts(rec.author)
            newest = meshclock.consider(self._newest, rec.author, rec.hlc,
                                        is_member and (through is None or rec.seq <= through))
            if newest is not self._newest:  # saved when the transaction commits
                self._newest, self._newest_dirty = newest, True
                self.clock.advance(meshclock.mesh_hlc(newest))
        if twins:
            self.db.execute(
                "INSERT OR IGNORE INTO forks (author, seq) VALUES (?, ?)", [rec.author, rec.seq]
            )
            self.db.execute("UPDATE objects SET forked = 1 WHERE author = ?", [rec.author])
            self._derive.invalidate()
            self.restore({rec.author}, now)  # a fork keeps versions it touches (gc.py)
        kind = rec.kind
        if kind is r.Kind.HELLO:
            self._apply_hello(rec)
        elif kind in derive.OBJECT_KINDS:
            derive.recompute_object(
                self.db, rec.author, rec.seq, parsed, None if twins else row_id, self._derive
            )
        elif kind is r.Kind.UPDATE:
            assert isinstance(body, r.Update)
            self._derive.touch(rec.author, body.target_seq)
        if kind in (r.Kind.CHARTER, r.Kind.VOUCH, r.Kind.REVOKE) or twins:
            self.refresh_membership(now)
        if twins and self.db.execute(
                "SELECT 1 FROM members WHERE key = ? AND revoked_through IS NOT NULL",
                [rec.author]).fetchone():
            # A fork at or below a revoked key's cut untrusts that seq's twins, whatever kind.
            derive.refresh_authors(self.db, {rec.author}, self._derive)
            self.refresh_hello(rec.author)
            self._newest = meshclock.rebuild(self.db)

    def _apply_hello(self, rec: r.Record) -> None:
        known = self._keys.setdefault(rec.short_author, [])
        if rec.author not in known:
            known.append(rec.author)
        self.refresh_hello(rec.author, rec)

    def refresh_hello(self, author: bytes, arriving: r.Record | None = None) -> None:
        """The key's row from its latest hello (between forked twins the lowest
        hash, so that every arrival order gives the same row). For a key cut
        through N, the latest at or below N and not forked: a thief's hello past
        the cut does not rename it (issue 9); with none such (cut through 0), its
        first hello unless that seq is forked, else no name.
        `arriving`: a hello just stored; the row changes only if it wins."""
        hellos = f"SELECT raw, seq FROM records WHERE author = ?1 AND kind = {HELLO}"
        cut = self.db.execute("SELECT revoked_through FROM members WHERE key = ?",
                              [author]).fetchone()
        winner = None
        if cut is not None and cut[0] is not None:
            winner = self.db.execute(
                hellos + " AND seq <= ?2 AND seq NOT IN (SELECT seq FROM forks WHERE author = ?1)"
                " ORDER BY seq DESC, hash ASC LIMIT 1", [author, cut[0]]).fetchone()
            winner = winner or self.db.execute(  # its first hello, unless forked
                hellos + f" AND seq = (SELECT MIN(seq) FROM records WHERE author = ?1"
                f" AND kind = {HELLO}) AND seq NOT IN (SELECT seq FROM forks WHERE author = ?1)",
                [author]).fetchone()
            winner = winner or (b"", 0)  # every hello forked: no name is believed
        else:
            winner = self.db.execute(
                hellos + " ORDER BY seq DESC, hash ASC LIMIT 1", [author]).fetchone()
        if winner is None:
            return
        raw, seq = winner
        if arriving is not None and raw != arriving.raw:
            return  # the row already shows the winner
        body = arriving.body if arriving is not None else (
            codec.parse(raw).body if raw else r.Hello("", ""))
        assert isinstance(body, r.Hello)
        self.db.execute(
            "INSERT INTO keys (key, short, name, site, role, lat, lon, hello_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " name = excluded.name, site = excluded.site, role = excluded.role,"
            " lat = excluded.lat, lon = excluded.lon, hello_seq = excluded.hello_seq",
            [author, identity.short_id(author), body.name, body.site, body.role,
             body.position.lat if body.position else None,
             body.position.lon if body.position else None, seq],
        )

    def refresh_membership(self, now: float | None = None) -> None:
        """Recompute membership, then everything whose trust it changed; store again
        the collected versions a cut makes count again (stamped `now`, default:
        the wall clock)."""
        if self._network is None:
            return
        row = self.db.execute(f"SELECT raw FROM records WHERE kind = {CHARTER} LIMIT 1").fetchone()
        self._derive.flush()
        changed = members.recompute_membership(self.db, None if row is None else row[0],
                                              self._network)
        self._derive.invalidate()
        derive.refresh_authors(self.db, changed, self._derive)
        for key in sorted(changed):
            self.refresh_hello(key)
        cut = {k for k in changed if self.db.execute(
            "SELECT 1 FROM members WHERE key = ? AND revoked_through IS NOT NULL", [k]).fetchone()}
        self.restore(cut, self.wall() if now is None else now)
        if changed:
            self._newest = meshclock.rebuild(self.db)
            self.clock.advance(meshclock.mesh_hlc(self._newest))

    def restore(self, authors: set[bytes], now: float) -> None:
        """Store again the collected versions of `authors` that count again (a cut
        or a fork made them current, or fork evidence): their tombstones keep the
        signature (gc.py), so this node serves them to nodes that never had them."""
        for author in sorted(authors):
            for raw, origin in gc.restorable(self.db, author):
                self._ingest(raw, now)  # gc.tombstoned deletes the tombstone
                if origin is not None:  # as it was first stored (m009), not as new
                    gc.put_back(self.db, hashlib.sha256(raw).digest(), origin, self.slim)
