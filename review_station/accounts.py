"""Specialists' accounts: roles, scrypt-hashed passwords, lockout, sessions with expiry, CSRF tokens.

- Passwords: ``hashlib.scrypt`` (memory-hard: 32 MiB per guess with these parameters), a random salt
  per password, compared in constant time. The parameters are stored with each hash so they can be
  raised later without locking anybody out.
- Lockout: after ``lockout_failures`` wrong passwords in a row the account refuses every password,
  the right one too, for ``lockout_minutes``. An unknown name costs the same hashing work as a known
  one and gets the same answer, so sign-in does not tell which names exist.
- Sessions: a random token in a cookie; only its SHA-256 is stored, with an absolute expiry, the time
  of its reader's last request (a session also ends ``idle_minutes`` after it) and the session's CSRF
  token, which every form must send back. An ended session's row and cookie are kept ``ENDED_KEPT``
  past its absolute expiry (they sign nobody in), so the sign-in page can tell its reader it ended: why,
  within ``idle_minutes`` of that expiry; plainly that it ended, later, or when disabling its account
  ended it (which sign-in never tells). Every session's end is audited once, as a ``sign_out`` with why
  and when it ended: when disabling the account ends it (``"disabled"``; its row is kept, ended, marked
  ``end_audited``), else by whichever deletes its row: its reader's return, the purge of rows kept
  longer than ``ENDED_KEPT`` (a reader who never came back), or the reader's own sign-out
  (``"signed_out"``, when they sign out).
- Sites: a reviewer's or coordinator's account may be limited to the sites it reads; a result of any
  other site is, to that account, a result that does not exist. Admins read every site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Row,
    and_,
    case,
    delete,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)

from edgescreen_wire.checks import IDENTIFIER
from review_station import audit
from review_station.config import WebConfig
from review_station.refused import Refused
from review_station.storage.tables import UtcDateTime, sessions, user_sites, users

ROLES = ("reviewer", "coordinator", "admin")
MIN_PASSWORD = 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
REFUSED = "wrong name or password, or the account is locked or disabled"


class AccountError(Refused):
    """An account change that is refused: "account.refused.<key>" says why (``Refused``)."""

    topic = "account"


class SignInRefused(PermissionError):
    """Sign-in refused; the message is the same whatever the cause."""


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    role: str
    csrf_token: str
    sites: frozenset[str] | None = None  # the sites the account reads; None: every site

    def reads_site(self, site_id: str) -> bool:
        return self.sites is None or site_id in self.sites

    def site_conditions(self, site_column: Column[str]) -> list[ColumnElement[bool]]:
        """The condition keeping a query to the account's sites (none for an account reading all)."""
        return [] if self.sites is None else [site_column.in_(sorted(self.sites))]


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=SCRYPT_MAXMEM, dklen=32
    )
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def password_matches(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    computed = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        maxmem=SCRYPT_MAXMEM,
        dklen=32,
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


# A hash to check unknown names against: the same work as a real one, and never a match.
_DECOY = hash_password(secrets.token_hex(16))


def add_user(
    engine: Engine, username: str, password: str, role: str, by: str, sites: frozenset[str] = frozenset()
) -> None:
    """A new account; ``sites`` limits it to those sites (empty: every site)."""
    if not IDENTIFIER.fullmatch(username):
        raise AccountError(
            f"user name {username!r}: letters, digits, '.', '_' or '-' (at most 64)", "bad_name", user=repr(username)
        )
    if role not in ROLES:
        listed = ", ".join(ROLES)
        raise AccountError(f"role {role!r}: expected one of {listed}", "bad_role", role=repr(role), roles=listed)
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"the password must have at least {MIN_PASSWORD} characters", "short_password", count=str(MIN_PASSWORD)
        )
    _check_sites(role, sites)
    with engine.begin() as connection:
        if connection.execute(select(users.c.id).where(users.c.username == username)).first():
            raise AccountError(f"user {username!r} exists already", "exists", user=repr(username))
        user_id = connection.execute(
            insert(users).values(
                username=username,
                password_hash=hash_password(password),
                role=role,
                disabled=False,
                failed_attempts=0,
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]
        _write_sites(connection, user_id, sites)
        change = {"action": "add", "user": username, "role": role, "sites": sorted(sites), "by": by}
        audit.append(connection, "user_change", change)


def _check_sites(role: str, sites: frozenset[str]) -> None:
    """Site ids as devices are enrolled with; none for an admin, who runs the whole station (the
    quarantine holds messages of no site, and enrolments name any site)."""
    for site in sites:
        if not IDENTIFIER.fullmatch(site):
            raise AccountError(
                f"site {site!r}: letters, digits, '.', '_' or '-' (at most 64)", "bad_site", site=repr(site)
            )
    if sites and role == "admin":
        raise AccountError(
            "an admin account reads every site: give sites to reviewer or coordinator accounts", "admin_sites"
        )


def _write_sites(connection: Connection, user_id: int, sites: frozenset[str]) -> None:
    connection.execute(delete(user_sites).where(user_sites.c.user_id == user_id))
    if sites:
        connection.execute(insert(user_sites), [{"user_id": user_id, "site_id": site} for site in sorted(sites)])


def _named(connection: Connection, username: str, *columns: ColumnElement[Any]) -> Row[Any]:
    """The account signing in as ``username`` (its id and ``columns``), refused as unknown if none."""
    user = connection.execute(select(users.c.id, *columns).where(users.c.username == username)).first()
    if user is None:
        raise AccountError(f"no user {username!r}", "unknown", user=repr(username))
    return user


def set_sites(engine: Engine, username: str, sites: frozenset[str], by: str) -> None:
    """Limit an account to ``sites`` (empty: every site again). Its open sessions read the new sites
    from their next page on: each page asks ``session_user``."""
    with engine.begin() as connection:
        user = _named(connection, username, users.c.role)
        _check_sites(user.role, sites)
        _write_sites(connection, user.id, sites)
        audit.append(connection, "user_change", {"action": "sites", "user": username, "sites": sorted(sites), "by": by})


def account_sites(connection: Connection, user_id: int) -> frozenset[str] | None:
    """The sites an account reads; None when it reads every site."""
    rows = connection.execute(select(user_sites.c.site_id).where(user_sites.c.user_id == user_id)).scalars()
    return frozenset(rows) or None


def locked_out(locked_until: datetime | None, now: datetime) -> bool:
    """Whether a lockout after wrong passwords still refuses every password at ``now``: one that has
    run out is left in the row until the next sign-in clears it."""
    return locked_until is not None and locked_until > now


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    disabled: bool
    sites: frozenset[str]  # empty: every site
    locked_until: datetime | None  # when a lockout still running ends; None when none runs
    last_sign_in: datetime | None  # None: never signed in


def list_users(engine: Engine) -> list[Account]:
    """Every account by name, with the sites it reads, the end of a lockout it is under and its last
    sign-in (what ``users list`` prints: an administrator asked why a reader cannot sign in finds it
    there, and one who reviews the accounts, those nobody uses any more)."""
    now = datetime.now(UTC)
    with engine.connect() as connection:
        signed_in = audit.last_sign_ins(connection)
        limits: dict[int, set[str]] = {}
        for user_id, site in connection.execute(select(user_sites.c.user_id, user_sites.c.site_id)):
            limits.setdefault(user_id, set()).add(site)
        named = select(users.c.id, users.c.username, users.c.role, users.c.disabled, users.c.locked_until)
        return [
            Account(
                row.username,
                row.role,
                row.disabled,
                frozenset(limits.get(row.id, ())),
                row.locked_until if locked_out(row.locked_until, now) else None,
                signed_in.get(row.username),
            )
            for row in connection.execute(named.order_by(users.c.username))
        ]


def disable_user(engine: Engine, username: str, by: str, settings: WebConfig) -> None:
    """The account can no longer sign in, and its open sessions end now: each is audited as ended by
    that (``"disabled"``), after the account change, which does not name them. Their rows are kept,
    ended (``enable_user`` opens none again) and ``end_audited``, so the reader at each browser
    is told, once, that the session open there ended (``end_told``), and nothing is audited when the
    row goes. Its sessions that had ended before are left to end as any other (``end_told``, the purge).
    An account disabled already is refused, and nothing audited: the audit log would otherwise say it
    was disabled twice, by two administrators who both saw it enabled when they disabled it at once."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user_id = _named(connection, username).id
        disabled = connection.execute(
            update(users)
            .where(users.c.id == user_id, users.c.disabled.is_(False))  # not twice, if two administrators race
            .values(disabled=True)
        )
        if disabled.rowcount == 0:
            raise AccountError(f"user {username!r} is disabled already", "disabled_already", user=repr(username))
        # The sessions' rows before the audit log's lock (``audit.append``), as a sign-out takes them:
        # the other way round, PostgreSQL failed one of the two at once as a deadlock.
        ended = connection.execute(
            update(sessions)
            .where(sessions.c.user_id == user_id, _open(settings, now))
            .values(expires_at=now, end_audited=True)
            .returning(sessions.c.token_hash)
        ).all()
        audit.append(connection, "user_change", {"action": "disable", "user": username, "by": by})
        for _ in ended:
            _audit_end(connection, username, "disabled", now)


def enable_user(engine: Engine, username: str, by: str) -> bool:
    """A disabled account can sign in again (a reader back from leave, or disabled by mistake), without
    editing the database. Its reader signs in afresh: the sessions disabling ended stay ended (their rows
    are kept, ended, as ``disable_user`` left them). A lockout after wrong passwords still running from
    before the disabling is lifted, and the count of wrong passwords cleared: the administrator who
    enables an account means its reader to sign in now, and no password counted while it was disabled.
    Returns whether a lockout was lifted, which the command says and the ``user_change`` records."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user = _named(connection, username, users.c.locked_until)
        enabled = connection.execute(
            update(users)
            .where(users.c.id == user.id, users.c.disabled.is_(True))  # not twice, if two administrators race
            .values(disabled=False, failed_attempts=0, locked_until=None)
        )
        if enabled.rowcount == 0:
            raise AccountError(f"user {username!r} is not disabled", "not_disabled", user=repr(username))
        lifted = locked_out(user.locked_until, now)
        change = {"action": "enable", "user": username, "by": by, "lock_lifted": lifted}
        audit.append(connection, "user_change", change)
    return lifted


def unlock_user(engine: Engine, username: str, by: str) -> None:
    """An enabled account locked out after wrong passwords can sign in again now: a reader who mistyped
    theirs too often, or whose account someone guessed at, need not wait ``lockout_minutes``. The wrong
    passwords counted start again from none. Its sessions are left as they are (a lockout ends none).
    Whether it is locked is decided by the conditional update alone, so two administrators unlocking it
    at once audit it once and the second is refused, as ``disable_user``'s race is. It takes the
    account's row, then the audit log's lock, and no session's row: the order the other account changes
    take them in. A disabled account is refused: it cannot sign in anyway, and ``enable_user`` lifts its
    lockout."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user_id = _named(connection, username).id
        unlocked = connection.execute(
            update(users)
            # ``locked_out`` in SQL: a lockout that has run out is no lockout to lift.
            .where(users.c.id == user_id, users.c.disabled.is_(False), users.c.locked_until > now)
            .values(failed_attempts=0, locked_until=None)
        )
        if unlocked.rowcount == 0:
            # The update decided; this only says why, as the account stands now.
            if connection.execute(select(users.c.disabled).where(users.c.id == user_id)).scalar_one():
                why = f"user {username!r} is disabled: users enable lets it sign in again, lifting any lockout"
                raise AccountError(why, "unlock_disabled", user=repr(username))
            raise AccountError(
                f"user {username!r} is not locked out: nothing to unlock", "not_locked", user=repr(username)
            )
        audit.append(connection, "user_change", {"action": "unlock", "user": username, "by": by})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _refuse(connection: Connection, user: Row[Any] | None, username: str, locked: bool, settings: WebConfig) -> None:
    """Count a wrong password towards the lockout, and audit the refusal (without the password)."""
    if user is not None and not user.disabled and not locked and not _counted(connection, user.id, settings):
        locked = True  # another wrong password, checked meanwhile, locked the account
    why = "unknown" if user is None else "disabled" if user.disabled else "locked" if locked else "password"
    # A name matching no account is not kept: it is often a password typed into the wrong box, and the
    # audit trail is append-only.
    audit.append(connection, "sign_in_refused", {"user": user.username if user is not None else None, "why": why})


def _no_lockout(now: datetime) -> ColumnElement[bool]:
    """``locked_out`` in SQL, negated: no lockout, or one that has run out. Sign-in's updates of the
    count are conditional on it, in the row as it is when they run: what was read before the password's
    check (about 0.1 s) may have been changed meanwhile by another ``serve`` process."""
    return or_(users.c.locked_until.is_(None), users.c.locked_until <= now)


def _cleared(connection: Connection, user_id: int, now: datetime) -> bool:
    """Start the wrong passwords counted again from none after the right one, in one update conditional
    on no lockout: one set meanwhile by a wrong password counted elsewhere was lifted, and the password
    signed in. False when a lockout runs by then, and the password is refused for it."""
    cleared = update(users).where(users.c.id == user_id, _no_lockout(now)).values(failed_attempts=0, locked_until=None)
    return connection.execute(cleared).rowcount == 1


def _counted(connection: Connection, user_id: int, settings: WebConfig) -> bool:
    """Count one more wrong password, locking the account at ``lockout_failures``, in one update of the
    count the row holds when it runs: a count read before the password's check (about 0.1 s) and written
    back plus one lost the wrong passwords another ``serve`` process counted meanwhile. False when a
    lockout runs by then, and the password was not counted."""
    now = datetime.now(UTC)
    lock_now = users.c.failed_attempts + 1 >= settings.lockout_failures
    counted = connection.execute(
        update(users)
        .where(users.c.id == user_id, _no_lockout(now))
        .values(
            failed_attempts=case((lock_now, 0), else_=users.c.failed_attempts + 1),
            # Typed as the column, as a plain comparison's bound value is: a bare datetime inside CASE is
            # sent as a timestamp without zone, its instant then read in the session's time zone.
            locked_until=case(
                (lock_now, literal(now + timedelta(minutes=settings.lockout_minutes), UtcDateTime())), else_=None
            ),
        )
    )
    return counted.rowcount == 1


def sign_in(engine: Engine, username: str, password: str, settings: WebConfig) -> tuple[str, SignedIn]:
    """A new session's (token, identity), or ``SignInRefused``. Every attempt is audited."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        # A name no account can have (``add_user``'s rule) is not looked up: one with a NUL failed the
        # query on PostgreSQL. It gets any unknown name's answer, after the same work.
        named = select(users).where(users.c.username == username)
        user = connection.execute(named).first() if IDENTIFIER.fullmatch(username) else None
        matches = password_matches(password, user.password_hash if user else _DECOY)
        locked = user is not None and locked_out(user.locked_until, now)
        if user is None or user.disabled or locked or not matches:
            _refuse(connection, user, username, locked, settings)
            identity = None
        elif not _cleared(connection, user.id, now):
            _refuse(connection, user, username, True, settings)  # a wrong password, checked meanwhile, locked it
            identity = None
        else:
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            _delete_sessions(connection, sessions.c.expires_at < now - ENDED_KEPT, settings, now)
            connection.execute(
                insert(sessions).values(
                    token_hash=_token_hash(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    expires_at=now + timedelta(minutes=settings.session_minutes),
                    last_request_at=now,
                )
            )
            audit.append(connection, "sign_in", {"user": user.username})
            identity = SignedIn(user.id, user.username, user.role, csrf, account_sites(connection, user.id))
    if identity is None:
        raise SignInRefused(REFUSED)
    return token, identity


# A session's ``last_request_at`` is written again once it is this old, not on every request: a page
# that loads its photo and polls its delivery would otherwise write as often as it reads. The idle
# end may so come up to this much before ``idle_minutes`` have passed since the very last request.
ACTIVE_TO_THE = timedelta(minutes=1)


# How long past a session's absolute end its row and cookie are kept to tell a reader back later that
# it ended (``end_told``): back the next day, after a weekend, from leave. Longer than any
# ``idle_minutes`` (a day at most). Before, both went ``idle_minutes`` after that end, and a reader back
# later was dropped on the sign-in page with nothing said. The row signs nobody in. The next sign-in
# deletes the rows kept longer, auditing the end of each not audited yet (``_delete_sessions``): a reader
# who never came back was never told, and the log would otherwise not say when their session ended.
ENDED_KEPT = timedelta(days=30)


def _told_why_for(settings: WebConfig) -> timedelta:
    """How long past a session's absolute end its reader is told why it ended: the time a session may
    idle. A reader mid-read when ``session_minutes`` ran out is back within it; one back later was away
    longer than any session may idle, and may be someone else at the same desk."""
    return timedelta(minutes=settings.idle_minutes)


def cookie_age_s(settings: WebConfig) -> int:
    """The session cookie's lifetime in seconds: the session's, and the time its end is told after it."""
    return round((timedelta(minutes=settings.session_minutes) + ENDED_KEPT).total_seconds())


def _open(settings: WebConfig, now: datetime) -> ColumnElement[bool]:
    """The sessions not ended at ``now``: neither ``session_minutes`` past their sign-in nor idle
    ``idle_minutes`` (``_end`` says which came first of one that is), nor ended by disabling their
    account (``end_audited``), whatever the clock says of that end: a clock stepped back past it (an
    NTP correction, a station restored) would otherwise open it again once the account is enabled."""
    return and_(
        sessions.c.expires_at > now,
        sessions.c.last_request_at > now - timedelta(minutes=settings.idle_minutes),
        sessions.c.end_audited.is_(False),
    )


def _end(row: Row[Any], settings: WebConfig) -> tuple[str, datetime]:
    """Why and when a session (a row with ``expires_at`` and ``last_request_at``) ends by itself:
    ``"expired"``, ``session_minutes`` after its sign-in, or ``"idle"``, ``idle_minutes`` after its last
    request, whichever comes first."""
    idle_end = row.last_request_at + timedelta(minutes=settings.idle_minutes)
    return ("expired", row.expires_at) if row.expires_at <= idle_end else ("idle", idle_end)


def _audit_end(connection: Connection, username: str, why: str | None, ended_at: datetime) -> None:
    """A session's end, in the audit log as the station's sign-out: whose, why and when it ended."""
    audit.append(connection, "sign_out", {"user": username, "why": why, "ended_at": ended_at.isoformat()})


def _delete_sessions(
    connection: Connection, which: ColumnElement[bool], settings: WebConfig, now: datetime, cause: str | None = None
) -> list[Row[Any]]:
    """Delete the sessions ``which`` selects, and audit each one's end as the station's sign-out, with
    why and when it ended, in the order they ended; a session still open at ``now`` ends then, for
    ``cause`` (the act deleting it: its reader's ``sign_out``). Only the rows this statement deleted
    are audited, and of those only the ones whose end is not audited already (``disable_user``'s), so
    a session's end is in the log once, whichever of its reader's return, the purge or a sign-out
    deletes it. The deleted rows are returned."""
    deleted = connection.execute(
        delete(sessions)
        .where(which)
        .returning(sessions.c.user_id, sessions.c.expires_at, sessions.c.last_request_at, sessions.c.end_audited)
    ).all()
    unaudited = [row for row in deleted if not row.end_audited]
    if not unaudited:
        return deleted
    ids = sorted({row.user_id for row in unaudited})
    named = connection.execute(select(users.c.id, users.c.username).where(users.c.id.in_(ids)))
    names = {row.id: row.username for row in named}
    ends: list[tuple[datetime, str | None, str]] = []  # (when, why, whose)
    for row in unaudited:
        why, ended_at = _end(row, settings)
        ends.append((ended_at, why, names[row.user_id]) if ended_at <= now else (now, cause, names[row.user_id]))
    for ended_at, why, username in sorted(ends, key=lambda end: end[0]):
        _audit_end(connection, username, why, ended_at)
    return deleted


def session_user(
    connection: Connection, token: str | None, settings: WebConfig, active: bool = True
) -> SignedIn | None:
    """Who holds this session token, if the session has neither expired nor been idle ``idle_minutes``
    and the account is enabled. ``active``: the request is the reader's (not a page's own poll), so it
    counts as their last; pass a connection in a transaction, which the caller commits."""
    if not token:
        return None
    now = datetime.now(UTC)
    row = connection.execute(
        select(users.c.id, users.c.username, users.c.role, sessions.c.csrf_token, sessions.c.last_request_at)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == _token_hash(token), _open(settings, now), users.c.disabled.is_(False))
    ).first()
    if row is None:
        return None
    if active and row.last_request_at <= now - ACTIVE_TO_THE:
        touched = update(sessions).where(sessions.c.token_hash == _token_hash(token)).values(last_request_at=now)
        connection.execute(touched)
    return SignedIn(row.id, row.username, row.role, row.csrf_token, account_sites(connection, row.id))


