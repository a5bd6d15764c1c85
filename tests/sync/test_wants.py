"""Wanted ids become REQUESTs (node/sync/wants.py): what one decode shows we lack
from one holder goes in one REQUEST, however the back-offs fell."""

from __future__ import annotations

from meshaid.node.sync import messages as m
from meshaid.node.sync.ports import SyncConfig
from meshaid.node.sync.wants import Wants

TICKET = bytes(range(m.TICKET_LEN))


def _asks(ticket: bytes | None) -> list[m.Request]:
    """Three ids wanted from node 5 at t=100 (back-offs 1, 2, 3 s), one from
    anyone (4 s): the requests sent by polling each second until 110."""
    cfg = SyncConfig(network_tag=b"\x01\x02", airtime=lambda n: n / 100.0)
    wants = Wants(cfg)
    wants.ticket = lambda holder: ticket
    draws = iter([1.0, 2.0, 3.0, 4.0])
    for k in range(3):
        wants.want(bytes([k + 1]) * 8, 5, 100.0, lambda: next(draws))
    wants.want(b"\x09" * 8, None, 100.0, lambda: next(draws))
    sent: list[m.Request] = []

    def emit(msg: m.Message, tag: str, prio: int) -> bool:
        assert isinstance(msg, m.Request) and tag == "request"
        sent.append(msg)
        return True

    for t in range(100, 111):
        wants.poll(emit, float(t), 50.0)  # records of 50 bytes: 3 fit one answer
    return sent


def test_ids_wanted_from_one_holder_share_one_backoff_and_one_request() -> None:
    # A member's asks carry its ticket: one REQUEST for the three ids, not three
    # (each would carry the 68-byte ticket: on town-40 the nodes behind a mast sent
    # ten such requests a decode, each relayed by the mast).
    for ticket in (TICKET, None):
        sent = _asks(ticket)
        named = [r for r in sent if r.target == 5]
        assert len(named) == 1
        assert set(named[0].ids) - {bytes(8)} == {bytes([k + 1]) * 8 for k in range(3)}
        assert named[0].ticket == (ticket or b"")
        # The want from anyone keeps its own back-off: a request of its own.
        assert [r.ids[0] for r in sent if r.target is None] == [b"\x09" * 8]
