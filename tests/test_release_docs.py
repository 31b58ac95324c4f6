"""The device lock, the SBOM and the SOUP list agree, and every pinned package has its hashes."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_soup_list_sbom_and_lock_agree():
    run = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "soup.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def test_every_locked_package_is_pinned_with_hashes():
    lock = (PROJECT_ROOT / "requirements" / "device.lock").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock)
    pinned = [entry for entry in entries if re.match(r"[A-Za-z0-9_.-]+==", entry)]
    assert len(pinned) >= 10
    for entry in pinned:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
