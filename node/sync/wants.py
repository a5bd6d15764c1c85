"""Record ids we ask for: a bounded table of wants, grouped into padded REQUESTs.

Theory of operation
-------------------
What a decoded sketch, a digest or a relay shows we lack is wanted from the
node that holds it (or from anyone). A want is asked after a back-off (the
reconciler's, so a crowd spreads its requests), then again after
`pull_timeout` if no answer came, and given up after `WANT_TRIES` asks (a
forged sketch's ids exist nowhere). It is dropped as soon as the record
arrives or another node asks for it (`got`): that answer serves us too.

Ids wanted from one holder and not asked yet share the back-off drawn for
the first of them, so what one decode shows lacking goes out together. (Each
drew its own once: they fell due one by one, one id a REQUEST; padded, that
cost what one request would, but a member's unpadded ask carries its 68-byte
ticket each time, and on town-40 the nodes behind a mast each sent ten such
requests a decode, every one relayed by the mast.)

Due wants go out grouped by holder, as many per REQUEST as one answer packet
carries, and each REQUEST is padded to about the size of its answer: the
answerer spends no more air than we did (credit.py). The table holds at most
`MAX_WANTED` ids, since ids come from unauthenticated packets.
"""

from __future__ import annotations

from collections.abc import Callable

from . import messages as m
from .budget import NORMAL
from .ports import SyncConfig

MAX_WANTED = 128  # record ids we ask for at once
WANT_TRIES = 2  # asks for an id before giving it up (a forged sketch's ids exist nowhere)

Emit = Callable[[m.Message, str, int], bool]


class Wants:
    """The ids we ask for, when, how often so far, and from whom."""

    def __init__(self, cfg: SyncConfig) -> None:
        self.cfg = cfg
        # record id -> (when to ask, asks so far, who holds it)
        self.ids: dict[bytes, tuple[float, int, int | None]] = {}
        # How to ask a node (members.py): None pads, else our ticket (b"": shown already).
        self.ticket: Callable[[int], bytes | None] = lambda holder: None

    def want(self, rid: bytes, holder: int | None, now: float,
             backoff: Callable[[], float]) -> None:
        """Ask `holder` for `rid` after `backoff()` s (unless already wanted or full;
        `backoff` is drawn only for a new want)."""
        if rid not in self.ids and len(self.ids) < MAX_WANTED:
            # Ids wanted from the same holder and not asked yet share one back-off:
            # they go in one REQUEST (a member's ticket rides once, not once an id).
            due = next((t for t, tries, h in self.ids.values()
                        if h == holder and tries == 0 and t > now), None)
            self.ids[rid] = (now + backoff() if due is None else due, 0, holder)

    def got(self, rid: bytes) -> None:
        """Ask no more for `rid`."""
        self.ids.pop(rid, None)

    def first(self) -> float | None:
        """When the next ask is due (None: nothing wanted)."""
        if not self.ids:
            return None  # (the common case: asked after every packet heard)
        return min(t for t, _n, _h in self.ids.values())

    def poll(self, emit: Emit, now: float, record_size: float) -> None:
        """Send the due asks, grouped by holder; stops when `emit` refuses one."""
        by_holder: dict[int | None, list[bytes]] = {}
        for rid, (t, tries, holder) in list(self.ids.items()):
            if t > now:
                continue
            if tries >= WANT_TRIES:
                del self.ids[rid]  # nobody has it (or nobody answers): give up
                continue
            by_holder.setdefault(holder, []).append(rid)
        # One request asks for what fits one answer packet, and is padded to about
        # that size (records heard so far tell how large records are).
        size = record_size + 1
        per = max(1, int((self.cfg.payload_cap - m.RECORDS_ROOM) // size))
        tag = self.cfg.network_tag
        for holder, due_ids in by_holder.items():
            # A member names the holder with its ticket instead of padding: it is
            # answered from its allowance, up to `pull_batch` packets a request.
            ticket = self.ticket(holder) if holder is not None else None
            step = per if ticket is None else per * self.cfg.pull_batch
            for i in range(0, len(due_ids), step):
                chunk = tuple(due_ids[i : i + step])
                want = min(self.cfg.payload_cap, int(m.RECORDS_ROOM + 1.1 * size * len(chunk)))
                req = m.Request(chunk, holder, ticket=ticket) if ticket is not None else \
                    m.pad_to(m.Request(chunk, holder), want, tag)
                if not emit(req, "request", NORMAL):
                    return
                for rid in chunk:  # ask again if unanswered
                    _t, tries, _h = self.ids[rid]
                    self.ids[rid] = (now + self.cfg.pull_timeout, tries + 1, holder)
