"""``edgescreen screen --patient ...``, ``records``, ``erase`` and ``sync status`` as a technician runs them."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.cli import main
from firmware_app.messages import message, sentence
from firmware_app.records.database import SCHEMA_VERSION
from firmware_app.records.open_visits import visit_recorded, visit_started
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import Review, ScreeningContext
from firmware_app.wording import readable_date
from tests.conftest import PROJECT_ROOT, appearing_on_open, filled, other_copies
from tests.health.test_doctor import doctor
from tests.records.kit import (
    damage_a_sealed_value,
    flip_a_bit_on_the_card,
    in_language,
    open_store,
    record_one,
    sample_record,
    small_photo,
    undo_visit_keys,
    write_config,
)
from tests.test_cli import edgescreen, json_lines


def test_screen_records_the_context_encrypted_and_queues_an_anonymous_payload(tmp_path, retina_jpeg):
    config = write_config(tmp_path, port=1)
    run = edgescreen(
        "screen",
        "--json",
        "--patient",
        "MRN-20931",
        "--eye",
        "L",
        "--note",
        "Mme Léa Martin, diabetic 12 y",
        str(retina_jpeg),
        config=config,
    )
    assert run.returncode == 0, run.stderr
    (result,) = json_lines(run.stdout)
    assert len(result["result_id"]) == 32
    db = sqlite3.connect(tmp_path / "records.sqlite3")
    (payload,) = [json.loads(r[0]) for r in db.execute("SELECT payload FROM outbox")]
    assert payload["result_id"] == result["result_id"] and payload["eye"] == "L"
    assert payload["triage"] == result["triage"] and payload["score"] == result["score"]
    assert payload["model"]["sha256"] == result["model"]["sha256"]
    shown = json.loads(edgescreen("records", "show", result["result_id"], config=config).stdout)
    assert shown["patient_ref"] == "MRN-20931" and shown["note"].startswith("Mme Léa")
    assert shown["source"] == str(retina_jpeg)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sync_retry_photos_says_how_many_in_the_devices_language(tmp_path, retina_rgb, language):
    """On main "0 refused photo(s) queued again ..." whatever the language; French counts 0 as one."""
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb))
    store.records.close()
    retried = edgescreen("sync", "retry-photos", config=in_language(write_config(tmp_path, port=1), language))
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout == f"{sentence('sync.photos_retried', language, count=0)}\n"
    assert retried.stdout.startswith("0 photo refusée remise" if language == "fr" else "0 refused photos queued")


def test_screen_refuses_an_eye_for_dermoscopy(tmp_path, retina_jpeg):
    run = edgescreen(
        "screen", "--modality", "dermoscopy", "--eye", "L", str(retina_jpeg), config=write_config(tmp_path, 1)
    )
    assert run.returncode == 2 and "--body-site, not --eye" in run.stderr


def test_screen_is_refused_with_the_nurse_message_when_the_disk_reserve_is_reached(tmp_path, retina_jpeg):
    config = write_config(tmp_path, port=1)
    config.write_text(config.read_text().replace("disk_reserve_mb = 0", "disk_reserve_mb = 900000"))
    run = edgescreen("screen", str(retina_jpeg), config=config)
    assert run.returncode == 5
    assert "Storage is full: this screening was not recorded" in run.stderr
    # Logged as an error: `journalctl -p warning` shows why the service stopped.
    assert "ERROR screen.refused" in run.stderr


def test_a_result_queued_on_a_clock_ahead_has_no_age_and_the_backlog_does_not_read_as_fresh(tmp_path, retina_rgb):
    """Its negative age was shown as 0 ("just queued") and the doctor's backlog check said green, for a
    result that may have waited for days: what a wrong clock dated has no age that can be told."""
    config = write_config(tmp_path, port=1)
    ahead = datetime.now(UTC) + timedelta(days=2)  # fake-hwclock two days ahead; NTP set it right since
    store = open_store(tmp_path, clock=lambda: ahead, synchronised=False)
    record_one(store, small_photo(retina_rgb), sample_record(captured_at=ahead))
    store.records.close()
    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    assert (status["backlog"], status["oldest_unsent_age_s"], status["undated_unsent"]) == (1, None, 1)
    backlog = doctor(config)[1]["backlog"]
    assert backlog["level"] == "amber" and "how long they have waited cannot be told" in backlog["message"]


def _a_dead_pid() -> str:
    """The id of a process that has ended: a worker that is no longer running."""
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    return str(ended.pid)


# The worker's state as the records hold it (beside what ``set_connection`` writes), and how ``sync
# status`` says it: its catalogue key and values, each value a state said by its own key.
WORKER_STATES = {
    "never started": ({}, "sync.state.never_started", {}),
    "connected": ({"connection": "connected", "worker_pid": str(os.getpid())}, "sync.state.connected", {}),
    "not running": (
        {"connection": "connected", "worker_pid": _a_dead_pid()},
        "sync.state.not_running",
        {"state": "sync.state.connected"},
    ),
    "crash-looping": (
        {"connection": "starting", "worker_pid": str(os.getpid()), "crashes": "2", "last_crash": "{now}"},
        "sync.state.crash_looping",
        {"state": "sync.state.starting", "crashes": 2, "at": "{now}"},
    ),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("worker", list(WORKER_STATES))
def test_sync_status_says_the_workers_state_in_the_devices_language(tmp_path, worker, language):
    """A French technician read "crash-looping (2 unclean restarts in a row, ...)", "not running (last
    state: connected)", "never started" in ``sync status``: its states are said in the device's
    language now; ``--json`` keeps the English states that scripts and the readiness list read."""
    state, key, values = WORKER_STATES[worker]
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    now = store.records.clock().isoformat()
    with store.records.connection as connection:
        connection.executemany(
            "INSERT INTO sync_state (key, value) VALUES (?, ?)", [(k, v.format(now=now)) for k, v in state.items()]
        )
    store.records.close()

    def said(language: str, at: str) -> str:
        filled = {name: message(v, language) if name == "state" else v for name, v in values.items()}
        return sentence(key, language, **{name: str(v).format(now=at) for name, v in filled.items()})

    status = edgescreen("sync", "status", config=config)
    label = message("sync.field.connection", language)
    (shown,) = [line.split(None, 1)[1] for line in status.stdout.splitlines() if line.startswith(f"{label}  ")]
    # The last crash's date in words ("le 2026-12-07T16:58:03+00:00" read a French technician); --json's ISO.
    assert status.returncode == 0 and shown == said(language, readable_date(now, language)), status.stdout
    scripts = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["connection"]
    assert scripts == said("en", now)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sync_status_says_the_last_crash_in_the_devices_language(tmp_path, language):
    """A worker killed while connected: a French technician read "2026-12-07T16:58:03+00:00: ended
    without a clean stop (killed, out of memory, a power cut or the watchdog) while connected" in ``sync
    status``. Its date is in words and why it ended in the device's language, the state it was in said
    by its own key; ``--json`` keeps the English, and the ISO time scripts read."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    outbox = Outbox(store.records)
    outbox.set_connection("connected", "localhost:1883")
    with store.records.connection as connection:  # that worker was killed
        connection.execute("UPDATE sync_state SET value = ? WHERE key = 'worker_pid'", (_a_dead_pid(),))
    outbox.note_start()
    crashed_at = outbox.state()["last_crash"]
    store.records.close()

    status = edgescreen("sync", "status", config=config)
    label = message("sync.field.last_crash", language)
    (shown,) = [line[len(label) :].strip() for line in status.stdout.splitlines() if line.startswith(f"{label}  ")]
    killed = sentence("sync.crash.killed", language, state=message("sync.state.connected", language))
    assert shown == sentence("sync.crash.at", language, at=readable_date(crashed_at, language), why=killed)
    if language == "fr":
        assert "without" not in shown and "T" not in shown.split(" : ")[0], shown
    scripts = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["last_crash"]
    assert scripts == f"{crashed_at}: {sentence('sync.crash.killed', 'en', state='connected')}"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sync_status_labels_its_fields_in_the_devices_language(tmp_path, language):
    """A French technician read ``sync status``'s values in French beside labels in English ("backlog",
    "last failure", "what to do"): each label is said in the device's language now, from the catalogue
    ("sync.field.<key>", by the key ``--json`` keeps in English for scripts), its values in a column."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    with store.records.connection as connection:  # a failure, for the remedy's line ("what to do") too
        connection.execute("INSERT INTO sync_state (key, value) VALUES ('last_failure', 'timed_out')")
    store.records.close()

    status = edgescreen("sync", "status", config=config)
    keys = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    lines = status.stdout.splitlines()
    assert status.returncode == 0 and [line.split("  ", 1)[0].rstrip() for line in lines] == [
        message(f"sync.field.{key}", language) for key in keys
    ], status.stdout
    assert len({len(line) - len(line.split("  ", 1)[1].lstrip()) for line in lines}) == 1, status.stdout


def test_erase_export_and_sync_status(tmp_path, retina_rgb):
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    kept = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-1", eye="R")))
    record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-2", eye="R")))
    store.records.close()

    status = edgescreen("sync", "status", config=config)
    assert status.returncode == 0 and "backlog" in status.stdout and "never started" in status.stdout
    assert json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["backlog"] == 2

    exported = edgescreen("records", "export", kept.result_id, "--out", str(tmp_path / "out"), config=config)
    assert exported.returncode == 0
    assert (tmp_path / "out" / f"{kept.result_id}-0.jpg").read_bytes().startswith(b"\xff\xd8")

    mistyped = edgescreen("erase", "--patient", "mrn-22", config=config)
    assert mistyped.returncode == 2 and "no screening is recorded under the patient reference given" in mistyped.stderr
    assert "command.refused" in mistyped.stderr and "mrn-22" not in mistyped.stderr  # the log line names no patient
    erased = edgescreen("erase", "--patient", "mrn-2", config=config)
    assert erased.returncode == 0 and "erased 1 screening, 1 photo; 1 unsent result withdrawn." in erased.stdout
    again = edgescreen("erase", "--patient", "mrn-2", config=config)
    assert again.returncode == 2 and "erased already" in again.stderr
    assert json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["backlog"] == 1
    verify = edgescreen("audit", "verify", config=config)
    assert verify.returncode == 0, verify.stdout
    assert b"MRN-2" not in (tmp_path / "records.sqlite3").read_bytes()
    # The technician reads the erasures (their result ids, never the reference) without the raw database.
    listed = edgescreen("audit", "list", "--kind", "erasure", config=config)
    assert listed.returncode == 0 and listed.stdout.count("\terasure\t") == 3  # the two that matched nothing too
    assert "MRN" not in listed.stdout.upper() and '"results":1' in listed.stdout
    assert len(edgescreen("audit", "list", "--last", "3", config=config).stdout.splitlines()) == 3


def test_an_unknown_result_id_is_a_refused_request_not_unusable_records(tmp_path, retina_rgb):
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb))
    store.records.close()
    missing = edgescreen("records", "show", "f" * 32, config=config)
    # On main: exit status 5 and "ERROR records.unusable", as if the records were damaged.
    assert missing.returncode == 2, missing.stderr
    assert "edgescreen: no screening with result id 'ffffffffffffffffffffffffffffffff'" in missing.stderr
    assert "records.unusable" not in missing.stderr and "command.refused" in missing.stderr


def test_exported_images_are_private_to_the_user(tmp_path, retina_rgb):
    config = write_config(tmp_path, port=1)
    kept = record_one(open_store(tmp_path), small_photo(retina_rgb))
    out = tmp_path / "export" / "for-dr-x"
    assert edgescreen("records", "export", kept.result_id, "--out", str(out), config=config).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o700  # on main: 0755 and 0644
    assert stat.S_IMODE((out / f"{kept.result_id}-0.jpg").stat().st_mode) == 0o600


def one_result(directory, retina_rgb) -> str:
    store = open_store(directory)
    result_id = record_one(store, small_photo(retina_rgb)).result_id
    store.records.close()
    return result_id


def test_an_export_to_a_file_is_refused(tmp_path, retina_rgb):
    config, result_id = write_config(tmp_path, port=1), one_result(tmp_path, retina_rgb)
    (tmp_path / "afile").write_text("kept")
    run = edgescreen("records", "export", result_id, "--out", str(tmp_path / "afile"), config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr  # on main: NotADirectoryError
    assert f"{tmp_path / 'afile'}: is a file; --out names the folder" in run.stderr
    assert (tmp_path / "afile").read_text() == "kept"


def test_an_export_onto_a_full_drive_leaves_no_partial_image(tmp_path, tiny_filesystem, retina_rgb):
    config, result_id = write_config(tmp_path, port=1), one_result(tmp_path, retina_rgb)
    out = tiny_filesystem / "for-dr-x"
    out.mkdir()
    filled(tiny_filesystem)
    run = edgescreen("records", "export", result_id, "--out", str(out), config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr  # on main: OSError, ENOSPC
    assert f"{out / result_id}-0.jpg: the disk is full; free space on {out}" in run.stderr
    assert list(out.iterdir()) == []  # on main: a truncated JPEG of the patient


def test_an_export_never_follows_a_planted_link_nor_writes_over_a_file(tmp_path, retina_rgb):
    config, result_id = write_config(tmp_path, port=1), one_result(tmp_path, retina_rgb)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # a folder others write to
    victim = tmp_path / "victim.txt"
    victim.write_text("victim")
    (shared / f"{result_id}-0.jpg").symlink_to(victim)
    planted = edgescreen("records", "export", result_id, "--out", str(shared), config=config)
    assert planted.returncode == 2, planted.stderr
    assert f"{shared / result_id}-0.jpg: already exists (a file or a link); an export never" in planted.stderr
    assert victim.read_text() == "victim"  # on main: overwritten with the patient's photo

    (shared / f"{result_id}-0.jpg").unlink()
    assert edgescreen("records", "export", result_id, "--out", str(shared), config=config).returncode == 0
    again = edgescreen("records", "export", result_id, "--out", str(shared), config=config)
    assert again.returncode == 2 and "already exists" in again.stderr  # on main: written over


def test_a_non_utf8_file_name_is_screened_and_the_batch_goes_on(tmp_path, retina_jpeg):
    config = write_config(tmp_path, port=1)
    odd = os.fsdecode(bytes(tmp_path) + b"/caf\xe9-\xff.jpg")
    shutil.copy(other_copies(retina_jpeg, tmp_path, 1)[0], odd)  # another photo: the same is screened once
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "screen", "--json", odd, str(retina_jpeg)]
    run = subprocess.run([os.fsencode(part) for part in command], capture_output=True, cwd=PROJECT_ROOT, timeout=120)
    assert run.returncode == 0, run.stderr.decode(errors="replace")  # on main: a traceback, the second never screened
    first, second = json_lines(run.stdout.decode())
    assert first["triage"] in ("refer", "no_refer") and second["triage"] in ("refer", "no_refer")
    shown = json.loads(edgescreen("records", "show", first["result_id"], config=config).stdout)
    assert os.fsencode(shown["source"]) == os.fsencode(odd)


def test_a_patients_records_are_exported_whole_for_a_subject_access_request(tmp_path, retina_rgb):
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    left = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-1", eye="L", note="diabetic 12 y")))
    right = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-1", eye="R")))
    other = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-2", eye="R")))
    verdict = Review("rev-1", right.result_id, "refer", datetime.now(UTC), "dr-lopez", "See the clinic this week")
    assert store.add_review(verdict) == "stored"
    store.records.close()

    out = tmp_path / "for-the-patient"
    # A reference that matches nothing exports nothing, and says so (not an empty folder passed as done).
    missing = edgescreen("records", "export", "--patient", "MRN-9", "--out", str(out), config=config)
    assert missing.returncode != 0 and "no screening is recorded under that patient reference" in missing.stderr
    assert "MRN-9" not in missing.stderr and not out.exists()
    both = edgescreen("records", "export", left.result_id, "--patient", "MRN-1", "--out", str(out), config=config)
    assert both.returncode != 0 and "name one result id, or one patient" in both.stderr

    exported = edgescreen("records", "export", "--patient", "MRN-1", "--out", str(out), config=config)
    assert exported.returncode == 0, exported.stderr
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(
        [f"{left.result_id}.json", f"{left.result_id}-0.jpg", f"{right.result_id}.json", f"{right.result_id}-0.jpg"]
    )
    assert all(stat.S_IMODE((out / name).stat().st_mode) == 0o600 for name in names)
    records = {name: json.loads((out / name).read_text()) for name in names if name.endswith(".json")}
    assert records[f"{left.result_id}.json"]["note"] == "diabetic 12 y"
    assert {record["patient_ref"] for record in records.values()} == {"MRN-1"}
    [review] = records[f"{right.result_id}.json"]["reviews"]
    assert review["verdict"] == "refer" and review["comment"] == "See the clinic this week"
    assert other.result_id not in " ".join(names)
    # The copy for the patient leaves the referral on the nurse's call-back list: nobody at the clinic saw it.
    reopened = open_store(tmp_path)
    assert reopened.records.connection.execute("SELECT opened_at FROM review").fetchone()[0] is None


def test_an_erasure_names_the_results_the_station_may_hold_for_its_administrator(tmp_path, retina_rgb):
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    sent = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-5", eye="R")))
    unsent = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-5", eye="L")))
    outbox = Outbox(store.records)
    claimed = {row.result_id: row.seq for row in outbox.claim(0, 10)}
    assert outbox.mark_sent([claimed[sent.result_id]]) == 1
    outbox.release([claimed[unsent.result_id]])  # its send failed: back in the queue, never handed over
    store.records.close()
    erased = edgescreen("erase", "--patient", "MRN-5", config=config)
    assert erased.returncode == 0, erased.stderr
    assert "The review station may hold 1 of these results" in erased.stdout
    assert f"edgescreen-review results erase {sent.result_id}`" in erased.stdout
    assert unsent.result_id not in erased.stdout
    listed = edgescreen("audit", "list", "--kind", "erasure", config=config).stdout
    assert f'"results_at_the_station":["{sent.result_id}"]' in listed


@pytest.mark.parametrize("language", ["en", "fr"])
def test_erase_says_what_it_erased_and_left_in_the_devices_language(tmp_path, retina_rgb, language):
    """On main English whatever the language, with "screening(s)", "image(s)", "result(s)"."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    sent = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-5", eye="R")))
    record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-5", eye="L")))
    record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN 5", eye="L")))
    outbox = Outbox(store.records)
    claimed = {row.result_id: row.seq for row in outbox.claim(0, 10)}
    assert outbox.mark_sent([claimed[sent.result_id]]) == 1
    outbox.release([seq for result_id, seq in claimed.items() if result_id != sent.result_id])
    store.records.close()
    erased = edgescreen("erase", "--patient", "MRN-5", config=config)
    assert erased.returncode == 0, erased.stderr
    command = "edgescreen erase --patient 'MRN 5'"
    done = {
        "screenings": sentence("count.screenings", language, count=2),
        "photos": sentence("count.photos", language, count=2),
        "withdrawn": sentence("count.withdrawn", language, count=1),
        "in_flight": "",
    }
    station = f"edgescreen-review results erase {sent.result_id}"
    assert erased.stdout.splitlines() == [
        sentence("erase.close", language, count=1, reference="'MRN 5'", command=command),
        sentence("erase.done", language, **done),
        sentence("erase.at_station", language, held=1, photos="", command=station),
    ]
    assert ("Le poste de relecture" in erased.stdout) == (language == "fr")


