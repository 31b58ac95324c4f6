"""Erasing a result at the station on request: it and everything held of it go, in one transaction,
the worklist's counts follow, and the audit keeps only the ids."""

from __future__ import annotations

import html
import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event, func, select

from edgescreen_wire.erasure import ErasureRequest
from edgescreen_wire.result import MAX_RESULT_BYTES
from review_station import contrary, devices
from review_station.erasure import ANY_DEVICE, Erased, erase_for_device, erase_results
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import (
    audit,
    contrary_reads,
    deliveries,
    erased_results,
    images,
    reads,
    result_tallies,
    results,
)
from review_station.words import say
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
from tests.review_station.web_kit import add_results, csrf_of, hold_photo, signed_in_client, station

READ = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent", "comment": "Dr X"}


def held(engine: Engine, result_id: str) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                select(func.count()).select_from(table).where(table.c.result_id == result_id)
            ).scalar_one()
            for table in (results, reads, deliveries, images, contrary_reads)
        }


def test_a_result_is_erased_with_all_the_station_holds_of_it(tmp_path, engine: Engine) -> None:
    erased, kept = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    client = signed_in_client(engine, station(), "cleo", "coordinator")
    for result_id in (erased, kept):
        answer = client.post(f"/results/{result_id}/reads", data={**READ, "csrf": csrf_of(client)})
        assert answer.status_code == 303
    hold_photo(engine, erased, b"sealed photo")
    with engine.begin() as connection:
        standing = connection.execute(select(reads.c.review_id).where(reads.c.result_id == erased)).scalar_one()
        read = {"verdict": "no_refer", "urgency": "routine", "icdr_grade": "none", "maculopathy": "absent"}
        contrary.keep(connection, erased, 1, read | {"diagnosis": None, "comment": None}, standing)
    assert held(engine, erased) == {"results": 1, "reads": 1, "deliveries": 1, "images": 1, "contrary_reads": 1}
    assert "2 results" in client.get("/").text

    config = station_config(tmp_path, engine, 1883)
    unknown = "0" * 32
    done = review(config, "results", "erase", erased, unknown)
    assert done.returncode == 1 and "erased 1 result with its reads" in done.stdout
    assert "no such result here" in done.stdout
    assert held(engine, erased) == dict.fromkeys(("results", "reads", "deliveries", "images", "contrary_reads"), 0)
    assert held(engine, kept)["reads"] == 1
    assert "1 result<" in client.get("/").text  # the worklist's counts (result_tallies) follow
    shown = client.get(f"/results/{erased}")  # nothing of it shown: only that it was erased
    assert shown.status_code == 410 and "Model score" not in shown.text
    with engine.connect() as connection:
        [event] = connection.execute(select(audit.c.details).where(audit.c.kind == "result_erased")).scalars()
    assert json.loads(event) == {"results": [erased], "by": "cli"}
    with engine.connect() as connection:  # a copy still on its way will not bring it back
        stones = set(connection.execute(select(erased_results)).all())
    assert stones == {(erased, ANY_DEVICE), (unknown, ANY_DEVICE)}  # the unknown one, should it come
    assert review(config, "audit", "verify").returncode == 0


def test_the_administrators_erasure_writes_each_tombstone_once(engine: Engine) -> None:
    """``erase_in`` tombstoned the results it erased for their device, then ``erase_results`` wrote
    every named id's again, for any device: the erased ones twice in one transaction."""
    erased, again = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    with engine.begin() as connection:
        erase_for_device(connection, ErasureRequest("cam-01", (again,)))  # its tombstone: for cam-01
    unknown = "0" * 32
    written: list[object] = []

    def keep_tombstones(connection, cursor, statement: str, parameters: object, *_: object) -> None:
        if statement.startswith("INSERT INTO erased_results"):
            written.append(parameters)

    event.listen(engine, "before_cursor_execute", keep_tombstones)
    try:
        done = erase_results(engine, [erased, again, unknown], "cli")
    finally:
        event.remove(engine, "before_cursor_execute", keep_tombstones)
    assert (done.erased, done.already, done.unknown) == ([erased], [again], [unknown])
    assert len(written) == 1, written  # before: 2, the erased result's tombstone in both
    with engine.connect() as connection:
        stones = set(connection.execute(select(erased_results)).all())
    assert stones == {(erased, ANY_DEVICE), (again, ANY_DEVICE), (unknown, ANY_DEVICE)}


