"""Accounts: scrypt hashes, lockout, disabled accounts, session expiry, and the audit of every attempt."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, event, func, select, update

from review_station import accounts, audit
from review_station.config import WebConfig
from review_station.storage.database import open_database
from review_station.storage.tables import audit as audit_table
from review_station.storage.tables import sessions, users
from tests.mqtt_broker import wait_until
from tests.postgres_server import PostgresServer
from tests.review_station.kit import waiting_on_a_lock

SETTINGS = WebConfig(lockout_failures=3, lockout_minutes=15, session_minutes=30, idle_minutes=10)
PASSWORD = "correct horse battery"


def test_passwords_are_salted_scrypt_hashes_and_only_the_right_one_matches() -> None:
    first, second = accounts.hash_password(PASSWORD), accounts.hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$32768$8$1$") and PASSWORD not in first
    assert accounts.password_matches(PASSWORD, first) and not accounts.password_matches(PASSWORD + "!", first)


def test_bad_accounts_are_refused_with_a_reason(engine: Engine) -> None:
    with pytest.raises(accounts.AccountError, match="role"):
        accounts.add_user(engine, "ana", PASSWORD, "surgeon", by="test")
    with pytest.raises(accounts.AccountError, match="at least 12"):
        accounts.add_user(engine, "ana", "short", "reviewer", by="test")
    with pytest.raises(accounts.AccountError, match="user name"):
        accounts.add_user(engine, "ana smith", PASSWORD, "reviewer", by="test")
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with pytest.raises(accounts.AccountError, match="exists"):
        accounts.add_user(engine, "ana", PASSWORD, "admin", by="test")


def test_lockout_after_repeated_failures_refuses_even_the_right_password(engine: Engine) -> None:
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    for _ in range(3):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    with pytest.raises(accounts.SignInRefused) as refused:
        accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    with pytest.raises(accounts.SignInRefused) as unknown:
        accounts.sign_in(engine, "nobody", PASSWORD, SETTINGS)
    assert str(refused.value) == str(unknown.value)  # the answer does not tell which names exist
    with engine.begin() as connection:
        connection.execute(update(users).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    token, signed_in = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    assert signed_in.role == "reviewer" and len(token) > 30
    with engine.connect() as connection:
        kinds = [kind for (kind,) in connection.execute(select(audit_table.c.kind).order_by(audit_table.c.seq))]
        assert audit.verify(connection).intact
        assert PASSWORD not in str(connection.execute(select(audit_table.c.details)).all())
    assert kinds == ["user_change", *["sign_in_refused"] * 5, "sign_in"]


def test_a_name_matching_no_account_is_not_kept_in_the_audit_trail(engine: Engine) -> None:
    """It is often a password typed into the name box, and the trail is append-only."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    for name in ("correct horse battery", "ana"):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, name, "wrong password!", SETTINGS)
    with engine.connect() as connection:
        details = [
            d
            for (k, d) in connection.execute(select(audit_table.c.kind, audit_table.c.details))
            if k == "sign_in_refused"
        ]
        assert audit.verify(connection).intact
    assert "correct horse" not in str(details)
    parsed = [json.loads(d) if isinstance(d, str) else d for d in details]
    assert [(d["user"], d["why"]) for d in parsed] == [(None, "unknown"), ("ana", "password")]


def last_request(engine: Engine) -> datetime:
    with engine.connect() as connection:
        return connection.execute(select(sessions.c.last_request_at)).scalar_one()


