"""Files (issue 9): what import reads ends quickly whatever it is, temporaries
are exclusive, the key and the database are private, and an interrupted init
leaves nothing that a second init cannot finish."""

from __future__ import annotations

import base64
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from cli_helpers import _cmd, _env, meshaid, meshaid_batch, ok, one_line_error

from meshaid.node.home import Home


def test_import_refuses_what_is_not_a_regular_file(port: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.bundle"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it must not wait
    zero = tmp_path / "zero.bundle"
    zero.symlink_to("/dev/zero")
    results = meshaid_batch([(port, ["import", str(p)]) for p in (fifo, Path("/dev/zero"), zero)])
    for proc in results:
        assert "not a regular file" in one_line_error(proc, 1)


def test_a_header_followed_by_junk_stops_early_in_one_line(port: Path, tmp_path: Path) -> None:
    export = tmp_path / "real.bundle"
    ok(port, "export", str(export))
    head = export.read_text().splitlines()[0] + "\n"
    junk_bytes = tmp_path / "bytes.bundle"  # non-ASCII lines
    with open(junk_bytes, "wb") as fh:
        fh.write(head.encode())
        fh.writelines(bytes([0x80 + i % 100]) * 60 + b"\n" for i in range(50_000))
    junk_b64 = tmp_path / "b64.bundle"  # lines that decode but are not records
    with open(junk_b64, "w") as fh:
        fh.write(head)
        fh.writelines(base64.b64encode(os.urandom(100)).decode() + "\n" for i in range(50_000))
    long_line = tmp_path / "long.bundle"  # one enormous line (a disk image, say)
    with open(long_line, "wb") as fh:
        fh.write(head.encode() + b"A" * (3 << 20))
    results = meshaid_batch([(port, ["import", str(p)]) for p in (junk_bytes, junk_b64,
                                                                   long_line)])
    for proc in results[:2]:
        line = one_line_error(proc, 1)
        assert "lines in a row" in line and "not a bundle" in line, line
        stopped_at = int(line.split("up to line ")[1].split()[0])
        assert stopped_at < 3_000  # long before the end of the file
    assert "not a meshaid bundle" in one_line_error(results[2], 1)


def test_key_import_from_an_endless_stdin_ends_in_one_line(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run(_cmd(tmp_path / "node", ["key", "import"]), stdin=zero,
                              capture_output=True, text=True, env=_env(None), timeout=60,
                              check=False)
    assert "not a paper backup" in one_line_error(proc, 1)
    assert not (tmp_path / "node" / "key.ed25519").exists()


def test_a_key_file_that_is_a_fifo_or_a_device_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "node"
    ok(home, "init", "--new-network", "Port", "--name", "Anna")
    key = home / "key.ed25519"
    saved = key.read_bytes()
    key.unlink()
    os.mkfifo(key, 0o600)
    assert "not a regular file" in one_line_error(meshaid(home, "whoami"), 1)
    key.unlink()
    key.symlink_to("/dev/zero")
    assert "not a regular file" in one_line_error(meshaid(home, "whoami"), 1)
    key.unlink()
    key.write_bytes(saved + b"\x00" * 10_000)
    key.chmod(0o600)
    assert "10032 bytes, expected 32" in one_line_error(meshaid(home, "whoami"), 1)


def test_key_and_database_are_private_even_in_an_open_directory(tmp_path: Path) -> None:
    home = tmp_path / "node"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    old = os.umask(0o022)
    try:
        ok(home, "init", "--new-network", "Port", "--name", "Anna")
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o750  # nothing for others
    for name in ("key.ed25519", "ledger.db"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    ok(home, "post", "need", "water", "--category", "water")
    for extra in home.glob("ledger.db-*"):  # WAL files follow the database's mode
        assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0, extra
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(".")) == []
    (home / "ledger.db").chmod(0o644)
    proc = meshaid(home, "whoami")
    assert proc.returncode == 0 and "can be read by every user" in proc.stderr


def test_an_interrupted_init_leaves_nothing_a_second_init_cannot_finish(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path / "node")

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(Home, "ensure_hello", interrupted)
        home.create(name="Anna", site="", role=0, new_network="Port")
    assert sorted(p.name for p in home.path.iterdir()) == ["key.ed25519"]  # no database
    assert "has a key but no ledger.db" in one_line_error(meshaid(home.path, "list"), 1)
    out = ok(home.path, "init", "--new-network", "Port", "--name", "Anna")
    assert "node created" in out
    assert ok(home.path, "whoami", "--json")


def test_init_killed_at_any_moment_can_be_run_again(tmp_path: Path) -> None:
    for i, delay in enumerate((0.05, 0.2, 0.35, 0.5, 0.8)):
        home = tmp_path / f"node{i}"
        proc = subprocess.Popen(_cmd(home, ["init", "--new-network", "Port", "--name", "A"]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=_env(None))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (home / "ledger.db").exists():  # it finished before the kill
            continue
        assert "node created" in ok(home, "init", "--new-network", "Port", "--name", "A")
        assert ok(home, "list") is not None
