"""`meshaid demo`: the port story on a simulated mesh, with real node directories.

Theory of operation
-------------------
Nine sites of a blockaded port (demo_story.SITES) each get a real node
directory, made as `meshaid init` makes one (key.ed25519 and ledger.db), and
run the real sync engine against their own on-disk Store. Their radios are the
simulator's `Mesh` on one `EventQueue` in virtual time; the engines are pumped
as in the bench runner. Virtual time starts at `epoch` (wall seconds), so the
stores, the HLC clocks and a TUI opened on a site all agree on "now":
`PortDemo.wall()`.

A timed script (demo_story.STORY) posts needs, offers, pledges and updates
from the sites, cuts a district off and heals it, and brings a late joiner.
Every few virtual seconds a tick writes the seat's status row in the daemon's
format (node/daemon/status.py), so the TUI's status bar and mesh screen show
its radio, and hands records the user signed at the seat (seen through the
store's change feed) to the seat's engine, as the daemon would.

`run_headless` runs the story as fast as it can and prints a narrative;
`run_realtime` advances virtual time at `speed` times the wall clock until
told to stop. Every Store is opened and used on the thread that runs the demo.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..daemon.status import StatusBoard, StatusWriter
from ..home import Home
from ..ledger import identity
from ..ledger import records as r
from ..radio.base import DeviceInfo
from ..store import Store
from ..store.sync_port import SyncLedger
from ..sync.engine import Engine, record_id
from ..sync.ports import Ingested, RxMeta
from . import settings
from .demo_story import DISTRICT, JOINER, LINKS, SEAT, SITES, STEWARD, STORY, Beat, body_for
from .events import EventQueue, Handle
from .radio import Mesh
from .scenario import parse
from .world import build_topology, loss_model

TICK_S = 2.0  # virtual seconds between ticks (status row, user records, milestones)
SETTLE_S = 900.0  # headless: how long the mesh runs on after the last beat (the late
# joiner pulls the whole ledger, 44 records, through weak links: 270-480 s here)


class _Ledger(SyncLedger):
    """The store port of one site, telling the demo what it accepted."""

    def __init__(self, store: Store, demo: PortDemo, n: int) -> None:
        super().__init__(store)
        self.demo = demo
        self.n = n

    def sync_ingest(self, raw: bytes, now: float, meta: RxMeta | None = None) -> Ingested:
        result = super().sync_ingest(raw, now, meta)
        if result.status == "accepted":
            self.demo.arrived(self.n, raw, meta)
        return result


@dataclass
class _Node:
    n: int
    home: Home
    store: Store
    key: Ed25519PrivateKey
    engine: Any = None
    joined: bool = True
    timer: Handle | None = None
    timer_at: float | None = None


class PortDemo:
    """The demo world under `base`; `say` receives each narrative line."""

    def __init__(self, base: Path, *, epoch: float, say: Callable[[str], None] | None = print,
                 headlines: Callable[[str], None] | None = None, seed: int = 8) -> None:
        self.base = Path(base)
        self.epoch = epoch
        self.say_line = say
        self.headline_line = headlines
        self.events = EventQueue()
        self.sc = parse({"name": "port-demo", "seed": seed, "duration_h": 1,
                         "duty_cycle_pct": 10, "preset": "MEDIUM_FAST",
                         "topology": {"kind": "links", "links": LINKS},
                         "loss": {"model": "bernoulli", "p": 0.02}})
        rng = random.Random(seed)
        self.mesh = Mesh(build_topology(self.sc, rng), preset=self.sc.preset,
                         rng=random.Random(seed + 1), events=self.events,
                         on_receive=self._on_receive, loss=loss_model(self.sc),
                         duty_cycle_pct=self.sc.duty_cycle_pct)
        identity.VERIFIED.share()
        self.nodes = self._make_nodes(rng)
        self.cfg = settings.sync_config(self.sc, "meshaid", self._network()[:2])
        for node in self.nodes:
            node.store.wall = self.wall
            node.engine = Engine(_Ledger(node.store, self, node.n), self.cfg, node.n,
                                 seed * 1000 + node.n)
        self.mesh.set_up(JOINER, False)
        self.nodes[JOINER].joined = False
        self.labels: dict[str, tuple[int, str]] = {}  # label -> (site, record id)
        self.posted: dict[bytes, tuple[float, int, str]] = {}  # sync id -> (t, site, text)
        self.counts: Counter[str] = Counter()
        self.marks: dict[str, float] = {}
        self.board = StatusBoard(link="up", device=self._device())
        self.writer = StatusWriter(self.nodes[SEAT].store)
        self.cursor = self.nodes[SEAT].store.last_cursor()
        self.seat_version = self.nodes[SEAT].store.data_version()
        self._started = False

    # ------------------------------------------------------------ set-up

    def _make_nodes(self, rng: random.Random) -> list[_Node]:
        """Node directories as `meshaid init` makes them: the clinic founds the
        network; every site knows every key and the clinic vouched for them,
        except the late joiner, which knows only the charter and itself."""
        setup_at = self.epoch - 3600.0
        keys = [identity.key_from_seed(rng.randbytes(32)) for _ in SITES]
        nodes: list[_Node] = []
        for n, site in enumerate(SITES):
            home = Home(self.base / site.slug)
            store = home.create(name=site.person, site=site.site, role=3 if n == STEWARD else 0,
                                new_network="Port" if n == STEWARD else None,
                                join=None if n == STEWARD else nodes[0].store.network_code,
                                key=keys[n], now=setup_at)
            if n != STEWARD:
                charter = nodes[0].store.charter_raw()
                assert charter is not None
                store.ingest(charter, setup_at)
                home.ensure_hello(store, setup_at)
            nodes.append(_Node(n, home, store, keys[n]))
        founder = nodes[STEWARD]
        vouches = [founder.store.author(r.Vouch(identity.public_bytes(node.key)), founder.key,
                                        setup_at + 1).raw
                   for node in nodes if node.n not in (STEWARD, JOINER)]
        hellos = [raw for node in nodes if node.n != JOINER
                  for raw in node.store.raw_records([r.Kind.HELLO])]
        for node in nodes:
            if node.n != JOINER:
                node.store.ingest_many(hellos + vouches, setup_at + 2)
                # What set-up signed is everywhere already: nothing waits to go on air.
                node.store.outbox_done([record_id(raw) for raw in node.store.outbox()])
        return nodes

    def _network(self) -> bytes:
        network = self.nodes[STEWARD].store.network
        assert network is not None
        return network

    def _device(self) -> DeviceInfo:
        return DeviceInfo(node_num=SEAT, node_id=f"!{SEAT:08x}", long_name=SITES[SEAT].site,
                          short_name="MSHP", hw_model="simulated", firmware="simulator",
                          region="EU_868", preset=self.sc.preset, role="CLIENT",
                          duty_cycle_pct=self.sc.duty_cycle_pct)

    def seat_dir(self) -> Path:
        """The user's node directory (the machine shop)."""
        return self.nodes[SEAT].home.path

    def wall(self) -> float:
        """The demo's wall clock: virtual time from `epoch`."""
        return self.epoch + self.events.now

    # ------------------------------------------------------------ the mesh

    def _on_receive(self, n: int, payload: bytes, meta: Any) -> None:
        node = self.nodes[n]
        if not node.joined:
            return
        rx = RxMeta(sender=meta.from_node, snr=meta.snr, rssi=meta.rssi, hops=meta.hops_away,
                    hop_limit=meta.hop_limit, relay=meta.relay_node & 0xFF)
        count = node.engine.count
        node.engine.receive(payload, rx, self.events.now)
        if n == SEAT:
            self.board.heard(rx.sender, rx.snr, rx.hops, self.wall())
            peer = node.engine.peers.get(rx.sender)
            if peer is not None and peer.count:
                self.board.peers[rx.sender].holds = peer.count
            if node.engine.count > count:
                self.board.last_sync = self.wall()
        self.pump(n)

    def pump(self, n: int) -> None:
        """Let node n's engine send what is due and re-arm its timer."""
        node = self.nodes[n]
        if not node.joined or not self.mesh.is_up(n):
            return
        now = self.events.now
        node.engine.set_channel_utilization(self.mesh.channel_utilization(n))
        for out in node.engine.poll(now):
            if not self.mesh.send(n, out.payload, hop_limit=out.hop_limit, tag=out.tag):
                node.engine.send_failed(out, now)
            elif n == SEAT and out.records:
                node.store.outbox_done(out.records)
        due = node.engine.next_timer()
        if due is not None and due <= now:
            due = now + 0.05
        if due != node.timer_at:
            self.events.cancel(node.timer)
            node.timer = self.events.schedule(due, self.pump, n) if due is not None else None
            node.timer_at = due

    def arrived(self, n: int, raw: bytes, meta: RxMeta | None) -> None:
        """Node n stored a record it heard: narrate the seat hearing the story."""
        rid = record_id(raw)
        self.counts["deliveries"] += 1
        if n != SEAT or rid not in self.posted:
            return
        t, _site, text = self.posted[rid]
        how = ""
        if meta is not None:
            how = (", heard directly" if meta.hops == 0 else
                   f", relayed at least {meta.hops} time{'s' if meta.hops > 1 else ''}")
        what = f"'{text if len(text) <= 24 else text[:23].rstrip() + '…'}'" if text else "it"
        self.say(f"   ... {what} reached your machine shop {self.events.now - t:.0f} s later{how}")

    # ------------------------------------------------------------ the story

    def start(self) -> None:
        """Start the engines and schedule the story and the ticks."""
        if self._started:
            return
        self._started = True
        for node in self.nodes:
            if node.joined:
                node.engine.start(0.0)
                self.events.schedule(random.Random(node.n).uniform(0, 1), self.pump, node.n)
        for beat in STORY:
            self.events.schedule(beat.at, self._beat, beat)
        self.events.schedule(TICK_S, self._tick)

    def say(self, text: str, headline: bool = False) -> None:
        """One line of the narrative; headlines also go to the `headlines` callback."""
        minutes, seconds = divmod(int(self.events.now), 60)
        line = f"[{minutes:02d}:{seconds:02d}] {text}"
        if self.say_line is not None:
            self.say_line(line)
        if headline and self.headline_line is not None:
            self.headline_line(line.rstrip(":"))  # (its details follow in the story only)

    def _beat(self, beat: Beat) -> None:
        node = self.nodes[beat.site]
        if beat.action in ("need", "offer", "pledge", "update"):
            body = body_for(beat, node.store, self.labels, self.wall())
            rid = self._author(node, body, beat.label)
            text = str(beat.args.get("text", "")) or beat.say.split(" ", 2)[-1]
            self.posted[rid] = (self.events.now, beat.site, text)
            self.say(f"{beat.say}:", headline=True)
            self.say(f"   {SITES[beat.site].site}, {_describe(beat)}")
            return
        self.say(beat.say, headline=True)
        if beat.action == "partition":
            self.mesh.partition(DISTRICT)
            self.marks["partition"] = self.events.now
        elif beat.action == "heal":
            self.mesh.heal()
            self.marks["heal"] = self.events.now
            for other in self.nodes:
                self.pump(other.n)
        elif beat.action == "join":
            node.joined = True
            self.mesh.set_up(beat.site, True)
            node.engine.start(self.events.now)
            for raw in node.store.outbox():  # its own hello, signed at set-up
                node.engine.local_record(raw, self.events.now)
            self.marks["join"] = self.events.now
            self.pump(beat.site)
        elif beat.action == "vouch":
            self._author(node, r.Vouch(identity.public_bytes(self.nodes[JOINER].key)), "")

    def _author(self, node: _Node, body: r.Body, label: str) -> bytes:
        rec = node.store.author(body, node.key, self.wall())
        if label:
            self.labels[label] = (node.n, f"{rec.short_author.hex()}-{rec.seq}")
        node.engine.local_record(rec.raw, self.events.now)
        self.counts["posted"] += 1
        self.pump(node.n)
        return record_id(rec.raw)

    def _tick(self) -> None:
        """Status row, records the user signed at the seat, milestones."""
        self._pick_up_user_records()
        self._write_status()
        self._milestones()
        self.events.schedule(self.events.now + TICK_S, self._tick)

    def _pick_up_user_records(self) -> None:
        seat = self.nodes[SEAT]
        version = seat.store.data_version()
        if version == self.seat_version:
            return
        self.seat_version = version
        seat.store.refresh()
        self.cursor, changes = seat.store.changes(self.cursor)
        for change in changes:
            if not change.local:
                continue
            raw = seat.engine.ledger.sync_raw(change.hash[:8])
            if raw is not None:
                seat.engine.local_record(raw, self.events.now)
                self.counts["yours"] += 1
                self.say(f"You signed a {r.Kind(change.kind).label} at the machine shop: "
                         "it goes out on the mesh")
        self.pump(SEAT)

    def _write_status(self) -> None:
        seat = self.nodes[SEAT]
        engine = seat.engine
        self.board.outbox = len(seat.store.outbox())
        self.board.airtime_used_s = sum(cost for _age, cost in
                                        engine.budget_snapshot(self.events.now))
        self.board.airtime_budget_s = self.cfg.budget_s_per_hour
        self.board.rejected = Counter(engine.stats.dropped)
        self.writer.maybe_write(self.board, self.events.now, self.wall())

    def _milestones(self) -> None:
        counts = {node.n: node.engine.count for node in self.nodes if node.joined}
        most = max(counts.values())
        if "heal" in self.marks and "district" not in self.marks and all(
                counts[n] == most for n in (SEAT, *DISTRICT)):
            self.marks["district"] = self.events.now
            self.say(f"The district is back in step: {most} records on every site, "
                     f"{self.events.now - self.marks['heal']:.0f} s after the bridge came back",
                     headline=True)
        if "join" in self.marks and "caught-up" not in self.marks and counts.get(JOINER) == most:
            self.marks["caught-up"] = self.events.now
            self.say(f"The school shelter caught up: {most} records, "
                     f"{self.events.now - self.marks['join']:.0f} s after joining", headline=True)

    # ------------------------------------------------------------ running

    def run_headless(self) -> dict[str, Any]:
        """The whole story as fast as possible; returns the final numbers."""
        self.start()
        end = STORY[-1].at + SETTLE_S
        self.events.run_until(end)
        return self.summary()

    def run_realtime(self, speed: float, stop: threading.Event) -> None:
        """Advance virtual time at `speed` x the wall clock until `stop` is set."""
        self.start()
        t0 = time.monotonic()
        while not stop.is_set():
            self.events.run_until((time.monotonic() - t0) * speed)
            stop.wait(0.05)

    def summary(self) -> dict[str, Any]:
        seat = self.nodes[SEAT].engine
        counts = [node.engine.count for node in self.nodes]
        return {
            "virtual_s": self.events.now,
            "records_per_site": dict(zip([s.slug for s in SITES], counts)),
            "in_step": len(set(counts)) == 1,
            "posted": self.counts["posted"],
            "deliveries": self.counts["deliveries"],
            "packets": sum(self.mesh.stats.sent.values()) if hasattr(self.mesh.stats, "sent")
            else None,
            "seat_airtime_s": round(sum(c for _a, c in seat.budget_snapshot(self.events.now)), 1),
            "budget_s": self.cfg.budget_s_per_hour,
        }

    def close(self) -> None:
        for node in self.nodes:
            node.store.close()


def _describe(beat: Beat) -> str:
    a = beat.args
    if beat.action in ("need", "offer"):
        urgency = f"{a['urgency'].upper()} " if beat.action == "need" else ""
        per = f"/{a['per']}" if a.get("per") else ""
        return f"{urgency}{beat.action}: {a['text']} ({a['qty']} {a['unit']}{per})"
    if beat.action == "pledge":
        unit = next((str(b.args.get("unit", "")) for b in STORY if b.label == a["need"]), "")
        return f"pledge: {a['qty']} {unit} towards '{a['need']}' ({a['text']})".replace("  ", " ")
    return f"update: now {a['status']}" + (f", {a['delivered']} delivered"
                                           if a.get("delivered") else "")
