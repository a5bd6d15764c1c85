"""What the engine exchanges with the outside: its ledger port and its I/O values."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ..ledger.records import Kind

# Record classes, in bootstrap priority order.
CLASS_MEMBERSHIP, CLASS_BOARD, CLASS_COMMITMENTS = 0, 1, 2
CLASS_OF_KIND = {
    Kind.CHARTER: CLASS_MEMBERSHIP,
    Kind.HELLO: CLASS_MEMBERSHIP,
    Kind.VOUCH: CLASS_MEMBERSHIP,
    Kind.REVOKE: CLASS_MEMBERSHIP,
    Kind.NEED: CLASS_BOARD,
    Kind.OFFER: CLASS_BOARD,
    Kind.PLEDGE: CLASS_COMMITMENTS,
    Kind.UPDATE: CLASS_COMMITMENTS,
}


@dataclass(frozen=True)
class RecordInfo:
    """What the engine needs to know about one stored record."""

    id: bytes  # first 8 bytes of SHA-256 of the record
    cls: int  # CLASS_*
    hlc: int
    urgent: bool  # revocations, vouches, charter, critical needs
    trusted: bool  # author admitted (quarantined records travel as bulk)
    author: bytes  # 4-byte short id, for per-author rate limits


@dataclass(frozen=True)
class Ingested:
    status: str  # accepted | duplicate | held | rejected
    reason: str = ""
    info: RecordInfo | None = None
    released: tuple[RecordInfo, ...] = ()  # held records this one made verifiable
    # Stored records whose trust this one changed (a vouch or revocation took
    # effect): their infos as they are now.
    changed: tuple[RecordInfo, ...] = ()
    # The sync set is the records held minus the superseded ones (PROTOCOL.md §5):
    dropped: tuple[bytes, ...] = ()  # ids this record superseded: they leave the set
    returned: tuple[RecordInfo, ...] = ()  # records a fork or a cut made count again


class Ledger(Protocol):
    """The store side of sync (`node.store.sync_port.SyncLedger` implements it).
    `now` is the engine's timer clock, never wall time; `meta` says how the
    record was heard, when it came over the radio."""

    def sync_ingest(self, raw: bytes, now: float, meta: RxMeta | None = None) -> Ingested: ...

    def sync_infos(self) -> Iterable[RecordInfo]: ...

    def sync_raw(self, rid: bytes) -> bytes | None: ...


class RxMeta(NamedTuple):
    """Radio metadata of a received packet (a tuple: one for every packet heard)."""

    sender: int  # node number
    snr: float = 0.0
    rssi: float = 0.0
    hops: int = 0  # hop_start - hop_limit: relays it went through
    hop_limit: int = 0  # hops it had left: radios that hear it relay it on while above 0
    relay: int | None = None  # last byte of the radio we heard it from (firmware 2.6+
    # `relay_node`; None: not said): the sender at hop 0, the last relay after


@dataclass(frozen=True)
class Outgoing:
    """A packet to transmit. If the radio refuses it or never sends it, hand it
    back to `Engine.send_failed`: its records are requeued, its air time refunded."""

    payload: bytes
    hop_limit: int
    tag: str  # message type, for accounting
    priority: int
    dest: int | None = None  # None: broadcast
    records: tuple[bytes, ...] = ()  # 8-byte ids of the records it carries
    airtime: float = 0.0  # seconds on air the budget charged for it
    at: float = 0.0  # engine time at which it was charged


@dataclass
class SyncConfig:
    network_tag: bytes  # first two bytes of the network id
    airtime: Callable[[int], float]  # seconds on air for an n-byte payload
    budget_s_per_hour: float = 180.0  # half of the EU 10 % duty cycle
    budget_margin: float = 0.03  # kept in hand for packets still waiting in the radio
    payload_cap: int = 228
    push_delay: float = 2.0  # batch fresh local records this long
    batch_when_used: float = 0.1  # past this share of the budget, relays ride along too
    # Relay back-off, scaled by SNR and by the neighbours left to reach; in a crowd
    # (everyone hears everyone: a relay repairs a loss) `crowd_window`. A longer
    # window outside crowds trades latency for air (PROTOCOL.md §7, Behaviour 2).
    forward_window: tuple[float, float] = (2.0, 30.0)
    crowd_window: tuple[float, float] = (2.0, 30.0)
    repair_window: tuple[float, float] = (0.5, 8.0)
    retry_delay: float = 5.0  # a packet the radio did not send: its records go again after
    urgent_window: tuple[float, float] = (0.5, 8.0)
    urgent_recheck: float = 20.0  # resend an urgent record of ours if no relay was heard
    urgent_suppress: int = 5  # urgent records: cancel a relay only after this many copies
    use_relays: bool = True  # relay others' records only if chosen as their relay (MPR)
    forward_suppress: int = 3  # copies heard (incl. the one received) that cancel a relay
    relay_fanout: float = 6.0  # of a crowd (over twice as many neighbours), how many stand ready
    trickle_imin: float = 30.0
    trickle_imax: float = 3600.0
    announce_every: float = 10800.0  # send a digest at least this often (neighbour lists)
    trickle_k: int = 1
    news_interval: float = 120.0
    urgent_news_interval: float = 50.0  # Trickle interval after news: check it arrived everywhere
    mismatch_interval: float = 120.0  # Trickle interval after hearing a different digest
    settle: float = 45.0  # ignore digest differences this soon after news
    boot_gap: int = 48  # count gap beyond which a node pulls instead of reconciling
    pull_batch: int = 4  # packets per pull answer
    pull_timeout: float = 60.0
    pull_gap: float = 8.0  # pull again this long after the last record of a batch
    sketch_size: int = 1024
    sketch_min: int = 8  # symbols in a first sketch
    author_rate_per_hour: float = 20.0  # records per author relayed (past a burst): the rest
    # are left to reconciliation
    author_burst: float = 30.0
    # Urgent records per author and class (membership; needs) relayed as urgent; past
    # them, as normal records (a stolen key's flood of critical needs or vouches
    # must not take the urgent band from a steward's revocation or others' needs).
    author_urgent_per_hour: float = 8.0
    author_urgent_burst: float = 10.0
    max_scope: int = 3
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def in_flight_s(self) -> float:
        """How long after news a record may still be on its way by relays (their
        back-off, and `settle` at the least): a digest differing from ours this
        soon after news is no gap yet."""
        return max(self.settle, self.forward_window[1])