def end_told(engine: Engine, token: str | None, settings: WebConfig) -> str | None:
    """What to tell of the end of ``token``'s session, if the station ended it and nobody has been told
    yet: why, to a reader back within ``idle_minutes`` of its absolute end, ``"idle"`` (no request for
    ``idle_minutes``) or ``"expired"`` (``session_minutes`` after its sign-in), whichever came first;
    ``"ended"``, only that it ended, to one back later (up to ``ENDED_KEPT``), who may be someone else at
    the same desk, and to one whose account was disabled (sign-in never says an account is). Its row is
    then deleted, the end audited as the station's sign-out, with why and when it ended, unless disabling
    audited it (the event itself is dated when it is told, up to ``ENDED_KEPT`` later), and the sign-in
    page says it. A token that names no session the station ended is told nothing: it may never
    have been one (another station on the same host name, a forged cookie)."""
    if not token:
        return None
    now = datetime.now(UTC)
    told = and_(sessions.c.token_hash == _token_hash(token), sessions.c.expires_at > now - ENDED_KEPT)
    with engine.begin() as connection:
        deleted = _delete_sessions(connection, and_(told, not_(_open(settings, now))), settings, now)
    if not deleted:
        return None
    why, _ = _end(deleted[0], settings)
    told_why = not deleted[0].end_audited and deleted[0].expires_at > now - _told_why_for(settings)
    return why if told_why else "ended"


def sign_out(engine: Engine, token: str, settings: WebConfig) -> None:
    """The reader's own sign-out, audited like every other end of a session (``_delete_sessions``:
    why ``"signed_out"``, when it is done), so a query on ``sign_out`` events needs no special case;
    and only if it is what ended the session: a sign-out posted twice at once (a double click), or
    as the account was disabled, would log the end twice."""
    with engine.begin() as connection:
        which = sessions.c.token_hash == _token_hash(token)
        _delete_sessions(connection, which, settings, datetime.now(UTC), cause="signed_out")


def csrf_ok(signed_in: SignedIn, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(signed_in.csrf_token.encode(), sent.encode())
