"""Issue 8, points 6 and 9: results and queued payloads are bound to their audit events, and review
comments are sealed. Edits are made as an intruder with SQL access would make them."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from edgescreen_wire.checks import WireError
from edgescreen_wire.result import encode_result
from firmware_app.messages import sentence
from firmware_app.records.audit import append_event
from firmware_app.records.database import transaction
from firmware_app.records.integrity import ROW_DIGEST, row_digest
from firmware_app.records.screening import Review, ScreeningContext
from firmware_app.sync.payload import result_payload
from tests.records.kit import DEVICE, in_language, open_store, record_one, sample_record, small_photo, write_config
from tests.records.test_store import raw_bytes
from tests.test_cli import edgescreen


@pytest.fixture()
def recorded(tmp_path, retina_rgb):
    """Three results below threshold (``no_refer``), recorded through the real path."""
    store = open_store(tmp_path)
    ids = [record_one(store, small_photo(retina_rgb), sample_record(score=0.1)).result_id for _ in range(3)]
    store.records.close()
    return write_config(tmp_path, port=1), ids


NBSP = "\u00a0"  # French sets a colon or a semicolon apart with it (``messages.typeset``)


def edit(config, *statements: tuple[str, tuple]) -> None:
    db = sqlite3.connect(config.parent / "records.sqlite3", isolation_level=None)
    for statement, values in statements:
        db.execute(statement, values)
    db.close()


def test_an_intact_store_verifies(recorded):
    config, _ = recorded
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 0 and "intact" in run.stdout


@pytest.mark.parametrize("language", ["en", "fr"])
def test_audit_verify_says_what_the_chain_proves_in_the_devices_language(recorded, language):
    """Intact, then one result altered: said in the device's language (on main English whatever it
    was), what broke the chain with it (it was English on a French device)."""
    config, ids = recorded
    config = in_language(config, language)
    store = open_store(config.parent)
    events = store.records.verify_audit().events
    store.records.close()
    intact = edgescreen("audit", "verify", config=config)
    assert intact.stdout == f"{sentence('audit.intact', language, count=events)}\n"
    edit(config, ("UPDATE screening SET outcome = 'refer' WHERE result_id = ?", (ids[0],)))
    broken = edgescreen("audit", "verify", config=config).stdout.splitlines()
    problem = {
        "en": f"result {ids[0]}: the result row was altered after it was recorded",
        "fr": f"résultat {ids[0]}{NBSP}: sa ligne de résultat a été modifiée après son enregistrement",
    }[language]
    said = re.escape(sentence("audit.broken", language, event="EVENT", problem=problem)).replace("EVENT", r"\d+")
    assert re.fullmatch(said, broken[0]), broken[0]
    assert broken[1] == sentence("audit.result_altered", language, count=events, result=ids[0])
    assert ("n'est pas fiable" in broken[1]) == (language == "fr")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_audit_verify_says_no_event_verifies_when_the_first_is_broken(recorded, language):
    """Event 1 itself altered: before, "events 1 to 0 verify; nothing from event 1 on can be trusted"."""
    config, _ = recorded
    config = in_language(config, language)
    edit(config, ("DROP TRIGGER audit_no_update", ()), ("UPDATE audit SET at = at || ' ' WHERE seq = 1", ()))
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4, run.stderr
    broken = run.stdout.splitlines()
    problem = {
        "en": "event 1 (model_change) was altered: its hash does not match",
        "fr": f"l'événement 1 (model_change) a été modifié{NBSP}: son empreinte ne correspond pas",
    }[language]
    assert broken == [
        sentence("audit.broken", language, event=1, problem=problem),
        sentence("audit.trusted_none", language),
    ]
    assert (
        broken[1]
        == {
            "en": "no event verifies; nothing in the audit log can be trusted",
            "fr": "aucun événement n'est vérifié\u00a0; rien dans le journal d'audit n'est fiable",
        }[language]
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_audit_verify_counts_the_events_that_verify_in_their_singular_or_plural(recorded, language):
    """Event 3 altered, then event 2: before, the second said "events 1 to 1 verify"."""
    config, _ = recorded
    config = in_language(config, language)
    edit(config, ("DROP TRIGGER audit_no_update", ()))
    said = {}
    for event in (3, 2):
        edit(config, ("UPDATE audit SET at = at || ' ' WHERE seq = ?", (event,)))
        run = edgescreen("audit", "verify", config=config)
        assert run.returncode == 4, run.stderr
        said[event] = run.stdout.splitlines()[1]
    assert (
        said
        == {
            "en": {
                3: "events 1 to 2 verify; nothing from event 3 on can be trusted",
                2: "event 1 verifies; nothing from event 2 on can be trusted",
            },
            "fr": {
                3: "les événements 1 à 2 sont vérifiés\u00a0; rien n'est fiable à partir de l'événement 3",
                2: "l'événement 1 est vérifié\u00a0; rien n'est fiable à partir de l'événement 2",
            },
        }[language]
    )


def test_a_result_edited_in_sql_row_and_payload_breaks_audit_verify(recorded):
    config, ids = recorded
    target = ids[1]
    edit(
        config,
        ("UPDATE screening SET outcome = 'refer' WHERE result_id = ?", (target,)),
        ("UPDATE outbox SET payload = replace(payload, '\"no_refer\"', '\"refer\"') WHERE result_id = ?", (target,)),
    )
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4, run.stdout  # on main: "intact"
    assert f"result {target}: the result row was altered" in run.stdout
    assert f"result {target} cannot be trusted" in run.stdout


def test_a_result_column_made_a_blob_in_sql_breaks_audit_verify_without_a_crash(recorded):
    config, ids = recorded
    edit(config, ("UPDATE screening SET model_id = CAST(model_id AS BLOB) WHERE result_id = ?", (ids[0],)))
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4, run.stderr  # before: a traceback (bytes is not JSON serializable)
    assert f"result {ids[0]}: the result row was altered" in run.stdout


def test_a_payload_edited_alone_breaks_audit_verify(recorded):
    config, ids = recorded
    edit(config, ("UPDATE outbox SET payload = replace(payload, '0.1', '0.9') WHERE result_id = ?", (ids[0],)))
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4 and f"result {ids[0]}: its queued payload was altered" in run.stdout


@pytest.fixture()
def photo_keyed(tmp_path, retina_rgb):
    """A photo file's screening, with the key a batch knows the file by (``ScreeningStore.screened_before``),
    then a camera frame's, with none."""
    store = open_store(tmp_path)
    of_a_file = replace(sample_record(captured_at=store.records.clock()), photo_sha256="a" * 64)
    ids = [
        record_one(store, small_photo(retina_rgb), record).result_id
        for record in (of_a_file, sample_record(captured_at=store.records.clock()))
    ]
    store.records.close()
    return write_config(tmp_path, port=1), ids


