"""The status row: written when due and changed, read back with its state, shown to people."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from meshaid.node.cli.daemon_cmds import describe
from meshaid.node.daemon.status import (
    HEARTBEAT_S,
    META_KEY,
    STALE_S,
    StatusBoard,
    StatusWriter,
    read_status,
)
from meshaid.node.radio.base import DeviceInfo
from meshaid.node.store import Store

T0 = 1_780_000_000.0


def test_the_row_is_written_when_changed_at_most_every_5_s_and_as_a_heartbeat(
        tmp_path: Path) -> None:
    store = Store.open(tmp_path / "ledger.db")
    board = StatusBoard(pid=os.getpid())
    writer = StatusWriter(store)
    writes = []
    script = [(0.0, None), (2.0, ("outbox", 1)), (4.0, None), (5.0, None), (5.5, ("link", "up")),
              (6.0, None), (6.5, None), (30.0, None), (5.0 + HEARTBEAT_S, None),
              (6.0 + HEARTBEAT_S, None)]
    for t, change in script:
        if change is not None:
            setattr(board, *change)
        if writer.maybe_write(board, t, T0 + t):
            writes.append(t)
    # 0: the first; 5: the outbox change, once 5 s passed; 6: the link change, 1 s
    # after the last write (not 5); then nothing changes: only the heartbeat.
    assert writes == [0.0, 5.0, 6.0, 6.0 + HEARTBEAT_S]
    row = json.loads(store.meta(META_KEY) or "{}")
    assert row["updated_at"] == round(T0 + 6.0 + HEARTBEAT_S, 1)
    assert row["link"] == "up" and row["outbox"] == 1 and row["pid"] == os.getpid()
    store.close()


def test_read_status_says_running_stopped_or_stale(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "ledger.db")
    assert read_status(store) is None
    board = StatusBoard(pid=os.getpid(), link="up",
                        device=DeviceInfo(0x1234, "!00001234", "Pier radio", region="EU_868"))
    board.heard(0xABCD, 6.5, 1, T0)
    board.heard(0xABCD, 7.0, 2, T0 + 10)
    board.rejected["bad-signature"] += 2
    StatusWriter(store).maybe_write(board, 0.0, T0)
    row = read_status(store, wall=T0 + 10)
    assert row is not None and row["state"] == "running"
    assert row["device"]["long_name"] == "Pier radio"
    assert row["peers"] == [{"node": "!0000abcd", "snr": 7.0, "hops_at_least": 2,
                             "last_heard": T0 + 10, "count": 2, "holds": None}]
    assert row["rejected"] == {"bad-signature": 2}
    assert read_status(store, wall=T0 + STALE_S + 1)["state"] == "stale"  # type: ignore[index]
    # A pid that no longer exists: stale at once (killed, crashed).
    gone = StatusBoard(pid=_finished_pid())
    StatusWriter(store).maybe_write(gone, 0.0, T0)
    assert read_status(store, wall=T0 + 1)["state"] == "stale"  # type: ignore[index]
    gone.stopped = True
    StatusWriter(store).maybe_write(gone, 0.0, T0)
    assert read_status(store, wall=T0 + 1)["state"] == "stopped"  # type: ignore[index]
    store.set_meta(META_KEY, "not json")
    assert read_status(store) is None
    store.close()


def _finished_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_describe_says_plainly_what_runs_and_that_hops_are_a_lower_bound() -> None:
    assert "none has run" in describe(None, T0)[0]
    board = StatusBoard(pid=42, link="up", link_detail="serial /dev/ttyACM0",
                        device=DeviceInfo(0x1234, "!00001234", "Pier radio", firmware="2.7.15",
                                          region="EU_868", preset="LONG_FAST", role="CLIENT"))
    board.heard(0xABCD, -3.25, 1, T0 - 30)
    board.outbox, board.airtime_used_s, board.airtime_budget_s = 2, 12.0, 180.0
    board.sent = {"digest": (3, 1.9), "push": (2, 2.4)}
    row = {"updated_at": T0 - 3, **board.snapshot(), "state": "running"}
    text = "\n".join(describe(row, T0))
    assert "daemon: running (pid 42), status from 3 s ago" in text
    assert "radio: up (serial /dev/ttyACM0)" in text
    assert "Pier radio !00001234" in text and "region EU_868" in text
    assert "outbox: 2 records" in text
    assert "12 s used in the last hour of 180 s" in text
    assert "sent since start: digest 3 (2 s), push 2 (2 s)" in text
    assert "!0000abcd  SNR -3.2 dB  hops >= 1  heard 30 s ago" in text
    assert "at least" in text
    stale = describe({**row, "state": "stale"}, T0)[0]
    assert stale.startswith("daemon: not running, or stuck")
    stopped = describe({**row, "state": "stopped"}, T0)[0]
    assert stopped.startswith("daemon: not running (stopped cleanly")


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from meshaid.node.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out, out.err


def test_daemon_and_status_refuse_bad_input_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run_cli(["--data-dir", str(tmp_path / "x"), "daemon", "--radio", "usb"],
                            capsys)
    assert code == 2 and err.count("\n") == 1 and "unknown radio 'usb'" in err
    code, _, err = _run_cli(["--data-dir", str(tmp_path / "x"), "daemon", "--radio", "sim:/tmp"],
                            capsys)
    assert code == 1 and err.startswith("meshaid: no node at") and err.count("\n") == 1
    code, _, err = _run_cli(["--data-dir", str(tmp_path / "x"), "status"], capsys)
    assert code == 1 and err.startswith("meshaid: no node at") and err.count("\n") == 1
    code, out, _ = _run_cli(["--data-dir", str(tmp_path / "x"), "daemon", "--help"], capsys)
    assert code == 0 and "--radio SPEC" in out and "sim:/tmp/air" in out
