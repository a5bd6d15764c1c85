"""What a hostile (or unlucky) user can type at today's new commands: special
files given to export --force and to a bridge's --password-file, a broken
broker URL, renewing what is already done, matching a pledge. Each answer is one
line on stderr with a non-zero exit, and nothing on disk or in the ledger moves."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import _env, listing, meshaid, meshaid_batch, ok, one_line_error


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A founded node with a fulfilled need, an open need and a pledge on it."""
    home = tmp_path_factory.mktemp("hostile") / "node"
    env_home = home.parent / "unused"
    ok(home, "init", "--new-network", "Port", "--name", "Anna", env_home=env_home)
    done = ok(home, "post", "need", "drinking water", "--qty", "9", "--category", "water",
              env_home=env_home).split()[1]
    ok(home, "update", done, "--fulfil", env_home=env_home)
    need = ok(home, "post", "need", "splints", "--qty", "4", "--category", "health",
              env_home=env_home).split()[1]
    pledge = ok(home, "pledge", need, "--qty", "2", env_home=env_home).split()[1]
    return {"home": home, "done": done, "need": need, "pledge": pledge}


def test_export_force_never_replaces_a_fifo(node: dict[str, object], tmp_path: Path) -> None:
    """`export --force /dev/null` as root replaced the device with a regular file;
    a FIFO stands in for it here (same rule: --force replaces files only)."""
    home = node["home"]
    assert isinstance(home, Path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    runs = meshaid_batch([(home, ["export", "--force", str(fifo)]),
                          (home, ["export", "--format", "hxl", "--force", str(fifo)]),
                          (home, ["export", "--format", "json", "--force", str(fifo)])])
    for run in runs:
        assert "not a regular file" in one_line_error(run, 1)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    plain = tmp_path / "plain.csv"
    plain.write_text("old")
    ok(home, "export", "--format", "hxl", "--force", str(plain))  # a file is still replaced
    assert plain.read_text().startswith("#") or "drinking" in plain.read_text()


def test_renew_refuses_what_is_done_and_signs_each_id_once(node: dict[str, object]) -> None:
    home, done, need, pledge = node["home"], node["done"], node["need"], node["pledge"]
    assert isinstance(home, Path) and isinstance(done, str)
    assert isinstance(need, str) and isinstance(pledge, str)
    runs = meshaid_batch([(home, ["renew", done]), (home, ["renew", need, done]),
                          (home, ["renew", pledge])])
    assert "fulfilled: renewing would reopen it" in one_line_error(runs[0], 1)
    one_line_error(runs[1], 1)  # checked before any is signed
    assert "is a pledge" in one_line_error(runs[2], 1)
    rows = {r["id"]: r for r in listing(home, "--kind", "need")}
    assert rows[done]["status"] == "fulfilled"
    before = len(listing(home, "--kind", "need"))
    out = ok(home, "renew", need, need, f" {need}")
    assert out.count("renewed") == 1, out
    assert len(listing(home, "--kind", "need")) == before


def test_match_on_a_pledge_names_its_need(node: dict[str, object]) -> None:
    home, need, pledge = node["home"], node["need"], node["pledge"]
    assert isinstance(home, Path) and isinstance(pledge, str)
    line = one_line_error(meshaid_batch([(home, ["match", pledge])])[0], 1)
    assert f"is a pledge: match its need, meshaid match {need}" in line


def test_bridge_refuses_a_broken_url_and_a_fifo_password(node: dict[str, object],
                                                         tmp_path: Path) -> None:
    home = node["home"]
    assert isinstance(home, Path)
    air = f"sim:{tmp_path / 'air'}"
    runs = meshaid_batch([(home, ["bridge", "--broker", "mqtt://[::1", "--radio", air]),
                          (home, ["daemon", "--bridge", "mqtts://[fe80::1", "--radio", air])])
    for run in runs:
        line = one_line_error(run, 1)
        assert "not a URL" in line and "key" not in line, line
    fifo = tmp_path / "pass"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "meshaid.node.cli", "--data-dir", str(home), "bridge",
         "--broker", "mqtt://127.0.0.1:1", "--radio", air, "--password-file", str(fifo)],
        capture_output=True, text=True, env=_env(None), timeout=30, check=False)
    assert "not a regular file" in one_line_error(proc, 1)
    empty = meshaid(home, "bridge", "--broker", "mqtt://127.0.0.1:1", "--radio", air,
                    "--password-file", os.devnull)
    assert "not a regular file" in one_line_error(empty, 1)


def test_import_csv_of_an_empty_file_name_asks_for_one(node: dict[str, object]) -> None:
    home = node["home"]
    assert isinstance(home, Path)
    line = one_line_error(meshaid_batch([(home, ["import-csv", "", "--as", "auto"])])[0], 2)
    assert "give a CSV file name" in line and "'.'" not in line and " . " not in line


def test_bridge_tls_files_are_checked_before_the_daemon_starts(node: dict[str, object],
                                                              tmp_path: Path) -> None:
    """A FIFO as --ca-file blocked the TLS set-up forever; a missing one said
    'cannot start: No such file or directory' without its name; a CA given to a
    plain mqtt:// broker was ignored."""
    home = node["home"]
    assert isinstance(home, Path)
    air = f"sim:{tmp_path / 'air'}"
    fifo = tmp_path / "ca"
    os.mkfifo(fifo)
    base = ["bridge", "--radio", air, "--broker"]
    runs = meshaid_batch([(home, [*base, "mqtts://127.0.0.1:1", "--ca-file", str(fifo)]),
                          (home, [*base, "mqtts://127.0.0.1:1", "--cert-file", "/nonexistent"]),
                          (home, [*base, "mqtt://127.0.0.1:1", "--ca-file", str(fifo)])])
    assert "--ca-file" in (first := one_line_error(runs[0], 1)) and "not a regular" in first
    assert "--cert-file /nonexistent: No such file" in one_line_error(runs[1], 1)
    assert "goes with an mqtts:// broker" in one_line_error(runs[2], 1)


def test_import_csv_set_values_may_hold_equals_and_maps_are_not_given_twice(
        node: dict[str, object], tmp_path: Path) -> None:
    home = node["home"]
    assert isinstance(home, Path)
    stock = tmp_path / "stock.csv"
    stock.write_text("Item,Qty\nM8 bolts,500\n")
    twice = meshaid_batch([(home, ["import-csv", str(stock), "--as", "offers",
                                   "--map", "Item=text", "--map", "Item=qty"])])[0]
    assert "--map gives 'Item' twice: 'text' and 'qty'" in one_line_error(twice, 2)
    ok(home, "import-csv", str(stock), "--as", "offers", "--set", "category=parts",
       "--set", "site=Gate=3")
    rows = [r for r in listing(home, "--kind", "offer") if r["text"] == "M8 bolts"]
    assert [r["site"] for r in rows] == ["Gate=3"]