def test_a_session_left_idle_ends_and_a_readers_requests_but_not_a_pages_polls_keep_it_going(engine: Engine) -> None:
    """The clock is the stored times, as for the absolute expiry: the session's last request is set back."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    token, signed_in = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)

    def ago(minutes: float) -> None:
        with engine.begin() as connection:
            connection.execute(update(sessions).values(last_request_at=datetime.now(UTC) - timedelta(minutes=minutes)))

    def holder(active: bool = True) -> accounts.SignedIn | None:
        with engine.begin() as connection:
            return accounts.session_user(connection, token, SETTINGS, active)

    ago(9.5)
    polled_at = last_request(engine)
    assert holder(active=False) == signed_in and last_request(engine) == polled_at  # a poll is not the reader
    assert holder() == signed_in and last_request(engine) > datetime.now(UTC) - timedelta(seconds=5)
    ago(9.5)
    assert holder() == signed_in  # kept going by the request before: 9.5 minutes idle again, still in
    assert accounts.end_told(engine, token, SETTINGS) is None
    ago(10.5)
    assert holder() is None and holder(active=False) is None
    assert accounts.end_told(engine, token + "x", SETTINGS) is None
    idle_end = last_request(engine) + timedelta(minutes=SETTINGS.idle_minutes)
    assert accounts.end_told(engine, token, SETTINGS) == "idle"
    with engine.connect() as connection:
        assert connection.execute(select(sessions)).first() is None
        events = connection.execute(select(audit_table.c.kind, audit_table.c.details).order_by(audit_table.c.seq))
        assert [(kind, json.loads(details)) for kind, details in events][-1] == (
            "sign_out",
            {"user": "ana", "why": "idle", "ended_at": idle_end.isoformat()},
        )
    assert accounts.end_told(engine, token, SETTINGS) is None  # told once
    token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    with engine.begin() as connection:  # however active, the absolute end holds, and is not idleness
        connection.execute(update(sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert holder() is None
    accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)  # another sign-in keeps the ended row, to tell why
    assert accounts.end_told(engine, token, SETTINGS) == "expired"
    assert accounts.end_told(engine, token, SETTINGS) is None


def test_a_reader_back_long_after_their_session_ended_is_told_only_that_it_ended(engine: Engine) -> None:
    """Past ``idle_minutes`` after the absolute end, up to ``ENDED_KEPT``: "ended", the why audited; a
    token that names no ended session (never one, or forgotten) is told nothing."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")

    ends: list[datetime] = []

    def ended(ago: timedelta) -> str:
        token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
        with engine.begin() as connection:
            ends.append(datetime.now(UTC) - ago)
            connection.execute(
                update(sessions).where(sessions.c.expires_at > datetime.now(UTC)).values(expires_at=ends[-1])
            )
        return token

    late = ended(timedelta(minutes=SETTINGS.idle_minutes, seconds=30))
    assert accounts.end_told(engine, late + "x", SETTINGS) is None
    assert accounts.end_told(engine, late, SETTINGS) == "ended"
    assert accounts.end_told(engine, late, SETTINGS) is None  # told once
    with engine.connect() as connection:
        last = connection.execute(select(audit_table.c.details).order_by(audit_table.c.seq.desc())).scalars().first()
    assert json.loads(last) == {"user": "ana", "why": "expired", "ended_at": ends[0].isoformat()}  # not when told
    forgotten = ended(accounts.ENDED_KEPT + timedelta(minutes=1))
    assert accounts.end_told(engine, forgotten, SETTINGS) is None
    accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)  # and the next sign-in deletes its row
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sessions)).scalar_one() == 1
    assert accounts.cookie_age_s(SETTINGS) == SETTINGS.session_minutes * 60 + accounts.ENDED_KEPT.total_seconds()


