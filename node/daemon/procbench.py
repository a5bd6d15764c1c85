"""The bench with real processes: N `meshaid daemon`s on N fake Meshtastic devices.

    meshaid bench --processes 5 --scenario ci-small --minutes 10

Theory of operation
-------------------
`make_network` builds N nodes of one network in a scratch directory (node 0
founds it and vouches for the others; all hold the setup records, as after a
bundle import). One `meshaid fake-radio --nodes N` process gives each node a
fake device on shared simulated air (all devices hear each other at `--snr`,
with the scenario's Bernoulli loss, preset and duty cycle); each node runs
`meshaid daemon --radio serial:PTY`. The scenario's workload (records per node
per hour, the need/offer mix, the critical fraction, stopping at its
stop_fraction) is posted on schedule through `meshaid post`, as people would.

Time runs at real speed: the daemons' engines keep real time, so a faster air
would distort every timer and the air-time budget. `--minutes` shortens the
scenario instead. At the end each record's arrival at each node is read from
the stores (`received_at`, the store's wall clock), giving the same delivery
and convergence numbers as the virtual-time bench, which is then run on the
same shape (a clique of N with the same loss, duration and workload) for
comparison.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..home import Home
from ..ledger import identity
from ..ledger import records as r
from ..sync.engine import record_id

POSTED = re.compile(r"^(?:need|offer) ([0-9a-f]{8}-\d+) signed")


def make_network(root: Path, n: int, now: float | None = None) -> list[Home]:
    """n nodes of one network, all admitted, each holding every setup record,
    outboxes empty (as if synced long ago). `now`: wall time of the setup."""
    stamp = time.time() if now is None else now
    homes = [Home(root / f"node{i}") for i in range(n)]
    founder = homes[0].create(name="node 0", site="site 0", role=0, new_network="Bench",
                              now=stamp - 3600)
    code = founder.network_code
    assert code is not None
    stores = [founder]
    for i, home in enumerate(homes[1:], start=1):
        stores.append(home.create(name=f"node {i}", site=f"site {i}", role=0, join=code,
                                  now=stamp - 3600))
    charter = founder.charter_raw()
    assert charter is not None
    for i, store in enumerate(stores[1:], start=1):
        store.ingest(charter, stamp - 3600)
        homes[i].ensure_hello(store, stamp - 3500)
        founder.ingest_many([raw for raw in store.raw_records() if raw != charter], stamp - 3400)
        founder.author(r.Vouch(identity.public_bytes(homes[i].key())), homes[0].key(),
                       stamp - 3300)
    every = list(founder.raw_records())
    for store in stores:
        store.ingest_many(every, stamp - 3000)
        store.outbox_done([record_id(raw) for raw in store.outbox()])
        store.close()
    return homes


def _meshaid(*args: str) -> list[str]:
    return [sys.executable, "-m", "meshaid.node.cli", *args]


def _workload(sc: Any, n: int, duration_s: float, rng: random.Random) -> list[tuple[float, int,
                                                                                      list[str]]]:
    """(time, node, post arguments) for the scenario's Poisson workload."""
    work = sc.workload
    rate = float(work.get("records_per_node_per_hour", 0)) / 3600.0
    stop = duration_s * float(work.get("stop_fraction", 0.75))
    crit = float(work.get("critical_fraction", 0.1))
    mix = {k: v for k, v in work.get("mix", {"need": 0.4, "offer": 0.2}).items()
           if k in ("need", "offer")} or {"need": 1.0}
    posts = []
    for node in range(n):
        t = rng.expovariate(rate) if rate > 0 else stop
        k = 0
        while t < stop:
            k += 1
            kind = rng.choices(list(mix), weights=list(mix.values()))[0]
            qty = str(rng.randint(1, 300))
            if kind == "offer":
                args = ["post", "offer", f"capacity from {node} #{k}", "--qty", qty,
                        "--category", "machining", "--type", "capacity", "--per", "day"]
            else:
                args = ["post", "need", f"need from site {node} #{k}", "--qty", qty,
                        "--category", rng.choice(["water", "food", "health", "shelter"])]
                if rng.random() < crit:
                    args += ["--urgency", "critical"]
            posts.append((t, node, args))
            t += rng.expovariate(rate)
    return sorted(posts)


