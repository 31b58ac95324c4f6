"""``edgescreen app`` whose records cannot be opened (the key file gone, here) serves a page saying the
device cannot screen, in the device's language and the other, instead of exiting: the kiosk waited
for ever on an address that never answered, the reason in the journal only."""

from __future__ import annotations

import html
import os
import re
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from firmware_app.config import LANGUAGES
from firmware_app.messages import message, sentence
from firmware_app.records.presence import RECORDS_GONE_EXIT
from firmware_app.web.out_of_service import RECHECK_S
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import free_port
from tests.records.kit import open_store, record_one, small_photo, write_config
from tests.service.notify_socket import NotifySocket
from tests.web.conftest import answer_status, app_process, snap, switch_to, unscrolled


def test_records_that_cannot_be_opened_give_the_kiosk_a_page_saying_so_in_both_languages(tmp_path, retina_rgb, page):
    port = free_port()
    config = write_config(tmp_path, 1, f"[app]\nport = {port}\n")
    config.write_text(config.read_text().replace("[device]\n", '[device]\nlanguage = "fr"\n', 1))
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb))
    store.records.close()
    (tmp_path / "records.key").unlink()
    app = app_process(config, port)  # on main: exit 5, and nothing answered
    url = f"http://127.0.0.1:{port}/"
    try:
        assert answer_status(url + "signin") == 503
        page.goto(url)
        for language, words in (
            ("fr", "Cet appareil ne peut pas dépister"),
            ("en", "This device cannot screen now"),
        ):
            switch_to(page, language)
            said = page.locator("[data-test=out-of-service]").inner_text()
            assert words in said and "records.key" in page.locator("[data-test=problem]").inner_text()
            assert unscrolled(page)
            assert page.title() == "EdgeScreen" and page.locator("link[rel=stylesheet]").count() == 1
            snap(page, "out-of-service")
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 5
    # Said to the technician in the device's language, as doctor says it (on main: English, and the
    # records' own words, which stay the log line's and the page's).
    said = [line for line in app.stderr.read().splitlines() if line.startswith("edgescreen: ")]
    assert said == [
        f"edgescreen: {message('health.records.unusable', 'fr')}",
        f"edgescreen: {sentence('app.out_of_service', 'fr', address=url)}",
    ]


def test_records_gone_while_their_key_is_there_stop_the_app_and_none_are_made(tmp_path, page):
    """A records drive not mounted at the app's start: on main the app made new, empty records in the
    empty mount point (the key was there, so their check passed), and the Ready list was green, while
    the screenings recorded were out of view and those to come would be hidden once the drive came
    back. Now the kiosk shows the out-of-service page, the technician's line asks whether the drive is
    mounted, and nothing is made."""
    port = free_port()
    config = write_config(tmp_path, 1, f"[app]\nport = {port}\n")
    config.write_text(config.read_text().replace("[device]\n", '[device]\nlanguage = "fr"\n', 1))
    open_store(tmp_path).records.close()
    for made in tmp_path.glob("records.sqlite3*"):
        made.unlink()
    before = sorted(path.name for path in tmp_path.iterdir())
    app = app_process(config, port)
    url = f"http://127.0.0.1:{port}/"
    try:
        page.goto(url)
        for language in ("fr", "en"):
            switch_to(page, language)
            said = page.locator("[data-test=out-of-service]").inner_text()
            assert message("service.out.records", language) in said
            assert "is the records drive mounted?" in page.locator("[data-test=problem]").inner_text()
            assert unscrolled(page)
            snap(page, "out-of-service-records-gone")
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 0  # a Ctrl-C while waiting, as the working app's (on main 5: records unusable)
    values = {"path": str(tmp_path / "records.sqlite3"), "key_file": str(tmp_path / "records.key")}
    said = [line for line in app.stderr.read().splitlines() if line.startswith("edgescreen: ")]
    assert said[0] == f"edgescreen: {sentence('refused.records_missing', 'fr', **values)}"
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_the_app_out_of_service_for_records_gone_is_ready_and_pinged_while_it_waits_for_them(tmp_path):
    """Withheld READY, the page was killed by systemd at TimeoutStartSec= (3 minutes) and the app
    restarted to say it all again in the journal, every 3 minutes for as long as the drive stayed
    unmounted, the kiosk blank meanwhile. A restart cannot bring records on a drive back: the app is
    ready, saying what it waits for, and pings its watchdog at each look for them."""
    port = free_port()
    config = write_config(tmp_path, 1, f"[app]\nport = {port}\n")
    open_store(tmp_path).records.close()
    for made in tmp_path.glob("records.sqlite3*"):
        made.unlink()
    notify = NotifySocket(tmp_path)
    app = app_process(config, port, {**os.environ, **notify.environment(watchdog_s=60)})
    try:
        ready = notify.wait_for("READY=1", 30)[-1]
        assert "STATUS=out of service, waiting for the records: " in ready and "drive mounted?" in ready
        assert notify.receive(3 * RECHECK_S).count("WATCHDOG=1") >= 2
        assert answer_status(f"http://127.0.0.1:{port}/") == 503
    finally:
        app.send_signal(signal.SIGTERM)  # systemctl stop: ended by it, as the working app, which systemd counts clean
        assert app.wait(30) == -signal.SIGTERM
        notify.close()


