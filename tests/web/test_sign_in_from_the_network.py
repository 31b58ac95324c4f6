"""Sign-in from a tablet on the LAN (``[app] bind`` opened to the network): no names listed, one
answer for every refusal, and wrong PINs that lock sign-in from the network only.

The app tells the device's own screen by the connection's loopback address (``server.on_the_device``).
The tests bind the app to every interface and reach it twice: at 127.0.0.1, as the kiosk does, and at
this machine's own network address, as a tablet does, so the app sees a real non-loopback peer. A
second loopback address (127.0.0.2) would not do: it is loopback, the device's own screen, by the
very rule under test.
"""

from __future__ import annotations

import asyncio
import functools
import html
import itertools
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import httpx2
import pytest

from firmware_app import operators
from firmware_app.operators import Operators
from firmware_app.web import pages_session
from firmware_app.web.device import Device
from firmware_app.web.pages_session import REMOTE_REFUSAL_S
from firmware_app.web.sign_in_limit import ATTEMPTS, WINDOW_S, SignInLimit
from tests.conftest import PROJECT_ROOT
from tests.web.conftest import (
    AUDIT,
    OPERATOR,
    PIN,
    RunningApp,
    add_operator,
    csrf_header,
    enter_pin,
    network_address,
    sign_in,
    snap,
    start_app,
    switch_to,
    type_on_keypad,
    unscrolled,
)
from tests.web.test_sign_in_limit import Clock

REFUSED = {
    "en": "Wrong name or PIN, or too many wrong PINs from the network: try again later, or sign in on the "
    "device's own screen.",
    "fr": "Nom ou code incorrect, ou trop de codes incorrects depuis le réseau\u00a0: réessayez plus tard, ou "
    "connectez-vous sur l'écran de l'appareil lui-même.",
}

# At a locked screen, where the name is fixed and only the PIN is typed.
REFUSED_PIN = {
    "en": "Wrong PIN, or too many wrong PINs from the network: try again later, or sign in on the device's own screen.",
    "fr": "Code incorrect, ou trop de codes incorrects depuis le réseau\u00a0: réessayez plus tard, ou "
    "connectez-vous sur l'écran de l'appareil lui-même.",
}

# The refusal of a client past the limit on attempts from one address (``web/sign_in_limit``), a
# minute into its window: nine minutes left.
LIMITED = {
    "en": "Too many sign-in attempts from this tablet or browser: try again in 9\u00a0minutes, or sign in on "
    "the device's own screen.",
    "fr": "Trop de tentatives de connexion depuis cette tablette ou ce navigateur\u00a0: réessayez dans "
    "9\u00a0minutes, ou connectez-vous sur l'écran de l'appareil lui-même.",
}


@pytest.fixture()
def lan_app(tmp_path, retina_jpeg) -> Iterator[RunningApp]:
    """The app opened to the network for a tablet, with two operators."""
    running = start_app(tmp_path, app='bind = "0.0.0.0"\n')
    app = next(running)
    app.show(retina_jpeg)
    add_operator(app, "Bruno", "1357")
    yield app
    next(running, None)


@pytest.fixture()
def quick_lock_lan_app(tmp_path) -> Iterator[RunningApp]:
    """The app opened to the network, its screens locked after 5 s without use (the least allowed)."""
    running = start_app(tmp_path, app='bind = "0.0.0.0"\nlock_after_s = 5\n')
    yield next(running)
    next(running, None)


@pytest.fixture()
def limit_clock(monkeypatch) -> Clock:
    """The clock of the app's limit on sign-in attempts from one address, which the test moves: set
    before the app starts (``limited_lan_app``), which makes its limit then."""
    clock = Clock()
    monkeypatch.setattr(pages_session, "SignInLimit", functools.partial(SignInLimit, clock))
    return clock


@pytest.fixture()
def limited_lan_app(tmp_path, limit_clock) -> Iterator[RunningApp]:
    """The app opened to the network, its limit on sign-in attempts read from ``limit_clock``."""
    running = start_app(tmp_path, app='bind = "0.0.0.0"\n')
    yield next(running)
    next(running, None)


@pytest.fixture()
def hashes(monkeypatch) -> list[str]:
    """Each PIN the app hashes, counted around the real scrypt (``operators._hash_pin``)."""
    hashed: list[str] = []
    real = operators._hash_pin

    def counted(pin: str, salt: bytes) -> bytes:
        hashed.append(pin)
        return real(pin, salt)

    monkeypatch.setattr(operators, "_hash_pin", counted)
    return hashed


