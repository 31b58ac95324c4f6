"""``stop_on_termination``, the one way a long command hears it should stop, with real signals in a
process of its own (the test runner's handlers stay as they are)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from firmware_app.cli import main
from firmware_app.messages import message
from tests.conftest import PROJECT_ROOT

CHILD = """
import os, signal, sys
# A child inherits an ignored SIGHUP (a test run started with nohup): each case sets its own.
signal.signal(signal.SIGHUP, signal.SIG_IGN if sys.argv[1] == "nohup" else signal.SIG_DFL)
from firmware_app.service.termination import stop_on_termination
with stop_on_termination("en") as stop:
    os.kill(os.getpid(), signal.SIGHUP)
    print("stop" if stop.wait(2) else "goes on")
"""


@pytest.mark.parametrize(("how", "heard"), [("terminal", "stop"), ("nohup", "goes on")])
def test_a_closed_terminal_stops_a_command_unless_nohup_kept_it_running(how, heard):
    """SIGHUP (the terminal closed under ``capture``) is a request to stop, as SIGTERM is: the camera's
    own handler, which did that, is gone. A command started with ``nohup`` asked to outlive its
    terminal: its ignored SIGHUP stays ignored."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, how], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert (child.returncode, child.stdout) == (0, f"{heard}\n"), child.stderr


WAITING = """
import os, signal
from firmware_app.service.termination import stop_on_termination
with stop_on_termination("en") as stop:
    with stop._cond:  # held, as stop.wait() holds it between its checks (the sync worker's backoff)
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(10))  # the handler runs between two steps of this thread, the lock held
    print("stop" if stop.wait(5) else "goes on")
"""


def test_a_sigterm_that_lands_while_the_command_waits_on_its_stop_event_stops_it():
    """The handler set the event in the main thread: landing while ``stop.wait`` held the event's
    lock (1 SIGTERM in 300 at a 0.2 ms backoff), it waited on that lock forever, deaf to any later
    SIGTERM; ``sync run`` hung until systemd killed it, its records left open."""
    child = subprocess.run(
        [sys.executable, "-c", WAITING], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert (child.returncode, child.stdout) == (0, "stop\n"), child.stderr


def test_a_command_gives_back_the_signal_handlers_it_borrowed(tmp_path, retina_jpeg):
    """A command run in a process of the caller's (the tests' ``cli.main``) left its handlers behind:
    Ctrl-C and SIGTERM then only set an event nobody read, and the process could no longer be
    interrupted or stopped. They are the caller's again once the command returns."""
    config = tmp_path / "device.toml"
    config.write_text(f'[records]\ndatabase = "{tmp_path}/records.sqlite3"\nkey_file = "{tmp_path}/records.key"\n')
    signums = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    before = {signum: signal.getsignal(signum) for signum in signums}
    assert main(["--config", str(config), "screen", "--modality", "fundus", str(retina_jpeg)]) == 0
    assert {signum: signal.getsignal(signum) for signum in signums} == before


STUCK = """
import os, signal, sys
from firmware_app.service.termination import stop_on_termination
signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as from a terminal, even under nohup
first, second = (getattr(signal, name) for name in sys.argv[2:])
with stop_on_termination(sys.argv[1]) as stop:
    with stop._cond:  # held, as stop.wait() holds it: the first signal's setter waits for it
        os.kill(os.getpid(), first)
        sum(range(10))
        os.kill(os.getpid(), second)  # Ctrl-C again on a command that does not stop, say
        sum(range(10))
    print("goes on")
"""


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [("en", "SIGTERM", "SIGINT"), ("fr", "SIGINT", "SIGTERM"), ("en", "SIGHUP", "SIGINT")],
)
def test_a_second_signal_ends_the_process_at_once_even_with_the_stop_event_held(language, first, second):
    """A second signal only set the event again, as the first had: a command stuck where it never
    looks at it could not be ended but by SIGKILL. It now ends the process as the second signal's
    default would, taking no lock (here the event's, held by the main thread), after one line."""
    child = subprocess.run(
        [sys.executable, "-c", STUCK, language, first, second],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (child.returncode, child.stdout) == (-getattr(signal, second), ""), child.stderr
    assert child.stderr == f"edgescreen: {message('stop.at_once', language)}\n"


def test_a_second_sighup_is_no_one_insisting():
    """A closed terminal sends the command a SIGHUP and its shell sends another: the command stops as
    asked by the first, at its next stop point, and is not ended on the spot by the second."""
    child = subprocess.run(
        [sys.executable, "-c", STUCK, "en", "SIGHUP", "SIGHUP"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (child.returncode, child.stdout, child.stderr) == (0, "goes on\n", "")
