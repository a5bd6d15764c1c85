"""B2 at its best: push, plus lists of new ids to neighbours, with pull-only repair.

Theory of operation: see B2 in baselines.py. What a competent id-list
protocol does on a shared LoRa channel, and what this class does: list only
what is new since the last list (an id costs 8 bytes once per node, not every
round), batch the list into full packets, fall back on a complete list only
every few hours, and let the request/answer exchange suppress duplicates.
What it copies: the "have" announcements of Scuttlebutt-style and IHAVE/IWANT
gossip (libp2p gossipsub's IHAVE lists of recent message ids answered by
IWANT requests), scoped to one radio hop.
"""

from __future__ import annotations

from ..sync import messages as m
from ..sync.ports import Ledger, RxMeta, SyncConfig
from .baseline_base import ID_LIST, PushOnly, encode_id_list


class PushAndIdLists(PushOnly):
    """B2: B1's push plus lists of new ids (full lists now and then), pull-only repair."""

    push_tag = "b2-push"
    kinds = frozenset({m.RECORDS, m.REQUEST, ID_LIST})

    def __init__(self, ledger: Ledger, config: SyncConfig, node: int, seed: int = 0) -> None:
        super().__init__(ledger, config, node, seed)
        self.period = config.extra.get("b2_period", 900.0)
        self.full_every = max(1, int(config.extra.get("b2_full_every", 16)))
        self.per = (config.payload_cap - m.HEADER) // m.ID_LEN
        self.batch = int(config.extra.get("b2_batch", self.per))
        self.next_list: float | None = None
        self.rounds = 0
        self.unlisted: dict[bytes, None] = {}  # learned since our last list
        self.repeat = max(1, int(config.extra.get("b2_repeat", 2)))
        self.listed: list[dict[bytes, None]] = []  # ids of our last rounds, to list again
        self.early: dict[bytes, None] = {}  # listed in a full packet before this round
        self.batch_due: float | None = None
        self.gap = int(config.extra.get("b2_gap", 8))
        self.full_due: float | None = None
        self.last_full = -1e18
        self.wanted: dict[bytes, float] = {}  # id -> when to request it
        self.repairs: dict[bytes, float] = {}  # id -> when to send it

    def _on_start(self, now: float) -> None:
        self.next_list = now + self.rng.random() * self.period

    def _backoff(self, now: float) -> float:
        lo, hi = self.cfg.repair_window
        return now + self.rng.uniform(lo, hi)

    def _learned(self, rid: bytes, now: float) -> None:
        self.unlisted[rid] = None
        if self.batch and len(self.unlisted) >= self.batch and self.batch_due is None:
            self.batch_due = self._backoff(now)

    def _on_record(self, raw: bytes, now: float) -> bool:
        from ..sync.engine import record_id

        rid = record_id(raw)
        self.wanted.pop(rid, None)
        if self.repairs.pop(rid, None) is not None:
            self.stats.suppressed += 1  # someone else answered first
        return super()._on_record(raw, now)

    def _on_id_list(self, ids: tuple[bytes, ...], meta: RxMeta, now: float) -> None:
        lacking = [rid for rid in ids if rid not in self.ids]
        if self.gap and len(lacking) >= self.gap and self.full_due is None \
                and now >= self.last_full + self.period:
            # A neighbour knows much that we do not (after a partition, a reboot): it
            # probably lacks much of ours too, so list everything once, soon.
            self.full_due = self._backoff(now)
        missing = [rid for rid in lacking if rid not in self.wanted]
        if missing:
            due = self._backoff(now)
            for rid in missing:
                self.wanted[rid] = due

    def _on_request(self, ids: tuple[bytes, ...], now: float) -> None:
        have = [rid for rid in ids if rid in self.ids and rid not in self.repairs]
        if have:
            due = self._backoff(now)
            for rid in have:
                self.repairs[rid] = due

    def _timers(self) -> list[float]:
        times = super()._timers()
        if self.next_list is not None:
            times.append(self.next_list)
        if self.batch_due is not None:
            times.append(self.batch_due)
        if self.full_due is not None:
            times.append(self.full_due)
        if self.wanted:
            times.append(min(self.wanted.values()))
        return times

    def _pending_due(self) -> float | None:
        return min(self.repairs.values()) if self.repairs else None

    def _pending_packet(self, now: float) -> tuple[bytes, int, str] | None:
        """Answers stay cancellable until the virtual TX queue takes them."""
        room = self.cfg.payload_cap - m.RECORDS_ROOM
        packet: list[bytes] = []
        for rid in sorted((r for r, due in self.repairs.items() if due <= now),
                          key=lambda r: self.repairs[r]):
            raw = self.ledger.sync_raw(rid)
            if raw is None or len(raw) + 1 > self.cfg.payload_cap - m.RECORDS_ROOM:
                del self.repairs[rid]
            elif len(raw) + 1 <= room:
                del self.repairs[rid]
                packet.append(raw)
                room -= len(raw) + 1
        if not packet:
            return None
        return m.encode(m.Records(tuple(packet)), self.cfg.network_tag), 0, "b2-repair"

    def _list(self, ids: list[bytes]) -> None:
        for i in range(0, len(ids), self.per):
            self.outbox.append((encode_id_list(tuple(ids[i : i + self.per]),
                                               self.cfg.network_tag), 0, "b2-ids"))

    def _run_timers(self, now: float) -> None:
        super()._run_timers(now)
        asks = [rid for rid, due in self.wanted.items() if due <= now]
        for i in range(0, len(asks), self.per):
            chunk = tuple(asks[i : i + self.per])
            self.outbox.append((m.encode(m.Request(chunk), self.cfg.network_tag), 0,
                                "b2-request"))
        for rid in asks:
            del self.wanted[rid]
        if self.batch_due is not None and self.batch_due <= now:
            self.batch_due = None
            while len(self.unlisted) >= self.batch > 0:  # whole packets only; the rest waits
                full = list(self.unlisted)[: self.batch]
                for rid in full:
                    del self.unlisted[rid]
                    self.early[rid] = None
                self._list(full)
        if self.full_due is not None and self.full_due <= now:
            self.full_due = None
            self._refresh_held(now)
            self._list(list(self.ids))
            self.last_full = now
            self.unlisted.clear()
            self.listed = []
            self.early = {}
            self.batch_due = None
        if self.next_list is not None and self.next_list <= now:
            self.next_list += self.period
            if self.next_list <= now:
                self.next_list = now + self.period
            self._refresh_held(now)
            self.rounds += 1
            if self.rounds % self.full_every == 0:
                self._list(list(self.ids))
                self.last_full = now
                self.listed = []
            else:
                again = {rid: None for rnd in self.listed for rid in rnd}
                self._list(list({**again, **self.unlisted}))
                fresh = {**self.early, **self.unlisted}
                self.listed = ([fresh] + self.listed)[: self.repeat - 1]
            self.early = {}
            self.unlisted.clear()
            self.batch_due = None