def test_erasing_again_says_erased_already_and_succeeds_apart_from_ids_never_here(tmp_path, engine: Engine) -> None:
    """The device's erase gives its administrator the ids (for a station older than the request): run
    after the device's request, or twice, the command says they were erased already and succeeds,
    instead of the failure an id never received gets (that one may still arrive)."""
    [erased] = add_results(engine, "cam-01", "site-a", [0.9])
    config = station_config(tmp_path, engine, 1883)
    assert review(config, "results", "erase", erased).returncode == 0
    again = review(config, "results", "erase", erased)
    assert again.returncode == 0, again.stdout
    assert (
        f"erased already, or refused when it arrives: {erased}" in again.stdout and "no such result" not in again.stdout
    )
    never = "0" * 32
    mixed = review(config, "results", "erase", erased, never)
    assert mixed.returncode == 1
    assert (
        f"erased already, or refused when it arrives: {erased}" in mixed.stdout
        and f"(not received yet, or mistyped; refused if it arrives): {never}" in mixed.stdout
    )
    with engine.connect() as connection:
        kinds = connection.execute(select(audit.c.kind).where(audit.c.kind == "result_erased")).scalars().all()
    assert len(kinds) == 1  # nothing erased again, nothing audited again


def test_a_result_the_administrator_erased_before_it_arrived_is_refused_when_it_comes(tmp_path, engine: Engine):
    """A device older than the erasure request, on a campaign whose bridge holds its results for days:
    the administrator runs the ids its erase gave before they reach the station. They are not here yet,
    and the command says so; when they come, they are not stored."""
    devices.enrol(engine, "cam-01", "site-a", by="test")
    late, late_payload = result_bytes("cam-01", "site-a")
    config = station_config(tmp_path, engine, 1883)
    early = review(config, "results", "erase", late)
    assert early.returncode == 1 and f"refused if it arrives): {late}" in early.stdout, early.stdout
    with running_station(tmp_path, engine) as running:
        ingester = running.start_ingester()
        device = Publisher(running.broker.port)
        running.at_the_end(device.close)
        device.publish_all([(result_topic("site-a", "cam-01"), late_payload)])
        wait_until(lambda: ingester.ingester.totals.erased_before == 1, 30, "the late copy refused")
        assert counts(engine) == (0, 0, 0)


def test_two_ingesters_carrying_out_one_request_at_once_erase_and_count_it_once(engine: Engine) -> None:
    """Every ingester receives every message (plain subscriptions), so two carry out a device's request
    at the same moment. The second waits for the first's deletion, then must find nothing left: the
    worklist's counts lose the result once, and one erasure is audited."""
    erased, kept = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    request = ErasureRequest("cam-01", (erased,))
    first = engine.connect()
    transaction = first.begin()
    erase_for_device(first, request)
    second: list[Erased] = []
    waiting = threading.Thread(target=lambda: second.append(_carried_out(engine, request)))
    waiting.start()
    waiting.join(1.0)  # on PostgreSQL it waits for the first's row locks; SQLite's single writer too
    transaction.commit()
    first.close()
    waiting.join(30)
    assert second and second[0].erased == []
    with engine.connect() as connection:
        tallied = connection.execute(select(func.sum(result_tallies.c.results))).scalar_one()
        events = connection.execute(select(audit.c.kind).where(audit.c.kind == "result_erased")).scalars().all()
    assert (tallied, len(events)) == (1, 1)
    assert held(engine, kept)["results"] == 1