def test_sessions_expire_and_disabling_an_account_ends_them(engine: Engine) -> None:
    accounts.add_user(engine, "ana", PASSWORD, "coordinator", by="test")
    token, signed_in = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    with engine.connect() as connection:
        assert accounts.session_user(connection, token, SETTINGS) == signed_in
        assert accounts.session_user(connection, token + "x", SETTINGS) is None
        assert connection.execute(select(sessions.c.token_hash)).scalar_one() != token  # only its hash is kept
    assert accounts.csrf_ok(signed_in, signed_in.csrf_token) and not accounts.csrf_ok(signed_in, "forged")
    with engine.begin() as connection:
        connection.execute(update(sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        assert accounts.session_user(connection, token, SETTINGS) is None
    token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    accounts.disable_user(engine, "ana", by="test", settings=SETTINGS)
    with engine.connect() as connection:
        assert accounts.session_user(connection, token, SETTINGS) is None
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)


def test_a_session_ended_idle_is_told_why_until_idle_minutes_past_its_absolute_end(engine: Engine) -> None:
    """As the README says: which end it was is told by the absolute end (``session_minutes`` after the
    sign-in), not by the idle end, so a reader idle for hours of a long session still reads why."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    long_session = WebConfig(lockout_failures=3, lockout_minutes=15, session_minutes=720, idle_minutes=10)

    def idle_for(hours: float, absolute_end_in: timedelta) -> str:
        token, _ = accounts.sign_in(engine, "ana", PASSWORD, long_session)
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(
                update(sessions)
                .where(sessions.c.token_hash == accounts._token_hash(token))
                .values(last_request_at=now - timedelta(hours=hours), expires_at=now + absolute_end_in)
            )
        return token

    assert accounts.end_told(engine, idle_for(3, timedelta(hours=6)), long_session) == "idle"
    assert accounts.end_told(engine, idle_for(14, -timedelta(minutes=11)), long_session) == "ended"


def audited(engine: Engine) -> list[tuple[str, dict[str, object]]]:
    """Every audit event's (kind, details), in the log's order."""
    with engine.connect() as connection:
        assert audit.verify(connection).intact
        rows = connection.execute(select(audit_table.c.kind, audit_table.c.details).order_by(audit_table.c.seq))
        return [(kind, json.loads(details)) for kind, details in rows]


def test_the_purge_audits_the_end_of_sessions_whose_readers_never_came_back_in_the_order_they_ended(
    engine: Engine,
) -> None:
    """A reader who never comes back is never told (``end_told``); the purge of their row at a later
    sign-in must not leave the log without when and why their session ended. Each end is audited once."""
    for name in ("ana", "bob"):
        accounts.add_user(engine, name, PASSWORD, "reviewer", by="test")
    now = datetime.now(UTC)
    long_ago = now - accounts.ENDED_KEPT

    def ended(token: str, expires_at: datetime, last_request_at: datetime) -> None:
        with engine.begin() as connection:
            connection.execute(
                update(sessions)
                .where(sessions.c.token_hash == accounts._token_hash(token))
                .values(expires_at=expires_at, last_request_at=last_request_at)
            )

    ana_gone, bob_gone, kept = (accounts.sign_in(engine, name, PASSWORD, SETTINGS)[0] for name in ("ana", "bob", "ana"))
    # ana's went idle 2 days past the keeping (its absolute end was later); bob's expired a day before.
    ended(ana_gone, long_ago - timedelta(days=1), long_ago - timedelta(days=2))
    ended(bob_gone, long_ago - timedelta(days=3), long_ago - timedelta(days=3, minutes=5))
    ended(kept, now - timedelta(days=1), now - timedelta(days=1, minutes=5))  # ended, still kept
    before = len(audited(engine))
    accounts.sign_in(engine, "bob", PASSWORD, SETTINGS)
    ana_idle_end = long_ago - timedelta(days=2) + timedelta(minutes=SETTINGS.idle_minutes)
    assert audited(engine)[before:] == [
        ("sign_out", {"user": "bob", "why": "expired", "ended_at": (long_ago - timedelta(days=3)).isoformat()}),
        ("sign_out", {"user": "ana", "why": "idle", "ended_at": ana_idle_end.isoformat()}),
        ("sign_in", {"user": "bob"}),
    ]
    assert accounts.end_told(engine, bob_gone, SETTINGS) is None  # back after all: nothing more said, nor audited
    assert accounts.end_told(engine, kept, SETTINGS) == "ended"
    accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    ends = [details for kind, details in audited(engine) if kind == "sign_out"]
    assert len(ends) == 3 and ends[-1]["ended_at"] == (now - timedelta(days=1)).isoformat()  # each end once


def test_disabling_an_account_audits_the_end_of_each_open_session_once_and_keeps_it_to_tell_its_reader(
    engine: Engine,
) -> None:
    """Its open sessions end by the disabling, when it is done, each audited then; the account change
    itself names no session. Before, their rows were deleted and each reader, back, was told nothing;
    now each is told, once, only that the session ended (not why: sign-in never says an account is
    disabled), and nothing more is audited. One that had ended before ends as any other: its reader is
    told why, and it is audited then."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    ended_token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    expired_at = datetime.now(UTC) - timedelta(minutes=5)
    with engine.begin() as connection:
        connection.execute(update(sessions).values(expires_at=expired_at))
    desk, laptop = (accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)[0] for _ in range(2))
    before = len(audited(engine))
    disabled_from = datetime.now(UTC)
    accounts.disable_user(engine, "ana", by="test", settings=SETTINGS)
    change, *ends = audited(engine)[before:]
    assert change == ("user_change", {"action": "disable", "user": "ana", "by": "test"})
    assert [(kind, details["user"], details["why"]) for kind, details in ends] == [("sign_out", "ana", "disabled")] * 2
    assert all(
        disabled_from <= datetime.fromisoformat(str(details["ended_at"])) <= datetime.now(UTC) for _, details in ends
    )
    with engine.begin() as connection:
        assert accounts.session_user(connection, desk, SETTINGS) is None
    for token in (desk, laptop):
        assert accounts.end_told(engine, token, SETTINGS) == "ended"
        assert accounts.end_told(engine, token, SETTINGS) is None  # told once
    assert len(audited(engine)) == before + 3  # their ends, audited by the disabling, are not again
    assert accounts.end_told(engine, ended_token, SETTINGS) == "expired"
    assert audited(engine)[before + 3 :] == [
        ("sign_out", {"user": "ana", "why": "expired", "ended_at": expired_at.isoformat()})
    ]


