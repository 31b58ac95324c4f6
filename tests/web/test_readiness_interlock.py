"""A red readiness check blocks screening on the server, not only by hiding "Start screening": the
nav bar, a typed address and a direct post all end on "Ready to screen?" and nothing is recorded.
The red state is a broken audit chain, made in the real records while the app runs."""

from __future__ import annotations

import os
import sqlite3

from firmware_app.calibration.profile import new_profile, write_profile
from firmware_app.config import DeviceConfig
from firmware_app.health import checks
from firmware_app.messages import message
from firmware_app.records import database
from tests.calibration.test_geometry import write_lens_profile
from tests.capture import fake_picamera2
from tests.conftest import read_only_view
from tests.health.lock_holding import holding_the_lock
from tests.mqtt_broker import wait_until
from tests.records import kit
from tests.records.kit import DEVICE, write_config
from tests.records.test_witness import lose_the_wal, loss_events, record
from tests.web.conftest import (
    AUDIT,
    RunningApp,
    csrf_header,
    new_patient,
    shoot,
    sign_in,
    snap,
    start_app,
    switch_to,
)

# How long a page may take before the test calls it hung: a hang guard, far beyond any page's time.
GUARD_MS = 60_000


def break_audit_chain(app: RunningApp) -> None:
    """Edit the first audit event, as a tamperer would: ``audit`` turns red."""
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET details = '{}' WHERE seq = 1")


def screenings(app: RunningApp) -> int:
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        return db.execute("SELECT count(*) FROM screening").fetchone()[0]


def test_a_red_check_leaves_no_way_round_it_to_a_new_patient(page, app):
    break_audit_chain(app)
    sign_in(page, app)
    page.wait_for_url("**/ready")
    assert page.locator("[data-test=check-audit]").get_attribute("data-level") == "red"
    assert page.locator("[data-test=blocked]").is_visible()
    assert page.locator("a[href='/patient']").count() == 0  # neither Start nor the nav bar's Patient
    snap(page, "ready-blocked-nav")
    page.goto(f"{app.url}/patient")  # typed, or a nav bar drawn before the check turned red
    assert page.url.endswith("/ready") and page.locator("[data-test=blocked]").is_visible()
    form = {"reference": "BYPASS-1", "eyes": "R", "consent": "yes"}
    posted = page.request.post(f"{app.url}/patient", form=form, headers=csrf_header(page), max_redirects=0)
    assert posted.status == 303 and posted.headers["location"] == "/ready"
    page.goto(f"{app.url}/capture")  # no visit was opened by the post
    assert page.url.endswith("/ready")
    assert screenings(app) == 0


def test_a_check_that_turns_red_during_a_visit_stops_the_photo_being_recorded(page, app):
    sign_in(page, app)
    new_patient(page, app, "R-1")
    page.wait_for_url("**/capture")
    shoot(page)
    break_audit_chain(app)
    ready = page.context.new_page()  # "Check again" runs every check at once
    ready.goto(f"{app.url}/ready")
    assert ready.locator("[data-test=check-audit]").get_attribute("data-level") == "red"
    ready.close()
    visit = page.locator("input[name=visit]").first.input_value()
    page.locator("[data-test=use]").click()  # an htmx post: the whole page goes to /ready
    page.wait_for_url("**/ready")
    assert page.locator("[data-test=blocked]").is_visible()
    form = {"visit": visit, "token": "any"}
    shot = page.request.post(f"{app.url}/capture/shoot", form=form, headers=csrf_header(page), max_redirects=0)
    assert shot.status == 303 and shot.headers["location"] == "/ready"
    page.goto(f"{app.url}/capture")
    assert page.url.endswith("/ready")
    assert screenings(app) == 0


