"""Who is at the screen: server-side sessions behind an HttpOnly, SameSite=Strict cookie.

The cookie holds a random id and nothing else; the operator, the CSRF token, the language and the
patient being screened stay in this process's memory (a restart signs everyone out, which is the
safe side). A session idle for ``lock_after_s`` is locked: its operator's PIN opens it again and the
patient in progress is kept.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

COOKIE = "edgescreen_session"
# The language the nurse chose with the switch, carried by the browser: a restart forgets every session,
# and her screen came back in the device's language. Not a secret, nor anyone's: a language code.
LANGUAGE_COOKIE = "edgescreen_language"
# Kept a year: the kiosk's browser is hers and her colleagues' for the campaign.
LANGUAGE_KEPT_S = 365 * 24 * 3600
# A session untouched this long is forgotten (a kiosk runs for months; anonymous visits add up).
FORGET_AFTER_S = 12 * 3600
# Sessions nobody has signed in to, from the network (each request without a cookie makes one, for
# its CSRF token): at most this many are kept, the oldest forgotten first. With the app bound to the
# LAN, 20,000 such requests held 5 MB for 12 h. The kiosk's own (from loopback) are never counted:
# its sign-in screen is made at sign-out and sits idle overnight, the oldest of all by morning, and a
# network scanner's requests would have forgotten it and its token ("form expired" at the PIN).
MAX_ANONYMOUS = 100


@dataclass
class Session:
    id: str
    language: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    operator: str | None = None
    locked: bool = False
    # Locked by the idle timer rather than by the Lock button: the sign-in screen says which.
    locked_idle: bool = False
    last_active: float = field(default_factory=lambda: time.monotonic())
    # Made for a request from the device itself (its kiosk browser): outside ``MAX_ANONYMOUS``.
    local: bool = False
    # Made for a cookie whose session this process no longer holds: the app restarted, or the session
    # was forgotten (``FORGET_AFTER_S``). The status bar's poll then sent the screen to sign in, and the
    # patient in progress was lost with nothing said: the sign-in screen says so, and to look at Today
    # when Today lists an eye of the visit lost (pages_session.lost_on_today).
    forgotten: bool = False
    # The patient being screened (see visit.py), the reference last searched in Records and the
    # screening last opened there (shown again when its page is reloaded, as the language switch does).
    visit: Any = None
    records_query: str | None = None
    records_viewed: str | None = None
    # What the last erasure removed (``records.store.Erasure``): said again, in the other language, when
    # its page is reloaded; the next search drops it.
    records_erased: Any = None
    # A reference read from a QR code or barcode, waiting to fill the patient form.
    scanned_reference: str | None = None
    # The patient whose next lesion the nurse asked for ("Another lesion"): the patient form's next
    # load opens at the body picture with this reference, not retyped (a typo files the lesion under
    # another patient). Read once, as the scanned reference is: never offered to a later patient.
    another_lesion: str | None = None
    # A form as the language switch left it (``pages_session.drafted``: the patient form, the first
    # operator's, the name typed to sign in from the network, the hand-out's reference ticked): its next
    # load shows it again, in the other language. Read once (``draft_of``), as the scanned reference is.
    draft: dict[str, Any] | None = None
    # The sign-in page's last refusal, said again in the session's language (a wrong PIN, a lock and
    # its wait): the language switch on that page keeps it with the name tapped. Taken by the page's
    # next load, shown only when the switch left it (``draft_of("/signin")``); never in an address.
    refusal: Callable[[], str] | None = None

    @property
    def signed_in(self) -> bool:
        return self.operator is not None and not self.locked

    def draft_of(self, form: str) -> dict[str, Any] | None:
        """The draft the language switch left of ``form`` (its action, "/patient"), taken: a later
        load of the form, or of another, comes as new."""
        draft, self.draft = self.draft, None
        return draft if draft is not None and draft["of"] == form else None

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and secrets.compare_digest(token, self.csrf)


class Sessions:
    def __init__(
        self, lock_after_s: float, language: str, on_forget: Callable[[Session], None] = lambda session: None
    ) -> None:
        """``on_forget`` is told of each session forgotten idle (``FORGET_AFTER_S``): the visit it held
        is dropped unfinished, and only the app, which holds the records, can close it (web/server.py)."""
        self._lock_after = lock_after_s
        self._language = language
        self._on_forget = on_forget
        self._sessions: dict[str, Session] = {}

    def find(self, session_id: str | None) -> Session | None:
        """The session of a cookie, locked first if it has been idle too long; none once someone signed
        in to it and it has been idle past ``FORGET_AFTER_S``. Forgotten only as a new session was made,
        a session's cookie back 13 hours later with no other screen in between found it still, and its
        PIN resumed a visit long stale whose eye not photographed was not on Today meanwhile. A sign-in
        screen nobody signed in to holds no visit: the kiosk's, left overnight, takes the morning's PIN
        (forgotten, its form's token was refused and the nurse told to look at Today for nothing)."""
        self._forget_idle(anonymous_too=False)
        session = self._sessions.get(session_id or "")
        if session and session.operator and time.monotonic() - session.last_active > self._lock_after:
            session.locked = session.locked_idle = True
        return session

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self, local: bool = False, forgotten: bool = False, language: str | None = None) -> Session:
        """A session nobody has signed in to; ``local`` for the device's own screen (never evicted
        by the cap, only forgotten when idle like every session); ``forgotten``, in place of one this
        process no longer holds; in ``language`` (the one the browser carries), else the device's."""
        self._forget_idle(anonymous_too=True)
        strangers = [key for key, kept in self._sessions.items() if kept.operator is None and not kept.local]
        for key in strangers[: max(0, len(strangers) - MAX_ANONYMOUS + 1)]:  # oldest first
            del self._sessions[key]
        session = Session(secrets.token_urlsafe(32), language or self._language, local=local, forgotten=forgotten)
        self._sessions[session.id] = session
        return session

    def _forget_idle(self, anonymous_too: bool) -> None:
        """Forget every session idle ``FORGET_AFTER_S`` (with ``anonymous_too``, those nobody signed in
        to as well), each told to ``on_forget`` (its visit closed)."""
        now = time.monotonic()
        idle = [
            key
            for key, kept in self._sessions.items()
            if now - kept.last_active >= FORGET_AFTER_S and (anonymous_too or kept.operator is not None)
        ]
        for key in idle:
            self._on_forget(self._sessions.pop(key))

    def unkept(self, language: str | None = None) -> Session:
        """A session nobody has signed in to, in ``language`` (the one the browser carries), else the
        device's, that is not kept: for an answer that hands out no cookie (the failure page of a static
        file), which must not add to the sessions kept, nor push the oldest stranger's out of
        ``MAX_ANONYMOUS``."""
        return Session(secrets.token_urlsafe(32), language or self._language)

    def rotate(self, session: Session) -> Session:
        """A new id (and CSRF token) at sign-in, so an id seen before sign-in is worth nothing after."""
        self._sessions.pop(session.id, None)
        fresh = Session(secrets.token_urlsafe(32), session.language, visit=session.visit)
        self._sessions[fresh.id] = fresh
        return fresh

    def visits(self) -> list[Any]:
        """The visits open on every screen of the app (``Session.visit``): a patient erased meanwhile
        would be recorded again by the next eye."""
        return [kept.visit for kept in self._sessions.values() if kept.visit is not None]

    def end(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