@pytest.mark.parametrize(
    ("target", "altering"),
    [
        (0, "UPDATE screening SET photo_key = NULL WHERE result_id = ?"),
        (0, f"UPDATE screening SET photo_key = '{'f' * 64}' WHERE result_id = ?"),
        (1, "UPDATE screening SET photo_key = (SELECT max(photo_key) FROM screening) WHERE result_id = ?"),
    ],
    ids=["cleared", "replaced", "copied onto a camera frame"],
)
def test_a_photo_key_edited_in_sql_breaks_audit_verify(photo_keyed, target: int, altering: str):
    """The photo key decides whether a batch skips a photo as screened before: cleared, the photo is
    screened again as new; set on another result, a photo never screened is skipped. It lay outside the
    row digest, and ``audit verify`` said the records intact."""
    config, ids = photo_keyed
    edit(config, (altering, (ids[target],)))
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4, run.stdout  # before: "intact"
    assert f"result {ids[target]}: the result row was altered" in run.stdout


@pytest.fixture()
def taken_by(tmp_path, retina_rgb):
    """A screening taken by a signed-in operator, then one taken with none signed in."""
    store = open_store(tmp_path)
    ids = [
        record_one(
            store, small_photo(retina_rgb), sample_record(ScreeningContext(eye="L", operator=operator))
        ).result_id
        for operator in ("amina", None)
    ]
    store.records.close()
    return write_config(tmp_path, port=1), ids


@pytest.mark.parametrize(
    ("target", "altering"),
    [
        (0, "UPDATE screening SET operator = 'bruno' WHERE result_id = ?"),
        (0, "UPDATE screening SET operator = NULL WHERE result_id = ?"),
        (1, "UPDATE screening SET operator = 'amina' WHERE result_id = ?"),
    ],
    ids=["changed to another name", "cleared", "set on a screening taken by none"],
)
def test_an_operator_edited_in_sql_breaks_audit_verify(taken_by, target: int, altering: str):
    """Who took a photo lay outside the row digest: changed to a colleague's name or cleared, the
    records no longer said who took it, and ``audit verify`` said them intact."""
    config, ids = taken_by
    edit(config, (altering, (ids[target],)))
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4, run.stdout  # before: "intact"
    assert f"result {ids[target]}: the result row was altered" in run.stdout