def test_the_checks_opened_during_a_visit_lead_back_to_its_photo(page, app):
    """The checks opened with a photo waiting to be used (from the nav bar, or sent there by a red
    check that is then fixed): once they are green they lead back to the patient in progress, in
    the nurse's language, where they offered only a new patient, which dropped the photo unused."""
    sign_in(page, app)
    switch_to(page, "fr")
    new_patient(page, app, "R-9")
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("nav a[href='/ready']").click()
    page.get_by_text("Revérifier", exact=True).click()
    resume = page.locator("[data-test=resume]")
    assert resume.inner_text() == "Reprendre le patient en cours"
    assert page.locator("main a[href='/patient']").count() == 0  # a new patient would drop this one's photo
    snap(page, "ready-resume")
    resume.click()
    page.wait_for_url("**/check")
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").is_visible()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT eye FROM screening").fetchall() == [("R",)]
    page.locator("[data-test=finish]").click()  # the visit over: the checks start the next patient
    page.locator("[data-test=finish-yes]").click()
    page.wait_for_url("**/patient")  # posted with htmx: the patient screen loads once it is answered
    page.goto(f"{app.url}/ready")
    assert page.locator("[data-test=resume]").count() == 0 and page.locator("main a[href='/patient']").count() == 1


def test_french_nurse_reads_why_screening_is_blocked(page, app):
    break_audit_chain(app)
    sign_in(page, app)
    page.locator("[data-test=language]").click()
    page.goto(f"{app.url}/patient")
    assert page.url.endswith("/ready")
    assert "Le dépistage est bloqué" in page.locator("[data-test=blocked]").inner_text()


def full_runs(caplog) -> int:
    """How many times the app ran every readiness check (audit chain, quick_check, camera probe)."""
    return sum(record.getMessage().startswith("app.readiness_run") for record in caplog.records)


def test_the_steps_of_a_visit_never_run_the_full_checks(page, app, caplog, monkeypatch):
    """Aiming takes longer than the checks' freshness: with it at 0 every step would run them all
    again, the audit chain and a camera probe between the shutter and the burst."""
    monkeypatch.setattr("firmware_app.web.device.READINESS_FRESH_S", 0.0)
    caplog.set_level("INFO", logger="edgescreen")
    sign_in(page, app)
    new_patient(page, app, "R-1")
    page.wait_for_url("**/capture")
    assert full_runs(caplog) >= 1  # starting the patient ran them
    caplog.clear()
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    page.goto(f"{app.url}/capture")  # the second eye
    page.wait_for_url("**/capture")
    assert full_runs(caplog) == 0
    assert screenings(app) == 1


def test_an_old_event_edited_while_the_app_runs_blocks_the_next_patient_once_the_full_scans_see_it(
    page, app, caplog, monkeypatch
):
    """Starting a patient walks the audit only from the verified mark: an edit to event 1 after the
    full run of "Ready to screen?" is left to the full scans, which the app redoes in the background
    once they are due (hourly; at once here), and then blocks every start."""
    monkeypatch.setattr("firmware_app.web.device.READINESS_FRESH_S", 0.0)
    monkeypatch.setattr("firmware_app.health.readiness.FULL_SCAN_EVERY_S", 0.0)
    caplog.set_level("INFO", logger="edgescreen")
    sign_in(page, app)
    page.wait_for_url("**/ready")  # a full run: green, and the verified mark kept
    break_audit_chain(app)
    page.goto(f"{app.url}/patient")  # on the last full scans, which it has redone in the background
    assert page.url.endswith("/patient")
    seen = ("app.full_scans", "audit=red")
    wait_until(lambda: any(all(w in r.getMessage() for w in seen) for r in caplog.records), 30, "the full scans")
    page.goto(f"{app.url}/patient")
    assert page.url.endswith("/ready") and page.locator("[data-test=blocked]").is_visible()
    assert page.locator("[data-test=check-audit]").get_attribute("data-level") == "red"


def test_a_device_moved_to_another_site_by_its_config_blocks_screening_until_a_technician_acts(page, app):
    """Records made at one clinic, the config edited to another: results would go where no specialist
    reads them, and the old clinic's patients would be shown to the new one's nurses."""
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        db.execute("UPDATE meta SET value = 'old-clinic' WHERE key = 'site_id'")
        assert db.total_changes == 1
    sign_in(page, app)
    page.wait_for_url("**/ready")
    assert page.locator("[data-test=check-identity]").get_attribute("data-level") == "red"
    assert "old-clinic" in page.locator("[data-test=check-identity]").inner_text()
    assert page.locator("[data-test=blocked]").is_visible()
    snap(page, "ready-identity-moved")
    page.locator("[data-test=language]").click()
    assert page.locator("[data-test=check-identity]").get_attribute("data-level") == "red"
    snap(page, "ready-identity-moved")
    page.goto(f"{app.url}/patient")
    assert page.url.endswith("/ready") and screenings(app) == 0


