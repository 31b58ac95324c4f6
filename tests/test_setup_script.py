"""scripts/setup on a checkout that was moved with its virtual environment: the stamp still matches,
but the venv's scripts and its editable install name the old place; setup must make it again."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def checkout_copy(directory: Path) -> Path:
    """The committed files of this checkout, as a clone would have them (no venv, no artifacts)."""
    archive = directory / "checkout.tar"
    subprocess.run(["git", "archive", "-o", str(archive), "HEAD"], cwd=PROJECT_ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(directory / "first", filter="data")
    setup = PROJECT_ROOT / "scripts" / "setup"  # the working copy's, committed or not
    shutil.copy(setup, directory / "first" / "scripts" / "setup")
    return directory / "first"


def setup(checkout: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(checkout / "scripts" / "setup")], capture_output=True, text=True, timeout=900)


def test_a_moved_venv_is_made_again_where_it_now_is(tmp_path):
    first = checkout_copy(tmp_path)
    assert setup(first).returncode == 0
    moved = first.rename(tmp_path / "moved")
    run = setup(moved)
    assert run.returncode == 0, run.stderr
    assert "does not run from here" in run.stderr
    version = subprocess.run([str(moved / ".venv" / "bin" / "edgescreen"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0, version.stderr
    imported = "import firmware_app; print(firmware_app.__file__)"
    where = subprocess.run(
        [str(moved / ".venv" / "bin" / "python"), "-I", "-c", imported], capture_output=True, text=True
    )
    assert where.stdout.strip() == str(moved / "firmware_app" / "__init__.py")


def test_a_checkout_reached_through_a_symlink_keeps_its_venv(tmp_path):
    """$PWD keeps the link's path while the venv's import names the real one: compared as written,
    every run of setup would make the venv again."""
    first = checkout_copy(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(first)
    assert setup(link).returncode == 0
    run = setup(link)
    assert run.returncode == 0, run.stderr
    assert "preparing" not in run.stderr and "does not run from here" not in run.stderr


def test_a_venv_linked_from_another_checkout_is_replaced_not_emptied(tmp_path):
    """A clone whose .venv links to another checkout's venv: that venv does not run this checkout's
    code, so setup makes one here, and must not empty the other checkout's through the link."""
    other = checkout_copy(tmp_path)
    assert setup(other).returncode == 0
    (tmp_path / "clone").mkdir()
    second = checkout_copy(tmp_path / "clone")
    (second / ".venv").symlink_to(other / ".venv")
    run = setup(second)
    assert run.returncode == 0, run.stderr
    assert not (second / ".venv").is_symlink()
    version = subprocess.run([str(other / ".venv" / "bin" / "edgescreen"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0, version.stderr


def _stand_ins(folder: Path, installed: str, calls: Path) -> dict[str, str]:
    """PATH and PYTHON for the real scripts/setup with stand-ins: dpkg-query finds the packages named in
    ``installed`` (a shell pattern), apt-get and sudo record their calls, systemctl finds no service running,
    and the python says it is too old, so setup stops right after its Debian packages, before any venv."""
    folder.mkdir()
    scripts = {
        "dpkg-query": f'case "$3" in {installed}) echo "install ok installed" ;; esac',
        "apt-get": f'echo "apt-get $*" >> {calls}',
        "sudo": f'echo sudo >> {calls}; exec "$@"',
        "systemctl": "exit 3",
        "python": "exit 1",
    }
    for name, body in scripts.items():
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    return {"PATH": f"{folder}:/usr/bin:/bin", "PYTHON": str(folder / "python")}


def test_setup_installs_only_the_missing_debian_packages_and_asks_nothing_when_all_are_there(tmp_path):
    """scripts/setup's package step, run for real with stand-ins (no apt, no venv made): the missing ones
    only, in one apt-get install after an update, with sudo when not root; nothing at all when all are."""
    calls = tmp_path / "calls"
    as_root = os.geteuid() == 0
    everything = _stand_ins(tmp_path / "all", "*", calls)
    for option in ([], ["--test"]):
        run = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "setup"), *option], env=everything, capture_output=True, text=True
        )
        assert run.returncode == 1 and "needs Python 3.11 or newer" in run.stderr, run.stderr
    assert not calls.exists()  # all installed: apt is not even updated, and sudo never asked
    some = _stand_ins(tmp_path / "some", "python3|python3-pip|mosquitto*|openssl|systemd|passwd", calls)
    for option in ([], ["--test"]):
        run = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "setup"), *option], env=some, capture_output=True, text=True
        )
        assert run.returncode == 1 and "needs Python 3.11 or newer" in run.stderr, run.stderr
    sudo = [] if as_root else ["sudo"]
    install = "apt-get install -y -qq --no-install-recommends"
    assert calls.read_text().splitlines() == [
        *sudo,
        "apt-get update -qq",
        *sudo,
        f"{install} python3-venv",
        *sudo,
        "apt-get update -qq",
        *sudo,
        f"{install} python3-venv postgresql chromium util-linux btrfs-progs",
    ]