def test_a_disabled_accounts_ended_sessions_open_none_when_it_is_re_enabled_and_are_purged_unaudited(
    engine: Engine,
) -> None:
    """Re-enabled, the account signs in afresh, and the sessions disabling ended stay ended: the reader
    back at one browser is still told it ended; the row of one whose reader never came back goes
    ``ENDED_KEPT`` after the disabling, at a sign-in, with no second ``sign_out``."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    desk, laptop = (accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)[0] for _ in range(2))
    accounts.disable_user(engine, "ana", by="test", settings=SETTINGS)
    accounts.enable_user(engine, "ana", by="test")
    with engine.begin() as connection:
        assert accounts.session_user(connection, desk, SETTINGS) is None
        assert accounts.session_user(connection, laptop, SETTINGS) is None
    before = len(audited(engine))
    assert accounts.end_told(engine, desk, SETTINGS) == "ended"
    with engine.begin() as connection:
        long_ago = datetime.now(UTC) - accounts.ENDED_KEPT - timedelta(minutes=1)
        connection.execute(update(sessions).values(expires_at=long_ago))
    fresh, signed_in = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    assert audited(engine)[before:] == [("sign_in", {"user": "ana"})]
    with engine.begin() as connection:
        assert connection.execute(select(func.count()).select_from(sessions)).scalar_one() == 1
        assert accounts.session_user(connection, fresh, SETTINGS) == signed_in
    assert accounts.end_told(engine, laptop, SETTINGS) is None


def test_a_session_disabling_ended_stays_ended_when_the_clock_is_set_back_past_that_end(engine: Engine) -> None:
    """The disabling brings the session's end to its own instant; a clock then stepped back past it (an
    NTP correction of a station running ahead) reads that end as still to come: the row, kept to tell
    its reader, signed them in again once the account was enabled (found by the review)."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    desk, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    accounts.disable_user(engine, "ana", by="test", settings=SETTINGS)
    accounts.enable_user(engine, "ana", by="test")
    with engine.begin() as connection:  # the clock back an hour: the disabling's instant an hour ahead of it
        connection.execute(update(sessions).values(expires_at=datetime.now(UTC) + timedelta(hours=1)))
        assert accounts.session_user(connection, desk, SETTINGS) is None
    assert accounts.end_told(engine, desk, SETTINGS) == "ended"