@pytest.mark.parametrize(
    "bound",
    [(), ("photo_key",)],
    ids=["before the photo key digest", "before the operator digest"],
)
def test_a_result_whose_event_predates_a_column_digest_verifies_and_is_still_bound(photo_keyed, bound):
    """The screening events of the releases before a column was bound hold no digest of it (those
    before the photo key none of either, those since it none of the operator's): their results verify
    on the rest of their row, which is still bound."""
    config, ids = photo_keyed
    store = open_store(config.parent)
    db = store.records.connection
    with transaction(db):
        db.execute(
            "INSERT INTO screening (result_id, recorded_at, captured_at, modality, outcome, research_only, "
            "source_sealed, photo_key, operator) SELECT ?, recorded_at, captured_at, modality, outcome, 0, "
            "source_sealed, photo_key, 'amina' FROM screening WHERE result_id = ?",
            ("e" * 32, ids[0]),
        )
        row = db.execute("SELECT * FROM screening WHERE result_id = ?", ("e" * 32,)).fetchone()
        details = {"result_id": row["result_id"], "modality": row["modality"], "outcome": row["outcome"]}
        digests = {f"{column}_sha256": row_digest(row, (column,)) for column in bound}
        append_event(db, "screening", details | {ROW_DIGEST: row_digest(row)} | digests, store.records.clock())
    store.records.close()
    assert edgescreen("audit", "verify", config=config).returncode == 0
    altered = {"score": 0.1, "photo_key": None}
    for column in ("score", *bound):
        edit(config, (f"UPDATE screening SET {column} = ? WHERE result_id = ?", (altered[column], "e" * 32)))
        run = edgescreen("audit", "verify", config=config)
        assert run.returncode == 4 and f"result {'e' * 32}: the result row was altered" in run.stdout
        edit(config, (f"UPDATE screening SET {column} = ? WHERE result_id = ?", (row[column], "e" * 32)))


def test_a_result_inserted_outside_edgescreen_breaks_audit_verify(recorded):
    config, ids = recorded
    edit(
        config,
        (
            "INSERT INTO screening (result_id, recorded_at, captured_at, modality, outcome, research_only, "
            "source_sealed) SELECT ?, recorded_at, captured_at, modality, 'refer', 0, source_sealed FROM screening "
            "WHERE result_id = ?",
            ("f" * 32, ids[0]),
        ),
    )
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4 and "has no screening event" in run.stdout


def test_a_non_utf8_byte_in_the_audit_log_is_broken_not_a_crash(recorded):
    config, _ = recorded
    edit(
        config,
        ("DROP TRIGGER audit_no_update", ()),
        ("UPDATE audit SET details = CAST(X'7B22FF227D' AS TEXT) WHERE seq = 2", ()),
    )
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4, run.stderr  # on main: a traceback (cannot decode to UTF-8)
    assert "BROKEN at event 2: event 2 holds bytes that are not text" in run.stdout


def said_in_french(config, *statements: tuple[str, tuple]) -> list[str]:
    """The lines ``edgescreen audit verify`` prints on a French device once ``statements`` altered its records."""
    edit(config, *statements)
    run = edgescreen("audit", "verify", config=in_language(config, "fr"))
    assert run.returncode == 4, (run.stdout, run.stderr)
    return run.stdout.splitlines()


def event_of(config, kind: str, key: str, value: str) -> int:
    """The number of the ``kind`` event whose details give ``key`` as ``value``, read from the records as they are."""
    db = sqlite3.connect(config.parent / "records.sqlite3")
    query = "SELECT seq FROM audit WHERE kind = ? AND details LIKE ?"
    (seq,) = db.execute(query, (kind, f'%"{key}":"{value}"%')).fetchone()
    db.close()
    return seq


def events(config) -> int:
    db = sqlite3.connect(config.parent / "records.sqlite3")
    (count,) = db.execute("SELECT count(*) FROM audit").fetchone()
    db.close()
    return count


def untrusted(count: int, result: str) -> str:
    """What a French device says can still be trusted when ``result`` differs from its event."""
    return f"la chaîne de hachage des {count} événements tient{NBSP}; le résultat {result} n'est pas fiable"


@pytest.mark.parametrize(
    ("which", "altering", "finding"),
    [
        (1, "UPDATE screening SET outcome = 'refer' WHERE result_id = ?", "sa ligne de résultat a été modifiée"),
        (
            0,
            "UPDATE outbox SET payload = replace(payload, '0.1', '0.9') WHERE result_id = ?",
            "son message dans la file d'envoi a été modifié",
        ),
    ],
    ids=["result row", "queued payload"],
)
def test_a_french_device_says_a_result_row_or_its_queued_payload_was_altered_in_french(
    recorded, which: int, altering: str, finding: str
):
    """Each row-level finding was English on a French device, "result …: the result row was altered …"."""
    config, ids = recorded
    said = said_in_french(config, (altering, (ids[which],)))
    event = event_of(config, "screening", "result_id", ids[which])
    assert said == [
        f"journal d'audit ROMPU à l'événement {event}{NBSP}: résultat {ids[which]}{NBSP}: "
        f"{finding} après son enregistrement",
        untrusted(events(config), ids[which]),
    ]