def _carried_out(engine: Engine, request: ErasureRequest) -> Erased:
    with engine.begin() as connection:
        return erase_for_device(connection, request)


def test_an_erasure_run_while_an_ingester_stores_the_same_result_leaves_it_erased(engine: Engine) -> None:
    """The order that left an erased result stored: the ingester reads the tombstones (none), the
    administrator's ``results erase`` finds no result, tombstones the id and commits, then the ingester
    stores the result. The erasure now waits for the store's commit, and erases what it stored."""
    devices.enrol(engine, "cam-01", "site-a", by="test")
    result_id, payload = result_bytes("cam-01", "site-a")
    message = Incoming(result_topic("site-a", "cam-01"), payload, datetime.now(UTC))
    erased: list[Erased] = []
    erasing = threading.Thread(target=lambda: erased.append(erase_results(engine, [result_id], "cli")))

    def erase_before_the_insert(connection, cursor, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO results") and not erasing.is_alive() and not erased:
            erasing.start()
            erasing.join(2.0)  # before: done at once; now: it waits for this transaction's commit

    with engine.connect() as storing:
        event.listen(storing, "before_cursor_execute", erase_before_the_insert)
        with storing.begin():
            assert store_batch(storing, [message], {"cam-01": "site-a"}).stored == 1
    erasing.join(30)
    assert erased and erased[0].erased == [result_id]
    assert held(engine, result_id)["results"] == 0


@pytest.mark.parametrize(
    ("landing", "at", "status"),
    [
        # As the read is written: the erasure waits for it, then takes it.
        ("before_cursor_execute", "INSERT INTO reads", 303),
        # After the page checked the result was there, before the read looks at it: the read is refused.
        ("after_cursor_execute", "SELECT results.site_id", 410),
    ],
)
def test_a_read_posted_as_its_result_is_erased_ends_on_the_erased_page(
    engine: Engine, landing: str, at: str, status: int
) -> None:
    """A device's erasure carried out as a reader's read is saved. Landing between the read's look at the
    result and its insert, SQLite refused the read's insert (FOREIGN KEY) and the reader got the 500
    "database failed" page; on PostgreSQL the erasure waited for the read's row lock, then its DELETE
    of the result failed on the read committed meanwhile, and the ingester retried the batch as if the
    database were down. Now the two wait for each other, whichever comes first: the erasure takes the
    read too, and the reader is told the result was erased (410), as anywhere else."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    csrf = csrf_of(client, f"/results/{result_id}")
    erased: list[Erased] = []
    request = ErasureRequest("cam-01", (result_id,))
    erasing = threading.Thread(target=lambda: erased.append(_carried_out(engine, request)))

    def erase_there(connection, cursor, statement: str, *_: object) -> None:
        if statement.startswith(at) and not erasing.is_alive() and not erased:
            erasing.start()
            erasing.join(2.0)  # done at once, or waiting for the read to commit

    event.listen(engine, landing, erase_there)
    try:
        posted = client.post(f"/results/{result_id}/reads", data={**READ, "csrf": csrf})
    finally:
        event.remove(engine, landing, erase_there)
    erasing.join(30)
    erased_page = say("error.erased_result", "en")
    assert posted.status_code == status and (status == 303 or erased_page in html.unescape(posted.text))
    shown = client.get(f"/results/{result_id}")  # where a saved read leads the reader
    assert shown.status_code == 410 and erased_page in html.unescape(shown.text)
    assert erased and erased[0].erased == [result_id]
    assert held(engine, result_id) == dict.fromkeys(("results", "reads", "deliveries", "images", "contrary_reads"), 0)


def test_an_enrolment_and_an_administrators_erasure_at_once_both_commit(engine: Engine) -> None:
    """An enrolment writes its audit event, then releases the device's quarantined results, which
    holds off erasures; the administrator's erasure holds them off first, then writes its audit event.
    Taken in those two orders, PostgreSQL found a deadlock and aborted one of the two."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    erased: list[Erased] = []
    erasing = threading.Thread(target=lambda: erased.append(erase_results(engine, [result_id], "cli")))

    def erase_while_enrolling(connection, cursor, statement: str, *_: object) -> None:
        audited = statement.startswith("INSERT INTO audit")
        if audited and threading.current_thread() is threading.main_thread() and not erasing.is_alive():
            erasing.start()
            wait_until(lambda: waiting_on_a_lock(engine), 10, "the erasure waiting for the enrolment")

    event.listen(engine, "before_cursor_execute", erase_while_enrolling)
    try:
        devices.enrol(engine, "cam-02", "site-a", by="test")
    finally:
        event.remove(engine, "before_cursor_execute", erase_while_enrolling)
    erasing.join(30)
    assert erased and erased[0].erased == [result_id]


def test_a_copy_arriving_after_the_administrators_erasure_is_not_quarantined_whoever_files_it(engine: Engine) -> None:
    """The administrator's ``results erase`` takes every copy the station holds, whoever filed it; a
    copy arriving after it on another device's topic (refused: a device may only file its own results)
    was quarantined, holding the erased patient's result until the quarantine was cleared."""
    registry = {"cam-01": "site-a", "cam-02": "site-a"}
    for device in registry:
        devices.enrol(engine, device, "site-a", by="test")
    result_id, payload = result_bytes("cam-01", "site-a")
    with engine.begin() as connection:
        store_batch(connection, [Incoming(result_topic("site-a", "cam-01"), payload, datetime.now(UTC))], registry)
    assert erase_results(engine, [result_id], "cli").erased == [result_id]
    elsewhere = Incoming(result_topic("site-a", "cam-02"), payload, datetime.now(UTC))
    with engine.begin() as connection:
        assert store_batch(connection, [elsewhere], registry).erased_before == 1
    assert counts(engine) == (0, 0, 0)


def test_an_erasure_takes_a_copy_refused_as_too_long_or_not_json(engine: Engine) -> None:
    """A copy the station cannot decode (over ``MAX_RESULT_BYTES``, or cut short on its way) is still
    the patient's result, its id in the bytes quarantine keeps: migration 0024 found such an id in the
    entries kept before it, the ingester kept none, and the patient's erasure left the copy."""
    registry = {"cam-01": "site-a"}
    devices.enrol(engine, "cam-01", "site-a", by="test")
    result_id, payload = result_bytes("cam-01", "site-a")
    topic = result_topic("site-a", "cam-01")
    too_long = payload[:-1] + b',"padding":"' + b"x" * MAX_RESULT_BYTES + b'"}'
    with engine.begin() as connection:
        copies = [Incoming(topic, body, datetime.now(UTC)) for body in (payload, too_long, payload[:-20])]
        assert store_batch(connection, copies, registry).quarantined == 2
    assert erase_results(engine, [result_id], "cli").erased == [result_id]
    assert counts(engine) == (0, 0, 0)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_results_erase_says_it_erased_a_copy_held_only_in_quarantine(tmp_path, engine: Engine, language) -> None:
    """A result held only in quarantine (its device not enrolled yet): the command erased the copy and
    audited it, yet said "no such result here (not received yet, or mistyped)" and exited 1, sending
    the administrator to check an id that was right. It says the quarantined copy was erased."""
    result_id, payload = result_bytes("cam-09", "site-a")
    with engine.begin() as connection:
        incoming = Incoming(result_topic("site-a", "cam-09"), payload, datetime.now(UTC))
        assert store_batch(connection, [incoming], {}).quarantined == 1
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    done = review(config, "results", "erase", result_id)
    said = say("cli.results_quarantine_erased", language, results=result_id)
    assert (done.returncode, done.stdout) == (0, f"{said}\n")
    assert counts(engine) == (0, 0, 0)
