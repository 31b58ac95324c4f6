"""Operators: scrypt-hashed PINs, the escalating five-wrong-PINs lock and a clock that steps, disabling,
unlocking, and the command line."""

from __future__ import annotations

import hashlib
import os
import pty
import re
import select
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.messages import CATALOGUE, message, sentence
from firmware_app.operators import (
    _SCRYPT,
    LOCKOUT,
    MAX_LOCKOUT,
    MAX_NAME,
    MAX_PIN,
    MAX_WRONG_PINS,
    MIN_PIN,
    OperatorError,
    Operators,
    SignIn,
    lockout,
)
from firmware_app.records.database import SCHEMA_VERSION
from firmware_app.records.store import Records
from firmware_app.wording import readable_date
from tests.conftest import PROJECT_ROOT
from tests.records.kit import (
    drop_photo_keys,
    in_language,
    open_store,
    undo_queued_boot,
    undo_received_boottime,
    undo_visit_keys,
    write_config,
)


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


def _lock(operators: Operators) -> datetime | None:
    """Enter wrong PINs until the account locks; when it locks."""
    for _ in range(MAX_WRONG_PINS):
        outcome = operators.sign_in("Amina", "0000")
    return outcome.locked_until


def test_each_further_round_of_wrong_pins_locks_twice_as_long_up_to_a_day(operators, clock):
    operators.add("Amina", "2468")
    waits = []
    for _ in range(14):
        waits.append(_lock(operators) - clock.now)
        clock.now += waits[-1] + timedelta(seconds=1)
    assert waits[:4] == [LOCKOUT, 2 * LOCKOUT, 4 * LOCKOUT, 8 * LOCKOUT]
    assert waits[-1] == MAX_LOCKOUT == max(waits)
    # A 4-digit PIN at this pace: half its 10,000 PINs take years, where a flat minute took hours.
    assert sum((lockout(n) for n in range(MAX_WRONG_PINS, 5001, MAX_WRONG_PINS)), timedelta()) > timedelta(days=2 * 365)
    assert operators.sign_in("Amina", "2468").accepted  # the right PIN starts afresh
    assert _lock(operators) - clock.now == LOCKOUT


def test_a_lock_dated_by_a_clock_ahead_expires_once_the_clock_is_set_back(operators, clock):
    operators.add("Amina", "2468")
    clock.now += timedelta(days=2)  # fake-hwclock ahead; then NTP sets it right
    _lock(operators)
    clock.now -= timedelta(days=2)
    assert operators.sign_in("Amina", "2468").accepted
    clock.now = datetime(1970, 1, 1, tzinfo=UTC)  # a boot without the saved time
    _lock(operators)
    clock.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    outcome = operators.sign_in("Amina", "2468")  # a 1970 lock ended long ago
    assert outcome.accepted and outcome.locked_until is None


def test_unlock_lifts_a_lock_at_once_and_is_audited(operators, clock):
    operators.add("Amina", "2468")
    _lock(operators)
    operators.unlock("Amina")
    assert operators.sign_in("Amina", "2468").accepted
    assert _lock(operators) - clock.now == LOCKOUT  # the count starts afresh
    events = [row[0] for row in operators._db.execute("SELECT details FROM audit WHERE kind = 'operator'")]
    assert '{"action":"unlock","name":"Amina"}' in events
    with pytest.raises(OperatorError):
        operators.unlock("Nobody")


