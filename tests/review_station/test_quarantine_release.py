"""A device that syncs before it is enrolled: its results wait whole in quarantine, and enrolling it
(the registry call, the command line, or an ingester that reads the registry again) brings them in
through the ingester's own checks, once each, audited; what is wrong for another reason stays."""

from __future__ import annotations

import html
import json
import re
import threading
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, Integer, LargeBinary, String, Text, column, insert, select, table

from review_station import devices
from review_station.ingest import quarantine_budget
from review_station.ingest.batch import Incoming, store_batch
from review_station.ingest.release import Enrolment, Released, enrolments_releasing
from review_station.storage.database import alembic_config, make_engine, upgrade
from review_station.storage.tables import UtcDateTime, audit, quarantine, result_tallies, results
from review_station.storage.tables import devices as device_table
from review_station.web.app import LANGUAGE_COOKIE
from tests.mqtt_broker import wait_until
from tests.review_station.kit import (
    Publisher,
    counts,
    result_bytes,
    result_topic,
    running_station,
    station_config,
    waiting_on_a_lock,
)
from tests.review_station.test_cli import review
from tests.review_station.web_kit import signed_in_client, station

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
# A device's quality measures make a result longer than the 1024 bytes quarantine used to keep.
MEASURED = {"quality": {"verdict": "pass", "reasons": [], "measures": {f"measure_{i}": 0.123456 for i in range(40)}}}
# The quarantine table as migrations 0001 to 0007 left it.
QUARANTINE_0007 = table(
    "quarantine",
    column("received_at", UtcDateTime()),
    column("topic", String),
    column("reason", Text),
    column("payload_head", LargeBinary),
    column("payload_bytes", Integer),
)


def ingest(engine: Engine, *messages: tuple[str, bytes]) -> None:
    with engine.begin() as connection:
        registry = devices.active_sites(connection)
        store_batch(connection, [Incoming(topic, payload, NOW) for topic, payload in messages], registry)


def quarantined(engine: Engine) -> list[tuple[str, bytes, int, str | None]]:
    """(reason, payload kept, payload bytes, awaiting device) per entry, in arrival order."""
    columns = (quarantine.c.reason, quarantine.c.payload, quarantine.c.payload_bytes, quarantine.c.awaiting_device)
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(quarantine.c.id))]