def test_the_app_out_of_service_for_records_gone_ends_once_their_drive_is_mounted(tmp_path):
    """A records drive mounted after the app started: its out-of-service page served on until systemd
    gave up waiting for READY (TimeoutStartSec, 3 minutes) or someone restarted it. Now the page ends
    by itself within seconds of the records being back, with a status systemd restarts on (the unit's
    Restart=always), and the app started again serves the nurse's screens on those records."""
    port = free_port()
    config = write_config(tmp_path, 1, f"[app]\nport = {port}\n")
    open_store(tmp_path).records.close()
    unmounted = tmp_path / "on-the-drive"
    unmounted.mkdir()
    records = [path for path in tmp_path.glob("records.sqlite3*") if path.is_file()]
    for path in records:
        path.rename(unmounted / path.name)
    url = f"http://127.0.0.1:{port}/"
    app = app_process(config, port)
    try:
        assert answer_status(url) == 503
        for path in records:  # the drive mounted: the records at their path again
            (unmounted / path.name).rename(path)
        assert app.wait(RECHECK_S + 30) == RECORDS_GONE_EXIT
    finally:
        app.kill()
    assert "records.back" in app.stderr.read()
    restarted = app_process(config, port)  # as systemd does
    try:
        assert answer_status(url + "signin") == 200
    finally:
        restarted.send_signal(signal.SIGINT)
        restarted.wait(30)


def _head_lines(template: str) -> set[str]:
    """The HTML lines of a template's <head>, Jinja tags (an include, a comment) left out."""
    text = (PROJECT_ROOT / "firmware_app" / "web" / "templates" / template).read_text()
    head = re.search(r"<head>(.*?)</head>", text, re.S)
    assert head is not None, template
    return {line.strip() for line in head.group(1).splitlines() if line.strip() and not line.strip().startswith("{")}


def test_the_out_of_service_page_shares_the_head_of_the_nurses_pages_instead_of_a_copy():
    # On main out_of_service.html repeated base.html's charset, viewport, title and stylesheet lines:
    # a change to one (a new stylesheet, say) would have left the other behind.
    assert _head_lines("out_of_service.html") & _head_lines("base.html") == set()


def test_a_config_that_does_not_load_gives_the_kiosk_a_page_saying_so(tmp_path, page):
    """On main `edgescreen app` exited 2 at once: under systemd it was restarted every 5 s, and the kiosk,
    waiting on the app's address, showed nothing. Now the page is served on the embedded defaults'
    address (--port still chosen), published to the kiosk, until stopped; then exit status 2."""
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text('[camera]\nbackend = "picamera3"\n')
    runtime = tmp_path / "run"
    runtime.mkdir()
    app = app_process(config, port, env={**os.environ, "RUNTIME_DIRECTORY": str(runtime)})
    url = f"http://127.0.0.1:{port}/"
    try:
        assert (runtime / "app-url").read_text() == f"{url}\n"
        for language, words in (("en", "Its settings cannot be read"), ("fr", "Ses réglages ne peuvent pas être lus")):
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(f"{url}signin?lang={language}", timeout=10)
            assert answer.value.code == 503
            said = html.unescape(answer.value.read().decode())
            assert words in said and "picamera3" in said and str(config) in said
            page.goto(f"{url}?lang={language}")
            assert unscrolled(page)
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 2
    stderr = app.stderr.read() if app.stderr else ""
    assert "configuration error" in stderr and f"serving the out-of-service page on {url}" in stderr
    assert "hors service" not in stderr  # the file says no language: the embedded default's alone


def test_a_closed_terminal_ends_the_out_of_service_page_as_sigterm_does(tmp_path):
    """The out-of-service page, served from a terminal, was killed by the terminal's SIGHUP (status
    -SIGHUP) where SIGTERM shuts its server down: it now stops as SIGTERM stops it, the same status."""
    config = tmp_path / "config.toml"
    config.write_text('[camera]\nbackend = "picamera3"\n')
    statuses = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        app = app_process(config, free_port())
        try:
            app.send_signal(signum)
            statuses.append(app.wait(30))
        finally:
            app.kill()
        assert "Traceback" not in app.stderr.read()
    assert statuses == [-signal.SIGTERM, -signal.SIGTERM]


