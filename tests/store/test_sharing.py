"""One ledger.db, many processes: writers are never refused, a long import lets
others in between its batches, readers never fail, and nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ledger_helpers import NOW, Actor

from meshaid.node.home import Home
from meshaid.node.ledger import bundle, codec, hlc, identity
from meshaid.node.ledger import records as r
from meshaid.node.store import Store

POSTS = 20
IMPORT = 4_000  # records in the bundle (the benchmark imports 40,000)

READER = textwrap.dedent("""
    import sys, time
    from meshaid.node.store import Store
    from meshaid.node.store import queries as q
    path, want = sys.argv[1], int(sys.argv[2])
    store = Store.open(path)
    cursor, seen, reads = 0, 0, 0
    deadline = time.monotonic() + 120
    while seen < want and time.monotonic() < deadline:
        if reads % 3 == 0:
            q.open_needs(store, time.time(), limit=20)
        cursor, batch = store.changes(cursor, limit=200)
        seen += len(batch)
        reads += 1
    print(seen, reads)
    sys.exit(0 if seen >= want else 3)
""")


def signed_bundle(network: bytes, count: int) -> tuple[str, list[bytes]]:
    """Hellos of ten keys and `count` needs by them (not admitted: quarantined but
    stored), as bundle text."""
    actors = [Actor(f"m{i}", 40 + i) for i in range(10)]
    stamp = hlc.from_unix(NOW)
    raws = []
    for a in actors:
        stamp += 1
        a.seq += 1
        raws.append(codec.encode(r.Hello(a.label, "far"), a.key, a.seq, stamp, network).raw)
    for i in range(count):
        a = actors[i % len(actors)]
        a.seq += 1
        stamp += 1
        raws.append(codec.encode(r.Need(1, f"imported {i}", 1 + i % 50, 4), a.key, a.seq, stamp,
                                 network).raw)
    return bundle.write(network, raws), raws


def cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "meshaid.node.cli", "--data-dir", str(home), *args]


def test_parallel_posts_a_long_import_and_a_reader_all_succeed(tmp_path: Path) -> None:
    home = Home(tmp_path / "node")
    store = home.create(name="Anna", site="Pier 3", role=1, new_network="Port")
    network = store.network
    assert network is not None
    before = store.count()
    store.close()
    text, raws = signed_bundle(network, IMPORT)
    (tmp_path / "in.bundle").write_text(text)
    env = dict(os.environ)
    env.pop("MESHAID_DEBUG", None)
    total = before + len(raws) + POSTS

    def start(args: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL, env=env)

    procs = [start(cli(home.path, "import", str(tmp_path / "in.bundle")))]
    procs.append(start([sys.executable, "-c", READER, str(home.db_path), str(total)]))
    procs += [start(cli(home.path, "post", "need", f"post {i}", "--qty", "1", "--unit", "L",
                        "--category", "water")) for i in range(POSTS)]
    results = [(p.args, *p.communicate(timeout=180), p.returncode) for p in procs]
    for args, out, err, code in results:
        assert code == 0 and not err, (args[-4:], out, err)
    assert results[0][1].startswith(f"accepted {len(raws)},")

    store = Store.open(home.db_path)
    assert store.count() == total
    texts = {t for (t,) in store.db.execute("SELECT text FROM objects")}
    assert {f"post {i}" for i in range(POSTS)} <= texts
    assert {f"imported {i}" for i in range(IMPORT)} <= texts
    # every post is queued for the radio, and the feed lists every record once
    assert len(store.outbox()) == POSTS + 2  # + the charter and hello from init
    cursor, listed = store.changes(0, limit=total + 10)
    assert len({c.hash for c in listed}) == total and cursor == store.last_cursor()
    assert sum(c.local for c in listed) == POSTS + 2
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


def test_a_writer_waits_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    """Two connections: while one holds the write lock, the other's write waits
    and then succeeds (a deferred BEGIN would fail at once with 'locked')."""
    path = tmp_path / "ledger.db"
    a, b = Store.open(path), Store.open(path)
    script = textwrap.dedent("""
        import sys
        from meshaid.node.store import Store
        s = Store.open(sys.argv[1])
        s.set_meta("from-child", "yes")
        print("done")
    """)
    with a.write():
        a.set_meta("held", "1")
        child = subprocess.Popen([sys.executable, "-c", script, str(path)], text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            child.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        # the child cannot commit while we hold the lock
        assert b.meta("from-child") is None
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0 and out.strip() == "done", err
    assert b.meta("from-child") == "yes" and b.meta("held") == "1"
    a.close()
    b.close()


def test_a_failed_block_leaves_nothing_and_the_store_stays_usable(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "ledger.db")
    try:
        with store.write():
            store.set_meta("x", "1")
            with store.write():
                store.set_meta("y", "2")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.meta("x") is None and store.meta("y") is None
    store.set_meta("z", "3")
    assert store.meta("z") == "3"
    key = identity.key_from_seed(b"\x05" * 32)
    store.found_network(key, r.Charter("Port"), now=NOW)
    assert store.count() == 1
    store.close()
