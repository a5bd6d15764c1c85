"""kill -9 in the middle of authoring and importing, a few times over: the
database is never corrupt, no committed record and no outbox entry is lost,
and derived state matches a rebuild from the stored records."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ledger_helpers import NOW, derived_state

from meshaid.node.home import Home
from meshaid.node.store import Store

from .test_sharing import signed_bundle

CYCLES = 3

WORKER = textwrap.dedent("""
    import hashlib, sys
    from pathlib import Path
    from meshaid.node.ledger import bundle, identity
    from meshaid.node.ledger import records as r
    from meshaid.node.store import Store
    db, keyfile, bundle_path, start = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    key = identity.read_key_file(Path(keyfile))
    _net, lines = bundle.read(open(bundle_path).read())
    raws = [line.raw for line in lines]
    store = Store.open(db)
    print("ready", flush=True)
    i = start
    while True:
        rec = store.author(r.Need(1, f"crash {i}", 1, 4), key)
        print("A", hashlib.sha256(rec.raw).hexdigest(), flush=True)
        if i % 3 == 0:
            out = store.outbox()
            if len(out) > 4:
                done = hashlib.sha256(out[0]).digest()
                print("d", done.hex(), flush=True)  # about to report it sent
                store.outbox_done([done[:8]])
                print("D", done.hex(), flush=True)
        if i % 5 == 0:
            chunk = raws[(i // 5) * 60 % len(raws):][:60]
            store.ingest_many(chunk, batch=20)
            for raw in chunk:
                print("I", hashlib.sha256(raw).hexdigest(), flush=True)
        i += 1
""")


def test_kill_nine_loses_nothing_committed(tmp_path: Path) -> None:
    home = Home(tmp_path / "node")
    store = home.create(name="Anna", site="Pier 3", role=1, new_network="Port")
    assert store.network is not None
    text, _raws = signed_bundle(store.network, 300)
    store.close()
    (tmp_path / "b.bundle").write_text(text)
    rng = random.Random(5)
    authored: set[str] = set()
    ingested: set[str] = set()
    done: set[str] = set()
    sending: set[str] = set()
    start = 0
    for _cycle in range(CYCLES):
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(home.db_path), str(home.key_path),
             str(tmp_path / "b.bundle"), str(start)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        # Let the worker author, report sends and import at least once however slow
        # the machine is, then kill it at a random moment of its loop.
        early: list[str] = []
        while not ({"D", "I"} <= {line[:1] for line in early}):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "worker ended"
            early.append(line.rstrip("\n"))
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        # (not communicate(): it reads the pipe beneath what readline() buffered)
        out = proc.stdout.read()
        err = proc.stderr.read() if proc.stderr else ""
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err
        lines = early + out.split("\n")[:-1]  # the last line may have been cut by the kill
        for line in lines:
            tag, _, digest = line.partition(" ")
            {"A": authored, "I": ingested, "D": done, "d": sending}[tag].add(digest)
        start += 1000

        check = Store.open(home.db_path)
        assert check.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {bytes(h).hex() for (h,) in check.db.execute("SELECT hash FROM records")}
        assert authored | ingested <= stored
        queued = {bytes(h).hex()[:16] for (h,) in check.db.execute(
            "SELECT r.hash FROM outbox o JOIN records r ON r.id = o.record")}
        # every authored record not (about to be) reported sent is still queued
        assert {h[:16] for h in authored - sending} <= queued
        assert not {h[:16] for h in done} & queued
        check.close()
    assert len(authored) > CYCLES and ingested and done

    final = Store.open(home.db_path)
    rebuilt = Store.open(":memory:")
    rebuilt.expect_network(final.network_code or "")
    rebuilt.ingest_many(final.raw_records(), now=NOW)
    assert derived_state(rebuilt) == derived_state(final)
    final.close()