class RefusalClock:
    """The clock and the sleep that time the app's refusals from the network (``pages_session.routes``),
    moved only by the work the test says each PIN's hash takes and by the sleep the app asks for: how
    long a refusal's answer is kept back, seen on a machine of any speed and load."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.work = itertools.cycle([0.05, 0.4, 0.2, 0.7])  # a hash's time, uneven as a busy device's

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture()
def refusal_clock(monkeypatch) -> RefusalClock:
    """Set before the app starts (``lan_app`` after it in the test's arguments), which makes its routes
    then; each PIN the app hashes, by the real scrypt, moves the clock by its share of ``work``."""
    clock = RefusalClock()
    monkeypatch.setattr(
        pages_session, "routes", functools.partial(pages_session.routes, clock=clock, sleep=clock.sleep)
    )
    real = operators._hash_pin

    def hashed(pin: str, salt: bytes) -> bytes:
        clock.now += next(clock.work)
        return real(pin, salt)

    monkeypatch.setattr(operators, "_hash_pin", hashed)
    return clock


def from_the_network(app: RunningApp) -> str:
    """The app's address as a tablet on the LAN reaches it."""
    return app.url.replace("127.0.0.1", network_address())


def sign_in_from(page, url: str, name: str, pin: str) -> None:
    """Sign in as on a tablet: the name typed, then the PIN."""
    page.goto(f"{url}/signin")
    page.locator("#operator").fill(name)
    enter_pin(page, pin)
    page.wait_for_load_state()


def posted(page, url: str, form: dict[str, str], clock: RefusalClock | None = None) -> tuple[int, str, float]:
    """A sign-in posted in the page's session: its status, its refusal and the seconds ``clock`` moved
    while it was answered (the hash's work and the app's padding; 0 without one)."""
    started = clock() if clock else 0.0
    answer = page.request.post(f"{url}/signin", form=form, headers=csrf_header(page))
    refusal = re.search(r'data-test="signin-error">([^<]*)<', answer.text())
    return answer.status, html.unescape(refusal.group(1)) if refusal else "", (clock() - started if clock else 0.0)


def csrf(client: httpx2.Client) -> str:
    """The CSRF token of the session the sign-in page opens for ``client``."""
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)


def guess(client: httpx2.Client, token: str) -> int:
    """A sign-in with a name that does not exist, as a guesser sends it: the status it gets."""
    return client.post("/signin", data={"csrf": token, "operator": "Nobody", "pin": "0000"}).status_code


def use_up_attempts(app: RunningApp) -> None:
    """Every sign-in attempt the limit allows one address, from the network's, all at once (each
    refusal takes a second: ``pages_session.REMOTE_REFUSAL_S``)."""
    with httpx2.Client(base_url=from_the_network(app), timeout=60) as client:
        token = csrf(client)
        with ThreadPoolExecutor(ATTEMPTS) as guessers:
            assert list(guessers.map(guess, [client] * ATTEMPTS, [token] * ATTEMPTS)) == [401] * ATTEMPTS


def said(page) -> str:
    return page.locator("[data-test=signin-error]").inner_text()


def locks(app: RunningApp) -> tuple[int, str | None, int, str | None]:
    """Amina's counts of wrong PINs and locks: the device's, then the network's."""
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        query = "SELECT failed_pins, locked_until, remote_failed_pins, remote_locked_until FROM operator WHERE name = ?"
        return db.execute(query, (OPERATOR,)).fetchone()


def unlock(app: RunningApp) -> None:
    """``edgescreen operators unlock Amina``, as the technician runs it while the app runs."""
    command = [sys.executable, "-m", "firmware_app", "--config", app.config.source, "operators", "unlock", OPERATOR]
    subprocess.run(command, check=True, capture_output=True, cwd=PROJECT_ROOT, timeout=60)


def test_the_page_lists_no_names_to_the_network_and_every_name_at_the_device(page, lan_app):
    page.goto(f"{lan_app.url}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        assert page.locator("input[name=operator][type=radio]").count() == 2
        snap(page, "signin-on-the-device")
    page.goto(f"{from_the_network(lan_app)}/signin")
    for language, name in (("en", "Name"), ("fr", "Nom")):
        switch_to(page, language)
        assert OPERATOR not in page.content() and "Bruno" not in page.content()
        assert page.get_by_label(name, exact=True).get_attribute("type") is None  # a text field
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "signin-from-the-network")