def test_the_demos_ids_are_amber_on_the_ready_list_and_screening_goes_on(page, tmp_path, retina_jpeg, monkeypatch):
    """The Ready list showed the embedded ``demo-device`` / ``demo-site`` as fine: a device installed
    for a campaign with them files its results under another device's name at the station. Amber with
    the technician's words; never blocking, as the bundled demo screens on them."""
    monkeypatch.setattr(kit, "DEVICE", DeviceConfig())  # the embedded defaults' ids, as scripts/run has them
    running = start_app(tmp_path)
    app = next(running)
    app.show(retina_jpeg)
    try:
        sign_in(page, app)
        page.wait_for_url("**/ready")
        identity = page.locator("[data-test=check-identity]")
        for language, words in (("en", "set [device] id and site"), ("fr", "renseignez [device] id et site")):
            switch_to(page, language)
            assert identity.get_attribute("data-level") == "amber" and words in identity.inner_text()
            assert page.locator("[data-test=ready-ok]").is_visible()
            identity.scroll_into_view_if_needed()  # the line itself in the screenshot, below the first ten
            snap(page, "ready-demo-ids")
        new_patient(page, app, "DEMO-1", eyes=("R",))
        page.wait_for_url("**/capture")
    finally:
        next(running, None)


def test_records_the_app_sees_read_only_block_screening_and_say_so_in_both_languages(page, app):
    """The records read-only under the running app: every line of "Ready to screen?" was green,
    "Records healthy" too, and a patient could be started whose photos would not be recorded. The
    writable line is red, names the mount, and screening is blocked. The read-only bind mount over
    a writable disk here is what the service's sandbox (ProtectSystem=strict) makes of records
    outside its writable paths, and the line says that, not "mounted read-only": remounting the
    disk would mend nothing."""
    sign_in(page, app)
    page.wait_for_url("**/ready")
    with read_only_view(app.directory, app.directory):
        writable = page.locator("[data-test=check-writable]")
        for language, words in (("en", "the service's sandbox"), ("fr", "le bac à sable du service")):
            switch_to(page, language)
            page.goto(f"{app.url}/ready")  # "Check again": every check, run again
            assert writable.get_attribute("data-level") == "red" and words in writable.inner_text()
            assert str(app.directory) in writable.inner_text()
            assert page.locator("[data-test=check-records]").get_attribute("data-level") == "green"
            assert page.locator("[data-test=blocked]").is_visible()
            snap(page, "ready-sandbox")
        page.goto(f"{app.url}/patient")
        assert page.url.endswith("/ready") and screenings(app) == 0


def test_screenings_the_card_lost_block_screening_and_tell_the_nurse_who_may_need_screening_again(
    page, tmp_path, retina_jpeg
):
    """The reviewer's repro: committed screenings gone with the write-ahead log, the file whole, its
    audit chain intact, and the app said nothing. Now the list is red in both languages, screening is
    blocked (the card loses what it confirms, and the restore that mends it would lose whatever is
    screened meanwhile), and the loss is audited once however often the list is run."""
    record(tmp_path, 3)
    lose_the_wal(tmp_path, write_config(tmp_path, 1), 2)
    running = start_app(tmp_path)
    app = next(running)
    app.show(retina_jpeg)
    try:
        sign_in(page, app)
        page.wait_for_url("**/ready")
        check = page.locator("[data-test=check-committed]")
        for language, words in (
            ("en", "Saved screenings missing from the records: 2, taken after "),
            ("fr", "Dépistages enregistrés absents des dossiers\u00a0: 2, faits après le "),
        ):
            switch_to(page, language)
            page.goto(f"{app.url}/ready")  # "Check again": every check, run again
            assert check.get_attribute("data-level") == "red" and words in check.inner_text()
            assert page.locator("[data-test=check-audit]").get_attribute("data-level") == "green"
            assert page.locator("[data-test=blocked]").is_visible()
            snap(page, "ready-screenings-lost")
        page.goto(f"{app.url}/patient")
        assert page.url.endswith("/ready") and screenings(app) == 3
        assert [event["missing"] for event in loss_events(tmp_path)] == [2]
    finally:
        next(running, None)


