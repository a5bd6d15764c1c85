"""The air and routing of the simulated mesh (internal to ``radio``).

Theory of operation: a transmission starts a :class:`~.state.Reception` at
every up neighbour over a live link that is not transmitting itself; each
reception adds its power to the interference of those already under way, and
the radio locks onto it only if it was idle. At the end of the frame a
reception survives if nothing overlapped it or it is ``capture_db`` above the
summed power that did; a survivor then faces the link's loss model. Frames
the radio locked onto count toward channel utilisation and re-draw a waiting
transmit timer (the RX interrupt). A decoded frame goes through managed
flooding: duplicate detection on (from, id), relay of a first copy with
``hop_limit - 1``, cancellation of a queued relay when someone else relayed it
first (CLIENT), an upgrade when a copy with more hops arrives, and delivery
to the application if it is a broadcast or for this node. :class:`Mesh`
(``radio.py``) owns the state; this mixin is its hot path.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from .events import EventQueue
from .firmware import Role
from .packets import BROADCAST, CorePayload, MeshStats, Packet, RxMeta
from .state import NodeState, Reception

__all__ = ["Flooding", "OnHeardAgain", "OnReceive", "OnTxDone"]

OnReceive = Callable[[int, Any, RxMeta], None]
OnTxDone = Callable[[int, Packet], None]  # the node whose frame ended, the frame
OnHeardAgain = Callable[[int, int, int], None]


class Flooding:
    """The air and routing half of ``Mesh`` (a mixin: ``Mesh`` owns the attributes)."""

    events: EventQueue
    stats: MeshStats
    rng: random.Random
    capture_ratio: float
    history_len: int
    rate_limit: int
    rate_window_s: float
    _rate_seen: dict[tuple[int, int], list[float]]
    on_receive: OnReceive | None
    on_tx_done: OnTxDone | None
    on_heard_again: OnHeardAgain | None
    _rearm: Callable[[NodeState], None]
    _enqueue: Callable[[NodeState, Packet], bool]

    def _start_tx(self, nd: NodeState, pkt: Packet) -> None:
        now = self.events.now
        dur = pkt.airtime
        st = self.stats
        for r in nd.rx:  # half-duplex: what we were receiving is lost
            r.dead = True
            st.half_duplex += 1
        nd.rx.clear()
        rxs = []
        for v, power, snr, rssi, lm in nd.nbrs:
            if not v.up:
                continue
            if v.tx is not None:
                st.half_duplex += 1
                continue
            r = Reception(v, power, now)
            act = v.rx
            locked = True
            if act:
                s = 0.0
                for o in act:
                    o.interf += power
                    s += o.power
                    if o.locked:
                        locked = False
                r.interf = s
            r.locked = locked
            act.append(r)
            rxs.append((r, snr, rssi, lm))
        nd.tx_rxs = rxs
        nd.tx_pkt = pkt
        nd.tx = self.events.schedule(now + dur, self._end_tx, nd)
        nd.log_tx(now, dur, pkt.own and type(pkt.payload) is not CorePayload)
        st.tx_count += 1
        if pkt.own:
            st.own_tx += 1
        else:
            st.relays += 1
        st.tx_airtime += dur
        st.tx_payload_bytes += len(pkt.payload) if isinstance(pkt.payload, (bytes, bytearray)) else 0
        tag = pkt.tag
        st.airtime_by_tag[tag] = st.airtime_by_tag.get(tag, 0.0) + dur
        st.tx_by_tag[tag] = st.tx_by_tag.get(tag, 0) + 1

    def _end_tx(self, nd: NodeState) -> None:
        now = self.events.now
        pkt = nd.tx_pkt
        assert pkt is not None
        dur = pkt.airtime
        nd.tx = None
        nd.tx_pkt = None
        rxs = nd.tx_rxs
        nd.tx_rxs = []
        nd.meter.log(now, dur, True)
        if nd.queue:  # ISR_TX -> setTransmitDelay
            self._rearm(nd)
        st = self.stats
        ratio = self.capture_ratio
        for r, snr, rssi, lm in rxs:
            if r.dead:
                continue
            v = r.node
            v.rx.remove(r)
            ok = r.interf <= 0.0 or r.power >= r.interf * ratio
            if not ok:
                st.collisions += 1
                if not r.locked:
                    continue
            v.meter.log(now, dur, False)
            if ok and lm is not None and lm.lost(self.rng, now):
                st.link_losses += 1
                ok = False
            if v.queue:  # ISR_RX overwrites the TX timer with a fresh delay
                self._rearm(v)
            if ok:
                st.rx_ok += 1
                self._receive(v, pkt, snr, rssi, pkt.relay)
        if self.on_tx_done is not None:
            self.on_tx_done(nd.idx, pkt)

    # ------------------------------------------------------------------ routing
    def _receive(self, v: NodeState, pkt: Packet, snr: float, rssi: float, relayer: int) -> None:
        key = (pkt.src, pkt.id)
        hist = v.hist
        hl = pkt.hop_limit
        prev = hist.get(key)
        if prev is not None:
            self.stats.dupes += 1
            if self.on_heard_again is not None:
                self.on_heard_again(v.idx, pkt.src, pkt.id)
            del hist[key]
            hist[key] = max(prev, hl)
            i = v.find_relay(pkt.src, pkt.id)
            if i < 0:
                return
            if hl > prev and hl > 0 and v.queue[i].hop_limit < hl:  # upgrade (not CLIENT_MUTE)
                del v.queue[i]
                self.stats.upgrades += 1
                self._enqueue(v, pkt.relay_copy(snr, rssi, v.idx))
            elif v.role is not Role.ROUTER:  # CLIENT: someone else relayed it
                del v.queue[i]
                self.stats.cancellations += 1
            return
        v.remember(key, hl, self.history_len)
        self.stats.rx_unique += 1
        core = type(pkt.payload) is CorePayload
        if v.core_only and not core:  # private port under CORE_PORTNUMS_ONLY: no relay, no app
            self.stats.dropped_core_only += 1
            return
        me = v.idx
        if hl > 0 and pkt.to != me and pkt.src != me and v.role is not Role.CLIENT_MUTE \
                and not v.no_relay and self._rate_ok(me, pkt.src):
            self._enqueue(v, pkt.relay_copy(snr, rssi, v.idx))
        if v.has_app and not core and (pkt.to == BROADCAST or pkt.to == me) and \
                self.on_receive is not None:
            self.stats.delivered += 1
            self.on_receive(me, pkt.payload, RxMeta(pkt.src, pkt.to, snr, rssi, pkt.hop_start, hl,
                                                    pkt.id, self.events.now, relayer, pkt.tag))

    def _rate_ok(self, relay: int, origin: int) -> bool:
        """The per-sender rate limit of relays (off unless `rate_limit` is set)."""
        if not self.rate_limit:
            return True
        now = self.events.now
        seen = [t for t in self._rate_seen.get((relay, origin), ()) if now - t < self.rate_window_s]
        if len(seen) >= self.rate_limit:
            self._rate_seen[(relay, origin)] = seen
            self.stats.refuse("relay_rate_limited")
            return False
        seen.append(now)
        self._rate_seen[(relay, origin)] = seen
        return True
