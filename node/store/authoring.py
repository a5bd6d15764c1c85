"""Authoring: the records this node signs, and the present it stamps them with.

`author()` signs a body as the key's next record and stores it and queues it in
the outbox in one write transaction. The next seq follows node/PROTOCOL.md ("Seq
space"): one above the highest seq this node signed with the key, or a restore
epoch after the key was restored (node/ledger/seqspace.py), stepping over seqs
of the key that arrived from elsewhere directly above; a thief's record at the
largest seq cannot block the key. The hybrid clock resumes from
what this node signed and from mesh time (node/store/meshclock.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlite_utils import Database

from ..ledger import codec, hlc, identity
from ..ledger import records as r
from . import admin, meshclock
from .errors import Outcome, StoreError
from .schema import put_meta


def seq_run_top(db: Database, author: bytes, start: int) -> int:
    """The top of the unbroken run of `author`'s stored seqs above `start`: the
    largest s >= start such that every seq in start+1..s is stored."""
    top = start
    for (seq,) in db.execute(
            "SELECT DISTINCT seq FROM records WHERE author = ? AND seq > ? ORDER BY seq",
            [author, start]):
        if seq != top + 1:
            break
        top = seq
    return top


class Authoring:
    """The authoring half of `Store` (a mixin: `Store` owns the attributes)."""

    db: Database
    clock: hlc.Clock
    wall: Callable[[], float]
    _network: bytes | None
    _newest: dict[bytes, int]
    write: Callable[..., AbstractContextManager[None]]
    meta: Callable[[str], str | None]
    _follow: Callable[[], None]
    _ingest: Callable[..., Outcome]

    def found_network(self, key: Ed25519PrivateKey, charter: r.Charter,
                      now: float | None = None) -> r.Record:
        """Sign and store the charter of a new network, making this node its founder."""
        with self.write():
            if self._network is not None or self.meta("expect_code"):
                raise StoreError("this node already belongs to a network")
            stamp = self.wall() if now is None else now
            rec = codec.encode(charter, key, 1, self.clock.now(stamp), codec.NO_NETWORK)
            put_meta(self.db, "expect_code", identity.network_code(identity.network_id(rec.raw)))
            put_meta(self.db, "hlc_last", str(self.clock.last))
            outcome = self._ingest(rec.raw, stamp, local=True)
            if outcome.status != "accepted":
                raise StoreError(f"charter refused: {outcome.reason} {outcome.detail}".strip())
        return rec

    def next_seq(self, author: bytes) -> int:
        """The seq `author`, a key of this node, signs next (node/PROTOCOL.md, "Seq
        space"): one above the highest it signed here (or its seq floor), stepping
        over seqs of this key stored just above it. A record of this key far above
        that run (a thief's, at the largest seq) never moves it."""
        own = self.db.execute(
            "SELECT MAX(seq) FROM records WHERE author = ? AND local = 1", [author]).fetchone()[0]
        floor = int(self.meta("seq_floor:" + author.hex()) or 0)
        if self.meta("restored:" + author.hex()):  # a restored key: node/ledger/seqspace.py
            floor = admin.settle_restore(self, author, seq_run_top(self.db, author, own or 0),
                                         floor)
        return seq_run_top(self.db, author, max(own or 0, floor)) + 1

    def author(self, body: r.Body, key: Ed25519PrivateKey, now: float | None = None) -> r.Record:
        """Sign `body` as this key's next record, store it and queue it in the
        outbox, in one transaction; raise StoreError if refused."""
        with self.write():
            if self._network is None and not isinstance(body, r.Charter):
                raise StoreError("this node has no network charter yet; import a bundle first")
            stamp = self.wall() if now is None else now
            me = identity.public_bytes(key)
            seq = self.next_seq(me)
            rec = codec.encode(body, key, seq, self.clock.now(stamp), self._network or b"")
            put_meta(self.db, "hlc_last", str(self.clock.last))
            outcome = self._ingest(rec.raw, stamp, local=True)
            if outcome.status != "accepted":
                raise StoreError(f"own record refused: {outcome.reason} {outcome.detail}".strip())
            return rec

    # ------------------------------------------------------------ time

    def mesh_now(self) -> float:
        """The node's present, unix seconds: its wall clock, or mesh time (the
        newest clock value two trusted authors reached) when that is later."""
        self._follow()
        return max(self.wall(), float(hlc.unix_of(meshclock.mesh_hlc(self._newest))))

    def clock_report(self) -> dict[str, float | bool]:
        """`wall`, `mesh` (unix seconds; 0 when nothing trusted was heard yet),
        `behind_s` (how far the wall clock is behind mesh time) and `wall_behind`
        (more than hlc.WALL_BEHIND_S: the CLI and TUI warn)."""
        self._follow()
        wall = self.wall()
        newest = meshclock.mesh_hlc(self._newest)
        mesh = float(hlc.unix_of(newest)) if newest else 0.0
        behind = max(0.0, mesh - wall)
        return {"wall": wall, "mesh": mesh, "behind_s": behind,
                "wall_behind": behind > hlc.WALL_BEHIND_S}