def test_a_disabled_or_unknown_operator_cannot_sign_in_and_bad_input_is_refused(operators):
    operators.add("Amina", "2468")
    operators.disable("Amina")
    assert not operators.sign_in("Amina", "2468").accepted and not operators.sign_in("Nobody", "2468").accepted
    assert [(o.name, o.enabled) for o in operators.list()] == [("Amina", False)]
    assert operators.who_may_sign_in() == ([], True)
    for name, pin in (("Amina", "2468"), ("", "2468"), ("Bo", "12"), ("Bo", "12ab")):
        with pytest.raises(OperatorError):
            operators.add(name, pin)
    with pytest.raises(OperatorError):
        operators.disable("Nobody")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_operators_command_speaks_the_devices_language(tmp_path, language):
    """What it did, each operator's state (or that there is none, and how to add one) and its refusals,
    in the device's language (on main English whatever it was); a refusal's English detail is the log
    line's."""
    config = in_language(write_config(tmp_path, port=1), language)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "firmware_app", "--config", str(config), "operators", *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)

    open_store(tmp_path).records.close()  # a device that has records, and no operator yet
    none = run("list")  # printed nothing: "none" could not be told from a failure
    assert none.returncode == 0 and none.stdout == ""
    assert none.stderr.endswith(f"{message('operators.none', language)}\n")
    assert ("NOM" in none.stderr) == (language == "fr")
    assert (
        run("add", "Amina", "--pin-stdin", stdin="2468\n").stdout
        == f"{sentence('operators.done.add', language, name='Amina')}\n"
    )
    refused = run("add", "Bo", "--pin-stdin", stdin="12\n")
    assert refused.returncode == 2 and refused.stderr.endswith(
        f"edgescreen: {sentence('operators.bad_pin', language, fewest=MIN_PIN, most=MAX_PIN)}\n"
    )
    assert "operators.refused" in refused.stderr and "a PIN has 4 to 12 digits" in refused.stderr
    unknown = run("unlock", "Nobody")
    assert unknown.returncode == 2 and unknown.stderr.endswith(
        f"edgescreen: {message('operators.unknown', language)}\n"
    )
    assert run("disable", "Amina").stdout == f"{sentence('operators.done.disable', language, name='Amina')}\n"
    assert run("list").stdout.startswith(f"Amina\t{message('operators.disabled', language)}\t")
    assert ("désactivé" in run("list").stdout) == (language == "fr")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_operators_add_asks_the_pin_twice_in_the_devices_language(tmp_path, language):
    """At a terminal the PIN is asked twice, by the labels of the app's first-operator screen; two that
    differ change nothing, said in the device's language."""
    config = in_language(write_config(tmp_path, port=1), language)
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "operators", "add", "Amina"]
    child, terminal = pty.fork()
    if child == 0:  # the command, on a terminal of its own, as a technician types it
        os.chdir(PROJECT_ROOT)
        os.execv(sys.executable, command)
    pin = sentence("setup.pin", language, fewest=MIN_PIN, most=MAX_PIN)
    first = sentence("operators.prompt", language, field=pin)
    again = sentence("operators.prompt", language, field=message("setup.pin_again", language))
    said = _answer(terminal, [(first, "2468"), (again, "1357")])
    assert os.waitpid(child, 0)[1] >> 8 == 2
    assert (
        said.index(first) < said.index(again) < said.index(f"edgescreen: {message('operators.pins_differ', language)}")
    )
    assert ("Code (4 à 12 chiffres)" in said) == (language == "fr")


def _answer(terminal: int, asked: list[tuple[str, str]]) -> str:
    """Type each answer on ``terminal`` once its prompt is there; all the command printed, to its end."""
    said = ""
    for prompt, answer in asked:
        while prompt not in said:
            assert select.select([terminal], [], [], 60)[0], f"no {prompt!r} in {said!r}"
            said += os.read(terminal, 1024).decode()
        said = said.replace(prompt, f"<{prompt}>", 1)  # the next prompt may be the same words
        os.write(terminal, f"{answer}\n".encode())
    try:
        while chunk := os.read(terminal, 1024):
            said += chunk.decode()
    except OSError:  # the command ended: its terminal closed
        pass
    return said


