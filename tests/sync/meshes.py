"""Small meshes and one-node set-ups shared by the engine tests: a fresh mesh,
spreading a record, node 0 alone with its neighbours played by hand, a member
flooding it, two neighbours, waiting for
agreement, and validly signed records of keys nobody admitted."""

from __future__ import annotations

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync import ticket as tk
from meshaid.node.sync.engine import Engine
from meshaid.node.sync.ports import RxMeta

from .harness import HOUR, Ledger, Mesh, Radio, clone, line, rid


def fresh_mesh(n: int, edges: list[tuple[int, int]], seed: int = 1, radio: Radio | None = None,
               history: int = 0, **config: object) -> Mesh:
    ledger = Ledger(n, seed=seed, history=history)
    return Mesh(ledger, [clone(ledger.full) for _ in range(n)], edges, radio or Radio(),
                seed=seed, config=dict(config))


def flood(mesh: Mesh, ledger: Ledger, author: int = 1, count: int = 40) -> list[bytes]:
    """Member `author` floods node 0 (outbox.py `flooding`): `count` records pushed
    two at a time from a neighbour."""
    tag = ledger.network[:2]
    heavy = [ledger.sign(author, r.Need(2, f"flood {k}", 5)) for k in range(count)]
    for k in range(0, len(heavy), 2):
        mesh.inject(0, m.encode(m.Records(tuple(heavy[k:k + 2])), tag), sender=0x10)
        mesh.run_for(2.0)
    engine = mesh.engines[0]
    assert engine.flooding(engine.infos[rid(heavy[0])].author, mesh.now)
    return heavy


def spread(mesh: Mesh, raw: bytes, limit_s: float) -> dict[int, float]:
    """Run until every node holds `raw` or `limit_s` passed: node -> seconds to get it."""
    t0 = mesh.now
    got: dict[int, float] = {}
    while len(got) < mesh.n and mesh.now < t0 + limit_s:
        mesh.run_for(1.0)
        for i in mesh.holders(raw):
            got.setdefault(i, mesh.now - t0)
    return got


def pair(seed: int, history: int = 30) -> tuple[Mesh, Ledger]:
    """Two neighbours, nodes 0 and 1, an hour after they met."""
    ledger = Ledger(3, seed=seed, history=history)
    mesh = Mesh(ledger, [clone(ledger.full) for _ in range(2)], line(2), seed=seed)
    mesh.run_for(HOUR)
    return mesh, ledger


def lone(seed: int = 1, history: int = 0) -> tuple[Mesh, Ledger]:
    """Node 0 alone (its link leads nowhere): we play its neighbours by hand."""
    ledger = Ledger(3, seed=seed, history=history)
    mesh = Mesh(ledger, [clone(ledger.full)], [], seed=seed)
    mesh.run_for(10.0)
    return mesh, ledger


def proof(ledger: Ledger, i: int, number: int) -> bytes:
    """Member `i`'s membership proof for node `number` (ticket.py ANYONE): what a
    far peer's digest must carry (farpeers.py)."""
    return tk.make(identity.signer(ledger.keys[i]), ledger.network[:2], number, tk.ANYONE)


def sent_after(mesh: Mesh, before: int, tag: str) -> list[m.Message]:
    return [m.decode(s.out.payload) for s in mesh.sent[before:] if s.out.tag == tag]


def converge(mesh: Mesh, limit_s: float) -> float:
    t0 = mesh.now
    while not mesh.agree():
        assert mesh.now < t0 + limit_s, f"no agreement {limit_s / HOUR:.0f} h after the heal"
        mesh.run_for(60.0)
    return mesh.now - t0


def spam_records(ledger: Ledger, count: int, seed: int = 200) -> list[bytes]:
    """Validly signed records from keys nobody admitted: a hello each, then a
    critical need, a vouch and a revoke."""
    out = []
    for k in range(count):
        key = identity.key_from_seed(bytes([seed % 256, k % 256, k // 256]) * 10 + b"xx")
        pub = identity.public_bytes(key)
        out.append(codec.encode(r.Hello(f"spam {k}", "nowhere"), key, 1, ledger.stamp + k,
                                ledger.network).raw)
        out.append(codec.encode(r.Need(1, (f"spam {k} " * 4).strip(), 999, 0, 3), key, 2,
                                ledger.stamp + k + 1, ledger.network).raw)
        out.append(codec.encode(r.Vouch(pub), key, 3, ledger.stamp + k + 2, ledger.network).raw)
        out.append(codec.encode(r.Revoke(identity.public_bytes(ledger.keys[1]), 0, "spam"), key,
                                4, ledger.stamp + k + 3, ledger.network).raw)
    return out


def middle_gets(text: str, urgency: int) -> tuple[Mesh, Engine, bytes, tuple[int, int]]:
    """Node 1 of a settled line 0 - 1 - 2 has just got a new need of node 0's:
    the mesh, node 1's engine, the record, and node 1's (count, fingerprint)
    before it (node 2's set, until node 1 relays it)."""
    mesh = fresh_mesh(3, line(3), seed=11)
    mesh.run_for(600.0)
    eng = mesh.engines[1]
    # Node 2 took part before (it brought node 1 a record): waited for through
    # DEAF_AFTER watches. (One that never did is deaf after its first silent
    # watch, whose second recheck it then pays for: urgent.py, PROTOCOL.md §7.)
    eng.watch.relayed(2)
    before = (eng.count, eng.fingerprint)
    raw = mesh.ledger.sign(0, r.Need(1, text, 10, 4, urgency))
    eng.receive(m.encode(m.Records((raw,)), eng.cfg.network_tag), RxMeta(sender=0), mesh.now)
    return mesh, eng, raw, before