def test_a_broken_profile_does_not_stop_the_app_and_a_mended_one_waits_for_a_restart(page, tmp_path, retina_jpeg):
    """A profile cut short used to stop the app at start ("Application startup failed"): under systemd
    a restart loop, and a blank screen where the readiness list should say why. Now the app starts,
    the list holds calibration red and blocks screening; a profile mended while the app runs is red
    too (the app would apply none while ``doctor`` named the file's) until the device is restarted."""
    profile = tmp_path / "profile.json"
    write_profile(new_profile("imx708", "SN-1", "tech", DEVICE.id), profile)
    profile.write_bytes(profile.read_bytes()[:120])  # a copy cut short
    running = start_app(tmp_path, extra=f'\n[calibration]\nprofile = "{profile}"\n')
    app = next(running)
    app.show(retina_jpeg)
    try:
        sign_in(page, app)
        page.wait_for_url("**/ready")
        check = page.locator("[data-test=check-calibration]")
        assert check.get_attribute("data-level") == "red" and "cannot be read" in check.inner_text()
        assert page.locator("[data-test=blocked]").is_visible()
        mended = write_profile(new_profile("imx708", "SN-1", "tech", DEVICE.id), profile)
        for language, words in (("en", "Restart the device"), ("fr", "Redémarrez l'appareil")):
            switch_to(page, language)
            page.goto(f"{app.url}/ready")
            assert check.get_attribute("data-level") == "red" and words in check.inner_text()
            assert mended.id in check.inner_text() and page.locator("[data-test=blocked]").is_visible()
            snap(page, "ready-calibration-changed")
        page.goto(f"{app.url}/patient")
        assert page.url.endswith("/ready") and screenings(app) == 0
    finally:
        next(running, None)


def test_another_devices_profile_blocks_screening_and_names_both_devices(page, tmp_path, retina_jpeg):
    """A profile copied from the unit next to it (cam-07) was applied without a word: its flat field,
    colours and lens are that unit's. Red, in both languages, until this device is calibrated."""
    profile = tmp_path / "profile.json"
    write_profile(new_profile("imx708", "SN-7", "tech", "cam-07"), profile)
    running = start_app(tmp_path, extra=f'\n[calibration]\nprofile = "{profile}"\n')
    app = next(running)
    app.show(retina_jpeg)
    try:
        sign_in(page, app)
        page.wait_for_url("**/ready")
        check = page.locator("[data-test=check-calibration]")
        for language, words in (("en", "made on device cam-07"), ("fr", "établi sur l'appareil cam-07")):
            switch_to(page, language)
            assert check.get_attribute("data-level") == "red" and words in check.inner_text()
            assert DEVICE.id in check.inner_text() and page.locator("[data-test=blocked]").is_visible()
            snap(page, "ready-calibration-other-device")
        page.goto(f"{app.url}/patient")
        assert page.url.endswith("/ready") and screenings(app) == 0
    finally:
        next(running, None)


def test_a_still_the_calibration_profile_does_not_fit_says_the_camera_is_set_up_wrong(
    page, tmp_path, monkeypatch, retina_rgb
):
    """The preview fits the lens step (640x480, 4:3), the stills asked for do not (480x480): the
    nurse read "Something went wrong (ProfileError)" at the shutter; now that the camera is not set
    up right (and the log says why)."""
    fake_picamera2.install(monkeypatch, retina_rgb)
    profile = tmp_path / "lens.json"
    write_lens_profile(profile)
    camera = 'backend = "picamera2"\npreview_width = 640\npreview_height = 480\nstill_width = 480\nstill_height = 480\n'
    running = start_app(tmp_path, extra=f'\n[calibration]\nprofile = "{profile}"\n', sections={"camera": camera})
    app = next(running)
    try:
        sign_in(page, app)
        new_patient(page, app, "R-1")
        page.wait_for_url("**/capture")
        shutter = page.locator("[data-test=shutter]")
        page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
        shutter.click()
        page.wait_for_selector("text=The camera is not set up right", timeout=30_000)
        snap(page, "capture-profile-misfit")
        assert "ProfileError" not in page.content() and screenings(app) == 0
    finally:
        next(running, None)


