"""The device's operators: local accounts with a PIN, for the touchscreen app's sign-in.

A PIN is short, so what protects it is the cost of each guess: it is stored as a memory-hard
scrypt hash with its own salt, and every five wrong PINs lock the account, for a minute the first
time and twice as long each further time, up to a day, until the right PIN is entered (kept in the
records, so restarting the app does not reset the count). A nurse who mistypes twice in a row waits
a minute or two; guessing a 4-digit PIN through the app opened to the LAN takes years, not hours.
``edgescreen operators unlock`` lifts a lock at once.

Wrong PINs typed on a client other than the device itself (the app opened to the LAN with ``[app]
bind``, a tablet) are counted apart, by the same rule: their lock refuses sign-in from the network
only. Anyone on that network could otherwise lock every nurse out of the device's own screen, five
guesses a name. Wrong PINs at the device lock both, as before. How often one client on the network
may try at all, whatever the name, is limited before any of this (``web/sign_in_limit``).

Locks are dated by the wall clock, which a Pi without a real-time clock may step by days: a lock
that ends further ahead than the longest lock was dated by a clock running ahead, and has expired.
Accounts are disabled, never deleted: screenings keep naming the operator who took them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from firmware_app.events import log_event
from firmware_app.messages import sentence
from firmware_app.records.audit import append_event
from firmware_app.records.database import transaction
from firmware_app.records.store import Records

MAX_WRONG_PINS = 5
LOCKOUT = timedelta(minutes=1)  # the first lock; each further round of wrong PINs doubles it ...
MAX_LOCKOUT = timedelta(days=1)  # ... up to this: about 3 years to guess a 4-digit PIN, on average
_DOUBLINGS = math.ceil(math.log2(MAX_LOCKOUT / LOCKOUT))
# A PIN's fewest digits (the lock's years to guess one, ``MAX_LOCKOUT``, are counted on it; the first-run
# form refuses a shorter one at its own step) and its most (the PIN fields hold as many).
MIN_PIN = 4
MAX_PIN = 12
PIN_PATTERN = re.compile(rf"[0-9]{{{MIN_PIN},{MAX_PIN}}}")
MAX_NAME = 40  # a name's longest: the name fields of the first-run form and the network's sign-in hold as many
NAME_PATTERN = re.compile(rf"[\w][\w .'-]{{0,{MAX_NAME - 1}}}")
# Where each count of wrong PINs and its lock are kept, by whether they were typed from the network.
_COUNTS = {False: ("failed_pins", "locked_until"), True: ("remote_failed_pins", "remote_locked_until")}
# scrypt's cost: 16 MiB and about 50 ms a guess on a Pi-class CPU.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 2**20, "dklen": 32}


class OperatorError(ValueError):
    """An operator cannot be added or changed as asked; the message says why, and ``message_key``
    names the same sentence in the app's catalogue, filled with ``values`` (a limit the code holds,
    so the sentence cannot say another)."""

    def __init__(self, message: str, message_key: str = "operators.refused", **values: int | str) -> None:
        super().__init__(message)
        self.message_key, self.values = message_key, values

    def sentence(self, language: str) -> str:
        """Why, in ``language``: the command line and the first-run page say it alike."""
        return sentence(self.message_key, language, **self.values)


@dataclass(frozen=True)
class Operator:
    """An account as ``Operators.list`` gives it, with the locks that hold as it is read."""

    name: str
    enabled: bool
    locked_until: datetime | None  # when the lock on sign-in at the device ends; None when none holds
    network_locked_until: datetime | None  # the same from the network (the device's lock or its own)


@dataclass(frozen=True)
class SignIn:
    """The outcome of one PIN attempt; ``locked_until`` is set when the account is locked."""

    accepted: bool
    locked_until: datetime | None = None
    operator: str | None = None  # who signed in, as added (a name typed from the network may differ)


def _hash_pin(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)


def _folded(name: str) -> str:
    """A name as a tablet's keyboard may give it: its case, Unicode form and spacing set aside."""
    return " ".join(unicodedata.normalize("NFC", name.casefold()).split())