def _arrivals(homes: list[Home]) -> dict[bytes, dict[int, float]]:
    from ..store import Store

    seen: dict[bytes, dict[int, float]] = {}
    for i, home in enumerate(homes):
        store = Store.open(home.db_path, readonly=True)
        for digest, at in store.db.execute("SELECT hash, received_at FROM records"):
            seen.setdefault(bytes(digest), {})[i] = float(at)
        store.close()
    return seen


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def shaped(sc: Any, minutes: float | None, rate: float | None) -> Any:
    """The scenario shortened to `minutes` and/or with `rate` records per node per hour."""
    if minutes:
        sc = replace(sc, duration_s=60.0 * minutes)
    if rate is not None:
        sc = replace(sc, workload={**sc.workload, "records_per_node_per_hour": rate})
    return sc


def run(sc: Any, n: int, root: Path, *, snr: float = 6.0, progress: bool = True
        ) -> dict[str, Any]:
    """Run the scenario's workload on n real daemon processes; return the metrics."""
    from ..daemon.status import read_status
    from ..store import Store

    duration = sc.duration_s
    rng = random.Random(sc.seed)
    homes = make_network(root, n)
    loss = float(sc.loss.get("p", 0.0)) if sc.loss.get("model", "none") != "none" else 0.0
    region = "EU_868" if sc.duty_cycle_pct else "US"
    fake = subprocess.Popen(
        _meshaid("fake-radio", "--nodes", str(n), "--preset", sc.preset, "--region", region,
                 "--snr", str(snr), "--loss", str(loss), "--link-dir", str(root / "radios"),
                 "--no-tcp", "--seed", str(sc.seed)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    daemons: list[subprocess.Popen[str]] = []
    try:
        assert fake.stdout is not None
        for _ in range(n):
            if not fake.stdout.readline():
                raise RuntimeError("fake-radio did not start: " + (fake.stderr.read()
                                                                    if fake.stderr else ""))
        for i, home in enumerate(homes):
            log = (root / f"daemon{i}.log").open("w")
            daemons.append(subprocess.Popen(
                _meshaid("--data-dir", str(home.path), "daemon", "--radio",
                         f"serial:{root / 'radios' / f'radio{i}'}"),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, text=True))

        def up(home: Home) -> bool:
            store = Store.open(home.db_path, readonly=True)
            try:
                return (read_status(store) or {}).get("link") == "up"
            finally:
                store.close()

        deadline = time.monotonic() + 120
        while not all(up(h) for h in homes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"daemons did not connect; see {root}/daemon*.log")
            time.sleep(0.5)
        t0 = time.monotonic()
        posted: list[tuple[int, str]] = []
        pending: list[tuple[int, subprocess.Popen[str]]] = []
        for at, node, args in _workload(sc, n, duration, rng):
            time.sleep(max(0.0, at - (time.monotonic() - t0)))
            pending.append((node, subprocess.Popen(
                _meshaid("--data-dir", str(homes[node].path), *args), stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)))
            if progress:
                sys.stderr.write(f"\r  {time.monotonic() - t0:6.0f} s of {duration:.0f} s, "
                                 f"{len(pending)} posted")
        for node, proc in pending:
            out, _ = proc.communicate(timeout=60)
            match = POSTED.match(out.strip())
            if match:
                posted.append((node, match.group(1)))
        time.sleep(max(0.0, duration - (time.monotonic() - t0)))
        statuses = []
        for home in homes:
            store = Store.open(home.db_path, readonly=True)
            statuses.append(read_status(store) or {})
            store.close()
    finally:
        for proc in daemons:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in daemons]
        fake.send_signal(signal.SIGTERM)
        _, fake_err = fake.communicate(timeout=60)
    if progress:
        sys.stderr.write("\n")
    return _summarise(sc, n, duration, homes, posted, statuses, codes, fake_err, loss, snr)


def _summarise(sc: Any, n: int, duration: float, homes: list[Home], posted: list[tuple[int, str]],
               statuses: list[dict[str, Any]], codes: list[int], fake_err: str, loss: float,
               snr: float) -> dict[str, Any]:
    from ..store import Store
    from ..store.store import parse_record_id

    seen = _arrivals(homes)
    by_id: dict[str, bytes] = {}
    for node, human in posted:
        short, seq = parse_record_id(human)
        store = Store.open(homes[node].db_path, readonly=True)
        row = store.db.execute("SELECT hash FROM records WHERE short = ? AND seq = ?",
                               [short, seq]).fetchone()
        store.close()
        if row is not None:
            by_id[human] = bytes(row[0])
    pairs = delivered = 0
    conv: list[float] = []
    never = 0
    for (node, human) in posted:
        digest = by_id.get(human)
        if digest is None:
            continue
        at = seen.get(digest, {})
        created = at.get(node)
        if created is None:
            continue
        others = [i for i in range(n) if i != node]
        pairs += len(others)
        got = [at[i] - created for i in others if i in at]
        delivered += len(got)
        if len(got) == len(others):
            conv.append(max(0.0, max(got)))
        else:
            never += 1
    return {
        "scenario": sc.name, "processes": n, "duration_s": duration, "records": len(by_id),
        "delivered_fraction": round(delivered / pairs, 4) if pairs else None,
        "convergence_s": {"p50": _pct(conv, 0.5), "p95": _pct(conv, 0.95),
                          "max": _pct(conv, 1.0), "never": never},
        "airtime_last_hour_s": [s.get("airtime_used_s") for s in statuses],
        "send_failed": [s.get("send_failed") for s in statuses],
        "sent": [s.get("sent") for s in statuses],
        "rejected": [s.get("rejected") for s in statuses],
        "daemon_exit_codes": codes,
        "fake_radio": [line for line in fake_err.splitlines() if ": " in line],
        "air": {"topology": f"clique of {n}, SNR {snr} dB", "loss": loss,
                "preset": sc.preset, "duty_cycle_pct": sc.duty_cycle_pct},
    }


def virtual(sc: Any, n: int, snr: float = 6.0) -> dict[str, Any]:
    """The virtual-time bench on the same shape: a clique of n, same loss and workload."""
    from ..sim.runner import Simulation

    links = [{"a": a, "b": b, "snr_db": snr} for a in range(n) for b in range(a + 1, n)]
    same = replace(sc, topology={"kind": "links", "nodes": n, "links": links})
    res = Simulation(same, "meshaid").run()
    return {"delivered_fraction": res["delivered_fraction"],
            "convergence_s": res["convergence_s"], "records": res["records"],
            "airtime_s": res["airtime_s"]["total"], "airtime_by_type": res["airtime_s"]["by_type"]}


def report(real: dict[str, Any], virt: dict[str, Any]) -> list[str]:
    """The two runs side by side, for people."""
    def conv(c: dict[str, Any]) -> str:
        return f"p50 {c['p50']} s, p95 {c['p95']} s, max {c['max']} s, never {c['never']}"

    return [
        (f"{real['scenario']} on {real['processes']} daemon processes with fake radios "
        f"({real['air']['topology']}, loss {real['air']['loss']}, {real['air']['preset']}), "
        f"{real['duration_s'] / 60:.0f} min real time"),
        (f"  processes  {real['records']} records, delivered {real['delivered_fraction']}, "
        f"convergence {conv(real['convergence_s'])}"),
        (f"  virtual    {virt['records']} records, delivered {virt['delivered_fraction']}, "
        f"convergence {conv(virt['convergence_s'])}"),
        (f"  air time in the last hour per node (processes): {real['airtime_last_hour_s']} s; "
        f"virtual total {virt['airtime_s']} s"),
        f"  daemon exit codes {real['daemon_exit_codes']}; failed sends {real['send_failed']}",
    ]