def test_enabling_a_disabled_account_lets_its_reader_sign_in_afresh_audited_and_refuses_any_other(
    engine: Engine,
) -> None:
    """``enable_user`` is the administrator's way back from a disabling (before, only an edit of the
    database): the change is audited with who made it, the chain verifies, the sessions the disabling
    ended do not open again, and the reader signs in with a new one. A name with no account, or an
    account that is not disabled, is refused and nothing is audited."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    desk, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    accounts.disable_user(engine, "ana", by="test", settings=SETTINGS)
    before = len(audited(engine))
    assert accounts.enable_user(engine, "ana", by="root") is False  # no lockout to lift
    assert audited(engine)[before:] == [
        ("user_change", {"action": "enable", "user": "ana", "by": "root", "lock_lifted": False})
    ]  # ``audited`` verifies the chain
    with engine.begin() as connection:
        assert accounts.session_user(connection, desk, SETTINGS) is None
        assert connection.execute(select(users.c.disabled)).scalar_one() is False
    fresh, signed_in = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    with engine.begin() as connection:
        assert accounts.session_user(connection, fresh, SETTINGS) == signed_in
        assert accounts.session_user(connection, desk, SETTINGS) is None
    assert accounts.end_told(engine, desk, SETTINGS) == "ended"  # told as any session the disabling ended
    before = len(audited(engine))
    for name, key in (("ana", "not_disabled"), ("nobody", "unknown")):
        with pytest.raises(accounts.AccountError) as refused:
            accounts.enable_user(engine, name, by="root")
        assert (refused.value.key, refused.value.values) == (key, {"user": repr(name)})
    assert len(audited(engine)) == before


def test_enabling_an_account_lifts_a_lockout_it_was_disabled_under_and_clears_wrong_passwords(
    engine: Engine,
) -> None:
    """Locked after wrong passwords, then disabled (someone was guessing at it): the administrator who
    enables it again means its reader to sign in now, so the lockout is lifted, and the change says so;
    wrong passwords counted before the disabling no longer count towards the next lockout."""
    for name, wrong in (("ana", SETTINGS.lockout_failures), ("bob", SETTINGS.lockout_failures - 1)):
        accounts.add_user(engine, name, PASSWORD, "reviewer", by="test")
        for _ in range(wrong):  # ana locked; bob one wrong password short of it
            with pytest.raises(accounts.SignInRefused):
                accounts.sign_in(engine, name, "wrong password!", SETTINGS)
        accounts.disable_user(engine, name, by="test", settings=SETTINGS)
    assert [accounts.enable_user(engine, name, by="root") for name in ("ana", "bob")] == [True, False]
    assert audited(engine)[-2:] == [
        ("user_change", {"action": "enable", "user": "ana", "by": "root", "lock_lifted": True}),
        ("user_change", {"action": "enable", "user": "bob", "by": "root", "lock_lifted": False}),
    ]
    for name in ("ana", "bob"):
        with pytest.raises(accounts.SignInRefused):  # one more wrong password locks neither
            accounts.sign_in(engine, name, "wrong password!", SETTINGS)
        accounts.sign_in(engine, name, PASSWORD, SETTINGS)


def test_two_administrators_disabling_an_account_at_once_audit_it_once_and_the_second_is_refused(
    engine: Engine,
) -> None:
    """Before, ``disable_user`` set ``disabled`` whatever it was: two administrators disabling a reader
    at once (each saw the account enabled), or one disabling it again, logged two disablings of it. Now
    the second finds it disabled when its update runs, is refused as ``enable_user`` refuses an account
    that is not disabled, and audits nothing. The test holds the account's row (a write of its own)
    until both disablings have read the account and reached their update, so both run at once."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    reached: list[str] = []
    refused: list[accounts.AccountError] = []

    def reaching(connection: object, cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE users SET disabled"):
            reached.append(statement)

    def disable(by: str) -> None:
        try:
            accounts.disable_user(engine, "ana", by=by, settings=SETTINGS)
        except accounts.AccountError as error:
            refused.append(error)

    before = len(audited(engine))
    event.listen(engine, "before_cursor_execute", reaching)
    disablings = [threading.Thread(target=disable, args=(by,)) for by in ("root", "admin")]
    with engine.begin() as connection:
        connection.execute(update(users).where(users.c.username == "ana").values(failed_attempts=0))
        for disabling in disablings:
            disabling.start()
        wait_until(lambda: len(reached) == 2, 10, "both disablings to reach their update")
    for disabling in disablings:
        disabling.join(20)
    assert not any(disabling.is_alive() for disabling in disablings)
    [(_, change), ended] = audited(engine)[before:]  # ``audited`` verifies the chain
    assert change == {"action": "disable", "user": "ana", "by": change["by"]} and change["by"] in ("root", "admin")
    assert ended[0] == "sign_out" and ended[1]["why"] == "disabled"  # her session ended once
    assert [(error.key, error.values) for error in refused] == [("disabled_already", {"user": "'ana'"})]
    with pytest.raises(accounts.AccountError) as again:  # one administrator, later
        accounts.disable_user(engine, "ana", by="root", settings=SETTINGS)
    assert again.value.key == "disabled_already" and len(audited(engine)) == before + 2


def test_a_sign_out_is_audited_once_when_posted_twice_or_as_the_account_is_disabled(engine: Engine) -> None:
    """A double click on "Sign out" sends two sign-outs of one session, both let through while its row
    was still there; a sign-out sent as an administrator disables the account comes after the
    disabling audited that session's end. Each logged one more ``sign_out`` of a session already ended."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    before = len(audited(engine))
    accounts.sign_out(engine, token, SETTINGS)
    accounts.sign_out(engine, token, SETTINGS)
    [(kind, details)] = audited(engine)[before:]
    assert kind == "sign_out" and details["user"] == "ana" and details["why"] == "signed_out"
    token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    accounts.disable_user(engine, "ana", by="test", settings=SETTINGS)
    before = len(audited(engine))
    accounts.sign_out(engine, token, SETTINGS)
    assert len(audited(engine)) == before


def test_a_sign_out_and_a_disabling_at_once_on_postgresql_both_go_through(postgres: PostgresServer) -> None:
    """A sign-out deletes its session's row, then takes the audit log's lock to log its end; disabling
    the account took that lock first (to log the change), then waited for the row: PostgreSQL found
    them waiting on each other and failed one (``deadlock detected``: a traceback at the console, or an
    error page for the reader). Disabling now ends the sessions before it logs anything."""
    engine = open_database(postgres.create_database(f"t_{uuid.uuid4().hex}"))
    try:
        accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
        token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
        failed: list[Exception] = []

        def disable() -> None:
            try:
                accounts.disable_user(engine, "ana", by="test", settings=SETTINGS)
            except Exception as error:
                failed.append(error)

        disabling = threading.Thread(target=disable)
        with engine.begin() as connection:  # the sign-out, half way: its row deleted, its end not logged yet
            connection.execute(
                delete(sessions).where(sessions.c.token_hash == hashlib.sha256(token.encode()).hexdigest())
            )
            disabling.start()
            wait_until(lambda: waiting_on_a_lock(engine), 10, "the disabling to wait for the sign-out")
            audit.append(connection, "sign_out", {"user": "ana", "why": "signed_out", "ended_at": "now"})
        disabling.join(10)
        assert not failed and not disabling.is_alive()
        assert [kind for kind, _ in audited(engine)][-2:] == ["sign_out", "user_change"]
    finally:
        engine.dispose()


def test_a_readers_own_sign_out_is_audited_in_the_shape_of_every_other_end(engine: Engine) -> None:
    """Every other ``sign_out`` event says why and when the session ended (idle, expired, disabled);
    the reader's own said only whose, and an auditor's query on the events needed a case for it."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    token, _ = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    before, signed_out_from = len(audited(engine)), datetime.now(UTC)
    accounts.sign_out(engine, token, SETTINGS)
    [(kind, details)] = audited(engine)[before:]
    assert kind == "sign_out" and details.keys() == {"user", "why", "ended_at"}
    assert details["user"] == "ana" and details["why"] == "signed_out"
    assert signed_out_from <= datetime.fromisoformat(str(details["ended_at"])) <= datetime.now(UTC)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sessions)).scalar_one() == 0
        assert audit.verify(connection).intact


