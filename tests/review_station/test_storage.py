"""The schema: Alembic builds it on both databases, it matches the tables the code uses, and it migrates once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from review_station.ingest.classify import result_row
from review_station.storage.database import DatabaseError, alembic_config, make_engine, open_database, upgrade
from review_station.storage.tables import devices, metadata, results
from tests.review_station.kit import result_bytes, result_topic


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
        added_since = ("lesion_diameter_mm", "skin_tone", "operating_point", "quality_reference", "queue_rank")
        with engine.begin() as connection:
            connection.execute(insert(results).values({k: v for k, v in row.items() if k not in added_since}))
        upgrade(engine)
        with engine.connect() as connection:
            migrated = connection.execute(select(results)).one()
        assert migrated.result_id == row["result_id"] and migrated.skin_tone is None and migrated.queue_rank == 0
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
                del row["queue_rank"]  # added by 0009
                connection.execute(insert(results).values(row | {"state": state}))
        upgrade(engine)
        with engine.connect() as connection:
            ranked = connection.execute(select(results.c.state, results.c.queue_rank).order_by(results.c.state))
            assert ranked.all() == [("awaiting_review", 0), ("disagreement", 0), ("reviewed", 1)]
    finally:
        engine.dispose()
