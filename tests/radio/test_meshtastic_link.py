"""The Meshtastic adapter's pure parts: send bookkeeping per link and telemetry parsing."""

from __future__ import annotations

from meshtastic.protobuf import telemetry_pb2

from meshaid.node.radio.meshtastic_config import NO_METRICS, device_metrics, node_info_metrics
from meshaid.node.radio.meshtastic_iface import Hooks
from meshaid.node.radio.meshtastic_link import EARLY_KEPT, Link, SendJob, remember


def _link() -> Link:
    return Link(iface=None, hooks=Hooks(lambda _r: None, lambda _s: None, lambda _l: None, 1.0),
                me=1)


def _job(dest: int | None = None) -> SendJob:
    return SendJob(b"x", 3, 64, token=7, dest=dest)


def test_broadcast_settles_on_queue_status_direct_waits_for_ack() -> None:
    link = _link()
    assert link.decide(_job(), 10, None, None) is None  # no QueueStatus yet
    assert 10 in link.waiting_qs
    assert link.decide(_job(), 11, 0, None) == (True, "")
    direct = _job(dest=5)
    assert link.decide(direct, 12, 0, None) is None
    assert link.waiting_ack[12][0] is direct
    ok, reason = link.decide(direct, 12, 0, 1)  # a routing NAK is final
    assert not ok and reason
    assert link.decide(_job(), 13, 0, 0) == (True, "")  # an ACK


def test_teardown_fails_waiting_and_keeps_a_busy_send_the_radio_queued() -> None:
    link = _link()
    waiting, busy, queued = _job(), _job(), _job()
    link.decide(waiting, 20, None, None)
    link.busy, link.busy_since = busy, 100.0
    link.early_qs[21], link.early_qs_at[21] = 0, 101.0  # came while sendData was stuck
    link.jobs.put(queued)
    failed, settled = link.settle_all()
    assert failed == [waiting]
    assert settled == [(busy, (True, ""))]
    assert link.busy is None and not link.waiting_qs
    assert link.unsent() == [queued]
    assert link.unsent() == []


def test_busy_send_without_queue_status_fails() -> None:
    link = _link()
    busy = _job()
    link.busy, link.busy_since = busy, 100.0
    link.early_qs[21], link.early_qs_at[21] = 0, 99.0  # older: answered an earlier packet
    failed, settled = link.settle_all()
    assert failed == [busy] and settled == []


def test_remember_is_bounded() -> None:
    early: dict[int, int] = {}
    for pid in range(EARLY_KEPT + 10):
        remember(early, pid, pid)
    assert len(early) == EARLY_KEPT
    assert min(early) == 10


def test_device_metrics() -> None:
    t = telemetry_pb2.Telemetry()
    t.device_metrics.channel_utilization = 12.5
    t.device_metrics.air_util_tx = 1.5
    m = device_metrics(t.SerializeToString(), 3.0)
    assert m is not None and (m.channel_util_pct, m.air_util_tx_pct, m.at) == (12.5, 1.5, 3.0)
    env = telemetry_pb2.Telemetry()
    env.environment_metrics.temperature = 20.0
    assert device_metrics(env.SerializeToString(), 3.0) is NO_METRICS
    assert device_metrics(b"\xff\xff\xff", 3.0) is None


def test_node_info_metrics() -> None:
    assert node_info_metrics(None, 1.0) is None
    assert node_info_metrics({"deviceMetrics": {}}, 1.0) is None
    m = node_info_metrics({"deviceMetrics": {"channelUtilization": 4, "airUtilTx": 0.5}}, 1.0)
    assert m is not None and (m.channel_util_pct, m.air_util_tx_pct) == (4.0, 0.5)
