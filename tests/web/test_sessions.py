"""Sessions without a browser: idle lock, rotation, and forgetting what nobody uses."""

from __future__ import annotations

import time

from firmware_app.web import sessions
from firmware_app.web.sessions import Sessions


def test_an_idle_signed_in_session_locks_and_rotation_changes_id_and_token(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    store = Sessions(lock_after_s=60, language="fr")
    session = store.new()
    assert session.language == "fr" and not session.signed_in
    fresh = store.rotate(session)
    fresh.operator = "Amina"
    assert fresh.id != session.id and fresh.csrf != session.csrf and store.find(session.id) is None
    now[0] += 30
    assert store.find(fresh.id).signed_in
    now[0] += 61
    assert store.find(fresh.id).locked and not fresh.signed_in


def test_sessions_untouched_for_long_are_forgotten(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    store = Sessions(lock_after_s=60, language="en")
    old = store.new()
    now[0] += sessions.FORGET_AFTER_S + 1
    store.new()
    assert store.find(old.id) is None


def test_a_session_forgotten_is_told_with_its_visit_and_others_are_not(monkeypatch):
    """A session forgotten idle drops the visit it held: the app is told (``on_forget``) so it closes
    the visit at once, as a sign-out does; a session still kept is not told."""
    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    told = []
    store = Sessions(lock_after_s=60, language="en", on_forget=told.append)
    idle, kept = store.new(), store.new()
    idle.operator, idle.visit = "Amina", "the visit"
    now[0] += sessions.FORGET_AFTER_S - 1
    kept.last_active = now[0]
    now[0] += 2
    store.new()
    assert told == [idle] and store.find(kept.id) is kept


def test_a_session_idle_past_the_forget_time_is_forgotten_when_looked_up(monkeypatch):
    """Forgotten only when a new session was made, an idle session's cookie found it 13 hours later (no
    other screen made one), and its PIN resumed a visit long stale. Looked up, it is forgotten, and told."""
    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    told = []
    store = Sessions(lock_after_s=60, language="en", on_forget=told.append)
    idle = store.new()
    idle.operator, idle.visit = "Amina", "the visit"
    now[0] += sessions.FORGET_AFTER_S + 3600
    assert store.find(idle.id) is None and told == [idle] and len(store) == 0


def test_a_sign_in_screen_left_overnight_is_not_forgotten_when_looked_up(monkeypatch):
    """The kiosk's sign-in screen is made at sign-out and sits idle overnight: forgotten as its PIN is
    posted in the morning, the form's token was refused and the nurse read "signed out, look at Today"
    with nothing to look for. A session nobody signed in to holds no visit: looking it up keeps it."""
    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    told = []
    store = Sessions(lock_after_s=60, language="en", on_forget=told.append)
    screen = store.new(local=True)
    now[0] += sessions.FORGET_AFTER_S + 3600
    assert store.find(screen.id) is screen and told == []


def test_requests_without_a_cookie_keep_a_bounded_number_of_sessions():
    """Each cookie-less request makes a session (its CSRF token): a flood of them on a LAN-bound app
    keeps at most ``MAX_ANONYMOUS``, never the signed-in operator's, and the newest visitor's."""
    store = Sessions(lock_after_s=60, language="en")
    nurse = store.new()
    nurse.operator = "Amina"
    for _ in range(20_000):
        newest = store.new()
    assert len(store) == sessions.MAX_ANONYMOUS + 1  # the anonymous ones and the nurse's
    assert store.find(nurse.id) is nurse and store.find(newest.id) is newest


def test_a_network_flood_never_evicts_the_kiosks_sign_in_screen():
    """The kiosk's sign-in session is made at sign-out and idles overnight, the oldest by morning:
    20,000 cookie-less requests from the network (a scanner) must leave it, and its CSRF token, so
    the nurse's PIN is accepted and not answered "form expired"."""
    store = Sessions(lock_after_s=60, language="en")
    kiosk = store.new(local=True)
    for _ in range(20_000):
        store.new()
    assert store.find(kiosk.id) is kiosk and kiosk.csrf_ok(kiosk.csrf)
    assert len(store) == sessions.MAX_ANONYMOUS + 1  # the strangers' stay bounded