def export_times(database) -> list[str]:
    """When the audit saw each decrypted export of a result, oldest first."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT at FROM audit WHERE kind = 'export' AND json_extract(details, '$.result_id') IS NOT NULL "
            "ORDER BY seq"
        ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_erase_says_how_often_and_when_the_patients_photos_were_exported_decrypted(tmp_path, retina_rgb, language):
    """A patient's results exported (the nurse app's download, ``records export``) left decrypted
    copies the erasure cannot reach, and it said nothing of them: it now says how many, when, and
    where to look; another patient's exports are not counted."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    other = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-6", eye="R")))
    for eye in ("R", "L"):
        record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-5", eye=eye)))
    store.export_images(other.result_id)  # the nurse app's download does this
    store.records.close()
    exported = edgescreen("records", "export", "--patient", "MRN-5", "--out", str(tmp_path / "out"), config=config)
    assert exported.returncode == 0, exported.stderr
    times = export_times(tmp_path / "records.sqlite3")[1:]  # MRN-5's two, the CLI's
    erased = edgescreen("erase", "--patient", "MRN-5", config=config)
    assert erased.returncode == 0, erased.stderr
    first, last = (readable_date(times[0], language), readable_date(times[-1], language))
    assert sentence("erase.exported", language, count=2, first=first, last=last) in erased.stdout.splitlines()
    assert "records export" in erased.stdout


