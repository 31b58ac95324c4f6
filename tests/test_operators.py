"""Operators: scrypt-hashed PINs, the five-wrong-PINs lock, disabling, and the command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.operators import LOCKOUT, MAX_WRONG_PINS, OperatorError, Operators
from firmware_app.records.store import Records
from tests.conftest import PROJECT_ROOT
from tests.records.kit import write_config


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def operators(tmp_path, clock):
    records = Records(tmp_path / "records.sqlite3", tmp_path / "records.key", clock=clock)
    yield Operators(records)
    records.close()


def test_the_pin_is_stored_as_a_salted_scrypt_hash(operators, tmp_path):
    operators.add("Amina", "2468")
    operators.add("Bo", "2468")
    rows = operators._db.execute("SELECT pin_hash, salt FROM operator").fetchall()
    assert all(b"2468" not in bytes(row[0]) and len(row[0]) == 32 for row in rows)
    assert rows[0][0] != rows[1][0]  # same PIN, different salts
    assert operators.sign_in("Amina", "2468").accepted and not operators.sign_in("Amina", "1357").accepted


def test_five_wrong_pins_lock_for_a_minute_then_the_right_pin_works(operators, clock):
    operators.add("Amina", "2468")
    for _ in range(MAX_WRONG_PINS - 1):
        assert operators.sign_in("Amina", "0000").locked_until is None
    locked = operators.sign_in("Amina", "0000")
    assert locked.locked_until == clock.now + LOCKOUT
    assert not operators.sign_in("Amina", "2468").accepted  # the right PIN is refused while locked
    clock.now += LOCKOUT + timedelta(seconds=1)
    assert operators.sign_in("Amina", "2468").accepted
    events = [row[0] for row in operators._db.execute("SELECT details FROM audit WHERE kind = 'operator'")]
    assert any('"locked"' in event for event in events)


def test_a_disabled_or_unknown_operator_cannot_sign_in_and_bad_input_is_refused(operators):
    operators.add("Amina", "2468")
    operators.disable("Amina")
    assert not operators.sign_in("Amina", "2468").accepted and not operators.sign_in("Nobody", "2468").accepted
    assert [(o.name, o.enabled) for o in operators.list()] == [("Amina", False)]
    assert operators.list(enabled_only=True) == []
    for name, pin in (("Amina", "2468"), ("", "2468"), ("Bo", "12"), ("Bo", "12ab")):
        with pytest.raises(OperatorError):
            operators.add(name, pin)
    with pytest.raises(OperatorError):
        operators.disable("Nobody")


def test_operators_command_adds_lists_and_disables(tmp_path):
    config = write_config(tmp_path, port=1)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "firmware_app", "--config", str(config), "operators", *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)

    assert run("add", "Amina", "--pin-stdin", stdin="2468\n").returncode == 0
    refused = run("add", "Bo", "--pin-stdin", stdin="12\n")
    assert refused.returncode == 2 and "4 to 12 digits" in refused.stderr
    assert run("list").stdout == "Amina\tenabled\n"
    assert run("disable", "Amina").returncode == 0
    assert run("list").stdout == "Amina\tdisabled\n"
