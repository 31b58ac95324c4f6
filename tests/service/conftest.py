"""A device installed into a staging root by the real scripts/install-device (as CI runs it: as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.service.notify_socket import NotifySocket

INSTALL = PROJECT_ROOT / "scripts" / "install-device"


def install_device(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [str(INSTALL), "--root", str(root), "--skip-venv", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def staged_root(tmp_path_factory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("install-device needs root (useradd, chown); CI runs as root")
    for tool in ("useradd", "systemctl", "runuser"):
        assert shutil.which(tool), f"{tool} is missing: scripts/setup --test installs it"
    root = tmp_path_factory.mktemp("staging") / "root"
    run = install_device(root)
    assert run.returncode == 0, run.stderr
    return root


@pytest.fixture()
def systemd(tmp_path):
    """A notification socket standing in for systemd's."""
    listener = NotifySocket(tmp_path)
    yield listener
    listener.close()