@pytest.mark.parametrize("language", ["en", "fr"])
def test_erase_says_when_a_visit_of_the_patient_is_open_on_the_apps_screens(tmp_path, retina_rgb, language):
    """The app keeps each visit open in the records, until the nurse finishes it (records/open_visits.py).
    ``edgescreen erase``, a process of its own, erased a patient whose visit was open there without a word
    to whoever ran it, though the nurse learnt it only at her next result. It now says so, in the device's
    language, whether the visit recorded a result, none yet, or is a skin visit (kept keyed to the patient,
    ``ScreeningStore.visit_key``, which the erasure clears), and for a patient on a first visit with
    nothing recorded yet, whose erasure is refused; not for a patient with no visit open."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    screened = {
        reference: record_one(store, photo, sample_record(ScreeningContext(patient_ref=reference, eye="R")))
        for reference in ("MRN-6", "MRN-7", "MRN-8", "MRN-9", "MRN-10")
    }
    for reference in ("MRN-6", "MRN-7"):  # each visit open with its right eye recorded
        visit_started(store, f"visit-{reference}", reference, ("R", "L"), "Amina")
        visit_recorded(store, f"visit-{reference}", screened[reference].result_id)
    visit_started(store, "visit-MRN-9", "MRN-9", ("R", "L"), "Amina")  # back for another visit, no eye yet
    visit_started(store, "visit-MRN-10", "MRN-10", (), "Amina")  # a lesion to photograph
    visit_started(store, "visit-MRN-11", "MRN-11", ("R", "L"), "Amina")  # a first visit, nothing recorded
    store.records.close()
    said = message("erase.visit_open", language)
    for reference in ("MRN-6", "MRN-9", "MRN-10"):
        erased = edgescreen("erase", "--patient", reference, config=config)
        assert erased.returncode == 0, erased.stderr
        assert erased.stdout.splitlines()[-1] == said, reference
    # Nothing of a patient on a first visit is recorded yet: the erasure is refused (a mistyped
    # reference must not close a request as done), and the visit open on the nurse's screen said.
    first = edgescreen("erase", "--patient", "MRN-11", config=config)
    assert first.returncode == 2 and first.stdout.splitlines() == [said], first.stderr
    alone = edgescreen("erase", "--patient", "MRN-8", config=config)
    assert alone.returncode == 0, alone.stderr
    assert said not in alone.stdout
    with sqlite3.connect(tmp_path / "records.sqlite3") as db:  # nothing keyed to an erased patient is left
        keys = db.execute("SELECT visit_id FROM open_visit WHERE patient_key IS NOT NULL ORDER BY visit_id")
        assert keys.fetchall() == [("visit-MRN-7",)]


def test_a_visit_open_as_the_records_were_upgraded_is_said_open_by_its_result(tmp_path, retina_rgb):
    """Records of the release before keep no patient of a visit (``open_visit`` without ``patient_key``):
    the migration keeps an open one as it was, its patient not known, and ``edgescreen erase`` still says
    it is open by the result it recorded, as that release did."""
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    right = record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext("MRN-11", eye="R")))
    db = store.records.connection
    undo_visit_keys(db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 2}")  # and the data migration after it
    opened = ("before", json.dumps(["R", "L"]), json.dumps([right.result_id]))
    db.execute("INSERT INTO open_visit (visit_id, eyes, results) VALUES (?, ?, ?)", opened)
    store.records.close()
    store = open_store(tmp_path)
    kept = store.records.connection.execute("SELECT visit_id, patient_key FROM open_visit").fetchall()
    assert [tuple(row) for row in kept] == [("before", None)]
    store.records.close()
    erased = edgescreen("erase", "--patient", "MRN-11", config=config)
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.splitlines()[-1] == message("erase.visit_open", "en")


def test_erase_shows_close_references_for_the_technician_to_check_and_erases_none_of_them(tmp_path, retina_rgb):
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    for reference in ("NIP-777 Jean Martin", "NIP 777 Jean Martin", "NIP-777", "NIP-888 Ana Diaz"):
        record_one(store, photo, sample_record(ScreeningContext(patient_ref=reference, eye="R")))
    store.records.close()
    mistyped = edgescreen("erase", "--patient", "NIP777JeanMartin", config=config)
    assert mistyped.returncode == 2 and "NIP" not in mistyped.stderr  # the refusal is logged: no reference
    assert "close reference 'NIP-777 Jean Martin'" in mistyped.stdout
    erased = edgescreen("erase", "--patient", "nip-777 JEAN MARTIN ", config=config)
    assert erased.returncode == 0 and "erased 1 screening," in erased.stdout
    assert "1 screening under the close reference 'NIP 777 Jean Martin'" in erased.stdout
    assert "edgescreen erase --patient 'NIP 777 Jean Martin'" in erased.stdout
    assert "close reference 'NIP-777'" in erased.stdout and "NIP-888" not in erased.stdout
    reopened = open_store(tmp_path)
    assert len(reopened.search_patient("NIP 777 Jean Martin").result_ids) == 1  # shown, never erased with it


def test_one_patient_reference_damaged_on_the_card_stops_no_other_patients_search_export_or_erasure(
    tmp_path, retina_rgb
):
    """A flipped bit in one screening's sealed reference made every search, subject access export
    and erasure, of every patient, stop with "does not open" (exit 5), while doctor stayed green."""
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    ids = {
        reference: record_one(store, photo, sample_record(ScreeningContext(patient_ref=reference, eye="L"))).result_id
        for reference in ("NIP-111", "NIP-222", "NIP-333")
    }
    (sealed,) = store.records.connection.execute(
        "SELECT patient_sealed FROM screening WHERE result_id = ?", (ids["NIP-111"],)
    ).fetchone()
    store.records.close()
    flip_a_bit_on_the_card(tmp_path / "records.sqlite3", sealed)

    exported = edgescreen("records", "export", "--patient", "NIP-222", "--out", str(tmp_path / "sar"), config=config)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "sar" / f"{ids['NIP-222']}.json").exists()
    assert f"records.reference_unreadable results={ids['NIP-111']}" in exported.stderr

    erased = edgescreen("erase", "--patient", "NIP-333", config=config)
    assert erased.returncode == 0 and "erased 1 screening," in erased.stdout, erased.stderr
    assert "not checked: 1 screening whose patient reference does not open" in erased.stdout
    assert f"result {ids['NIP-111']}. Replace the card" in erased.stdout

    damaged_only = edgescreen("erase", "--patient", "NIP-111", config=config)
    assert damaged_only.returncode == 2 and f"result {ids['NIP-111']}" in damaged_only.stdout
    reopened = open_store(tmp_path)
    try:
        assert reopened.search_patient("NIP-222").result_ids == (ids["NIP-222"],)
        assert reopened.search_patient("NIP-333").result_ids == ()
    finally:
        reopened.records.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_photo_damaged_on_the_card_leaves_the_rest_of_a_subject_access_export_whole(tmp_path, retina_rgb, language):
    """The export stopped at the damaged photo (exit 5, "does not open"), leaving the patient's later
    screenings out of a subject access request without saying which. Said in the device's language, as
    a folder open to others is (on main English whatever it was)."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    ids = [
        record_one(store, photo, sample_record(ScreeningContext(patient_ref="NIP-444", eye=eye))).result_id
        for eye in ("L", "R", "L")
    ]
    damage_a_sealed_value(store, "SELECT sealed FROM image WHERE result_id = ?", ids[0])

    exported = edgescreen("records", "export", "--patient", "NIP-444", "--out", str(tmp_path / "sar"), config=config)
    assert exported.returncode == 1
    said = f"edgescreen: {sentence('export.photo_damaged', language, count=1, results=ids[0])}\n"
    assert exported.stderr.endswith(said) and ("non exportée" in said) == (language == "fr")
    assert sorted(path.name for path in (tmp_path / "sar").iterdir()) == sorted(
        [f"{rid}.json" for rid in ids] + [f"{rid}-0.jpg" for rid in ids[1:]]
    )
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    again = edgescreen("records", "export", "--patient", "NIP-444", "--out", str(shared), config=config)
    assert f"edgescreen: {sentence('export.folder_open', language, folder=str(shared))}\n" in again.stderr


