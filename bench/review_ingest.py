"""Review-station ingest throughput against a bare paho subscriber, and the worklist's server time.

Ingest: a local mosquitto holds ``--results`` result payloads queued for the consumers' persistent
sessions (each consumer connects once to create its session, then goes away while the results are
published), then the consumers come back and drain them. The rate is results over the time from the
first to the last one received. Consumers:
 - bare: one paho (MQTT 5) client on the same subscription that does nothing but count;
 - the real ingester (``edgescreen-review ingest`` processes: validation, registry check, batch insert,
   acknowledgement after commit), one and two of them, into SQLite and into a real PostgreSQL.
The ratio ingester/bare is what the design aims to keep at 0.5 or more (one ingester, PostgreSQL).
Each ingester receives every result (a plain subscription: ``ingest/ingester.py``), so two of them do
the work twice: besides the rate at which results are stored, the bench prints the ingesters' CPU time
per 1,000 results and how long until every ingester had taken every result (its CPU time settled).

Worklist: ``--worklist`` results (100,000 by default) in each database, then the median server time of
the worklist page (the app in-process through Starlette's TestClient: query, counts and rendering),
for the default view and three filtered ones; the aim is 200 ms or less. Then a coordinator's default
view, whose head counts the disagreements awaiting them (a tenth of the results here), against the same
page without that count (the app made with ``count_disagreements=False``, whose worklist leaves the
count and its query out), the two timed in turn in the same run so the machine's load weighs on both
alike: the ratio is what the count costs.

    .venv/bin/python bench/review_ingest.py [--results 20000] [--worklist 100000]

``--results 0`` or ``--worklist 0`` leaves that half out.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, func, insert, select, text  # noqa: E402

from review_station import accounts, devices  # noqa: E402
from review_station.ingest.classify import result_row  # noqa: E402
from review_station.ingest.ingester import subscriptions  # noqa: E402
from review_station.storage import tallies  # noqa: E402
from review_station.storage.database import open_database  # noqa: E402
from review_station.storage.tables import queue_rank_of, results  # noqa: E402
from review_station.web.app import create_app  # noqa: E402
from tests.mqtt_broker import stop_network_loop, wait_until  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tests.review_station.kit import (  # noqa: E402
    Publisher,
    connected_ingester,
    result_bytes,
    result_topic,
    review_process,
    roomy_broker,
    station_config,
)
from tests.review_station.web_kit import PASSWORD, sign_in, station  # noqa: E402

SITES = [("site-a", "cam-01"), ("site-a", "cam-02"), ("site-b", "cam-03"), ("site-b", "cam-04")]
STATES_SEEN = ("reviewed",) * 6 + ("awaiting_review",) * 2 + ("awaiting_second_read", "disagreement")


def queued_results(count: int) -> list[tuple[str, bytes]]:
    return [
        (result_topic(site, device), result_bytes(device, site)[1]) for _ in range(count // 4) for site, device in SITES
    ]


def bare_rate(directory: Path, messages: list[tuple[str, bytes]]) -> float:
    broker = roomy_broker(directory / "bare-broker").start()
    times: list[float] = []
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bare", protocol=mqtt.MQTTv5)
    client.on_connect = lambda c, u, f, r, p: c.subscribe(subscriptions()[:1])
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda c, u, m: times.append(time.monotonic())
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    try:
        client.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
        client.loop_start()
        assert subscribed.wait(10)
        client.disconnect()
        stop_network_loop(client)
        publisher = Publisher(broker.port)
        publisher.publish_all(messages)
        publisher.close()
        client.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
        client.loop_start()
        wait_until(lambda: len(times) >= len(messages), 300, "the bare subscriber")
        client.disconnect()
        stop_network_loop(client)
    finally:
        broker.stop()
    return (len(times) - 1) / (times[-1] - times[0])


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def settled_cpu(pids: list[int]) -> float:
    """The processes' CPU time once they are idle (under 50 ms of CPU in a second): each has taken every
    result queued for it, the copies another ingester stored first included."""
    before = cpu_seconds(pids)
    while True:
        time.sleep(1.0)
        now = cpu_seconds(pids)
        if now - before < 0.05:
            return now
        before = now


def ingester_rate(
    directory: Path, engine: Engine, messages: list[tuple[str, bytes]], ingesters: int
) -> tuple[float, float, float]:
    """(results stored per second, the ingesters' CPU seconds per 1,000 results, seconds from the
    start until every ingester was idle again)."""
    for site, device in SITES:
        devices.enrol(engine, device, site, by="bench")
    broker = roomy_broker(directory / "broker").start()
    configs = [
        station_config(directory / f"ingester-{n}", engine, broker.port, f'client_id = "bench-{n}"\n')
        for n in range(ingesters)
    ]
    try:
        for n, config in enumerate(configs):  # create each persistent session, then leave
            process = connected_ingester(config, directory / f"ingest-{n}.log")
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        publisher = Publisher(broker.port)
        publisher.publish_all(messages)
        publisher.close()
        # all of them at once: the rate is measured from the first result received to the last
        logs = [directory / f"ingest-{n}.log" for n in range(ingesters)]
        began = time.monotonic()
        processes = [
            review_process(config, "ingest", stderr=log.open("a")) for config, log in zip(configs, logs, strict=True)
        ]
        at_start = cpu_seconds([process.pid for process in processes])

        def stored() -> int:
            with engine.connect() as connection:
                return connection.execute(select(func.count()).select_from(results)).scalar_one()

        wait_until(lambda: stored() >= len(messages), 600, "the ingesters")
        cpu = settled_cpu([process.pid for process in processes]) - at_start
        drained_s = time.monotonic() - began - 1.0  # less the idle second that showed it
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        with engine.connect() as connection:
            first, last = connection.execute(
                select(func.min(results.c.received_at), func.max(results.c.received_at))
            ).one()
    finally:
        broker.stop()
    return (len(messages) - 1) / (last - first).total_seconds(), cpu * 1000 / len(messages), drained_s


def fill_worklist(engine: Engine, count: int) -> None:
    """``count`` results spread over sites, devices, triages and 90 days, written in bulk."""
    templates = []
    for site, device in SITES:
        for payload in ({}, {"triage": "ungradable", "score": None, "threshold": None}):
            for score in (0.9, 0.1):
                for verdict in ("good", "usable", "reject"):
                    quality = {"quality": {"verdict": verdict, "reasons": [], "measures": {"sharpness": 0.8}}}
                    _, raw = result_bytes(device, site, score=score, payload=payload | quality)
                    templates.append(json.loads(raw))
    registry = {device: site for site, device in SITES}
    # From the project's first day (an earlier capture time is not trusted: review_station.dating), each
    # received an hour after its capture, so the 90 days stay 90 days of the station's time.
    start = datetime(2026, 11, 29, tzinfo=UTC)
    chunk = []
    for index in range(count):
        document = dict(templates[index % len(templates)])
        document["result_id"] = uuid.uuid4().hex
        captured = start + timedelta(minutes=index * 90 * 24 * 60 // count)
        document["captured_at"] = captured.strftime("%Y-%m-%dT%H:%M:%SZ")
        topic = result_topic(document["site_id"], document["device_id"])
        row = result_row(topic, json.dumps(document).encode(), registry, captured + timedelta(hours=1))
        # Most results of a station in use have been read; some wait for a second read or adjudication.
        state = STATES_SEEN[index % len(STATES_SEEN)]
        chunk.append(row | {"state": state, "queue_rank": queue_rank_of(state)})
        if len(chunk) == 5000 or index == count - 1:
            with engine.begin() as connection:
                connection.execute(insert(results), chunk)
                tallies.add(connection, chunk)
            chunk = []
    if engine.dialect.name == "postgresql":
        # What autovacuum does on a server in use; just after a bulk load the planner has no statistics
        # and index-only scans still visit the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE results"))


SAMPLES = 15  # page loads timed per view; the median is printed


def client_of(engine: Engine, username: str, count_disagreements: bool = True) -> TestClient:
    """A client of the app (``count_disagreements``: ``create_app``'s), signed in as ``username``."""
    client = TestClient(create_app(station(), engine, count_disagreements), follow_redirects=False)
    sign_in(client, username, PASSWORD)
    return client


def signed_in(engine: Engine, username: str, role: str) -> TestClient:
    accounts.add_user(engine, username, PASSWORD, role, by="bench")
    return client_of(engine, username)


def page_ms(client: TestClient, path: str) -> float:
    begin = time.perf_counter()
    assert client.get(path).status_code == 200
    return (time.perf_counter() - begin) * 1000


def worklist_ms(engine: Engine) -> dict[str, float]:
    """A reader's median page time per view."""
    client = signed_in(engine, "bench", "reviewer")
    timings = {}
    for label, path in (
        ("default view", "/"),
        ("site-b, refer", "/?site=site-b&triage=refer"),
        ("cam-04, usable, awaiting review", "/?device=cam-04&quality=usable&state=awaiting_review"),
        ("January, page 40", "/?captured_from=2027-01-01&captured_to=2027-01-31&page=40"),
    ):
        timings[label] = statistics.median(page_ms(client, path) for _ in range(SAMPLES))
    return timings


def disagreements_ms(engine: Engine) -> tuple[float, float]:
    """A coordinator's median default view (ms) with the disagreement count, and without it."""
    counting = signed_in(engine, "bench-coordinator", "coordinator")
    uncounted = client_of(engine, "bench-coordinator", count_disagreements=False)
    # The page the count is left out of shows none, so the two pages are what they say.
    assert "disagreement-count" not in uncounted.get("/").text
    assert "disagreement-count" in counting.get("/").text
    counted, left_out = [], []
    for _ in range(SAMPLES):
        counted.append(page_ms(counting, "/"))
        left_out.append(page_ms(uncounted, "/"))
    return statistics.median(counted), statistics.median(left_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--worklist", type=int, default=100_000)
    args = parser.parse_args()
    messages = queued_results(args.results)
    postgres = PostgresServer().init().start()
    try:
        with tempfile.TemporaryDirectory(prefix="review-bench-") as temporary:
            directory = Path(temporary)
            # The machine's load moves between runs: each configuration is compared with a bare
            # subscriber measured just before it, on the same queued results.
            for database in ("sqlite", "postgresql") if messages else ():
                for ingesters in (1, 2):
                    run = directory / f"{database}-{ingesters}"
                    url = (
                        f"sqlite:///{run}/review.sqlite3"
                        if database == "sqlite"
                        else postgres.create_database(f"ingest{ingesters}")
                    )
                    bare = bare_rate(run / "bare", messages)
                    engine = open_database(url)
                    rate, cpu_per_1000, drained_s = ingester_rate(run, engine, messages, ingesters)
                    engine.dispose()
                    print(
                        f"{database:10s} {ingesters} ingester(s): {rate:,.0f} results/s, bare paho subscriber "
                        f"{bare:,.0f} results/s, ratio {rate / bare:.2f} ({len(messages):,} results); "
                        f"ingesters' CPU {cpu_per_1000:.2f} s per 1,000 results, all drained in {drained_s:.1f} s"
                    )
            for database in ("sqlite", "postgresql") if args.worklist else ():
                url = (
                    f"sqlite:///{directory}/worklist.sqlite3"
                    if database == "sqlite"
                    else postgres.create_database("worklist")
                )
                engine = open_database(url)
                fill_worklist(engine, args.worklist)
                for label, ms in worklist_ms(engine).items():
                    print(
                        f"worklist, {database:10s} {args.worklist:,} results, {label:31s}: {ms:.0f} ms (aim <= 200 ms)"
                    )
                with_count, without = disagreements_ms(engine)
                print(
                    f"worklist, {database:10s} {args.worklist:,} results, coordinator's disagreement count: "
                    f"{with_count:.1f} ms, without it {without:.1f} ms, ratio {with_count / without:.2f}"
                )
                engine.dispose()
    finally:
        postgres.remove()


if __name__ == "__main__":
    main()
