"""The systemd units in deploy/systemd: they parse, run what this checkout ships (the venv's
gunicorn with gunicorn.conf.py, the worker and check-files commands, the backup script),
carry the hardening docs/deployment.md promises, and pass `systemd-analyze verify`."""
from __future__ import annotations

import configparser
import runpy
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from innolab import ROOT
from innolab.cli import group

UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/innolab"  # where docs/deployment.md installs the checkout
SERVICES = ("innolab.service", "innolab-worker.service", "innolab-backup.service",
            "innolab-check-files.service")
TIMERS = ("innolab-backup.timer", "innolab-check-files.timer")
HARDENING = {"NoNewPrivileges": "true", "PrivateTmp": "true", "PrivateDevices": "true",
             "ProtectHome": "true"}


def _unit(name: str) -> configparser.ConfigParser:
    # systemd's files are INI with repeatable keys (SystemCallFilter); case matters
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       empty_lines_in_values=False)
    parser.optionxform = str
    parser.read_string((UNITS / name).read_text(), source=name)
    return parser


def _here(path: str) -> Path:
    """A path of the installation, in this checkout."""
    assert path.startswith(INSTALLED + "/"), path
    return ROOT / path[len(INSTALLED) + 1:]


def test_every_unit_is_shipped_and_parses():
    assert sorted(p.name for p in UNITS.iterdir()) == sorted(SERVICES + TIMERS)
    for name in SERVICES:
        unit = _unit(name)
        assert unit["Unit"]["Description"]
        assert unit["Service"]["ExecStart"]
    for name in TIMERS:
        timer = _unit(name)
        assert timer["Timer"]["Persistent"] == "true"
        assert timer["Install"]["WantedBy"] == "timers.target"
        assert (UNITS / name.replace(".timer", ".service")).exists()


def test_the_web_unit_runs_gunicorn_with_the_shipped_configuration():
    service = _unit("innolab.service")["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0] == f"{INSTALLED}/.venv/bin/gunicorn"
    assert _here(command[0]).exists(), "gunicorn is not in the venv"
    assert command[1:] == ["--config", f"{INSTALLED}/gunicorn.conf.py", "wsgi:app"]
    assert _here(command[2]).is_file() and (ROOT / "wsgi.py").is_file()
    assert service["WorkingDirectory"] == INSTALLED
    assert service["Type"] == "notify"  # gunicorn tells systemd when it is ready
    # workers get their graceful time before systemd kills them
    graceful = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["graceful_timeout"]
    assert int(service["TimeoutStopSec"]) > graceful
    assert service["ExecReload"] == "/bin/kill -s HUP $MAINPID"


@pytest.mark.parametrize(("name", "command"), [
    ("innolab-worker.service", "worker"), ("innolab-check-files.service", "check-files")])
def test_the_command_units_run_commands_that_exist(name, command):
    service = _unit(name)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == f"{INSTALLED}/.venv/bin/flask" and _here(argv[0]).exists()
    assert argv[1:] == ["--app", "wsgi", "innolab", command]
    assert command in group.commands
    assert service["User"] == "innolab" and service["WorkingDirectory"] == INSTALLED


def test_the_backup_unit_runs_the_shipped_script():
    service = _unit("innolab-backup.service")["Service"]
    script = _here(service["ExecStart"])
    assert script == ROOT / "scripts" / "backup.sh" and script.stat().st_mode & 0o111
    assert service["Type"] == "oneshot"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_hardened(name):
    service = _unit(name)["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{name}: {key}"
    if name == "innolab-backup.service":  # root, writing into /var/backups
        assert service["ProtectSystem"] == "full"
        return
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/innolab"  # uploads and exports
    assert service["EnvironmentFile"] == "/etc/innolab/innolab.env"
    assert service["User"] == "innolab" and service["Group"] == "innolab"


@pytest.fixture
def installed_here(tmp_path):
    """The units as they would be installed from this checkout (its paths for /opt/innolab)."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (package systemd); the units are "
                    "checked as INI files only")
    for name in SERVICES + TIMERS:
        text = (UNITS / name).read_text().replace(INSTALLED, str(ROOT))
        (tmp_path / name).write_text(text)
    return tmp_path


def test_systemd_analyze_verify_accepts_the_units(installed_here):
    done = subprocess.run(["systemd-analyze", "verify", *SERVICES, *TIMERS],
                          cwd=installed_here, capture_output=True, text=True, timeout=60)
    # it reports settings it cannot parse on stderr but still exits with 0
    ours = [line for line in done.stderr.splitlines() if "innolab" in line]
    assert done.returncode == 0 and not ours, done.stderr


@pytest.mark.parametrize("name", ["innolab.service", "innolab-worker.service"])
def test_the_long_running_services_are_well_confined(installed_here, name):
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", name],
                          cwd=installed_here, capture_output=True, text=True, timeout=60)
    last = [line for line in done.stdout.splitlines() if "Overall exposure level" in line]
    assert last, done.stdout + done.stderr
    exposure = float(last[0].split(":")[1].split()[0])
    assert exposure <= 2.0, last[0]  # "OK" in systemd's words