def audited(engine: Engine, kind: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(select(audit.c.details).where(audit.c.kind == kind).order_by(audit.c.seq))
        return [json.loads(details) for (details,) in rows]


def an_unenrolled_device_synced(engine: Engine) -> tuple[list[str], bytes]:
    """dev-02 sent two results (the first twice: QoS 1 redelivery, quarantined once) and one with a
    patient's name."""
    topic = result_topic("clinic-a", "dev-02")
    first_id, first = result_bytes("dev-02", "clinic-a", payload=MEASURED)
    second_id, second = result_bytes("dev-02", "clinic-a", score=0.1)
    named = json.dumps(json.loads(second) | {"result_id": "f" * 32, "patient": "Jane Doe"}).encode()
    ingest(engine, (topic, first), (topic, first), (topic, second), (topic, named))
    return [first_id, second_id], first


def test_enrolment_releases_the_results_the_device_sent_before_once_each(engine: Engine) -> None:
    result_ids, long_result = an_unenrolled_device_synced(engine)
    assert len(long_result) > 1024
    waiting = quarantined(engine)
    assert [entry[0] for entry in waiting[:2]] == ["device dev-02 is not enrolled (or is retired)"] * 2
    assert waiting[0][1:] == (long_result, len(long_result), "dev-02")  # whole
    assert "'patient' is not allowed" in waiting[2][0] and waiting[2][3] is None
    with engine.connect() as connection:
        ids = connection.execute(select(quarantine.c.id).order_by(quarantine.c.id)).scalars().all()
        assert enrolments_releasing(connection) == {Enrolment("dev-02", "clinic-a"): ids[:2]}

    assert devices.enrol(engine, "dev-02", "clinic-a", by="admin") == Released(released=2, stored=2, kept=0)

    with engine.connect() as connection:
        stored = connection.execute(select(results.c.result_id, results.c.received_at, results.c.state)).all()
        tallied = connection.execute(select(result_tallies.c.results)).scalars().all()
        assert enrolments_releasing(connection) == {}
    assert sorted(stored) == sorted((result_id, NOW, "awaiting_review") for result_id in result_ids)
    assert sum(tallied) == 2  # the worklist counts them
    assert [entry[0] for entry in quarantined(engine)] == [waiting[2][0]]  # the malformed one stays
    released = {"devices": ["dev-02"], "released": 2, "stored": 2, "kept": 0, "by": "admin"}
    assert audited(engine, "quarantine_release") == [released]


def test_results_under_another_site_than_the_enrolment_stay_and_say_why(engine: Engine) -> None:
    ingest(engine, (result_topic("clinic-a", "dev-03"), result_bytes("dev-03", "clinic-a")[1]))
    assert devices.enrol(engine, "dev-03", "clinic-b", by="admin") == Released(released=0, stored=0, kept=1)
    [(reason, _, _, awaiting)] = quarantined(engine)
    assert reason == "device dev-03 is enrolled at clinic-b, not clinic-a" and awaiting is None
    assert counts(engine) == (0, 0, 1)


def test_a_retired_devices_results_wait_for_no_enrolment(engine: Engine) -> None:
    devices.enrol(engine, "dev-04", "clinic-a", by="admin")
    devices.retire(engine, "dev-04", by="admin")
    ingest(engine, (result_topic("clinic-a", "dev-04"), result_bytes("dev-04", "clinic-a")[1]))
    with engine.connect() as connection:
        assert enrolments_releasing(connection) == {}


def test_devices_add_tells_the_admin_what_it_released(tmp_path, engine: Engine) -> None:
    an_unenrolled_device_synced(engine)
    added = review(station_config(tmp_path, engine, 1883), "devices", "add", "dev-02", "--site", "clinic-a")
    assert added.returncode == 0, added.stderr
    expected = "enrolled dev-02 at clinic-a; 2 of its results released from quarantine"
    assert added.stdout.strip() == expected
    assert counts(engine) == (2, 2, 1)


def test_the_quarantine_page_says_which_enrolment_releases_what_and_the_dashboard_counts_it(engine: Engine) -> None:
    an_unenrolled_device_synced(engine)
    admin = signed_in_client(engine, station(), "root", "admin")
    page = admin.get("/quarantine").text
    assert "<code>edgescreen-review devices add dev-02 --site clinic-a</code>" in page
    assert page.count("enrolling <bdi>dev-02</bdi> at <bdi>clinic-a</bdi>") == 2
    assert page.count("nothing: it stays") == 1
    dashboard = admin.get("/dashboard").text
    assert "3 refused messages, 2 of them results from devices not enrolled here" in dashboard
    reviewer = signed_in_client(engine, station(), "ana", "reviewer")
    assert "refused messages" not in reviewer.get("/dashboard").text  # the quarantine is the admins'


def test_the_dashboard_counts_one_refused_message_in_the_singular_in_both_languages(engine: Engine) -> None:
    """One result of an unenrolled device in quarantine: the dashboard said "1 refused messages, 1 of
    them results from devices" ("1 messages refusés, dont 1 résultats" in French)."""
    ingest(engine, (result_topic("clinic-a", "dev-02"), result_bytes("dev-02", "clinic-a")[1]))
    admin = signed_in_client(engine, station(), "root", "admin")
    said = {
        "en": "1 refused message, 1 of them a result from a device not enrolled here, which enrolling it releases.",
        "fr": "1 message refusé, dont 1 résultat d'un appareil non enrôlé ici, que son enrôlement libère.",
    }
    for language, sentence in said.items():
        admin.cookies.set(LANGUAGE_COOKIE, language)
        shown = re.search(r'<p id="quarantined">(.*?)</p>', admin.get("/dashboard").text).group(1)  # type: ignore[union-attr]
        assert html.unescape(re.sub(r"<[^>]+>", "", shown)).endswith(sentence), shown


def test_a_running_ingester_releases_what_it_quarantined_on_the_registry_it_read_before(tmp_path, engine) -> None:
    """An enrolment releases what is quarantined when it commits; a result an ingester quarantines
    just after, on its older copy of the registry, is released when that ingester reads it again.
    Here the device row is written without ``enrol``: an enrolment whose release ran before then."""
    with running_station(tmp_path, engine) as running:
        running.start_ingester()
        publisher = Publisher(running.broker.port)
        running.at_the_end(publisher.close)
        publisher.publish_all([(result_topic("clinic-a", "dev-02"), result_bytes("dev-02", "clinic-a")[1])])
        wait_until(lambda: counts(engine) == (0, 0, 1), 30, "the result in quarantine")
        with engine.begin() as connection:
            connection.execute(insert(device_table).values(device_id="dev-02", site_id="clinic-a", enrolled_at=NOW))

        # The ingester reads its registry again at its first batch once its copy is ``REGISTRY_SECONDS``
        # old: a status message each round is a next batch, until one is stored on a fresh copy.
        def released() -> bool:
            publisher.publish_all([("edgescreen/v1/clinic-a/dev-02/status", b"online")])
            return counts(engine) == (1, 1, 0)

        wait_until(released, 30, "the result released by the ingester")
        assert audited(engine, "quarantine_release")[0]["by"] == "ingester"


def test_the_migration_marks_whole_results_quarantined_before_it(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0007")
        topic = result_topic("clinic-a", "dev-02")
        short_id, short = result_bytes("dev-02", "clinic-a")
        _, long = result_bytes("dev-02", "clinic-a", payload=MEASURED)
        reason = "device dev-02 is not enrolled (or is retired)"
        old_rows = [
            {"topic": topic, "reason": reason, "payload_head": short, "payload_bytes": len(short)},
            {"topic": topic, "reason": reason, "payload_head": long[:1024], "payload_bytes": len(long)},  # cut
            {"topic": topic, "reason": "invalid result: ...", "payload_head": short, "payload_bytes": len(short)},
        ]
        with engine.begin() as connection:
            connection.execute(insert(QUARANTINE_0007), [row | {"received_at": NOW} for row in old_rows])
        upgrade(engine)
        assert [entry[3] for entry in quarantined(engine)] == ["dev-02", None, None]
        assert devices.enrol(engine, "dev-02", "clinic-a", by="admin") == Released(released=1, stored=1, kept=0)
        with engine.connect() as connection:
            assert connection.execute(select(results.c.result_id)).scalar_one() == short_id
    finally:
        engine.dispose()


def test_a_device_not_enrolled_has_a_bounded_room_kept_whole(engine, monkeypatch) -> None:
    """A retired device's certificate (until it is revoked) flooding valid results: past its device's
    room a result is kept cut, like any refusal, and the enrolment releases only those kept whole."""
    topic = result_topic("clinic-a", "dev-02")
    sent = [result_bytes("dev-02", "clinic-a") for _ in range(5)]
    monkeypatch.setattr(quarantine_budget, "WHOLE_BYTES_PER_DEVICE", 3 * len(sent[0][1]))
    ingest(engine, *((topic, payload) for _, payload in sent[:4]))  # 3 fit, in one batch
    ingest(engine, (topic, sent[4][1]))  # and in the next, the room counted from the table
    kept = quarantined(engine)
    assert [awaiting for _, _, _, awaiting in kept] == ["dev-02"] * 3 + [None] * 2
    assert all(
        len(payload) <= 1024 and reason.endswith(quarantine_budget.OVER_BUDGET) for reason, payload, _, _ in kept[3:]
    )
    assert devices.enrol(engine, "dev-02", "clinic-a", by="test").stored == 3
    assert counts(engine) == (3, 3, 2)


def test_two_enrolments_of_one_device_at_once_refuse_the_second_as_enrolled_already(engine: Engine) -> None:
    """``devices add`` looked for the id, then inserted it: a second enrolment of the same id, inserting
    while the first had not committed, ended on the registry's unique key (an IntegrityError traceback
    at the console) instead of the refusal an id enrolled before gets. Here the first is held open."""
    refused: list[Exception] = []

    def enrol_again() -> None:
        try:
            devices.enrol(engine, "cam-01", "site-b", by="test")
        except Exception as error:
            refused.append(error)

    second = threading.Thread(target=enrol_again)
    with engine.begin() as connection:  # the first enrolment, half way: its row inserted, not committed
        connection.execute(insert(device_table).values(device_id="cam-01", site_id="site-a", enrolled_at=NOW))
        second.start()
        wait_until(lambda: waiting_on_a_lock(engine), 10, "the second enrolment to wait for the first")
    second.join(30)
    [error] = refused
    assert isinstance(error, devices.DeviceError) and error.sentence_key == "device.refused.enrolled", error
