"""The store seen through the sync engine's `Ledger` port (node/sync/ports.py).

The engine's `now` is its monotonic timer clock: it never reaches the store,
which stamps records with its own wall clock. Membership (which only sets a
record's sync priority) is cached and reloaded whenever the store saw another
process commit or a vouch, revoke or charter passed through here.

Records of keys nobody admitted are taken within a quota (issue 9): at most
NONMEMBER_PER_KEY per key (a hello and a few posts: what a newcomer needs to
be vouched for) and at most NONMEMBER_CAP from all such keys received in the
last NONMEMBER_WINDOW_S; beyond that they are refused (`nonmember-quota`),
so a flood of fresh keys costs the database and the engine a bounded amount;
one older than strangers.TTL_S is refused too (`nonmember-expired`: it would
expire at once), and what was taken expires (strangers.py).
The quota applies to records heard over the radio (`meta` given), not to
imports, our own records or what the engine asked for (pull answers and
requested records come without `meta`: a node catching up meets members'
posts before their vouches).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator

from ..ledger import codec, identity
from ..ledger import records as r
from ..ledger.hlc import unix_of
from ..ledger.wire import DecodeError
from ..sync.ports import CLASS_OF_KIND, Ingested, RecordInfo, RxMeta
from . import strangers, synced
from .store import Store

_URGENT_KINDS = {int(r.Kind.CHARTER), int(r.Kind.VOUCH), int(r.Kind.REVOKE)}
_MEMBERSHIP_KINDS = {r.Kind.CHARTER, r.Kind.VOUCH, r.Kind.REVOKE}
_CLASS = {int(k): c for k, c in CLASS_OF_KIND.items()}
NONMEMBER_PER_KEY = 4
NONMEMBER_CAP = 2000
NONMEMBER_WINDOW_S = 7 * 86400.0


def _kind(raw: bytes) -> r.Kind | None:
    try:
        return codec.parse(raw).kind
    except DecodeError:
        return None


class SyncLedger:
    """Adapter: `Store` as the engine's ledger."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._members: dict[bytes, int | None] = {}
        self._members_gen = -1  # store.generation the member table reflects
        self._member_shorts: set[bytes] = set()
        self._member_total = 0  # member_count's answer for that table
        self._strangers: deque[float] | None = None  # received_at of recent non-member records
        self._changed: set[bytes] = set()  # keys whose standing changed since last told
        self._loaded = False

    def _load_members(self) -> None:
        if self._members_gen != self.store.generation:
            old = self._members
            self._members = {bytes(k): t for k, t in self.store.db.execute(
                "SELECT key, revoked_through FROM members")}
            if self._loaded:
                new = self._members
                self._changed |= {k for k in old.keys() | new.keys()
                                  if old.get(k, -1) != new.get(k, -1)}
            self._member_shorts = {identity.short_id(k) for k in self._members}
            self._member_total = len(self._members) + sum(
                1 for t in self._members.values() if t is not None)
            self._members_gen = self.store.generation
            self._loaded = True

    def _info(self, kind: int, hlc: int, digest: bytes, author: bytes, short: bytes, seq: int,
              critical: bool) -> RecordInfo:
        members = self._members
        if author in members:
            through = members[author]
            trusted = through is None or seq <= through
        else:
            trusted = False
        # Only an admitted author's revocation or critical need jumps the queue.
        urgent = trusted and (kind in _URGENT_KINDS or critical)
        return RecordInfo(digest[:8], _CLASS[kind], hlc, urgent, trusted, short)

    def _of_record(self, rec: r.Record) -> RecordInfo:
        critical = isinstance(rec.body, r.Need) and rec.body.urgency == r.CRITICAL
        return self._info(int(rec.kind), rec.hlc, hashlib.sha256(rec.raw).digest(), rec.author,
                          identity.short_id(rec.author), rec.seq, critical)

    def sync_ingest(self, raw: bytes, now: float, meta: RxMeta | None = None) -> Ingested:
        """Ingest (stamped by the store's wall clock; `now` is timer time and is not
        used); `info` is set for accepted records and for duplicates, and
        `released` lists records this one freed from the held table. `meta` is
        kept as where the record was first heard."""
        refused = self._over_quota(raw) if meta is not None else None
        if refused is not None:
            return Ingested("rejected", refused)
        outcome = self.store.ingest(raw, heard=meta)
        if outcome.status == "accepted" and outcome.record is not None \
                and outcome.record.author not in self._members and self._strangers is not None:
            self._strangers.append(self.store.wall())
        if outcome.record is not None and outcome.record.kind in _MEMBERSHIP_KINDS:
            self._members_gen = -1  # membership may have changed
        elif outcome.status == "duplicate" and _kind(raw) in _MEMBERSHIP_KINDS:
            self._members_gen = -1  # authored here (stored already): it may have too
        freed = self.store.take_released()
        if any(rec.kind in _MEMBERSHIP_KINDS for rec in freed):
            self._members_gen = -1  # a held vouch (or revoke) took effect just now
        self._load_members()
        digest = hashlib.sha256(raw).digest()
        # The sync set leaves out superseded records (synced.py): what this one
        # and the records it freed superseded, or made count again.
        change = synced.Change()
        if outcome.status == "accepted" and outcome.record is not None:
            rec = outcome.record
            change = synced.change(self.store.db, digest, (
                rec.author, rec.seq, int(rec.kind),
                rec.body.target_seq if isinstance(rec.body, r.Update) else None),
                self.store.has_forked(rec.author))
        elif outcome.status in ("accepted", "duplicate"):
            change = synced.change(self.store.db, digest)
        for rec in freed:
            more = synced.change(self.store.db, hashlib.sha256(rec.raw).digest())
            change.dropped |= more.dropped
            change.returned |= more.returned
            if more.superseded:
                change.dropped.add(hashlib.sha256(rec.raw).digest())
        released = tuple(self._of_record(rec) for rec in freed
                         if hashlib.sha256(rec.raw).digest() not in change.dropped)
        changed = self._take_changed()
        dropped = tuple(sorted(h[:8] for h in change.dropped))
        returned = tuple(i for i in (self.info(h) for h in sorted(change.returned))
                         if i is not None)
        if change.superseded:  # stored, but below a version already held
            return Ingested(outcome.status, "superseded", None, released, changed, dropped,
                            returned)
        if outcome.status == "duplicate":
            info = self.info(digest)
            if info is not None:
                return Ingested("duplicate", "", info, released, changed, dropped, returned)
        if outcome.status != "accepted" or outcome.record is None:
            return Ingested(outcome.status, outcome.reason, None, released, changed, dropped, returned)
        return Ingested("accepted", "", self._of_record(outcome.record), released, changed,
                        dropped, returned)

    def _take_changed(self) -> tuple[RecordInfo, ...]:
        """The records of keys whose standing changed since the last call (a vouch
        admitted them, a revocation cut them), as they are now."""
        if not self._changed:
            return ()
        keys, self._changed = sorted(self._changed), set()
        out: list[RecordInfo] = []
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            out += self._rows(f" WHERE r.author IN ({','.join('?' * len(chunk))})", chunk)
        return tuple(out)

    def _over_quota(self, raw: bytes) -> str | None:
        """Why a record of a key nobody admitted is refused, or None."""
        try:
            p = codec.parse(raw)
        except DecodeError:
            return None  # the store says what is wrong with it
        self._load_members()
        if p.kind == r.Kind.CHARTER or p.author_short in self._member_shorts:
            return None
        db = self.store.db
        now = self.store.wall()
        if now - unix_of(p.hlc) > strangers.TTL_S:
            return "nonmember-expired"  # it would expire at once (strangers.py)
        if self._strangers is None:
            self._strangers = deque(sorted(t for (t,) in db.execute(
                "SELECT r.received_at FROM records r LEFT JOIN members m ON m.key = r.author"
                " WHERE m.key IS NULL AND r.kind != ? AND r.received_at > ?",
                [int(r.Kind.CHARTER), now - NONMEMBER_WINDOW_S])))
        while self._strangers and self._strangers[0] <= now - NONMEMBER_WINDOW_S:
            self._strangers.popleft()
        if len(self._strangers) >= NONMEMBER_CAP:
            return "nonmember-quota"
        keys = [p.author_ref] if len(p.author_ref) == r.KEY_LEN else [
            bytes(k) for (k,) in db.execute("SELECT key FROM keys WHERE short = ?", [p.author_ref])]
        for key in keys:
            (held,) = db.execute("SELECT COUNT(*) FROM records WHERE author = ?", [key]).fetchone()
            if held >= NONMEMBER_PER_KEY:
                return "nonmember-quota"
        return None

    def info(self, digest: bytes) -> RecordInfo | None:
        """What the engine needs about the stored record with this SHA-256."""
        row = self.store.db.execute(
            "SELECT kind, hlc, hash, author, short, seq, critical FROM records WHERE hash = ?",
            [digest]).fetchone()
        if row is None:
            return None
        self._load_members()
        kind, hlc, h, author, short, seq, critical = row
        return self._info(kind, hlc, bytes(h), bytes(author), bytes(short), seq, bool(critical))

    def sync_infos(self) -> Iterator[RecordInfo]:
        """Every stored record, from stored columns (no record is parsed; trust is
        joined in, with the same rule as `_info`)."""
        self.store.refresh()
        self._load_members()
        self._changed.clear()  # the engine starts from what this reads
        yield from self._rows("", [])

    def _rows(self, where: str, args: list[bytes]) -> list[RecordInfo]:
        urgent_kinds, classes = _URGENT_KINDS, _CLASS
        # Superseded versions are outside the sync set (synced.py).
        superseded = synced.excluded_ids(self.store.db)
        return [RecordInfo(rid, classes[kind], hlc,
                           bool(trusted) and (kind in urgent_kinds or bool(critical)),
                           bool(trusted), short)
                for rid, kind, hlc, short, critical, trusted in self.store.db.execute(
            "SELECT substr(r.hash, 1, 8), r.kind, r.hlc, r.short, r.critical,"
            " m.key IS NOT NULL AND (m.revoked_through IS NULL OR r.seq <= m.revoked_through)"
            " FROM records r LEFT JOIN members m ON m.key = r.author" + where, args
        ).fetchall() if bytes(rid) not in superseded]

    def member_count(self) -> int:
        """Keys admitted (revoked ones included) plus keys revoked: a change means
        a ticket that failed may check out now, or one that held may not
        (node/sync/members.py)."""
        self._load_members()
        return self._member_total

    def member_signed(self, short: bytes, message: bytes, signature: bytes) -> bool:
        """Whether an admitted, unrevoked member whose key has short id `short`
        signed `message` (a member's pull ticket, node/sync/ticket.py). A short id
        is a hint: every such key is tried."""
        self._load_members()
        if short not in self._member_shorts:
            return False
        return any(through is None and identity.short_id(key) == short
                   and identity.verify(key, signature, message)
                   for key, through in self._members.items())

    def sync_raw(self, rid: bytes) -> bytes | None:
        row = self.store.db.execute(
            "SELECT raw FROM records WHERE hash >= ? AND hash <= ? LIMIT 1",
            [rid + bytes(24), rid + b"\xff" * 24],
        ).fetchone()
        return None if row is None else bytes(row[0])
