"""Input an outside audit typed at the command line (stop 24) that ended in an
internal error, a hang or a silent success: output that cannot be written, nan
and inf for numeric options, special files and oversized meshes as scenario
files. Each is now one line on stderr with a non-zero exit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_helpers import _cmd, _env, meshaid, meshaid_batch, ok, one_line_error


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = tmp_path_factory.mktemp("odd") / "node"
    ok(node, "init", "--new-network", "Port", "--name", "Anna", env_home=node.parent / "u")
    ok(node, "post", "need", "drinking water", "--qty", "9", "--category", "water",
       env_home=node.parent / "u")
    return node


def test_output_to_a_full_disk_is_one_line_not_an_internal_error(home: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(_cmd(home, ["list"]), stdout=full, stderr=subprocess.PIPE,
                              text=True, env=_env(None), timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "meshaid: cannot write: No space left on device"


@pytest.mark.parametrize("args", [["key", "export"], ["export", "-"], ["list"]])
def test_a_closed_output_is_refused_never_a_silent_success(home: Path, args: list[str]) -> None:
    """`key export` with its output closed exited 0 and wrote nothing: a paper key
    backup that silently came out empty."""
    proc = subprocess.run(_cmd(home, args), stdout=None, stderr=subprocess.PIPE, text=True,
                          env=_env(None), timeout=60, check=False,
                          preexec_fn=lambda: __import__("os").close(1))
    assert proc.returncode == 1 and proc.stderr == "meshaid: standard output is closed\n"


@pytest.mark.parametrize(("args", "option"), [
    (["bench", "--scenario", "ci-small", "--processes", "2", "--minutes", "nan"], "--minutes"),
    (["bench", "--scenario", "ci-small", "--processes", "2", "--minutes", "inf"], "--minutes"),
    (["daemon", "--radio", "sim:/nonexistent/air", "--budget-share", "nan"], "--budget-share"),
    (["fake-radio", "--no-serial", "--speed", "nan"], "--speed"),
    (["fake-radio", "--no-serial", "--snr", "inf"], "--snr"),
    (["fake-radio", "--no-serial", "--loss", "nan"], "--loss"),
])
def test_nan_and_inf_are_refused_where_a_number_is_asked(args: list[str], option: str,
                                                          tmp_path: Path) -> None:
    line = one_line_error(meshaid(tmp_path / "node", *args), 2)
    assert f"'{option}'" in line and "finite" in line


def test_odd_scenario_files_are_refused_in_one_line(tmp_path: Path) -> None:
    head = 'name = "t"\nseed = 1\nduration_h = 0.1\n'
    files = {
        "grid.toml": head + '[topology]\nkind = "grid"\nrows = 100\ncols = 100\n',
        "links.toml": head + '[topology]\nkind = "links"\nlinks = [[0, 9999, 5.0]]\n',
        "nan.toml": 'name = "t"\nseed = 1\nduration_h = nan\n[topology]\nnodes = 3\n',
        "p.toml": head + '[topology]\nnodes = 3\n[loss]\nmodel = "bernoulli"\np = nan\n',
        "degree.toml": head + '[topology]\nnodes = 3\navg_degree = nan\n',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    runs = meshaid_batch([(None, ["bench", "--scenario", str(tmp_path / name), "--quiet"])
                          for name in files] + [(None, ["bench", "--scenario", "/dev/zero"])])
    lines = [one_line_error(run, 1) for run in runs]
    assert "10000 nodes, at most 1000" in lines[0] and "10000 nodes" in lines[1]
    assert all("not a finite number" in line for line in lines[2:5])
    assert lines[5] == "meshaid: /dev/zero: not a regular file"


def test_fake_radio_ports_past_the_last_one_are_refused(tmp_path: Path) -> None:
    line = one_line_error(meshaid(tmp_path / "node", "fake-radio", "--tcp-port", "65535",
                                  "--nodes", "2", "--no-serial"), 1)
    assert "65535" in line and "2 devices" in line


def test_renew_checks_every_id_before_it_signs_any(tmp_path: Path) -> None:
    """Finding: `renew GOOD UNKNOWN` renewed GOOD, then failed on UNKNOWN."""
    import sqlite3

    node = tmp_path / "node"
    ok(node, "init", "--new-network", "Port", "--name", "Anna")
    need = ok(node, "post", "need", "water", "--category", "water").split()[1]

    def records() -> int:
        conn = sqlite3.connect(node / "ledger.db")
        try:
            return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        finally:
            conn.close()

    before = records()
    unknown = need.split("-")[0] + "-999"
    line = one_line_error(meshaid(node, "renew", need, unknown), 1)
    assert unknown in line and "known here" in line
    assert records() == before


def test_import_csv_refuses_a_status_it_does_not_know(tmp_path: Path) -> None:
    """Finding: a status cell with a typo ('opne') was taken for a closed state
    and the row skipped without a word of why, exit 0."""
    node = tmp_path / "node"
    ok(node, "init", "--new-network", "Port", "--name", "Anna")
    sheet = tmp_path / "stock.csv"
    sheet.write_text("text,qty,unit,category,status\nrice,10,kg,food,opne\n"
                     "beans,5,kg,food,open\nsalt,1,kg,food,withdrawn\n")
    proc = meshaid(node, "import-csv", str(sheet), "--as", "offers")
    assert proc.returncode == 1 and "nothing was signed" in proc.stderr
    assert "line 2: status 'opne' is none of open" in proc.stdout
    sheet.write_text("text,qty,unit,category,status\nbeans,5,kg,food,open\n"
                     "salt,1,kg,food,withdrawn\n")
    proc = meshaid(node, "import-csv", str(sheet), "--as", "offers")
    assert proc.returncode == 0 and "withdrawn at its source" in proc.stdout


def test_an_empty_data_dir_is_refused_not_taken_for_the_current_directory(
        tmp_path: Path) -> None:
    proc = subprocess.run(_cmd(None, ["--data-dir", "", "init", "--new-network", "Port",
                                      "--name", "Anna"]), capture_output=True, text=True,
                          env=_env(None), timeout=60, check=False, cwd=tmp_path)
    line = one_line_error(proc, 2)
    assert "'--data-dir'" in line and "empty path" in line
    assert list(tmp_path.iterdir()) == []  # nothing written where it was run


def test_bench_takes_a_protocol_name_in_either_case(tmp_path: Path) -> None:
    """The docs and tables write B2, the option's choices b2: both are taken."""
    run = meshaid(tmp_path / "node", "bench", "--scenario", "ci-small", "--protocol", "B2",
                  "--quiet")
    assert run.returncode == 0, run.stderr
    assert "ci-small [b2]" in run.stdout


def test_bench_warns_of_a_mesh_no_link_joins(tmp_path: Path) -> None:
    """A scenario whose sites cannot all reach one another (100 km apart, say) is
    measured over what can arrive; the bench says so instead of a bare 1.0."""
    scen = tmp_path / "apart.toml"
    scen.write_text('name = "apart"\nduration_h = 0.5\n[topology]\nkind = "positions"\n'
                    "positions = [[0, 0], [500, 0], [100000, 0]]\n"
                    "[workload]\nrecords_per_node_per_hour = 4\n")
    run = meshaid(tmp_path / "node", "bench", "--scenario", str(scen), "--quiet")
    assert run.returncode == 0, run.stderr
    assert "no link joins the mesh's 2 parts (sites 0-1 | sites 2)" in run.stderr
    assert "record-site pairs no link could carry" in run.stdout
