"""The units as systemd judges them: hardened to "OK" and free of warnings in systemd-analyze verify."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from firmware_app.health.checks import SERVICE_WRITABLE
from firmware_app.health.service_user import SERVICE_USER
from firmware_app.records.presence import RECORDS_GONE_EXIT
from firmware_app.service.records_wait import RECHECK_S
from tests.conftest import PROJECT_ROOT

UNITS = ("edgescreen-app.service", "edgescreen-sync.service")
# The review station's, installed by hand on a server (README, "Installing the station").
STATION_UNITS = tuple(f"edgescreen-review-{role}.service" for role in ("ingest", "serve", "uploads"))
MOST_EXPOSURE = 2.0


@pytest.fixture(scope="module")
def analyze() -> str:
    path = shutil.which("systemd-analyze")
    assert path, "systemd-analyze is missing: scripts/setup --test installs the systemd package"
    return path


@pytest.mark.parametrize("unit", UNITS + STATION_UNITS)
def test_each_unit_scores_ok_in_systemd_analyze_security(analyze, unit):
    run = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(PROJECT_ROOT / "systemd" / unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", run.stdout + run.stderr)
    assert score, run.stdout + run.stderr
    assert float(score.group(1)) <= MOST_EXPOSURE, run.stdout


@pytest.mark.parametrize("unit", UNITS)
def test_each_installed_unit_passes_systemd_analyze_verify(analyze, unit, staged_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(staged_root / "etc", root / "etc", symlinks=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    # verify insists that ExecStart is executable; --skip-venv left the venv out of the staging root.
    command = root / "opt/edgescreen/venv/bin/edgescreen"
    command.parent.mkdir(parents=True)
    command.write_text("#!/bin/sh\n")
    command.chmod(0o755)
    run = subprocess.run([analyze, "verify", f"--root={root}", unit], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and not run.stderr.strip() and not run.stdout.strip(), run.stdout + run.stderr


def unit_lines(unit: str) -> list[str]:
    return (PROJECT_ROOT / "systemd" / unit).read_text().splitlines()


def test_the_nurses_app_starts_without_waiting_for_a_network():
    """Offline first: a Pi with no network must show the nurse her screen at boot, not after
    network-online.target gives up; only the sync service waits for a network."""
    ordering = ("Wants=", "After=", "Requires=")
    assert not [line for line in unit_lines("edgescreen-app.service") if line.startswith(ordering)]
    assert "After=network-online.target" in unit_lines("edgescreen-sync.service")


def test_the_sync_service_is_not_restarted_over_a_configuration_error():
    """`edgescreen sync run` exits 2 for a configuration error (a TLS key not the certificate's):
    systemd must not restart it every 5 s forever."""
    assert "RestartPreventExitStatus=2" in unit_lines("edgescreen-sync.service")


def test_the_sync_service_is_restarted_while_its_records_are_gone():
    """`edgescreen sync run` exits ``RECORDS_GONE_EXIT`` on records gone from their path (a records drive
    not mounted yet at boot): systemd must restart it until they are there, never hold it stopped as it
    does a configuration error's 2, or results stop flowing once the drive is mounted."""
    lines = unit_lines("edgescreen-sync.service")
    prevented = {
        status
        for line in lines
        if line.startswith("RestartPreventExitStatus=")
        for status in line.split("=", 1)[1].split()
    }
    assert "Restart=always" in lines
    assert str(RECORDS_GONE_EXIT) not in prevented


def test_the_sync_service_waits_for_its_records_within_its_start_and_watchdog_limits():
    """While its records are gone it waits inside (restarted every 5 s, it logged a warning each time
    for hours): ready within ``TimeoutStartSec=``, and its looks, each followed by a watchdog ping, well
    inside ``WatchdogSec=``. No ``RestartSteps=``/``RestartMaxDelaySec=``: Debian 12's systemd 252
    ignores them (with a warning that ``systemd-analyze verify`` fails on above)."""
    lines = [line for line in unit_lines("edgescreen-sync.service") if "=" in line and not line.startswith("#")]
    settings = dict(line.split("=", 1) for line in lines)
    assert float(settings["WatchdogSec"]) / 4 > RECHECK_S and float(settings["TimeoutStartSec"]) > 0
    assert not {"RestartSteps", "RestartMaxDelaySec"} & settings.keys()


@pytest.mark.parametrize("unit", UNITS)
def test_a_device_process_never_dumps_core(unit):
    """Both hold the records key (the sync worker seals review comments): a core dump would put it and
    the patients' data in the clear on the card, out of reach of any erasure."""
    assert "LimitCORE=0" in unit_lines(unit)


@pytest.mark.parametrize("unit", UNITS)
def test_the_writable_check_names_where_the_sandbox_lets_each_device_service_write(unit):
    """Records outside it are read-only to the services (ProtectSystem=strict), and the writable
    line tells the technician to move them under SERVICE_WRITABLE: a unit given another StateDirectory=
    or a ReadWritePaths= would make that sentence send them to the wrong folder."""
    lines = unit_lines(unit)
    assert "ProtectSystem=strict" in lines
    writable = [Path("/var/lib") / line.partition("=")[2] for line in lines if line.startswith("StateDirectory=")]
    writable += [Path(line.partition("=")[2]) for line in lines if line.startswith("ReadWritePaths=")]
    assert writable == [SERVICE_WRITABLE]


@pytest.mark.parametrize("unit", UNITS)
def test_doctor_run_as_root_judges_the_records_for_the_user_each_device_service_runs_as(unit):
    """``sudo edgescreen doctor`` judges the records' files for SERVICE_USER: a unit run as another
    user would have it judge them for the wrong one."""
    assert f"User={SERVICE_USER}" in unit_lines(unit)