def test_two_administrators_unlocking_an_account_at_once_audit_it_once_and_the_second_is_refused(
    engine: Engine,
) -> None:
    """``unlock_user`` lifts a lockout only if its update finds one running, as ``disable_user`` disables
    only an account its update finds enabled: two administrators unlocking a reader at once (each saw
    the lockout) log it once, and the second is told it is not locked. The test holds the account's
    row (a write of its own) until both unlocks have read the account and reached their update."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    for _ in range(SETTINGS.lockout_failures):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    reached: list[str] = []
    refused: list[accounts.AccountError] = []

    def reaching(connection: object, cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE users SET failed_attempts"):
            reached.append(statement)

    def unlock(by: str) -> None:
        try:
            accounts.unlock_user(engine, "ana", by=by)
        except accounts.AccountError as error:
            refused.append(error)

    before = len(audited(engine))
    event.listen(engine, "before_cursor_execute", reaching)
    unlocks = [threading.Thread(target=unlock, args=(by,)) for by in ("root", "admin")]
    with engine.begin() as connection:
        connection.execute(update(users).where(users.c.username == "ana").values(role="reviewer"))
        for unlocking in unlocks:
            unlocking.start()
        wait_until(lambda: len(reached) == 2, 10, "both unlocks to reach their update")
    for unlocking in unlocks:
        unlocking.join(20)
    assert not any(unlocking.is_alive() for unlocking in unlocks)
    [(kind, change)] = audited(engine)[before:]  # ``audited`` verifies the chain
    assert kind == "user_change" and change == {"action": "unlock", "user": "ana", "by": change["by"]}
    assert change["by"] in ("root", "admin")
    assert [(error.key, error.values) for error in refused] == [("not_locked", {"user": "'ana'"})]
    accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)


def test_unlocking_leaves_the_accounts_sessions_and_its_next_wrong_passwords_count_from_none(engine: Engine) -> None:
    """A lockout ends no session (a reader signed in at one desk may be locked out by wrong passwords
    typed at another), so lifting it ends none either. Unlocked, the reader has ``lockout_failures``
    wrong passwords again before the next lockout; one with no lockout running (never, or run out) is
    refused and nothing is audited."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    desk, signed_in = accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    for _ in range(SETTINGS.lockout_failures):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    accounts.unlock_user(engine, "ana", by="root")
    with engine.begin() as connection:
        assert accounts.session_user(connection, desk, SETTINGS) == signed_in
    for _ in range(SETTINGS.lockout_failures - 1):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    for _ in range(SETTINGS.lockout_failures):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    with engine.begin() as connection:  # the lockout ran out a second ago
        connection.execute(update(users).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    before = len(audited(engine))
    with pytest.raises(accounts.AccountError) as refused:
        accounts.unlock_user(engine, "ana", by="root")
    assert refused.value.key == "not_locked" and len(audited(engine)) == before


@contextmanager
def a_wrong_password_counted_before_the_update(engine: Engine) -> Iterator[threading.Event]:
    """Within it, the first ``UPDATE users`` a sign-in sends is preceded by another sign-in of "ana" with
    a wrong password, refused and counted in the row: what a second ``serve`` process (or request) does
    while the first checks its password (about 0.1 s), after the first read the account. The event
    says it happened."""
    happened = threading.Event()

    def meanwhile(connection, cursor, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE users") and not happened.is_set():
            happened.set()
            with pytest.raises(accounts.SignInRefused):
                accounts.sign_in(engine, "ana", "another wrong one", SETTINGS)

    event.listen(engine, "before_cursor_execute", meanwhile)
    try:
        yield happened
    finally:
        event.remove(engine, "before_cursor_execute", meanwhile)


def test_wrong_passwords_checked_at_once_are_each_counted_towards_the_lockout(engine: Engine) -> None:
    """Two ``serve`` processes (or two requests) checking wrong passwords at once: each read the count,
    checked its password, then wrote the count it had read plus one, and one of the two was lost; a
    guesser spreading guesses over both had more than ``lockout_failures`` before the lockout. Here a
    second wrong password is counted while the first is checked, after the first's read of the count."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    for _ in range(SETTINGS.lockout_failures - 2):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    with a_wrong_password_counted_before_the_update(engine) as guessed_meanwhile, pytest.raises(accounts.SignInRefused):
        accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    assert guessed_meanwhile.is_set()
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)


def test_the_right_password_checked_while_a_wrong_one_locks_the_account_is_refused(engine: Engine) -> None:
    """A right password checked (about 0.1 s) while another ``serve`` process (or request) counts the
    wrong password that locks the account: sign-in cleared the count and the lockout whatever the row
    held by then, so the lockout set meanwhile was lifted and the password signed in. Here the last wrong
    password before the lockout is counted after the right one's read of the account, before its update."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    for _ in range(SETTINGS.lockout_failures - 1):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, "ana", "wrong password!", SETTINGS)
    with a_wrong_password_counted_before_the_update(engine) as locked_meanwhile, pytest.raises(accounts.SignInRefused):
        accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)
    assert locked_meanwhile.is_set()
    assert audited(engine)[-1] == ("sign_in_refused", {"user": "ana", "why": "locked"})
    with engine.connect() as connection:
        assert connection.execute(select(sessions.c.token_hash)).first() is None
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(engine, "ana", PASSWORD, SETTINGS)  # the lockout set meanwhile still runs