def _said_in(page) -> list[tuple[str | None, str]]:
    """The out-of-service page's sayings: (language, text) in the order shown."""
    said = page.locator("[data-test=said-in]")
    return [(said.nth(i).get_attribute("lang"), said.nth(i).inner_text()) for i in range(said.count())]


def _problem_under_its_heading(page, config: Path, heading: str) -> None:
    """The technician's words on lines of their own under a heading: they ran on after "For the
    technician: / Pour le technicien :", whose "/" read as one more of the path's."""
    said, over = page.locator("[data-test=problem-said]"), page.locator("[data-test=problem-for]")
    assert over.inner_text() == heading and said.inner_text().startswith(str(config))
    box = over.bounding_box()
    assert box is not None and box["y"] + box["height"] <= said.bounding_box()["y"]


def test_a_config_error_is_on_the_kiosk_in_the_language_the_file_still_says_else_in_both(tmp_path, page):
    """The device's language is in the file that failed to load: the page was in English, the embedded
    default's, whatever it said. A file that still says it (TOML, a value wrong) gives the page in
    that language; one that does not (not TOML) in English then French, with no switch: ``?lang=``
    still chooses one."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    config = tmp_path / "config.toml"
    config.write_text('[device]\nlanguage = "fr"\n[camera\n')  # on main: English alone
    app = app_process(config, port)
    try:
        page.goto(url)
        (english, in_english), (french, in_french) = _said_in(page)
        assert (english, french) == ("en", "fr")
        assert "This device cannot screen now" in in_english and "Cet appareil ne peut pas dépister" in in_french
        assert page.locator("[data-test=language]").count() == 0
        assert str(config) in page.locator("[data-test=problem]").inner_text()
        assert unscrolled(page)
        _problem_under_its_heading(page, config, f"For the technician · {message('service.out.problem', 'fr')}")
        snap(page, "out-of-service-config-both")
        page.goto(f"{url}?lang=fr")
        assert [language for language, _ in _said_in(page)] == ["fr"] and unscrolled(page)
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 2
    served = [line for line in app.stderr.read().splitlines() if line.startswith("edgescreen: ") and url in line]
    assert served == [f"edgescreen: {sentence('app.out_of_service', language, address=url)}" for language in LANGUAGES]
    config.write_text('[device]\nlanguage = "fr"\n[camera]\nbackend = "picamera3"\n')
    app = app_process(config, port)
    try:
        page.goto(url)
        [(language, text)] = _said_in(page)
        assert language == page.locator("html").get_attribute("lang") == "fr" and "Ses réglages" in text
        assert "picamera3" in page.locator("[data-test=problem]").inner_text() and unscrolled(page)
        _problem_under_its_heading(page, config, "Pour le technicien (en anglais)")
        snap(page, "out-of-service-config")
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 2


def test_the_out_of_service_page_gives_the_kiosk_the_working_app_back_once_the_app_answers(tmp_path, page):
    """On main the page never reloaded itself: with the cause fixed and the service restarted, the kiosk
    kept the old page until someone tapped the screen. It asks the app every 30 s, and reloads once it
    answers: while nothing listens (the service restarting) it stays, as a reload would leave Chromium's
    error page, which nothing reloads. Chromium's clock is Playwright's here: the 30 s pass at once."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    config = tmp_path / "config.toml"
    config.write_text('[camera]\nbackend = "picamera3"\n')
    broken = app_process(config, port)
    try:
        page.clock.install()
        page.goto(url)
        assert page.locator("[data-test=out-of-service]").is_visible()
    finally:
        broken.send_signal(signal.SIGINT)
        assert broken.wait(30) == 2
    page.clock.run_for(30_000)
    refused = page.evaluate("fetch(location.href).then(() => 'answered', () => 'refused')")
    page.wait_for_timeout(500)  # the page's own ask, made before this one, has failed too
    assert refused == "refused" and page.url == url
    assert page.locator("[data-test=out-of-service]").is_visible()
    write_config(tmp_path, 1)  # the technician mends the config; systemd starts the app again
    working = app_process(config, port)
    try:
        with page.expect_navigation():
            page.clock.run_for(30_000)
        assert page.url == f"{url}setup"  # the working app: a fresh device's first operator
        assert page.locator("[data-test=out-of-service]").count() == 0
    finally:
        working.send_signal(signal.SIGINT)
        assert working.wait(30) == 0
