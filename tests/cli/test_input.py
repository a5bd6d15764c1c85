"""Input that deserves a clear answer (issue 6): every case is one line on
stderr with a usage (2) or refusal (1) exit code, and nothing is signed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from cli_helpers import (
    _cmd,
    _env,
    code_of,
    counts,
    found,
    key_of,
    listing,
    meshaid,
    meshaid_batch,
    meshaid_many,
    ok,
    one_line_error,
)

from meshaid.node.cli.fmt import width
from meshaid.node.ledger import identity


def test_values_no_node_would_accept_are_usage_errors(port: Path, tmp_path: Path) -> None:
    need_id = next(row["id"] for row in listing(port) if row["kind"] == "need")
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    water = ["post", "need", "water", "--category", "water"]
    cases = [
        (port, [*water, "--lat", "nan", "--lon", "1"], "finite"),
        (port, [*water, "--lat", "inf", "--lon", "1"], "finite"),
        (port, [*water, "--lat", "91", "--lon", "1"], "outside the globe"),
        (port, ["show", "1a2b3c4d-99999999999999999999999"], "at most 268435455"),
        (port, ["pledge", "1a2b3c4d-" + "9" * 40, "--qty", "1"], "at most 268435455"),
        (port, ["update", "1a2b3c4d-" + "9" * 40, "--qty", "1"], "at most 268435455"),
        (port, ["list", "--limit", "0"], "--limit"),
        (a_file, ["list"], "is a file"),
        (port, ["export", ""], "file name"),
        (port, [*water, "--valid-for", "1457d"], "at most 1456 days (208 weeks)"),
        (port, [*water, "--valid-for", "99999999999999999999w"], "at most 1456 days"),
        (port, ["pledge", need_id, "--qty", "1", "--by", "300w"], "at most 1456 days"),
        (port, ["post", "need", "w" * 73, "--category", "water"], "73 bytes of UTF-8 and only 72"),
        (port, ["post", "need", "水" * 25, "--category", "water"], "75 bytes of UTF-8 and only 72"),
        (port, [*water, "--site", "s" * 25], "only 24 fit"),
        (port, ["pledge", need_id, "--qty", "1", "--text", "t" * 80], "only 72 fit"),
        (port, ["update", need_id, "--note", "n" * 49], "only 48 fit"),
        (port, ["revoke", "00000000", "--reason", "r" * 41], "only 40 fit"),
        (tmp_path / "new", ["init", "--new-network", "Port", "--name", "n" * 25], "only 24 fit"),
        (port, ["pledge", need_id, "--qty", "0"], "at least"),
        (port, ["update", need_id, "--qty", "9"], "nothing to change"),
        (port, ["post", "need", "water\udcff", "--category", "water"], "not valid UTF-8"),
        # text that would read differently elsewhere (issue 9)
        (port, ["post", "need", "water\u202e", "--category", "water"],
         "U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible character"),
        (port, [*water, "--site", "Pier\u200b3"], "U+200B (ZERO WIDTH SPACE)"),
        (port, ["update", need_id, "--note", "\u2066kitchen"], "U+2066"),
        (port, ["revoke", "00000000", "--reason", "\ufeffgone"], "U+FEFF"),
        (tmp_path / "new", ["init", "--new-network", "Port", "--name", "an\u200dna"], "U+200D"),
    ]
    before = counts(port)
    results = meshaid_batch([(home, args) for home, args, _ in cases])
    for (_, args, expected), proc in zip(cases, results):
        line = one_line_error(proc, 2)
        assert expected in line, (args, line)
    assert counts(port) == before
    assert not (tmp_path / "new").exists()
    # a limit past what SQLite counts to is no limit
    assert ok(port, "list", "--limit", str(1 << 64)) == ok(port, "list")
    # the same from a real process given bytes that are not UTF-8
    proc = subprocess.run([*_cmd(port, ["post", "need"]), b"wat\xffer", "--category", "water"],
                          capture_output=True, text=True, env=_env(None), timeout=60, check=False)
    assert "not valid UTF-8" in one_line_error(proc, 2)
    assert counts(port) == before


def test_records_that_change_nothing_or_cannot_be_right(tmp_path: Path) -> None:
    anna, bo, stick = tmp_path / "anna", tmp_path / "bo", tmp_path / "stick"
    found(anna)
    for text in ("bread", "blankets", "tents"):
        ok(anna, "post", "need", text, "--qty", "5", "--category", "food")
    bread, blankets, tents = (row["id"] for row in sorted(
        listing(anna), key=lambda row: int(row["id"].split("-")[1])))
    ok(anna, "update", bread, "--fulfil")
    ok(anna, "update", blankets, "--withdraw")
    ok(anna, "export", str(stick))
    ok(bo, "init", "--join", code_of(anna), "--name", "Bo")
    ok(bo, "import", str(stick))
    bo_id = identity.short_id(key_of(bo)).hex()
    anna_id = identity.short_id(key_of(anna)).hex()
    ok(bo, "export", str(stick), "--force")
    ok(anna, "import", str(stick))
    before = counts(anna)
    fulfilled, withdrawn, noop, last, unconfirmed = meshaid_batch([
        (anna, ["pledge", bread, "--qty", "1"]),
        (anna, ["pledge", blankets, "--qty", "1"]),
        (anna, ["update", bread, "--fulfil"]),
        (anna, ["revoke", anna_id]),
        (anna, ["vouch", "BO"]),
    ])
    assert "fulfilled" in one_line_error(fulfilled, 1)
    assert "withdrawn" in one_line_error(withdrawn, 1)
    assert "nothing to change" in one_line_error(noop, 2)
    assert "last steward" in one_line_error(last, 1)
    line = one_line_error(unconfirmed, 1)
    assert "give the id" in line and bo_id in line
    assert counts(anna) == before

    # vouch by id (the id members shows), then the name works, in any case
    assert bo_id in ok(anna, "vouch", bo_id)
    members = ok(anna, "members")
    assert bo_id in members and anna_id in members
    assert json.loads(ok(anna, "whoami", "--json"))["short"] == anna_id
    assert bo_id in ok(anna, "revoke", "bO", "--reason", "stolen radio")
    again, readmit = meshaid_batch([(anna, ["revoke", bo_id]), (anna, ["vouch", bo_id])])
    assert "already revoked" in one_line_error(again, 1)
    assert "revoked" in one_line_error(readmit, 1)

    # the revoked key's own node refuses to sign anything
    ok(anna, "export", str(stick), "--force")
    ok(bo, "import", str(stick))
    before = counts(bo)
    results = meshaid_batch([
        (bo, ["post", "need", "water", "--category", "water"]),
        (bo, ["pledge", tents, "--qty", "1"]),
    ])
    for proc in results:
        assert "revoked" in one_line_error(proc, 1)
    assert counts(bo) == before


def test_a_name_shared_by_two_keys_asks_for_the_id(tmp_path: Path) -> None:
    anna, bo1, bo2, stick = (tmp_path / n for n in ("anna", "bo1", "bo2", "stick"))
    found(anna)
    ok(anna, "export", str(stick))
    code = code_of(anna)
    for home in (bo1, bo2):
        ok(home, "init", "--join", code, "--name", "Bo")
    meshaid_many([(bo1, ["import", str(stick)]), (bo2, ["import", str(stick)])])
    for home in (bo1, bo2):
        ok(home, "export", str(stick), "--force")
        ok(anna, "import", str(stick))
    ids = [identity.short_id(key_of(home)).hex() for home in (bo1, bo2)]
    ok(anna, "vouch", ids[0])
    ok(anna, "vouch", ids[1])
    line = one_line_error(meshaid(anna, "revoke", "bo"), 1)
    assert "2 keys" in line and ids[0] in line and ids[1] in line


def test_list_limits_after_the_status_filter_and_keeps_units(tmp_path: Path) -> None:
    home = tmp_path / "node"
    found(home)
    ok(home, "post", "offer", "M6 brackets", "--qty", "40", "--per", "day", "--type", "capacity",
       "--category", "sheet-metal")
    ok(home, "post", "need", "饮用水 drinking water", "--qty", "200", "--unit", "L",
       "--category", "water")
    ok(home, "post", "need", "bread", "--qty", "50", "--unit", "meal", "--category", "food",
       "--urgency", "critical")
    rows = {row["text"]: row["id"] for row in listing(home)}
    ok(home, "pledge", rows["饮用水 drinking water"], "--qty", "50")
    ok(home, "update", rows["bread"], "--fulfil")
    partial = listing(home, "--status", "partial", "--limit", "1")
    assert [row["text"] for row in partial] == ["饮用水 drinking water"]
    table, shown, pledge = meshaid_many([
        (home, ["list"]), (home, ["show", rows["M6 brackets"]]),
        (home, ["list", "--kind", "pledge"])])
    lines = table.stdout.splitlines()[::2]
    # the fulfilled critical need is not on top; what still needs doing is
    assert "fulfilled" in lines[-1] and "bread" in lines[-1]
    assert "40 pcs/day" in table.stdout and "40 pcs/day" in shown.stdout
    assert "50 L for " in pledge.stdout
    water = next(line for line in lines if "drinking" in line)
    offer = next(line for line in lines if "brackets" in line)
    assert width(water[:water.index("150/200 L left")]) == width(offer[:offer.index("40 pcs")])


def _opened(fds: Path, name: str) -> bool:
    """Has the process whose fd directory is `fds` a file called `name` open?"""
    for fd in list(fds.iterdir()):
        try:
            if os.readlink(fd).endswith(name):
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def test_ctrl_c_exits_130_in_one_line(port: Path) -> None:
    proc = subprocess.Popen(_cmd(port, ["import", "-"]), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(None))
    assert proc.stdin is not None
    proc.stdin.write(f"meshaid-bundle 1 {'00' * 32}\n")
    proc.stdin.flush()
    # wait until the command has opened the node's database, then press Ctrl-C
    fds = Path(f"/proc/{proc.pid}/fd")
    for _ in range(3000):
        if _opened(fds, "ledger.db"):
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert "interrupted" in one_line_error(done, 130)


def test_data_dir_that_is_a_file_via_meshaid_home(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    line = one_line_error(meshaid(None, "list", env_home=a_file), 2)
    assert "MESHAID_HOME" in line and "is a file" in line



def test_wrong_kinds_and_blank_names_are_named_and_big_pledges_warned(tmp_path: Path) -> None:
    """Messages say what is wrong: a pack size with no unit, an offer given where
    a need goes (and the reverse), a network name left blank; a pledge above
    what the need asks is signed, with a warning that it counts for the need's
    quantity at most."""
    anna = tmp_path / "anna"
    blank, _ = meshaid_batch([(tmp_path / "x", ["init", "--new-network", " ", "--name", "A"]),
                              (tmp_path / "y", ["whoami"])])
    assert "needs a name" in one_line_error(blank, 2)
    found(anna)
    ok(anna, "post", "need", "water", "--qty", "5", "--category", "water")
    ok(anna, "post", "offer", "pots", "--qty", "9", "--category", "food")
    need, offer = (row["id"] for row in sorted(
        listing(anna), key=lambda row: int(row["id"].split("-")[1])))
    pack, on_offer, from_need = meshaid_batch([
        (anna, ["post", "need", "cans", "--qty", "5", "--category", "food", "--pack", "24"]),
        (anna, ["pledge", offer, "--qty", "1"]),
        (anna, ["pledge", need, "--qty", "1", "--from-offer", need]),
    ])
    assert "is not a count and a unit, like '24 pcs'" in one_line_error(pack, 2)
    assert f"{offer} is an offer, not a need" in one_line_error(on_offer, 1)
    assert f"{need} is a need, not an offer" in one_line_error(from_need, 1)
    big = meshaid(anna, "pledge", need, "--qty", "999")
    assert big.returncode == 0 and "signed and stored" in big.stdout
    assert big.stderr.startswith("meshaid: warning: need") and "asks for 5 pcs" in big.stderr
    assert "warning" not in meshaid(anna, "pledge", need, "--qty", "5").stderr


def test_vocabularies_are_shown_as_spelled_and_taken_in_any_case(tmp_path: Path) -> None:
    home = tmp_path / "anna"
    found(home)
    assert "|L|mL|" in ok(None, "post", "need", "--help")
    ok(home, "post", "need", "power", "--qty", "1", "--unit", "kwh", "--category", "energy")
    assert "1/1 kWh left" in ok(home, "list")
    bad = one_line_error(meshaid(home, "post", "need", "x", "--unit", "zz", "--category",
                                 "water"), 2)
    assert "pcs, kg, g, t, L, mL" in bad and "kWh" in bad