def test_a_french_device_says_a_result_it_never_recorded_in_french(recorded):
    config, ids = recorded
    forged = "f" * 32
    said = said_in_french(
        config,
        (
            "INSERT INTO screening (result_id, recorded_at, captured_at, modality, outcome, research_only, "
            "source_sealed) SELECT ?, recorded_at, captured_at, modality, 'refer', 0, source_sealed FROM screening "
            "WHERE result_id = ?",
            (forged, ids[0]),
        ),
    )
    count = events(config)
    assert said == [
        f"journal d'audit ROMPU à l'événement {count + 1}{NBSP}: résultat {forged}{NBSP}: il n'a pas d'événement "
        f"screening{NBSP}: il n'a pas été enregistré par EdgeScreen",
        untrusted(count, forged),
    ]


def test_a_french_device_says_a_result_row_it_cannot_read_in_french_sqlites_words_as_they_are(recorded):
    """Bytes that are not UTF-8 in a result's text: SQLite's own error (the column it names) stays English.
    What can still be trusted is said in French too: before, "le résultat unknown n'est pas fiable", an
    English word standing for the result the row could not tell."""
    config, ids = recorded
    said = said_in_french(
        config, ("UPDATE screening SET model_id = CAST(X'64FF72' AS TEXT) WHERE result_id = ?", (ids[2],))
    )
    count = events(config)
    assert re.fullmatch(
        f"journal d'audit ROMPU à l'événement {count + 1}{NBSP}: une ligne de résultat ne peut pas être lue{NBSP}: "
        "Could not decode to UTF-8 column 'model_id' with text .+",
        said[0],
    ), said
    assert said[1] == (
        f"la chaîne de hachage des {count} événements tient{NBSP}; la ligne de résultat illisible n'est pas fiable"
    )


def test_a_french_device_says_an_audit_event_holds_bytes_that_are_not_text_in_french(recorded):
    config, _ = recorded
    said = said_in_french(
        config,
        ("DROP TRIGGER audit_no_update", ()),
        ("UPDATE audit SET details = CAST(X'7B22FF227D' AS TEXT) WHERE seq = 2", ()),
    )
    assert said == [
        f"journal d'audit ROMPU à l'événement 2{NBSP}: l'événement 2 contient des octets qui ne sont pas du texte"
        f"{NBSP}: modifié ou endommagé",
        f"l'événement 1 est vérifié{NBSP}; rien n'est fiable à partir de l'événement 2",
    ]


def test_a_payload_contradicting_its_own_score_is_refused():
    document = result_payload(sample_record(score=0.929), DEVICE.id, DEVICE.site) | {"triage": "no_refer"}
    with pytest.raises(WireError, match="contradicts score"):
        encode_result(document)


def test_review_comments_are_sealed_and_read_back(tmp_path, retina_rgb):
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo(retina_rgb)).result_id
    comment = "Patient Mme Odile Ferrand to be seen in Lyon"
    review = Review("rev-9", result_id, "refer", datetime(2027, 1, 5, tzinfo=UTC), "dr-9", comment)
    assert store.add_review(review) == "stored"
    assert b"Odile Ferrand" not in raw_bytes(tmp_path)  # on main: in clear in the WAL
    assert store.view(result_id)["reviews"][0]["comment"] == comment
    assert store.records.verify_audit().intact


def test_a_comment_stored_in_clear_before_is_sealed_when_the_records_open(tmp_path, retina_rgb):
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo(retina_rgb)).result_id
    store.records.connection.execute(
        "INSERT INTO review (review_id, result_id, verdict, reviewer, reviewed_at, received_at, comment, "
        "comment_sealed) VALUES ('rev-old', ?, 'refer', 'dr-1', '2027-01-01', '2027-01-01', 'Dr Clear Text', NULL)",
        (result_id,),
    )
    store.records.close()
    reopened = open_store(tmp_path)
    reopened.records.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert json.dumps(reopened.view(result_id)["reviews"][0]["comment"]) == '"Dr Clear Text"'
    assert reopened.records.connection.execute("SELECT comment FROM review").fetchone()[0] is None