def test_records_show_of_a_value_damaged_on_the_card_says_so_not_another_key(tmp_path, retina_rgb):
    """A file name whose sealed bytes changed was told "altered, or another key": the records' key
    check had proved the key, and the technician was not pointed at the card."""
    config = write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo(retina_rgb), sample_record(source="Jean Martin.jpg")).result_id
    damage_a_sealed_value(store, "SELECT source_sealed FROM screening")
    shown = edgescreen("records", "show", result_id, config=config)
    assert shown.returncode == 5 and f"source:{result_id} does not open with the records key" in shown.stderr
    assert "its bytes changed on the card (a worn card)" in shown.stderr and "another key" not in shown.stderr


def two_screenings_of(directory, retina_rgb, patient: str) -> list[str]:
    store = open_store(directory)
    photo = small_photo(retina_rgb)
    ids = [
        record_one(store, photo, sample_record(ScreeningContext(patient_ref=patient, eye=eye))).result_id
        for eye in ("L", "R")
    ]
    store.records.close()
    return ids


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_export_refused_part_way_leaves_none_of_its_files_in_an_existing_folder(tmp_path, retina_rgb, language):
    """A subject access export refused at its second screening's record (a file of that name there
    already) left the first screening's record and photo in the folder: a technician who found them
    could hand them over as the patient's whole export. Nothing of it is left now, in any language."""
    config = in_language(write_config(tmp_path, port=1), language)
    _, second = two_screenings_of(tmp_path, retina_rgb, "NIP-555")
    out = tmp_path / "for-the-patient"
    out.mkdir(mode=0o700)
    (out / f"{second}.json").write_text("there before")
    refused = edgescreen("records", "export", "--patient", "NIP-555", "--out", str(out), config=config)
    assert refused.returncode == 2, refused.stderr
    said = sentence("refused.export_file_exists", language, path=str(out / f"{second}.json"))
    assert f"edgescreen: {said}\n" in refused.stderr and refused.stdout == ""
    assert [path.name for path in out.iterdir()] == [f"{second}.json"]  # on main: the first screening's too


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_file_made_in_the_export_folder_while_the_export_writes_is_kept_and_the_export_refused(
    tmp_path, retina_rgb, language, capsys
):
    """Each name was checked free when its file was staged, and the staged files renamed into --out at
    the end: a file made under one of those names in between (a technician's copy) was replaced, and
    nothing said. Now the export is refused as one onto a file there is, and leaves none of its files."""
    config = in_language(write_config(tmp_path, port=1), language)
    _, second = two_screenings_of(tmp_path, retina_rgb, "NIP-557")
    out = tmp_path / "for-the-patient"
    out.mkdir(mode=0o700)
    with appearing_on_open(f"/{second}.json", out / f"{second}.json"):
        status = main(["--config", str(config), "records", "export", "--patient", "NIP-557", "--out", str(out)])
    assert (out / f"{second}.json").read_bytes() == b"precious"  # on main: the screening's record, over it
    said = sentence("refused.export_file_exists", language, path=str(out / f"{second}.json"))
    assert status == 2 and capsys.readouterr().err.endswith(f"edgescreen: {said}\n")  # on main: 0
    assert [path.name for path in out.iterdir()] == [f"{second}.json"]