def test_operators_command_adds_lists_and_disables(tmp_path):
    config = write_config(tmp_path, port=1)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "firmware_app", "--config", str(config), "operators", *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)

    assert run("add", "Amina", "--pin-stdin", stdin="2468\n").returncode == 0
    refused = run("add", "Bo", "--pin-stdin", stdin="12\n")
    assert refused.returncode == 2 and "4 to 12 digits" in refused.stderr
    assert run("list").stdout == "Amina\tenabled\tdevice sign-in: not locked\tnetwork sign-in: not locked\n"
    assert run("unlock", "Amina").stdout == "operator Amina: unlocked\n"
    assert "unlock" in run("--help").stdout
    assert run("disable", "Amina").returncode == 0
    assert run("list").stdout.startswith("Amina\tdisabled\t")


def _lock_from_the_network(operators: Operators) -> datetime | None:
    """Enter wrong PINs from a client other than the device until sign-in from there locks; when."""
    for _ in range(MAX_WRONG_PINS):
        outcome = operators.sign_in("Amina", "0000", remote=True)
    return outcome.locked_until


def test_the_list_gives_the_locks_holding_now(operators, clock):
    """The device's lock refuses the network too; a lock run out, or dated by a clock since set back,
    holds no more and is not listed as one."""
    operators.add("Amina", "2468")
    operators.add("Bo", "1357")
    network = _lock_from_the_network(operators)
    device = _lock(operators)
    assert [(o.name, o.locked_until, o.network_locked_until) for o in operators.list()] == [
        ("Amina", device, max(device, network)),
        ("Bo", None, None),
    ]
    clock.now += LOCKOUT + timedelta(seconds=1)
    assert [(o.locked_until, o.network_locked_until) for o in operators.list()] == [(None, None)] * 2
    _lock(operators)
    clock.now -= timedelta(days=2)  # the clock set back: the lock ends further ahead than the longest
    assert [(o.locked_until, o.network_locked_until) for o in operators.list()] == [(None, None)] * 2