def test_the_name_and_pin_fields_start_level_in_either_language(page, lan_app):
    """The labels differ in width ("Name" and "PIN", "Nom" and "Code"): each field started right of its
    own label, the PIN's 24 px left of the name's in English, 4 px right of it in French."""
    remote = from_the_network(lan_app)
    page.goto(f"{remote}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        sign_in_from(page, remote, "Nobody", "0000")  # the refusal comes between the two rows
        for shown in ("refused", "fresh"):
            name, pin = page.locator("#operator").bounding_box(), page.locator("#pin").bounding_box()
            assert name["x"] == pin["x"] and name["y"] < pin["y"], (language, shown, name, pin)
            assert unscrolled(page) and page.evaluate(AUDIT) == []
            snap(page, f"signin-from-the-network-{shown}-fields")
            page.goto(f"{remote}/signin")


def test_the_language_switch_keeps_the_name_typed_and_puts_it_in_no_address(page, lan_app):
    """The switch reloads the page: the name the nurse had typed on the tablet was gone. It goes with the
    switch's post and comes back once, from the session's memory, like the first-run form's name."""
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    page.goto(f"{from_the_network(lan_app)}/signin")
    page.locator("#operator").fill("Zoé Ba")
    type_on_keypad(page, "pin", "13")
    for language in ("fr", "en"):
        switch_to(page, language)
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("#operator").input_value() == "Zoé Ba"
        assert page.locator("#pin").input_value() == ""  # a secret is not kept for a reload
        snap(page, "signin-from-the-network-name-kept")
    assert not [address for address in addresses if "Zo" in unquote(address)], addresses
    page.reload()  # read once: a later load of the page comes empty
    assert page.locator("#operator").input_value() == ""


def test_a_refusal_from_the_network_reads_no_operator_list(page, lan_app, monkeypatch):
    """The network's page lists no name, yet each refusal from there read the list of operators, on the
    records thread the device's own screen waits on: a flood of guesses queued a read each. The device's
    screen alone reads it. (The real listing, counted as the app calls it.)"""
    reads: list[bool] = []
    listing = Operators.who_may_sign_in

    def counted(operators: Operators) -> tuple[list, bool]:
        reads.append(True)
        return listing(operators)

    monkeypatch.setattr(Operators, "who_may_sign_in", counted)
    remote = from_the_network(lan_app)
    page.goto(f"{remote}/signin")  # its load reads it: a fresh device is sent to its first-run screen
    reads.clear()
    for form, answer in (
        ({"operator": OPERATOR, "pin": "0000"}, (401, REFUSED["en"])),
        ({"operator": "Nobody", "pin": PIN}, (401, REFUSED["en"])),
        ({"operator": OPERATOR, "pin": ""}, (400, "Type your PIN first.")),
    ):
        assert posted(page, remote, form)[:2] == answer
    assert reads == []
    sign_in(page, lan_app, pin="0000")  # the device's own screen: its refusal lists the names to tap
    assert said(page) == "Wrong PIN: try again." and page.get_by_label("Bruno").count() == 1
    assert reads


def test_a_guesser_on_the_network_locks_it_out_and_the_device_still_signs_the_nurse_in(page, lan_app):
    remote = from_the_network(lan_app)
    for _ in range(5):
        sign_in_from(page, remote, OPERATOR, "0000")
        assert said(page) == REFUSED["en"]
    sign_in_from(page, remote, OPERATOR, PIN)  # the right PIN, from the network: refused like the rest
    assert said(page) == REFUSED["en"] and page.url.endswith("/signin")
    assert page.locator("#operator").input_value() == OPERATOR  # what she typed stays typed
    snap(page, "signin-from-the-network-refused")
    switch_to(page, "fr")
    sign_in_from(page, remote, OPERATOR, PIN)
    assert said(page) == REFUSED["fr"]
    snap(page, "signin-from-the-network-refused")
    failed, locked, remote_failed, remote_locked = locks(lan_app)
    assert (failed, locked, remote_failed) == (0, None, 5) and remote_locked is not None

    sign_in(page, lan_app)  # the device's own screen
    page.wait_for_url("**/ready")
    unlock(lan_app)
    sign_in_from(page, remote, OPERATOR, PIN)
    page.wait_for_url("**/ready")
    assert locks(lan_app) == (0, None, 0, None)


def test_wrong_pins_at_the_device_lock_the_network_too_until_unlocked(page, lan_app):
    for _ in range(5):
        sign_in(page, lan_app, pin="0000")
    assert said(page).startswith("Too many wrong PINs. Amina's account is locked")
    remote = from_the_network(lan_app)
    sign_in_from(page, remote, OPERATOR, PIN)
    assert said(page) == REFUSED["en"]
    assert locks(lan_app)[2:] == (0, None)  # refused by the device's lock, not by a count of its own
    unlock(lan_app)
    sign_in_from(page, remote, OPERATOR, PIN)
    page.wait_for_url("**/ready")
    sign_in(page, lan_app)
    page.wait_for_url("**/ready")


def test_a_name_that_does_not_exist_answers_as_a_wrong_pin_does_and_as_late(page, refusal_clock, lan_app):
    """Each refusal's answer is kept back until ``REMOTE_REFUSAL_S`` after it arrived, however long its
    hash took (``refusal_clock``): the time it answers at tells nothing of which names exist."""
    remote = from_the_network(lan_app)
    page.goto(f"{remote}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        sign_in_from(page, remote, "Nobody", PIN)
        assert said(page) == REFUSED[language]
        sign_in_from(page, remote, OPERATOR, "0000")
        assert said(page) == REFUSED[language]
    page.goto(f"{remote}/signin")
    answers: dict[str, list[tuple[int, str, float]]] = {"Nobody": [], OPERATOR: []}
    for _ in range(2):  # with the two wrong PINs above, four: no lock
        for name, pin in (("Nobody", PIN), (OPERATOR, "0000")):
            answers[name].append(posted(page, remote, {"operator": name, "pin": pin}, refusal_clock))
    for name, seen in answers.items():
        assert {(status, refusal) for status, refusal, _ in seen} == {(401, REFUSED["fr"])}, name
        assert [took for *_, took in seen] == pytest.approx([REMOTE_REFUSAL_S] * 2), seen


def test_a_tablets_idle_locked_screen_refuses_a_pin_as_a_pin_and_a_lock_as_a_wrong_pin(
    page, refusal_clock, quick_lock_lan_app
):
    """The locked screen fixes the name and asks the PIN only: it answered a wrong one "Wrong name or PIN",
    doubting the name on the screen. It now speaks of the PIN, in the same words for a lock, as late."""
    app = quick_lock_lan_app
    remote = from_the_network(app)
    sign_in_from(page, remote, OPERATOR, PIN)
    page.wait_for_url("**/ready")
    time.sleep(6)
    page.goto(f"{remote}/ready")
    page.wait_for_url("**/signin")
    assert "without use" in page.locator("form.signin").inner_text()  # locked by the idle timer
    for language in ("en", "fr"):
        switch_to(page, language)
        enter_pin(page, "0000")
        page.wait_for_load_state()
        assert said(page) == REFUSED_PIN[language]
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "locked-from-the-network-wrong-pin")
    answers = []
    for pin in ("0000", "0000", "0000", PIN):  # the fifth wrong PIN locks the network: the right one is refused
        answers.append(posted(page, remote, {"pin": pin}, refusal_clock))
    assert locks(app)[2] == 5 and locks(app)[3] is not None
    assert {(status, refusal) for status, refusal, _ in answers} == {(401, REFUSED_PIN["fr"])}, answers
    assert [took for *_, took in answers] == pytest.approx([REMOTE_REFUSAL_S] * 4), answers


def test_a_name_typed_in_another_case_unicode_form_or_spacing_signs_the_nurse_in_as_added(page, lan_app):
    """On a tablet the nurse types her name: "amina" for Amina, or a keyboard's decomposed "é", was
    refused with the sentence that tells nobody which names exist, so she could not tell why. The one
    operator the name can mean signs in, under the name she was added with."""
    add_operator(lan_app, "Zoé Ba", "1593")
    remote = from_the_network(lan_app)
    for typed, pin, added in (("amina", PIN, OPERATOR), ("zoe\u0301  BA", "1593", "Zoé Ba")):
        sign_in_from(page, remote, typed, pin)
        page.wait_for_url("**/ready")
        assert page.locator(".nav .operator").inner_text() == added
        page.context.clear_cookies()
    sign_in_from(page, remote, "AMINA", "0000")  # a wrong PIN so typed counts against Amina
    assert said(page) == REFUSED["en"] and locks(lan_app)[2] == 1


def test_a_flood_of_sign_ins_from_the_network_leaves_the_devices_screen_answering(lan_app, monkeypatch):
    """Every refusal from the network hashes the PIN on the app's one records thread, a name that does
    not exist included: 40 at once queued 40 hashes ahead of the device's own screen, which waited
    0.96 s for its sign-in page here. They now wait their turn among themselves (and from one address,
    as here, those past the limit on its attempts are refused before any hash). The flood's first hash
    is held until the kiosk's page has asked the records thread for its list, every one of the flood's
    sign-ins by then past the limit: the list is read next, ahead of the flood's other hashes."""
    flood = [httpx2.Client(base_url=from_the_network(lan_app), timeout=60) for _ in range(40)]
    kiosk = httpx2.Client(base_url=lan_app.url, timeout=60)
    tokens = [csrf(client) for client in flood]
    on_the_records_thread: list[str] = []
    hashing, all_past_the_limit, kiosk_asked = threading.Event(), threading.Event(), threading.Event()
    limited, real_wait, real_run, real_hash = [], SignInLimit.wait, Device.run, operators._hash_pin

    def counted_wait(limit: SignInLimit, address: str) -> float:
        limited.append(address)
        if len(limited) == len(flood):
            all_past_the_limit.set()
        return real_wait(limit, address)

    def held_hash(pin: str, salt: bytes) -> bytes:
        on_the_records_thread.append("hash")
        if not hashing.is_set():
            hashing.set()
            assert kiosk_asked.wait(60), "the kiosk's page never asked for its list"
        return real_hash(pin, salt)

    async def noted_run(device: Device, work: Callable[[], Any]) -> Any:
        if all_past_the_limit.is_set() and work == device.operators.who_may_sign_in:

            def listed() -> Any:
                on_the_records_thread.append("kiosk")
                return work()

            kiosk_asked.set()  # and queued on the records thread in this same step of the event loop
            return await real_run(device, listed)
        return await real_run(device, work)

    monkeypatch.setattr(SignInLimit, "wait", counted_wait)
    monkeypatch.setattr(operators, "_hash_pin", held_hash)
    monkeypatch.setattr(Device, "run", noted_run)
    with ThreadPoolExecutor(len(flood)) as guessers:
        refused = guessers.map(guess, flood, tokens)
        assert hashing.wait(60) and all_past_the_limit.wait(60)
        assert OPERATOR in kiosk.get("/signin").text
        assert sorted(refused) == [401] * ATTEMPTS + [429] * (len(flood) - ATTEMPTS)
    assert on_the_records_thread == ["hash", "kiosk"] + ["hash"] * (ATTEMPTS - 1)


def test_a_client_past_the_limit_is_refused_before_any_hash_whatever_name_it_types(
    page, limited_lan_app, limit_clock, hashes
):
    """Each sign-in from the network hashes its PIN before a lock on a name can refuse it: a client
    flooding them kept a core busy and slowed the device's screening. Past its address's limit it is
    refused at once, the right name and PIN included, with nothing hashed and the same answer whatever
    name it types (the limit tells nothing of names); the device's own screen still signs in."""
    app = limited_lan_app
    remote = from_the_network(app)
    use_up_attempts(app)
    assert len(hashes) == ATTEMPTS  # each attempt let through hashed its PIN
    limit_clock.now += 60
    page.goto(f"{remote}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        with page.expect_response(lambda answer: answer.request.method == "POST") as answer:
            sign_in_from(page, remote, OPERATOR, PIN)
        assert (answer.value.status, answer.value.headers["retry-after"]) == (429, str(WINDOW_S - 60))
        assert said(page) == LIMITED[language] and page.url.endswith("/signin")
        assert page.locator("#operator").input_value() == OPERATOR  # what she typed stays typed
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "signin-from-the-network-limited")
    for name, pin in (("Nobody", "0000"), (OPERATOR, PIN), ("", PIN)):
        status, refusal, _ = posted(page, remote, {"operator": name, "pin": pin})
        assert (status, refusal) == ((400, "Tapez d'abord votre nom.") if not name else (429, LIMITED["fr"]))
    assert len(hashes) == ATTEMPTS
    page.goto(f"{remote}/ready")
    page.wait_for_url("**/signin")  # not signed in
    sign_in(page, app)  # the device's own screen is not limited
    page.wait_for_url("**/ready")
    assert len(hashes) == ATTEMPTS + 1


def test_a_limited_client_signs_in_again_once_its_window_has_passed(page, limited_lan_app, limit_clock):
    remote = from_the_network(limited_lan_app)
    use_up_attempts(limited_lan_app)
    sign_in_from(page, remote, OPERATOR, PIN)
    assert said(page) == LIMITED["en"].replace("9", "10") and page.url.endswith("/signin")
    limit_clock.now += WINDOW_S
    sign_in_from(page, remote, OPERATOR, PIN)
    page.wait_for_url("**/ready")