def _refused(pin: str, remote: bool, locked_until: datetime | None = None) -> SignIn:
    """A refusal before the PIN is checked (a name that does not exist, a disabled account, a lock).
    From the network the PIN is hashed all the same, against no one's salt: the app checks PINs on
    its one records thread, and a request timed just after a refused one waited out a wrong PIN's
    scrypt but not a missing name's, telling which names exist through the page's even second. A
    lock refuses whatever the PIN, but a wait in its place (the latest hash's time) is not a hash's:
    every one took that same time, kept as hashes grew costlier with the device busier, and told a
    locked name, so one that exists, from one that does not."""
    if remote:
        _hash_pin(pin, bytes(16))
    return SignIn(False, locked_until)


def lockout(failed_pins: int) -> timedelta | None:
    """How long ``failed_pins`` wrong PINs in a row lock the account: at each multiple of
    ``MAX_WRONG_PINS``, doubling from ``LOCKOUT`` up to ``MAX_LOCKOUT``; ``None`` in between."""
    rounds, rest = divmod(failed_pins, MAX_WRONG_PINS)
    if rest or not rounds:
        return None
    return min(LOCKOUT * 2 ** min(rounds - 1, _DOUBLINGS), MAX_LOCKOUT)


def _moment(stored: str | None) -> datetime | None:
    """A lock's end as the records keep it (ISO 8601 text, or NULL for none)."""
    return datetime.fromisoformat(stored) if stored else None