@pytest.mark.parametrize("language", ["en", "fr"])
def test_operators_list_shows_each_lock_and_until_when_in_the_devices_language(tmp_path, language):
    """``operators list`` said "enabled" of a nurse locked out of the device, and of one whose sign-in
    from the network a guesser had locked: the technician could tell neither why she was refused nor
    for how long. Each line now gives both locks, until when in the device's local time."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    try:
        operators = Operators(store.records)
        for name in ("Amina", "Bo", "Chloé"):
            operators.add(name, "2468")
        network = _lock_from_the_network(operators)  # Amina's, from a tablet
        for _ in range(MAX_WRONG_PINS):  # Bo's, at the device: it refuses the network too
            device = operators.sign_in("Bo", "0000").locked_until
    finally:
        store.records.close()
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "operators", "list"]
    listed = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60, check=True).stdout

    def line(name: str, device: datetime | None, network: datetime | None) -> str:
        locks = [
            sentence(f"operators.{where}_locked", language, when=readable_date(until, language))
            if until
            else message(f"operators.{where}_open", language)
            for where, until in (("device", device), ("network", network))
        ]
        return "\t".join((name, message("operators.enabled", language), *locks))

    assert listed.splitlines() == [line("Amina", None, network), line("Bo", device, device), line("Chloé", None, None)]
    assert ("connexion depuis le réseau : bloquée jusqu'au" in listed.replace("\u00a0", " ")) == (language == "fr")


def _audited_locks(operators: Operators) -> list[str]:
    rows = operators._db.execute("SELECT details FROM audit WHERE kind = 'operator'")
    return [row[0] for row in rows if '"locked"' in row[0]]


def test_wrong_pins_from_the_network_lock_the_network_only_and_double_as_the_devices(operators, clock):
    """A guesser on the LAN (the app bound for a tablet) locked the nurse out of the device's own
    screen, five wrong PINs a name: they now lock sign-in from the network only."""
    operators.add("Amina", "2468")
    assert _lock_from_the_network(operators) == clock.now + LOCKOUT
    assert not operators.sign_in("Amina", "2468", remote=True).accepted  # the right PIN, from the network
    assert operators.sign_in("Amina", "2468").accepted  # at the device: signed in
    # The nurse's sign-in at the device gives the guesser no new round: the next one locks for twice as long.
    clock.now += LOCKOUT + timedelta(seconds=1)
    assert _lock_from_the_network(operators) == clock.now + 2 * LOCKOUT
    assert _audited_locks(operators) == ['{"action":"locked","name":"Amina","remote":true}'] * 2
    clock.now += 2 * LOCKOUT + timedelta(seconds=1)
    assert operators.sign_in("Amina", "2468", remote=True).accepted  # the right PIN starts its count afresh
    assert _lock_from_the_network(operators) == clock.now + LOCKOUT


def test_wrong_pins_at_the_device_lock_the_network_too_and_unlock_lifts_both(operators, clock):
    operators.add("Amina", "2468")
    until = _lock(operators)
    for remote in (False, True):
        assert operators.sign_in("Amina", "2468", remote=remote) == SignIn(False, until)
    assert _audited_locks(operators) == ['{"action":"locked","name":"Amina","remote":false}']
    _lock_from_the_network(operators)
    operators.unlock("Amina")
    assert operators.sign_in("Amina", "2468", remote=True).accepted and operators.sign_in("Amina", "2468").accepted


def test_a_lock_from_before_the_network_was_counted_apart_holds_everywhere_after_the_upgrade(tmp_path, clock):
    """Records of the release before, with a locked operator and one mid-way through a round: the
    migration keeps both as they were (wrong PINs from before may have come from anywhere, so their
    lock still refuses every client) and starts the network's count at nothing."""
    records = Records(tmp_path / "records.sqlite3", tmp_path / "records.key", clock=clock)
    operators = Operators(records)
    operators.add("Amina", "2468")
    operators.add("Bo", "1357")
    until = _lock(operators)
    for _ in range(MAX_WRONG_PINS - 1):
        operators.sign_in("Bo", "0000")
    undo_visit_keys(records.connection)  # the migrations after it
    undo_received_boottime(records.connection)
    drop_photo_keys(records.connection)
    undo_queued_boot(records.connection)
    records.connection.execute("DROP TABLE open_visit")
    records.connection.execute("DROP INDEX audit_erasure")
    records.connection.execute("DROP TABLE erasure_outbox")
    for column in ("remote_failed_pins", "remote_locked_until"):
        records.connection.execute(f"ALTER TABLE operator DROP COLUMN {column}")
    records.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 9}")  # and a data migration
    records.close()

    upgraded = Records(tmp_path / "records.sqlite3", tmp_path / "records.key", clock=clock)
    try:
        operators = Operators(upgraded)
        rows = upgraded.connection.execute(
            "SELECT name, failed_pins, locked_until, remote_failed_pins, remote_locked_until"
            " FROM operator ORDER BY name"
        )
        assert [tuple(row) for row in rows] == [
            ("Amina", MAX_WRONG_PINS, until.isoformat(), 0, None),
            ("Bo", MAX_WRONG_PINS - 1, None, 0, None),
        ]
        for remote in (False, True):
            assert operators.sign_in("Amina", "2468", remote=remote) == SignIn(False, until)
        assert operators.sign_in("Bo", "1357", remote=True).accepted
        assert operators.sign_in("Bo", "0000").locked_until == clock.now + LOCKOUT  # the device's round goes on
    finally:
        upgraded.close()


@pytest.fixture()
def scrypts(monkeypatch) -> list[dict[str, int]]:
    """The cost of each scrypt the app runs (its parameters and the salt's length), counted around the
    real one: the work a sign-in does, seen on any machine, where its time is not."""
    costs: list[dict[str, int]] = []
    real = hashlib.scrypt

    def counted(password: bytes, *, salt: bytes, **cost: int) -> bytes:
        costs.append({"salt": len(salt), **cost})
        return real(password, salt=salt, **cost)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return costs


