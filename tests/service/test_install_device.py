"""scripts/install-device into a staging root: the files, owners and modes a device gets, idempotent,
and an uninstall that keeps the records unless --purge."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess

import pytest

from edgescreen_wire.erasure import parse_erasure
from firmware_app.bundles.install import active_manifest
from firmware_app.bundles.keys import trusted_keys
from firmware_app.bundles.manifest import verify_bundle
from firmware_app.config import load_config
from firmware_app.records.database import SCHEMA_VERSION
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.store import Records
from tests.conftest import PROJECT_ROOT
from tests.records.kit import open_store, record_one, sample_record, small_photo
from tests.service.conftest import INSTALL, install_device


def _ids(root, name):
    line = next(x for x in (root / "etc/passwd").read_text().splitlines() if x.startswith(f"{name}:"))
    uid, gid = int(line.split(":")[2]), int(line.split(":")[3])
    return uid, gid


def _owner_mode(path):
    info = path.lstat()
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def test_the_device_files_owners_and_modes(staged_root):
    root = staged_root
    uid, gid = _ids(root, "edgescreen")
    passwd = next(x for x in (root / "etc/passwd").read_text().splitlines() if x.startswith("edgescreen:"))
    assert passwd.endswith(":/var/lib/edgescreen:/usr/sbin/nologin") and uid < 1000  # a system user
    assert "edgescreen" in next(x for x in (root / "etc/group").read_text().splitlines() if x.startswith("video:"))

    assert _owner_mode(root / "var/lib/edgescreen") == (uid, gid, 0o700)
    assert _owner_mode(root / "etc/edgescreen") == (0, gid, 0o750)
    assert _owner_mode(root / "etc/edgescreen/config.toml") == (0, gid, 0o640)
    assert _owner_mode(root / "etc/edgescreen/tls") == (0, gid, 0o750)
    assert _owner_mode(root / "etc/edgescreen/trusted-keys") == (0, 0, 0o755)
    assert _owner_mode(root / "var/lib/edgescreen/records.key") == (uid, gid, 0o600)
    assert _owner_mode(root / "opt/edgescreen/kiosk")[2] == 0o755

    config = load_config(str(root / "etc/edgescreen/config.toml"))
    assert config.records.database.as_posix() == "/var/lib/edgescreen/records.sqlite3"
    assert config.models.directory.as_posix() == "/var/lib/edgescreen/models"
    # The records made by the first `models install` are named off any records drive (records/presence.py).
    assert config.records.marker.as_posix() == "/var/lib/edgescreen/records.made"
    assert (root / "var/lib/edgescreen/records.made").read_text() == str(root / "var/lib/edgescreen/records.sqlite3")
    assert config.camera.backend == "picamera2"

    for unit in ("edgescreen-app.service", "edgescreen-sync.service"):
        assert (root / "etc/systemd/system" / unit).read_bytes() == (PROJECT_ROOT / "systemd" / unit).read_bytes()
        wanted = root / "etc/systemd/system/multi-user.target.wants" / unit
        assert wanted.is_symlink(), f"{unit} is not enabled"
    assert (root / "etc/xdg/autostart/edgescreen-kiosk.desktop").read_text().count("Exec=/opt/edgescreen/kiosk") == 1

    keys = trusted_keys(root / "etc/edgescreen/trusted-keys")
    models = root / "var/lib/edgescreen/models"
    for model_id in ("dr-referable", "melanoma"):
        assert (models / model_id).is_symlink()
        assert verify_bundle(models / model_id, keys).model_id == model_id
        assert active_manifest(models, model_id).version

    records = Records(root / "var/lib/edgescreen/records.sqlite3", root / "var/lib/edgescreen/records.key")
    try:
        assert records.verify_audit().intact
        kinds = [row[0] for row in records.connection.execute("SELECT kind FROM audit")]
        assert kinds.count("model_change") == 2
    finally:
        records.close()


def test_install_again_keeps_the_config_and_changes_nothing_else(staged_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    config = root / "etc/edgescreen/config.toml"
    config.write_text(config.read_text().replace('"change-me-device"', '"fundus-cam-7"'))
    run = install_device(root)
    assert run.returncode == 0, run.stderr
    assert '"fundus-cam-7"' in config.read_text()
    assert "already the active model" in run.stdout
    assert [x for x in (root / "etc/passwd").read_text().splitlines() if x.startswith("edgescreen:")] == [
        x for x in (staged_root / "etc/passwd").read_text().splitlines() if x.startswith("edgescreen:")
    ]


def test_uninstall_keeps_the_records_and_purge_removes_them(staged_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    run = install_device(root, "--uninstall")
    assert run.returncode == 0, run.stderr
    assert not (root / "opt/edgescreen").exists()
    assert not (root / "etc/systemd/system/edgescreen-app.service").exists()
    assert not (root / "etc/systemd/system/multi-user.target.wants/edgescreen-app.service").exists()
    assert not (root / "etc/xdg/autostart/edgescreen-kiosk.desktop").exists()
    assert (root / "var/lib/edgescreen/records.sqlite3").is_file() and (root / "etc/edgescreen/config.toml").is_file()
    assert "kept the records" in run.stderr

    purged = install_device(root, "--uninstall", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert "crypto-erased" in purged.stderr and "overwritten with zeros and removed" in purged.stderr  # wiped first
    assert not (root / "var/lib/edgescreen").exists() and not (root / "etc/edgescreen").exists()
    assert not [x for x in (root / "etc/passwd").read_text().splitlines() if x.startswith("edgescreen:")]


def test_purge_after_an_uninstall_that_removed_the_code_says_to_install_again(staged_root, tmp_path):
    """A device uninstalled with its records kept, purged later: the installed code that wipes them went
    with the first --uninstall (a staging root falls back on the checkout's .venv, which a checkout
    copied to a device has not). The purge stopped on the shell's "No such file or directory" and "the
    records could not be wiped (above)", with nothing saying what would let it wipe them."""
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    assert install_device(root, "--uninstall").returncode == 0
    checkout = tmp_path / "checkout"  # a checkout without a .venv, as on a device
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(INSTALL, checkout / "scripts")
    command = [str(checkout / "scripts" / INSTALL.name), "--root", str(root), "--skip-venv", "--uninstall", "--purge"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "install it again" in run.stderr and "then --uninstall --purge" in run.stderr, run.stderr
    assert (root / "var/lib/edgescreen/records.sqlite3").is_file()  # nothing removed


def test_purge_without_uninstall_is_refused_before_it_installs_anything(tmp_path):
    """``--purge`` alone went unremarked and installed (or updated) the device a technician meant to
    wipe before it left the clinic, saying nothing of the records it kept."""
    if os.geteuid() != 0:
        pytest.skip("install-device runs as root only")
    run = install_device(tmp_path / "root", "--purge")
    assert run.returncode == 2
    assert "--purge is for --uninstall only" in run.stderr
    assert not (tmp_path / "root").exists()


def test_purge_of_a_device_that_cannot_reach_its_station_passes_unsent_erasures_on_to_the_wipe(staged_root, tmp_path):
    """A patient's erasure waiting for a station the device can never reach again refuses the wipe, so
    the purge, which ran ``edgescreen wipe --confirm ID`` only: the refusal named ``--unsent-erasures
    FILE`` and the technician had no way to give it. It is passed on: the erasure is written to FILE
    (in a staging root, under it, as the device's other paths), then the records are wiped and removed."""
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    state = root / "var/lib/edgescreen"
    store = open_store(state)
    record_one(store, small_photo(), sample_record(ScreeningContext(patient_ref="MRN-777-MARTIN", eye="L")))
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("MRN-777-MARTIN")
    [request] = outbox.pending_erasures(0, 10)
    store.records.close()

    refused = install_device(root, "--uninstall", "--purge")
    assert refused.returncode == 1
    assert "--unsent-erasures" in refused.stderr and "nothing was removed" in refused.stderr
    assert (state / "records.sqlite3").is_file() and (root / "etc/edgescreen/config.toml").is_file()

    (root / "media/usb").mkdir(parents=True)
    purged = install_device(root, "--uninstall", "--purge", "--unsent-erasures", "/media/usb/erasures.txt")
    assert purged.returncode == 0, purged.stderr
    written = (root / "media/usb/erasures.txt").read_text()
    result_ids = " ".join(parse_erasure(request.payload).result_ids)
    assert f"edgescreen-review results erase {result_ids}\n" in written and "MRN" not in written
    assert "crypto-erased" in purged.stderr
    assert not state.exists() and not (root / "etc/edgescreen").exists()


def test_purge_of_a_device_whose_results_can_never_be_sent_passes_discard_unsent_results_on(staged_root, tmp_path):
    """A result the broker never took refuses the wipe, so the purge; the refusal names
    ``--discard-unsent-results``, which the purge passes on as it does ``--unsent-erasures``: the wipe
    erases the result with the rest and says so, then the records are removed."""
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    state = root / "var/lib/edgescreen"
    store = open_store(state)
    record_one(store, small_photo(), sample_record(ScreeningContext(patient_ref="MRN-777-MARTIN", eye="L")))
    store.records.close()

    refused = install_device(root, "--uninstall", "--purge")
    assert refused.returncode == 1
    assert "--discard-unsent-results" in refused.stderr and "nothing was removed" in refused.stderr
    assert (state / "records.sqlite3").is_file() and (root / "etc/edgescreen/config.toml").is_file()

    purged = install_device(root, "--uninstall", "--purge", "--discard-unsent-results")
    assert purged.returncode == 0, purged.stderr
    assert "1 result never sent to the review station erased with the records" in purged.stderr
    assert not state.exists() and not (root / "etc/edgescreen").exists()


@pytest.mark.parametrize("option", [("--unsent-erasures", "/media/usb/erasures.txt"), ("--discard-unsent-results",)])
@pytest.mark.parametrize("options", [(), ("--uninstall",)], ids=["install", "uninstall"])
def test_a_wipe_s_option_without_uninstall_purge_is_refused_before_anything_changes(
    staged_root, tmp_path, options, option
):
    """Like ``--purge``, ``--unsent-erasures`` and ``--discard-unsent-results`` mean a wipe: without
    ``--uninstall --purge`` they would go unremarked while the device was updated, or removed with its
    records kept."""
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    run = install_device(root, *options, *option)
    assert run.returncode == 2
    assert f"{option[0]} is for --uninstall --purge only" in run.stderr
    assert (root / "opt/edgescreen").is_dir() and (root / "etc/systemd/system/edgescreen-app.service").is_file()
    assert (root / "var/lib/edgescreen/records.sqlite3").is_file()


@pytest.mark.parametrize("file", [("erasures.txt",), ()], ids=["relative", "missing"])
def test_unsent_erasures_without_a_full_path_is_refused_before_anything_changes(staged_root, tmp_path, file):
    """The script works from its checkout, and a staging root puts FILE under it: a relative FILE would
    be relative to neither the technician's folder nor the USB drive. A FILE left out is said as plainly."""
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    run = install_device(root, "--uninstall", "--purge", "--unsent-erasures", *file)
    assert run.returncode == 2
    assert "--unsent-erasures takes FILE's full path" in run.stderr
    assert (root / "var/lib/edgescreen/records.sqlite3").is_file() and (root / "opt/edgescreen").is_dir()


@pytest.mark.parametrize("options", [("--root",), ("--skip-venv", "--root"), ("--root", "--skip-venv")])
def test_an_option_without_its_value_is_refused_by_name(tmp_path, options):
    """``--root`` last on the line died with bash's "$2: unbound variable"; followed by another option,
    it staged the device into a folder named after that option."""
    if os.geteuid() != 0:
        pytest.skip("install-device runs as root only")
    run = subprocess.run([str(INSTALL), *options], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 2
    assert "--root needs a value: the staging root DIR" in run.stderr and "unbound" not in run.stderr
    assert list(tmp_path.iterdir()) == [] and not (PROJECT_ROOT / "--skip-venv").exists()


def test_a_relative_root_is_the_callers_folder_not_the_checkouts(tmp_path):
    """The script cd's to its checkout; ``--root staging`` was made there, not where the technician ran it."""
    if os.geteuid() != 0:
        pytest.skip("install-device runs as root only")
    run = subprocess.run(
        [str(INSTALL), "--root", "staging", "--skip-venv"], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "staging/etc/systemd/system/edgescreen-app.service").is_file()
    assert not (PROJECT_ROOT / "staging").exists()


def test_an_older_checkout_than_the_records_is_refused_before_it_replaces_anything(staged_root, tmp_path):
    """A "rollback" by installing an older checkout: its code cannot open records migrated past it,
    so the install stops before the services, the code or the models are touched."""
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    records = root / "var/lib/edgescreen/records.sqlite3"
    with sqlite3.connect(records) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # migrated by a newer release
    bundles = sorted(path.name for path in (root / "opt/edgescreen/bundles").iterdir())
    marker = root / "opt/edgescreen/bundles/left-by-the-newer-release"
    marker.write_text("")
    run = install_device(root)
    assert run.returncode == 1
    assert f"records in {root}/var/lib/edgescreen are at schema {SCHEMA_VERSION + 1}" in run.stderr
    assert f"this checkout's code reads up to {SCHEMA_VERSION}" in run.stderr
    assert marker.exists()  # install_bundles, which empties the folder first, never ran
    assert sorted(path.name for path in (root / "opt/edgescreen/bundles").iterdir()) == sorted([*bundles, marker.name])
    with sqlite3.connect(records) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_records_kept_where_the_config_says_are_checked_too(staged_root, tmp_path):
    """The refusal reads the installed config's [records] database with the installed venv's loader:
    records kept elsewhere than the default are protected as well. The staging root has no venv
    (--skip-venv): this checkout's stands in as the installed one."""
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    venv_bin = root / "opt/edgescreen/venv/bin"
    venv_bin.mkdir(parents=True)
    python = venv_bin / "python"  # a script, not a link: a linked python would not find its venv
    python.write_text(f'#!/bin/sh\nexec {PROJECT_ROOT / ".venv/bin/python"} "$@"\n')
    python.chmod(0o755)
    config = root / "etc/edgescreen/config.toml"
    elsewhere = root / "srv/records"
    config.write_text(
        config.read_text().replace('"/var/lib/edgescreen/records.sqlite3"', '"/srv/records/records.sqlite3"')
    )
    elsewhere.mkdir(parents=True)
    with sqlite3.connect(elsewhere / "records.sqlite3") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    run = install_device(root)
    assert run.returncode == 1, run.stderr
    assert f"records in {elsewhere} are at schema {SCHEMA_VERSION + 1}" in run.stderr


# The script's own stop_services and its trap, run alone: systemd stands in as a fake systemctl
# that records its calls (the test machine has no systemd, and a real update would touch /opt).
FAILED_UPDATE = f"""
set -euo pipefail
units=(edgescreen-app.service edgescreen-sync.service)
say() {{ echo "install-device: $*" >&2; }}
systemd_running() {{ true; }}
eval "$(sed -n '/^stopped=()/,/^}}/p; /^start_stopped_on_failure()/,/^}}/p' {INSTALL})"
stop_services
false  # pip without a network, after the stop
"""


def test_a_failed_update_starts_again_the_services_it_stopped(tmp_path):
    """A fake systemctl on PATH (no systemd here) that says the app runs and the sync does not: the
    failed update starts the app again, leaves the sync as it was, and still fails."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "systemctl"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n[ "$*" != "is-active --quiet edgescreen-sync.service" ]\n')
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:/usr/bin:/bin"}
    run = subprocess.run(["bash", "-c", FAILED_UPDATE], capture_output=True, text=True, env=env, timeout=30)
    assert run.returncode == 1, run.stderr
    assert calls.read_text().splitlines() == [
        "is-active --quiet edgescreen-app.service",
        "stop edgescreen-app.service",
        "is-active --quiet edgescreen-sync.service",
        "start edgescreen-app.service",
    ]
    assert "the update failed: starting again edgescreen-app.service" in run.stderr


def _fake_commands(folder, **scripts: str) -> dict[str, str]:
    """An environment whose PATH finds ``scripts`` (name: shell body) before the machine's commands."""
    folder.mkdir()
    for name, body in scripts.items():
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    return {"PATH": f"{folder}:/usr/bin:/bin"}


def test_debian_packages_installs_only_the_missing_ones(tmp_path):
    calls = tmp_path / "apt-calls"
    env = _fake_commands(
        tmp_path / "bin",
        **{
            "dpkg-query": '[ "$3" = mosquitto ] && echo "install ok installed"; true',
            "apt-get": f'echo "$*" >> {calls}',
        },
    )
    script = str(PROJECT_ROOT / "scripts" / "debian-packages")
    assert subprocess.run([script, "mosquitto"], env=env, capture_output=True, text=True).returncode == 0
    assert not calls.exists()  # all there: apt is not even updated
    run = subprocess.run([script, "mosquitto", "python3-venv"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq --no-install-recommends python3-venv"]


def test_install_device_gets_python3_venv_before_it_installs_anything(tmp_path):
    """A fresh Debian 12 has python3 but not python3-venv: `python3 -m venv` stopped install-device
    half done (its user made, /opt written). On this machine for real, with fakes: dpkg-query finds no
    package installed, apt-get records its calls and its install fails, so the run stops there; useradd fails
    too, so that a script that asks apt nothing stops before it touches anything."""
    if os.geteuid() != 0:
        pytest.skip("install-device runs as root only")
    calls = tmp_path / "apt-calls"
    env = _fake_commands(
        tmp_path / "bin",
        **{
            "dpkg-query": "exit 1",
            "apt-get": f'echo "$*" >> {calls}; [ "$1" = update ] || exit 100',
            "useradd": "exit 9",
        },
    )
    run = subprocess.run([str(INSTALL)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 100, run.stderr
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq --no-install-recommends python3-venv"]


def test_install_device_gets_the_pi_cameras_picamera2_on_raspberry_pi_os(tmp_path):
    """device/config.toml's camera is the Pi camera, whose picamera2 Pi OS Lite leaves out: the app said
    "picamera2 is not installed" at its first start. For real with fakes, as above: Raspberry Pi's archive
    key is the one package installed, so python3-picamera2 is asked for with python3-venv."""
    if os.geteuid() != 0:
        pytest.skip("install-device runs as root only")
    calls = tmp_path / "apt-calls"
    env = _fake_commands(
        tmp_path / "bin",
        **{
            "dpkg-query": '[ "$3" = raspberrypi-archive-keyring ] && echo "install ok installed"; true',
            "apt-get": f'echo "$*" >> {calls}; [ "$1" = update ] || exit 100',
            "useradd": "exit 9",
        },
    )
    run = subprocess.run([str(INSTALL)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 100, run.stderr
    install = "install -y -qq --no-install-recommends python3-venv python3-picamera2"
    assert calls.read_text().splitlines() == ["update -qq", install]


# The script's own pi_camera_package, run alone on a config in a folder of the test's.
PI_CAMERA_PACKAGE = f"""
set -euo pipefail
say() {{ echo "install-device: $*" >&2; }}
eval "$(sed -n '/^pi_camera_package()/,/^}}/p' {INSTALL})"
etc=$1
pi_camera_package
"""


def test_picamera2_is_wanted_for_the_pi_camera_only_and_from_raspberry_pi_os_only(tmp_path):
    """An installed config's backend decides (a USB camera's "opencv" needs no picamera2); on a system
    without Raspberry Pi's archive (Debian on a PC) apt has no python3-picamera2: said, not asked for."""
    pi = _fake_commands(tmp_path / "pi", **{"dpkg-query": 'echo "install ok installed"'})
    pc = _fake_commands(tmp_path / "pc", **{"dpkg-query": "exit 1"})
    etc = tmp_path / "etc"
    etc.mkdir()

    def wanted(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        command = ["bash", "-c", PI_CAMERA_PACKAGE, "pi_camera_package", str(etc)]
        return subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30)

    assert wanted(pi).stdout == "python3-picamera2\n"  # no config yet: device/config.toml's picamera2
    on_a_pc = wanted(pc)
    assert on_a_pc.returncode == 0 and on_a_pc.stdout == ""
    assert "whose python3-picamera2 only" in on_a_pc.stderr
    (etc / "config.toml").write_text('[camera]\nbackend = "opencv"\n')
    assert wanted(pi).stdout == ""
    (etc / "config.toml").write_text('[camera]\nbackend = "picamera2"\n')
    assert wanted(pi).stdout == "python3-picamera2\n"


def test_install_device_refuses_a_32_bit_system_before_it_installs_anything(tmp_path):
    """ai-edge-litert has no armhf build: on a 32-bit Raspberry Pi OS, pip stopped the install half
    done. Run for real with fakes (dpkg says armhf; apt-get and useradd fail, should it go on)."""
    if os.geteuid() != 0:
        pytest.skip("install-device runs as root only")
    calls = tmp_path / "calls"
    env = _fake_commands(
        tmp_path / "bin",
        **{
            "dpkg": "echo armhf",
            "dpkg-query": 'echo "install ok installed"',
            "apt-get": f"echo apt-get >> {calls}; exit 100",
            "useradd": f"echo useradd >> {calls}; exit 9",
        },
    )
    run = subprocess.run([str(INSTALL)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    assert "refused: this system is armhf; EdgeScreen needs a 64-bit one" in run.stderr
    assert not calls.exists()


def test_every_venv_the_readme_makes_by_hand_has_python3_venv_installed_first():
    """The station's install and the Pi camera's set-up make a venv by hand, as install-device does:
    on a fresh Debian 12 `python3 -m venv` fails there too unless the block installed python3-venv."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    blocks = readme.split("```")[1::2]
    making = [block for block in blocks if "python3 -m venv" in block]
    assert len(making) == 2  # the station's install, the Pi camera's set-up
    for block in making:
        before = block[: block.index("python3 -m venv")]
        assert "python3-venv" in before, block