def test_a_lock_another_program_holds_past_a_busy_timeout_blocks_screening_naming_it(
    page, tmp_path, retina_jpeg, monkeypatch
):
    """Another program holding the records' write lock past a busy timeout: every screening would
    fail on it, and the watchdog restarted the app every minute instead, taking this screen away.
    The app stays; its watchdog, which times the lock, finds the holder, and "Ready to screen?" names
    it in the nurse's language, red, and blocks screening, without waiting on the lock itself; the
    holder gone, the line is green at the next "Check again". A real second process, real SQLite,
    the app's real watchdog thread (a check every 50 ms, the probe waiting 0.2 s for the lock)."""
    monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", 0.2)
    # The app's own connections wait for the lock longer than a page's hang guard (``GUARD_MS``): a
    # list that waited on the lock would not be shown while it is held.
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 120.0)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    running = start_app(tmp_path)
    app = next(running)
    app.show(retina_jpeg)
    try:
        sign_in(page, app)
        page.wait_for_url("**/ready")
        writable = page.locator("[data-test=check-writable]")
        with holding_the_lock(app.directory / "records.sqlite3") as holder:

            def named() -> bool:
                page.goto(f"{app.url}/ready")  # "Check again"
                return writable.get_attribute("data-level") == "red"

            wait_until(named, 10, "the writable line naming the lock's holder")
            for language, words in (("en", "backup-tool (process"), ("fr", "backup-tool (processus")):
                switch_to(page, language)
                page.goto(f"{app.url}/ready", timeout=GUARD_MS)  # shown while the lock is held: it waits on nobody's
                assert writable.get_attribute("data-level") == "red"
                assert f"{words} {holder.pid})" in writable.inner_text()
                assert page.locator("[data-test=blocked]").is_visible()
                snap(page, "ready-locked-by")
        page.goto(f"{app.url}/ready")
        assert writable.get_attribute("data-level") == "green"
        assert page.locator("[data-test=blocked]").count() == 0
    finally:
        next(running, None)


def test_a_red_that_clears_by_itself_leaves_the_nurse_a_way_back_to_new_patient(page, app, retina_jpeg):
    """The nav follows the last run of the checks, however old: a camera unplugged, then plugged back,
    left Today and Records without New patient, and nothing on them said why or what to do. In its
    place the nav says screening is blocked, in the nurse's language, and leads to the checks, which
    run again: green, New patient is back, without a restart. The red is the real camera's: the files
    camera with no photo to replay."""
    sign_in(page, app)
    page.wait_for_url("**/ready")
    app.show()  # no photo: the camera unplugged
    page.goto(f"{app.url}/ready")  # "Check again"
    assert page.locator("[data-test=check-camera]").get_attribute("data-level") == "red"
    blocked = page.locator("[data-test=nav-blocked]")
    for language, words in (("en", "Blocked: check again"), ("fr", "Bloqué\u00a0: revérifier")):
        page.goto(f"{app.url}/ready")
        switch_to(page, language)
        # One name for the action: the nav's, the Ready page's button and the red camera line that says to
        # tap it (the French page's button read "Vérifier à nouveau" beside the nav's "revérifier").
        recheck = page.locator("[data-test=recheck]").inner_text()
        assert words.endswith(recheck[0].lower() + recheck[1:]), (words, recheck)
        assert recheck in message("health.camera.lost", language)
        page.goto(f"{app.url}/today")
        assert blocked.inner_text() == words and page.locator("nav a[href='/patient']").count() == 0
        assert page.evaluate(AUDIT) == []  # a 48 px target, its words legible on the red
        name = page.locator("nav .operator")
        assert name.evaluate("e => e.scrollWidth <= e.clientWidth")  # the nurse's name not cut for it
        snap(page, "today-nav-blocked")
    app.show(retina_jpeg)  # plugged back: nothing has run the checks since
    page.goto(f"{app.url}/records")
    blocked.click()
    page.wait_for_url("**/ready")
    assert page.locator("[data-test=check-camera]").get_attribute("data-level") == "green"
    assert blocked.count() == 0
    page.locator("nav a[href='/patient']").click()
    page.wait_for_url("**/patient")
    assert page.locator("input[name=reference]").count() == 1
