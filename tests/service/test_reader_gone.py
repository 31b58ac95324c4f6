"""A command whose reader goes away (``edgescreen doctor | head -1``, a pager quit early) stops
quietly, as ``cat`` does: a technician found ``sync status | head`` ending in a BrokenPipeError
traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine

from tests.conftest import PROJECT_ROOT
from tests.records.kit import open_store, write_config
from tests.review_station.kit import station_config


def _with_its_reader_gone(*command: str) -> tuple[int, str]:
    """``command``'s exit status and what it said on its standard error, its standard output's reader
    gone before it wrote a line."""
    started = subprocess.Popen(
        [sys.executable, "-m", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT_ROOT
    )
    started.stdout.close()
    said = started.stderr.read().decode()
    return started.wait(timeout=120), said


def test_the_device_s_command_whose_reader_left_stops_without_a_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path, 1)
    open_store(tmp_path).records.close()
    status, said = _with_its_reader_gone("firmware_app", "--config", str(config), "doctor")
    assert "Traceback" not in said and "BrokenPipeError" not in said, said
    assert status == 1


def test_the_station_s_command_whose_reader_left_stops_without_a_traceback(tmp_path: Path) -> None:
    config = station_config(tmp_path, create_engine(f"sqlite:///{tmp_path / 'review.sqlite3'}"), 1883)
    status, said = _with_its_reader_gone("review_station", "--config", str(config), "audit", "verify")
    assert "Traceback" not in said and "BrokenPipeError" not in said, said
    assert status == 1


def test_a_broken_pipe_that_is_not_the_reader_s_is_not_taken_for_it() -> None:
    """Only standard output's reader leaving is quiet: a pipe of the command's own that breaks (a
    socket, a child's input) is the error it is."""
    script = (
        "import os, sys\n"
        "from firmware_app.service.reader_gone import quiet_when_reader_gone\n"
        "def command():\n"
        "    read, write = os.pipe()\n"
        "    os.close(read)\n"
        "    os.write(write, b'x')\n"
        "sys.exit(quiet_when_reader_gone(command))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60
    )
    assert finished.returncode == 1
    assert "BrokenPipeError" in finished.stderr
