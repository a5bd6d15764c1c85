"""Shared builders for the tests: deterministic keys, a network with its charter,
and records signed with `codec.encode` at chosen seqs and clock values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshaid.node.ledger import codec, hlc, identity
from meshaid.node.ledger import records as r
from meshaid.node.store import Store

NOW = 1_780_000_000.0  # a fixed "present" (2026-05-28) for every test
HLC0 = hlc.from_unix(NOW - 3600)


@dataclass
class Actor:
    """A key with its own seq counter."""

    label: str
    seed: int
    seq: int = 0
    key: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.key = identity.key_from_seed(bytes([self.seed]) * 32)

    @property
    def pub(self) -> bytes:
        return identity.public_bytes(self.key)

    @property
    def short(self) -> bytes:
        return identity.short_id(self.pub)

    def rid(self, seq: int) -> str:
        return f"{self.short.hex()}-{seq}"


class Net:
    """A network: its founder, charter and a deterministic clock.

    `sign(actor, body)` gives the actor's next seq and the next clock tick."""

    def __init__(self, admission: int = 1, costewards: tuple[Actor, ...] = (), name: str = "Port",
                 founder_seed: int = 1) -> None:
        self.founder = Actor("founder", founder_seed)
        self.tick = 0
        self.charter = self.sign(
            self.founder, r.Charter(name, admission, tuple(a.pub for a in costewards))
        )
        self.id = identity.network_id(self.charter.raw)
        self.code = identity.network_code(self.id)

    def next_hlc(self) -> int:
        self.tick += 1
        return HLC0 + hlc.pack(self.tick)

    def sign(self, actor: Actor, body: r.Body, seq: int | None = None,
             at: int | None = None) -> r.Record:
        if seq is None:
            actor.seq += 1
            seq = actor.seq
        network = codec.NO_NETWORK if isinstance(body, r.Charter) else self.id
        return codec.encode(body, actor.key, seq, self.next_hlc() if at is None else at, network)

    def hello(self, actor: Actor, name: str | None = None, site: str = "Pier 3") -> r.Record:
        return self.sign(actor, r.Hello(name if name is not None else actor.label, site))

    def need(self, actor: Actor, qty: int = 100, text: str = "drinking water", **kw: Any) -> r.Record:
        kw.setdefault("category", 1)
        kw.setdefault("unit", 4)
        return self.sign(actor, r.Need(text=text, qty=qty, **kw))

    def offer(self, actor: Actor, qty: int = 40, text: str = "M6 brackets", **kw: Any) -> r.Record:
        kw.setdefault("category", 35)
        return self.sign(actor, r.Offer(text=text, qty=qty, **kw))

    def pledge(self, actor: Actor, need: r.Record, qty: int, **kw: Any) -> r.Record:
        return self.sign(actor, r.Pledge(need.short_author, need.seq, qty, **kw))

    def update(self, actor: Actor, target: r.Record, status: int = 0, qty: int | None = None,
               **kw: Any) -> r.Record:
        body = target.body
        assert isinstance(body, (r.Need, r.Offer, r.Pledge))
        return self.sign(actor, r.Update(target.seq, status, body.qty if qty is None else qty, **kw))

    def vouch(self, steward: Actor, subject: Actor, grant: int = 0) -> r.Record:
        return self.sign(steward, r.Vouch(subject.pub, grant))

    def revoke(self, steward: Actor, subject: Actor, through_seq: int, reason: str = "") -> r.Record:
        return self.sign(steward, r.Revoke(subject.pub, through_seq, reason))

    def store(self, *records: r.Record) -> Store:
        """A fresh in-memory store expecting this network, fed `records` in order."""
        store = Store.open(":memory:")
        store.expect_network(self.code)
        for rec in records:
            store.ingest(rec.raw, now=NOW)
        return store


def derived_state(store: Store) -> dict[str, Any]:
    """Everything derived, minus arrival-order artefacts (rowids, record ids,
    receive times), in a canonical order."""
    db = store.db

    def rows(sql: str) -> list[tuple]:
        cur = db.execute(sql)
        cols = [c[0] for c in cur.description]
        return sorted(
            (tuple((c, v) for c, v in zip(cols, row) if c not in ("record_id", "rowid")) for row in
             cur.fetchall()),
            key=repr,
        )

    from meshaid.node.store import queries as q

    return {
        "fts": fts_entries(store),
        "objects": rows("SELECT * FROM objects"),
        "members": rows("SELECT * FROM members"),
        "keys": rows("SELECT * FROM keys"),
        "forks": rows("SELECT * FROM forks"),
        "records": sync_set(store),
        "list": q.list_objects(store, q.Filters(), now=NOW),
        "members_view": q.members(store),
    }


def sync_set(store: Store) -> list[bytes]:
    """The records a node reconciles: those it holds minus the superseded ones
    (node/store/synced.py), sorted SHA-256s. Nodes that agree on it may hold
    different superseded versions, or none (collected: node/store/gc.py)."""
    from meshaid.node.store import synced

    superseded = synced.excluded_ids(store.db)
    return sorted(h for (h,) in store.db.execute("SELECT hash FROM records")
                  if bytes(h)[:8] not in superseded)


def fts_entries(store: Store) -> list[tuple]:
    """What the full-text index holds, per object (author, seq) rather than by
    rowid, plus entries whose row is gone (there should be none)."""
    db = store.db
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_terms"
               " USING fts5vocab(main, 'objects_fts', 'instance')")
    return sorted(
        (term, bytes(a) if a is not None else None, seq, col, off) for term, a, seq, col, off in
        db.execute("SELECT v.term, o.author, o.seq, v.col, v.offset FROM temp.fts_terms v"
                   " LEFT JOIN objects o ON o.rowid = v.doc").fetchall())


def resign(signed: bytes, actor: Actor, kind: r.Kind, network: bytes) -> bytes:
    """`signed` plus a valid signature by `actor`: for structurally bad records
    that must be refused for their structure, not their signature."""
    return signed + actor.key.sign(codec.signing_message(kind, network, signed))


@dataclass
class World:
    """A network with a founder (steward), two admitted members (anna, bo) and
    one key that has said hello but is not admitted (cy)."""

    net: Net
    founder: Actor
    anna: Actor
    bo: Actor
    cy: Actor
    base: list[r.Record]

    @classmethod
    def build(cls) -> World:
        net = Net()
        f, a, b, c = net.founder, Actor("anna", 2), Actor("bo", 3), Actor("cy", 4)
        base = [net.charter, net.hello(f), net.hello(a), net.hello(b), net.hello(c),
                net.vouch(f, a), net.vouch(f, b)]
        return cls(net, f, a, b, c, base)

    def store(self, *records: r.Record) -> Store:
        return self.net.store(*self.base, *records)