def test_from_the_network_a_name_that_does_not_exist_or_is_locked_costs_a_wrong_pins_work(operators, scrypts):
    """The app checks PINs on its one records thread. A request timed just after a refused sign-in from
    the network waited out a wrong PIN's scrypt (30-70 ms here) but not a missing name's (1-5 ms): the
    page's even second hid its own answer, not which names exist. Every refusal now does that work: one
    scrypt of the PIN, at a wrong PIN's cost."""
    operators.add("Amina", "2468")
    operators.add("Bo", "1357")
    operators.disable("Bo")
    scrypts.clear()
    for _ in range(MAX_WRONG_PINS):  # the last one locks
        assert not operators.sign_in("Amina", "0000", remote=True).accepted
    wrong = scrypts[:1]
    assert scrypts == wrong * MAX_WRONG_PINS
    for name in ("Nobody", "Bo", "Amina"):  # no such name, disabled, locked from the network
        scrypts.clear()
        assert not operators.sign_in(name, "2468", remote=True).accepted
        assert scrypts == wrong, name


def test_from_the_network_a_guess_at_a_locked_name_takes_a_hash_as_it_costs_now(operators, scrypts, monkeypatch):
    """A guess at a locked name slept as long as the latest hash had taken, instead of hashing: every
    one took that same time to the tenth of a millisecond (a missing name's varies by tens of them
    here), and kept it while hashes grew costlier (the device screening): a request queued behind it
    told a locked name, so one that exists (five wrong PINs lock it), from one that does not. Hashes
    made four times costlier here (scrypt's ``p``), as the locked name's five wrong PINs were not: the
    guess at it runs one scrypt at that cost, as one at a name that does not exist does."""
    operators.add("Amina", "2468")
    _lock_from_the_network(operators)
    monkeypatch.setitem(_SCRYPT, "p", 4)
    seen = {}
    for name in ("Amina", "Nobody"):  # locked, with the right PIN, Amina's; hashed against no one's salt
        scrypts.clear()
        assert not operators.sign_in(name, "2468", remote=True).accepted
        seen[name] = list(scrypts)
    assert seen["Amina"] == seen["Nobody"] == [{"salt": 16, **_SCRYPT}], seen


def test_from_the_network_a_name_typed_alike_means_its_operator_and_two_alike_the_one_typed(operators):
    operators.add("Amina", "2468")
    assert operators.sign_in(" amina ", "2468", remote=True) == SignIn(True, operator="Amina")
    assert not operators.sign_in("amina", "2468").accepted  # the device's screen lists the names: no typing
    operators.add("amina", "1357")
    assert operators.sign_in("amina", "1357", remote=True) == SignIn(True, operator="amina")
    assert not operators.sign_in("AMINA", "2468", remote=True).accepted


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_name_too_long_is_refused_with_the_longest_the_accounts_take(tmp_path, language):
    """The refusal said "1 to 40", written in both languages, while the check takes ``MAX_NAME``: a
    longest name changed there left the sentence giving the old one. The sentence takes no number
    of its own; the command says the one the check holds, and refuses one character more."""
    written = CATALOGUE["operators.bad_name"][language]
    assert re.findall(r"\d+", written) == ["1"] and "{most}" in written  # the longest is MAX_NAME's
    config = in_language(write_config(tmp_path, port=1), language)
    open_store(tmp_path).records.close()

    def add(name: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "firmware_app", "--config", str(config), "operators", "add", name]
        return subprocess.run(
            [*command, "--pin-stdin"], input="2468\n", capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60
        )

    refused = add("A" * (MAX_NAME + 1))
    said = sentence("operators.bad_name", language, most=MAX_NAME)
    assert refused.returncode == 2 and refused.stderr.endswith(f"edgescreen: {said}\n")
    assert f" {MAX_NAME} " in said
    assert add("A" * MAX_NAME).returncode == 0
