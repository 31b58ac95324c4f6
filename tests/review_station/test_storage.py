"""The schema: Alembic builds it on both databases, it matches the tables the code uses, and it migrates once."""

from __future__ import annotations

import ast
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, column, func, insert, select, table

from firmware_app.records.audit import HEAD_KEY, chain_event
from review_station import accounts, contrary
from review_station import audit as audit_log
from review_station.audit import STATION_KINDS
from review_station.config import WebConfig
from review_station.contrary import FLAGGED
from review_station.erasure import ANY_DEVICE, erase_results
from review_station.ingest.classify import result_row
from review_station.storage.database import DatabaseError, alembic_config, make_engine, open_database, upgrade
from review_station.storage.tables import (
    audit,
    deliveries,
    devices,
    erased_notices,
    erased_results,
    meta,
    metadata,
    quarantine,
    reads,
    result_tallies,
    results,
    users,
)
from tests.conftest import PROJECT_ROOT
from tests.review_station.kit import result_bytes, result_topic, stored_at


def test_the_migrations_build_exactly_the_tables_the_code_uses(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    upgrade(engine)  # a second start migrates nothing and breaks nothing


def test_a_station_of_before_result_v2_migrates_keeping_its_results(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0002")
        _, payload = result_bytes("cam-01", "site-a")
        row = result_row(result_topic("site-a", "cam-01"), payload, {"cam-01": "site-a"}, datetime.now(UTC))
        with engine.begin() as connection:
            connection.execute(insert(results).values(stored_at("0002", row)))
        upgrade(engine)
        with engine.connect() as connection:
            migrated = connection.execute(select(results)).one()
        assert migrated.result_id == row["result_id"] and migrated.skin_tone is None and migrated.queue_rank == 0
        assert migrated.dated_at == row["captured_at"]
    finally:
        engine.dispose()


def test_results_stored_before_the_station_dated_them_are_dated_as_the_ingester_dates_them(database_url: str) -> None:
    engine = make_engine(database_url)
    received = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    sent = {
        "unset clock": {"captured_at": "1970-01-01T00:05:01Z", "clock": "before_build"},
        "future": {"captured_at": "2026-12-04T10:00:00Z"},
        "in step": {"captured_at": "2026-11-30T08:00:00Z"},
        "1970, no flag": {"captured_at": "1970-01-01T00:05:01Z"},
        "flagged, at arrival": {"captured_at": "2026-12-02T09:00:00Z", "clock": "unsynchronised"},
    }
    try:
        command.upgrade(alembic_config(engine), "0009")
        ids = {}
        with engine.begin() as connection:
            for name, payload in sent.items():
                ids[name], raw = result_bytes("cam-01", "site-a", payload=payload)
                row = result_row(result_topic("site-a", "cam-01"), raw, {"cam-01": "site-a"}, received)
                connection.execute(insert(results).values(stored_at("0009", row)))
        upgrade(engine)
        with engine.connect() as connection:
            dated = dict(connection.execute(select(results.c.result_id, results.c.dated_at)).all())
            dated_from = dict(connection.execute(select(results.c.result_id, results.c.dated_from)).all())
            days = connection.execute(select(result_tallies.c.dated_on, result_tallies.c.results)).all()
        assert dated == {
            ids["unset clock"]: received,
            ids["future"]: received,
            ids["in step"]: datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
            ids["1970, no flag"]: received,
            ids["flagged, at arrival"]: received,
        }
        assert {name: dated_from[ids[name]] for name in sent} == {
            name: "captured_at" if name == "in step" else "received_at" for name in sent
        }
        assert sorted(days) == [(date(2026, 11, 30), 1), (date(2026, 12, 2), 4)]
    finally:
        engine.dispose()


def test_results_stored_before_the_worklist_showed_the_eye_get_it_from_their_payloads(database_url: str) -> None:
    """Migration 0017 fills ``eye`` and ``body_site`` from each stored payload; undone and done again, the same."""
    engine = make_engine(database_url)
    sent = {
        "left": {"eye": "L"},
        "right": {"eye": "R"},
        "unsaid": {"eye": None},
        "lesion": {"modality": "dermoscopy", "eye": None, "body_site": "palms_soles"},
    }
    try:
        command.upgrade(alembic_config(engine), "0016")
        ids = {}
        with engine.begin() as connection:
            for name, payload in sent.items():
                ids[name], raw = result_bytes("cam-01", "site-a", payload=payload)
                row = result_row(result_topic("site-a", "cam-01"), raw, {"cam-01": "site-a"}, datetime.now(UTC))
                connection.execute(insert(results).values(stored_at("0016", row)))
        expected = {"left": ("L", None), "right": ("R", None), "unsaid": (None, None), "lesion": (None, "palms_soles")}
        for _ in range(2):
            upgrade(engine)
            with engine.connect() as connection:
                query = select(results.c.result_id, results.c.eye, results.c.body_site)
                stored = {row.result_id: (row.eye, row.body_site) for row in connection.execute(query)}
            assert {name: stored[ids[name]] for name in sent} == expected
            command.downgrade(alembic_config(engine), "0016")
    finally:
        engine.dispose()


def test_times_come_back_in_utc_and_naive_ones_are_refused(engine: Engine) -> None:
    paris = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as connection:
        connection.execute(insert(devices).values(device_id="cam-01", site_id="site-a", enrolled_at=paris))
        stored = connection.execute(select(devices.c.enrolled_at)).scalar_one()
    assert stored == paris and stored.tzinfo == UTC
    with pytest.raises(Exception, match="naive"), engine.begin() as connection:
        connection.execute(insert(devices).values(device_id="cam-02", site_id="s", enrolled_at=datetime(2026, 1, 1)))


def test_an_unusable_database_is_a_named_error(tmp_path) -> None:
    with pytest.raises(DatabaseError, match="only sqlite"):
        open_database("mysql://nobody@localhost/x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatabaseError, match=r"review\.sqlite3"):
        open_database(f"sqlite:///{blocker}/review.sqlite3")


def test_the_results_already_reviewed_rank_after_those_awaiting_a_read(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0008")
        registry = {"cam-01": "site-a"}
        with engine.begin() as connection:
            for state in ("awaiting_review", "reviewed", "disagreement"):
                _, payload = result_bytes("cam-01", "site-a")
                row = result_row(result_topic("site-a", "cam-01"), payload, registry, datetime.now(UTC))
                connection.execute(insert(results).values(stored_at("0008", row) | {"state": state}))
        upgrade(engine)
        with engine.connect() as connection:
            ranked = connection.execute(select(results.c.state, results.c.queue_rank).order_by(results.c.state))
            assert ranked.all() == [("awaiting_review", 0), ("disagreement", 0), ("reviewed", 1)]
    finally:
        engine.dispose()


def test_verdicts_queued_before_their_time_had_a_column_get_the_time_they_were_sent_with(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0010")
        _, payload = result_bytes("cam-01", "site-a")
        row = result_row(result_topic("site-a", "cam-01"), payload, {"cam-01": "site-a"}, datetime.now(UTC))
        sent = {"schema": "edgescreen.review/1", "review_id": "rv-1", "result_id": row["result_id"], "verdict": "refer"}
        sent |= {"reviewed_at": "2026-12-03T04:07:04Z", "reviewer": "ana"}
        with engine.begin() as connection:
            connection.execute(insert(results).values(stored_at("0010", row)))
            queued = {"review_id": "rv-1", "result_id": row["result_id"], "topic": "t", "state": "stored"}
            queued |= {"payload": json.dumps(sent).encode(), "attempts": 1, "updated_at": datetime.now(UTC)}
            connection.execute(insert(deliveries).values(queued))
        upgrade(engine)
        with engine.connect() as connection:
            migrated = connection.execute(select(deliveries.c.reviewed_at)).scalar_one()
        assert migrated == datetime(2026, 12, 3, 4, 7, 4, tzinfo=UTC)
    finally:
        engine.dispose()


def test_a_reviewed_station_gains_the_refused_contrary_reads_with_none_flagged(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0011")
        _, payload = result_bytes("cam-01", "site-a")
        row = result_row(result_topic("site-a", "cam-01"), payload, {"cam-01": "site-a"}, datetime.now(UTC))
        now = datetime.now(UTC)
        read = {"review_id": "rv-1", "result_id": row["result_id"], "user_id": 1, "kind": "first", "created_at": now}
        with engine.begin() as connection:
            connection.execute(insert(results).values(stored_at("0011", row) | {"state": "reviewed", "queue_rank": 1}))
            ana = {"id": 1, "username": "ana", "password_hash": "x", "role": "reviewer", "created_at": now}
            connection.execute(insert(users).values(ana))
            connection.execute(insert(reads).values(**read, verdict="no_refer", urgency="routine"))
        upgrade(engine)
        with engine.begin() as connection:
            assert connection.execute(select(func.count()).select_from(results).where(FLAGGED)).scalar_one() == 0
            urgent = {"verdict": "refer", "urgency": "urgent", "icdr_grade": "severe", "maculopathy": "absent"}
            urgent |= {"diagnosis": None, "comment": None}
            kept = contrary.keep(connection, row["result_id"], 1, urgent, "rv-1")
            assert connection.execute(select(results.c.result_id).where(FLAGGED)).scalar_one() == row["result_id"]
        assert kept == 1
    finally:
        engine.dispose()


def test_migration_0010_carries_its_own_rule() -> None:
    """What a migration writes must not change when the app's code does: 0010 imports none of it."""
    source = (PROJECT_ROOT / "review_station" / "migrations" / "versions" / "0010_dated_at.py").read_text()
    imported = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import | ast.ImportFrom)]
    modules = [node.module or "" for node in imported if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in imported if isinstance(node, ast.Import) for alias in node.names]
    assert not [m for m in modules if m.split(".")[0] in ("review_station", "firmware_app", "edgescreen_wire")]


def test_audit_events_logged_before_their_time_had_a_column_get_it_from_their_text(database_url: str) -> None:
    """Migration 0019 fills ``audit.at_utc`` from each event's ``at`` as the chain rule wrote it (any
    offset, any precision); the chain still holds; undone and done again, the same."""
    engine = make_engine(database_url)
    moments = [
        datetime(2026, 12, 4, 11, 58, 0, 500000, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 12, 4, 16, 45, tzinfo=UTC),
        datetime(2026, 12, 4, 21, 40, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ]
    chained = ("seq", "at", "kind", "details", "prev_hash", "hash")
    before = table("audit", *map(column, chained))
    try:
        command.upgrade(alembic_config(engine), "0018")
        with engine.begin() as connection:  # the log as a station before 0019 wrote it
            last = None
            for at in moments:
                event = chain_event(last, "view", {"by": "ana"}, at, STATION_KINDS)
                connection.execute(insert(before), {name: getattr(event, name) for name in chained})
                last = (event.seq, event.hash)
            connection.execute(insert(meta).values(key=HEAD_KEY, value=event.head))
        for _ in range(2):
            upgrade(engine)
            with engine.connect() as connection:
                stored = connection.execute(select(audit.c.at_utc).order_by(audit.c.seq)).scalars().all()
                assert stored == moments and audit_log.verify(connection).first_bad is None
            command.downgrade(alembic_config(engine), "0018")
    finally:
        engine.dispose()


def test_a_session_open_when_the_station_gains_its_idle_end_is_counted_active_from_the_upgrade(
    database_url: str,
) -> None:
    """Migration 0020: a session open at the upgrade has no last request on record; its reader is not
    signed out for a time the station did not keep."""
    engine = make_engine(database_url)
    settings = WebConfig(idle_minutes=10)
    try:
        command.upgrade(alembic_config(engine), "0019")
        accounts.add_user(engine, "ana", "a long enough secret", "reviewer", by="test")
        columns = ("token_hash", "user_id", "csrf_token", "expires_at")
        with engine.begin() as connection:
            user_id = connection.execute(select(users.c.id)).scalar_one()
            row = (hashlib.sha256(b"token").hexdigest(), user_id, "csrf", datetime.now(UTC) + timedelta(minutes=30))
            connection.execute(insert(table("sessions", *map(column, columns))), dict(zip(columns, row, strict=True)))
        upgrade(engine)
        with engine.begin() as connection:
            assert accounts.session_user(connection, "token", settings) is not None
    finally:
        engine.dispose()


def test_a_station_migrated_past_the_tombstones_keeps_one_for_each_result_it_erases(database_url: str) -> None:
    """Migration 0023: a station's results stored before it are erased as any other, each leaving its
    tombstone (ids only), so that a copy still on its way is refused."""
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0022")
        _, payload = result_bytes("cam-01", "site-a")
        row = result_row(result_topic("site-a", "cam-01"), payload, {"cam-01": "site-a"}, datetime.now(UTC))
        with engine.begin() as connection:
            connection.execute(insert(results).values(stored_at("0022", row)))
        upgrade(engine)
        assert erase_results(engine, [row["result_id"]], by="cli").erased == [row["result_id"]]
        with engine.connect() as connection:
            assert connection.execute(select(erased_results)).all() == [(row["result_id"], ANY_DEVICE)]
    finally:
        engine.dispose()


def test_results_quarantined_before_their_id_was_kept_get_it_from_their_kept_bytes(database_url: str) -> None:
    """Migration 0024 gives each quarantined result the id its kept bytes name, so a patient's erasure
    finds it; a message naming none (junk, a head cut before its id) keeps none."""
    engine = make_engine(database_url)
    named, payload = result_bytes("cam-01", "site-b")
    kept = {"named": payload, "cut": payload[: payload.index(b'"result_id"')], "junk": b"not json"}
    try:
        command.upgrade(alembic_config(engine), "0023")
        with engine.begin() as connection:
            for name, head in kept.items():
                row = {"received_at": datetime.now(UTC), "topic": result_topic("site-b", "cam-01"), "reason": name}
                row |= {"payload": head, "payload_bytes": len(head), "message_sha256": name}
                connection.execute(insert(quarantine).values(row))
        upgrade(engine)
        with engine.connect() as connection:
            found = dict(connection.execute(select(quarantine.c.reason, quarantine.c.result_id)).all())
        assert found == {"named": named, "cut": None, "junk": None}
    finally:
        engine.dispose()


def test_erasure_notices_owed_before_their_time_was_kept_count_as_owed_from_the_upgrade(database_url: str) -> None:
    """Migration 0026: a result owed its device before the station kept since when is owed from the
    upgrade (the dashboard counts an unsent notice's wait from then), with no reason known yet."""
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0025")
        owed = table("erased_notices", column("result_id"), column("device_id"), column("noticed"))
        with engine.begin() as connection:
            connection.execute(insert(owed).values(result_id="a" * 32, device_id="cam-01", noticed=False))
        before = datetime.now(UTC)
        upgrade(engine)
        with engine.connect() as connection:
            row = connection.execute(select(erased_notices)).one()
        assert row.result_id == "a" * 32 and not row.noticed and row.owed_at >= before - timedelta(seconds=1)
        assert (row.unsent_reason, row.unsent_detail) == (None, None)
    finally:
        engine.dispose()