def still_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Whether a lock holds at ``now``; one ending beyond the longest lock from now was dated by a
    clock that has since been set back (NTP after a fast fake-hwclock time, a 1970 boot), and has
    expired: else a clock step would lock a nurse out for days, or decades."""
    return locked_until is not None and now < locked_until <= now + MAX_LOCKOUT


def _lock_holding(row: sqlite3.Row, remote: bool, now: datetime) -> datetime | None:
    """When the lock refusing an operator's sign-in at the device (or, ``remote``, from the network)
    ends, ``None`` while none holds: the device's lock refuses every client; the network's, the
    network alone. What ``sign_in`` refuses by, and ``edgescreen operators list`` shows."""
    columns = dict.fromkeys(("locked_until", _COUNTS[remote][1]))
    holding = [until for until in (_moment(row[column]) for column in columns) if still_locked(until, now)]
    return max(holding, default=None)


class Operators:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._db = records.connection

    def add(self, name: str, pin: str, first: bool = False) -> None:
        """Add an operator; ``first``: only while the device has none at all (the app's first-run
        screen, which anyone at the device can use: so it closes once one exists, even disabled)."""
        if not NAME_PATTERN.fullmatch(name):
            raise OperatorError(
                f"a name has 1 to {MAX_NAME} letters, digits, spaces, dots, apostrophes or dashes",
                "operators.bad_name",
                most=MAX_NAME,
            )
        if not PIN_PATTERN.fullmatch(pin):
            raise OperatorError(
                f"a PIN has {MIN_PIN} to {MAX_PIN} digits", "operators.bad_pin", fewest=MIN_PIN, most=MAX_PIN
            )
        salt = secrets.token_bytes(16)
        now = self._records.clock()
        with transaction(self._db):
            if first and self._db.execute("SELECT 1 FROM operator").fetchone():
                raise OperatorError("the device has an operator already: add others at a terminal", "setup.closed")
            if self._db.execute("SELECT 1 FROM operator WHERE name = ?", (name,)).fetchone():
                raise OperatorError(f"an operator named {name!r} already exists", "operators.exists")
            self._db.execute(
                "INSERT INTO operator (name, pin_hash, salt, created_at) VALUES (?, ?, ?, ?)",
                (name, _hash_pin(pin, salt), salt, now.isoformat()),
            )
            append_event(self._db, "operator", {"action": "add", "name": name}, now)

    def disable(self, name: str) -> None:
        with transaction(self._db):
            if self._db.execute("UPDATE operator SET enabled = 0 WHERE name = ?", (name,)).rowcount == 0:
                raise OperatorError(f"no operator named {name!r}", "operators.unknown")
            append_event(self._db, "operator", {"action": "disable", "name": name}, self._records.clock())

    def unlock(self, name: str) -> None:
        """Lift both locks at once, the device's and the network's, and start both counts of wrong
        PINs afresh (a supervisor vouches for the nurse)."""
        with transaction(self._db):
            unlocked = (
                "UPDATE operator SET failed_pins = 0, locked_until = NULL, remote_failed_pins = 0,"
                " remote_locked_until = NULL WHERE name = ?"
            )
            if self._db.execute(unlocked, (name,)).rowcount == 0:
                raise OperatorError(f"no operator named {name!r}", "operators.unknown")
            append_event(self._db, "operator", {"action": "unlock", "name": name}, self._records.clock())

    def list(self) -> list[Operator]:
        """Every operator, by name, with the locks holding now (a lock run out, or dated by a clock
        since set back, holds no more: it is not shown as one)."""
        now = self._records.clock()
        rows = self._db.execute("SELECT name, enabled, locked_until, remote_locked_until FROM operator")
        return [
            Operator(row["name"], bool(row["enabled"]), _lock_holding(row, False, now), _lock_holding(row, True, now))
            for row in sorted(rows, key=lambda row: row["name"].casefold())
        ]

    def who_may_sign_in(self) -> tuple[list[Operator], bool]:
        """The operators who may sign in, and whether any account exists, from one listing: with none
        to tap, every account disabled asks the technician for something else than a device that has
        none yet (the sign-in page, and the line the app prints as it starts)."""
        everyone = self.list()
        return [operator for operator in everyone if operator.enabled], bool(everyone)

    def _as_added(self, typed: str) -> str:
        """The operator a name typed from the network means: that very name, else the one operator
        whose name differs from it only in case, Unicode form or spacing ("amina" for "Amina": the
        nurse was refused as for a wrong PIN, by the sentence that tells nobody which names exist,
        and could not tell why). Two such names (accounts "Amina" and "amina") take the one typed."""
        names = [row[0] for row in self._db.execute("SELECT name FROM operator")]
        alike = [name for name in names if _folded(name) == _folded(typed)]
        return typed if typed in names or len(alike) != 1 else alike[0]

    def sign_in(self, name: str, pin: str, remote: bool = False) -> SignIn:
        """Check a PIN; a locked or disabled account refuses every PIN, the right one included.

        ``remote``: typed on a client other than the device itself. Its wrong PINs are counted apart
        and their lock refuses ``remote`` sign-in only, so that no one on the network can lock the
        nurse out of the device's screen; the device's lock refuses both. A right PIN starts its own
        count afresh, never the other (the nurse signing in at the device gives a guesser on the
        network no new round)."""
        failed_column, lock_column = _COUNTS[remote]
        now = self._records.clock()
        with transaction(self._db):
            name = self._as_added(name) if remote else name
            row = self._db.execute(
                "SELECT pin_hash, salt, enabled, failed_pins, locked_until, remote_failed_pins, remote_locked_until"
                " FROM operator WHERE name = ?",
                (name,),
            ).fetchone()
            if row is None or not row["enabled"]:
                return _refused(pin, remote)
            if holding := _lock_holding(row, remote, now):
                return _refused(pin, remote, holding)
            right = hmac.compare_digest(_hash_pin(pin, row["salt"]), row["pin_hash"])
            failed = 0 if right else row[failed_column] + 1  # counted until the right PIN: each lock is longer
            wait = lockout(failed)
            locked_until = now + wait if wait else None
            self._db.execute(
                f"UPDATE operator SET {failed_column} = ?, {lock_column} = ? WHERE name = ?",
                (failed, locked_until.isoformat() if locked_until else None, name),
            )
            if right:
                log_event("operator.signed_in", operator=name, remote=remote)
                return SignIn(True, operator=name)
            if locked_until:
                append_event(self._db, "operator", {"action": "locked", "name": name, "remote": remote}, now)
                log_event("operator.locked", operator=name, until=locked_until.isoformat(), remote=remote)
            return SignIn(False, locked_until)
