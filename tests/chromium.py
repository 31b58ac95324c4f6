"""Debian's Chromium for every browser test and bench/app.py: one place for its path and flags.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (scripts/setup --test).
The flags keep it from reaching out to Google's services, which this machine's closed network refuses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def launch_args() -> dict:
    """Playwright's launch arguments for it; a clear failure when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup --test")
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}
