"""The worklist's tallies always equal a count of the results themselves: after ingest (duplicates
included), after reads move results between states, and after the migration that creates them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, func, insert, select

from edgescreen_wire.result import encode_result
from review_station import accounts
from review_station.ingest.classify import result_row
from review_station.storage import tallies
from review_station.storage.database import alembic_config, make_engine, upgrade
from review_station.storage.tables import result_tallies, results
from review_station.web.worklist import Filters, worklist_page
from tests.review_station.kit import result_bytes, result_topic, stored_at
from tests.review_station.test_not_photographed_in_chromium import not_photographed_document
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, signed_in_client, station

DAY = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # on or after the project start
UNGRADABLE = {"triage": "ungradable", "score": None, "threshold": None, "quality": None}


def counted_from_results(engine: Engine) -> dict[tuple[object, ...], int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(results.c.site_id, results.c.device_id, results.c.triage, results.c.state, results.c.dated_at)
        ).all()
    counted: dict[tuple[object, ...], int] = {}
    for site, device, triage, state, dated_at in rows:
        key = (site, device, triage, state, dated_at.astimezone(UTC).date())
        counted[key] = counted.get(key, 0) + 1
    return counted


def tallied(engine: Engine) -> dict[tuple[object, ...], int]:
    tally = result_tallies.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(tally.site_id, tally.device_id, tally.triage, tally.state, tally.dated_on, tally.results)
        ).all()
    return {tuple(row[:-1]): row[-1] for row in rows if row[-1]}


def test_tallies_follow_ingest_and_reads_and_give_the_worklist_its_counts(engine: Engine) -> None:
    refer = add_results(engine, "cam-01", "site-a", [0.9, 0.8], captured_at=DAY)
    add_results(engine, "cam-01", "site-a", [0.1], captured_at=DAY + timedelta(hours=1))  # the next UTC day
    add_results(engine, "cam-02", "site-b", [0.5], captured_at=DAY, payload=UNGRADABLE)
    # The same results again (a device resending, QoS 1 redelivery): counted once.
    add_results(engine, "cam-01", "site-a", [0.9], captured_at=DAY, payload={"result_id": refer[0]})
    client = signed_in_client(engine, station(), "ana", "reviewer")
    form = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
    csrf = csrf_of(client, f"/results/{refer[0]}")
    assert client.post(f"/results/{refer[0]}/reads", data={**form, "csrf": csrf}).status_code == 303
    assert tallied(engine) == counted_from_results(engine) and sum(tallied(engine).values()) == 4
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    with engine.connect() as connection:
        everything = worklist_page(connection, Filters(), 1, 10, ana)
        site_a_day = worklist_page(connection, Filters(site="site-a", captured_to="2026-11-29"), 1, 10, ana)
    assert everything.total == 4 and everything.counts["state"] == {"reviewed": 1, "awaiting_review": 3}
    assert site_a_day.total == 2 and site_a_day.counts["triage"] == {"refer": 2}
    assert {row.result_id for row in site_a_day.rows} == set(refer)


def test_the_migration_counts_the_results_already_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0005")
        registry = {"cam-01": "site-a"}
        with engine.begin() as connection:
            for hours in (0, 1, 2):
                _, payload = result_bytes("cam-01", "site-a", captured_at=DAY + timedelta(hours=hours))
                row = result_row(result_topic("site-a", "cam-01"), payload, registry, DAY)
                connection.execute(insert(results).values(stored_at("0005", row)))
        upgrade(engine)
        assert tallied(engine) == counted_from_results(engine)
        with engine.connect() as connection:
            assert connection.execute(select(func.sum(result_tallies.c.results))).scalar_one() == 3
    finally:
        engine.dispose()


def _qualities(engine: Engine) -> tuple[dict[str, str], dict[str, int]]:
    """Each result's stored quality, and the results the tallies count per quality."""
    with engine.connect() as connection:
        stored = dict(connection.execute(select(results.c.result_id, results.c.quality_verdict)).all())
        counted = connection.execute(
            select(result_tallies.c.quality_verdict, func.sum(result_tallies.c.results)).group_by(
                result_tallies.c.quality_verdict
            )
        ).all()
    return stored, {quality: int(n) for quality, n in counted if n}


def _stored_before_0022(engine: Engine, documents: list[dict[str, Any]]) -> None:
    """A station at migration 0021 holding ``documents`` (cam-01's, of site-a), ungradable ones stored
    with the device's verdict ``reject``, as the station stored them before ``classify.quality_verdict``."""
    command.upgrade(alembic_config(engine), "0021")
    registry = {"cam-01": "site-a"}
    with engine.begin() as connection:
        rows = [
            result_row(result_topic("site-a", "cam-01"), encode_result(document), registry, DAY)
            | {"quality_verdict": "reject"}
            for document in documents
        ]
        connection.execute(insert(results), [stored_at("0021", row) for row in rows])
        tallies.add(connection, rows)


def test_the_migration_files_an_eye_not_photographed_under_a_quality_of_its_own(database_url: str) -> None:
    """A station's results of an eye not photographed, stored with the device's verdict ``reject`` before
    ``classify.quality_verdict``, get ``not_photographed`` (the worklist's filter lists them apart from
    the photos the gate refused), their tallies with them; a downgrade gives them ``reject`` back."""
    engine = make_engine(database_url)
    try:
        refused = dict(UNGRADABLE, quality={"verdict": "reject", "reasons": ["blur"], "measures": {}})
        documents = [not_photographed_document(), json.loads(result_bytes("cam-01", "site-a", payload=refused)[1])]
        _stored_before_0022(engine, documents)
        upgrade(engine)
        unphotographed, gate_refused = (document["result_id"] for document in documents)
        assert _qualities(engine) == (
            {unphotographed: "not_photographed", gate_refused: "reject"},
            {"not_photographed": 1, "reject": 1},
        )
        command.downgrade(alembic_config(engine), "0021")
        assert _qualities(engine) == ({unphotographed: "reject", gate_refused: "reject"}, {"reject": 2})
    finally:
        engine.dispose()


def test_the_migration_reads_the_results_to_move_a_page_at_a_time(database_url: str) -> None:
    """On main 0022 read every ungradable "reject" result, with its payload, in one query: a big station's
    upgrade held them all in memory at once. Now it reads them ``BATCH`` at a time, and moves them all."""
    engine = make_engine(database_url)
    read: list[str] = []

    def seen(connection: object, cursor: object, statement: str, *rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "results.payload" in statement:
            read.append(statement)

    try:
        batch = ScriptDirectory.from_config(alembic_config(engine)).get_revision("0022").module.BATCH
        documents = [not_photographed_document() for _ in range(2 * batch + 1)]
        _stored_before_0022(engine, documents)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            upgrade(engine)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert len(read) == 3 and all("LIMIT" in statement.upper() for statement in read), read
        assert _qualities(engine) == (
            {document["result_id"]: "not_photographed" for document in documents},
            {"not_photographed": len(documents)},
        )
    finally:
        engine.dispose()