def test_an_export_stopped_by_a_full_drive_part_way_leaves_no_folder(tmp_path, tiny_filesystem, retina_rgb):
    """The drive filled at the second screening: the new folder held the first one's record and photo,
    a whole export to look at. Now the export is made in a hidden folder, named as asked once whole."""
    config = write_config(tmp_path, port=1)
    _, second = two_screenings_of(tmp_path, retina_rgb, "NIP-556")
    out = tiny_filesystem / "for-the-patient"
    filled(tiny_filesystem, leaving=3 * 4096)
    refused = edgescreen("records", "export", "--patient", "NIP-556", "--out", str(out), config=config)
    assert refused.returncode == 2 and "the disk is full" in refused.stderr, refused.stderr
    assert second in refused.stderr and refused.stdout == ""
    assert sorted(path.name for path in tiny_filesystem.iterdir()) == ["filler"]  # on main: the folder, half full


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_export_onto_a_read_only_drive_gives_the_systems_reason_in_the_devices_language(
    tmp_path, tiny_filesystem, retina_rgb, language
):
    """On main "(Read-only file system)" inside the French sentence: the one English in it."""
    config, result_id = in_language(write_config(tmp_path, port=1), language), one_result(tmp_path, retina_rgb)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    out = tiny_filesystem / "for-dr-x"
    run = edgescreen("records", "export", result_id, "--out", str(out), config=config)
    assert run.returncode == 2, run.stderr
    reason = {"en": "Read-only file system", "fr": "support en lecture seule"}[language]
    said = sentence("refused.output_unwritable", language, path=str(out), reason=reason)
    assert f"edgescreen: {said}\n" in run.stderr
