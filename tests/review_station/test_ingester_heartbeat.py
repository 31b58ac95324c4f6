"""The ingester's heartbeat (``review_station.heartbeats``): the ingester alone sends the verdicts and the
erasure notices, and with it stopped a verdict read "waiting for the broker" and an unsent notice "is the
ingester running?" while the dashboard said nothing. Real mosquitto, real ingesters (both databases),
stopped for real; the station's pages and ``devices list`` say what the heartbeat says."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import Engine, select, text

from review_station import heartbeats
from review_station.cli import main as review_main
from review_station.config import DashboardConfig
from review_station.erased_notices import owe_notices
from review_station.heartbeats import HEARTBEAT_SECONDS, Instance, beat, station_heard
from review_station.storage.database import open_database
from review_station.storage.tables import ingesters
from review_station.words import moment, not_heard, say
from tests.mqtt_broker import wait_until
from tests.postgres_server import PostgresServer
from tests.review_station.kit import running_station, station_config
from tests.review_station.test_erased_notices import owed_since
from tests.review_station.web_kit import add_results, csrf_of, signed_in_client, station

WINDOW_S = DashboardConfig.ingester_alert_s
READ = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}


def heard(engine: Engine, now: datetime | None = None):
    with engine.connect() as connection:
        return station_heard(connection, WINDOW_S, now)


def test_the_pages_say_whether_the_ingester_runs_and_a_verdict_waits_for_it_once_stopped(
    tmp_path, engine: Engine
) -> None:
    with running_station(tmp_path, engine) as running:
        assert heard(engine).last_at is None  # none ever ran here
        [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
        ingester = running.start_ingester()
        wait_until(lambda: heard(engine).connected, 30, "the ingester heard from, connected to the broker")
        admin = signed_in_client(engine, station(), "ada", "admin")
        page = admin.get("/dashboard").text
        assert 'id="ingesters"' in page and str(escape(say("ingester.connected", "en"))) in page
        ingester.stop()
        stopped = heard(engine)
        assert not stopped.running and stopped.last_at is not None
        csrf = csrf_of(admin, f"/results/{result_id}")
        assert admin.post(f"/results/{result_id}/reads", data={**READ, "csrf": csrf}).status_code == 303
        for language in ("en", "fr"):
            admin.get(f"/language/{language}")
            when = moment(stopped.last_at, language)
            result_page = admin.get(f"/results/{result_id}").text
            assert 'data-delivery="pending"' in result_page
            no_ingester = say("delivery.why.no_ingester", language, heard=not_heard(stopped, language))
            assert str(escape(no_ingester)) in result_page
            assert str(escape(say("delivery.why.pending", language))) not in result_page
            dashboard = admin.get("/dashboard").text
            line = dashboard[dashboard.index('id="ingesters"') :]
            line = line[: line.index("</table>")]
            assert 'class="alert"' in line and str(escape(say("ingester.not_heard", language, since=when))) in line


def test_an_ingester_killed_without_a_word_is_not_heard_from_once_its_window_passes(tmp_path, engine: Engine) -> None:
    """A SIGKILL or a power cut leaves no "stopped": the heartbeat's age alone says it."""
    with running_station(tmp_path, engine) as running:
        running.start_ingester()
        wait_until(lambda: heard(engine).connected, 30, "the ingester heard from")
        last = heard(engine).last_at
        later = heard(engine, now=last + timedelta(seconds=WINDOW_S + 1))
        assert not later.running and not later.connected and later.last_at == last


def clock_off_by(seconds: float) -> type[datetime]:
    """This process's clock, ``seconds`` ahead (or behind): another host's, whose clock is not the database's."""

    class Skewed(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return datetime.now(tz) + timedelta(seconds=seconds)

    return Skewed


@pytest.mark.parametrize("off_by_s", [40, -40], ids=["ahead", "behind"])
def test_a_web_host_whose_clock_is_off_judges_the_heartbeat_by_the_databases_clock(
    engine: Engine, monkeypatch, off_by_s: float
) -> None:
    """The ingester and the web app may run on different hosts sharing PostgreSQL (README, "Scale beyond one
    machine"). The ingester wrote its heartbeat by its host's clock and the pages judged it by theirs: a web
    host 40 s ahead showed a running ingester as not heard from, in red, its verdicts waiting for it; one 40 s
    behind showed a dead one running 40 s longer. The database's clock now writes the beat and judges it."""
    me = Instance("review-ingest-1", "station-1", 4242)
    with engine.begin() as connection:
        beat(connection, me, connected=True, first=True)
    monkeypatch.setattr(heartbeats, "datetime", clock_off_by(off_by_s))  # the web host's clock
    assert heard(engine).connected
    admin = signed_in_client(engine, station(), "ada", "admin")
    assert 'id="no-ingester"' not in admin.get("/dashboard").text
    time.sleep(1.5)  # then it died, and a window of 1 s passed
    with engine.connect() as connection:
        assert not station_heard(connection, 1.0).running


def test_an_ingester_host_whose_clock_is_ahead_is_not_shown_started_after_it_was_last_heard_from(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its heartbeat was dated by the database's clock, its start by its host's: with the host 40 s ahead,
    the dashboard showed an ingester started after its last beat. The database's clock dates both."""
    monkeypatch.setattr(heartbeats, "datetime", clock_off_by(40))  # the ingester host's clock
    with engine.begin() as connection:
        beat(connection, Instance("review-ingest-1", "station-1", 4242), connected=True, first=True)
    [shown] = heard(engine).ingesters
    assert shown.started_at <= shown.heartbeat_at


def test_two_ingesters_each_show_up(tmp_path, engine: Engine) -> None:
    with running_station(tmp_path, engine) as running:
        running.start_ingester()
        second = station_config(
            tmp_path / "second", engine, running.broker.port, broker='client_id = "review-ingest-2"\n'
        )
        running.start_ingester(second)
        wait_until(lambda: len([i for i in heard(engine).ingesters if i.connected]) == 2, 30, "both heard from")
        assert {i.client_id for i in heard(engine).ingesters} == {"review-ingest-1", "review-ingest-2"}


def test_an_unsent_notice_of_unknown_reason_says_whether_the_ingester_runs(tmp_path, engine: Engine, capsys) -> None:
    """Not "is the ingester running?": the station knows. Running but not connected to the broker, the
    notice waits for the connection (not "could not record why": the reason is plain). Running and
    connected, it could not record why (its database connection failed): its log names the cause."""
    add_results(engine, "cam-01", "site-a", [0.9])
    with engine.begin() as connection:
        owe_notices(connection, [("a" * 32, "cam-01")])
    owed_since(engine, datetime.now(UTC) - timedelta(hours=25))
    config = station_config(tmp_path, engine, 1883)
    admin = signed_in_client(engine, station(), "ada", "admin")

    def listed() -> str:
        capsys.readouterr()
        assert review_main(["--config", str(config), "devices", "list"]) == 0
        return capsys.readouterr().out

    never = say("unsent_notice.why.unknown.stopped", "en", heard=say("ingester.never", "en"))
    assert never in listed() and str(escape(never)) in admin.get("/dashboard").text
    me = Instance("review-ingest-1", "station-1", 4242)
    with engine.begin() as connection:
        beat(connection, me, connected=True, now=datetime.now(UTC) - timedelta(minutes=1))
    for language in ("en", "fr"):
        stopped = say("unsent_notice.why.unknown.stopped", language, heard=not_heard(heard(engine), language))
        admin.get(f"/language/{language}")
        assert str(escape(stopped)) in admin.get("/dashboard").text
    assert say("unsent_notice.why.unknown.stopped", "en", heard=not_heard(heard(engine), "en")) in listed()
    with engine.begin() as connection:
        beat(connection, me, connected=False)
    for language in ("en", "fr"):
        waiting = say("unsent_notice.why.unknown.not_connected", language)
        admin.get(f"/language/{language}")
        assert str(escape(waiting)) in admin.get("/dashboard").text
    assert say("unsent_notice.why.unknown.not_connected", "en") in listed()
    with engine.begin() as connection:
        beat(connection, me, connected=True)
    running = say("unsent_notice.why.unknown.running", "en")
    assert running in listed() and str(escape(running)) not in admin.get("/dashboard").text  # in French now
    admin.get("/language/en")
    assert str(escape(running)) in admin.get("/dashboard").text


def test_a_restart_takes_over_its_row_and_a_second_ingester_under_its_client_id_does_not(engine: Engine) -> None:
    """One host, one client id: a restart replaces the run before it (no dead row left in red), and a second
    ingester started beside a running one shows up beside it after one beat, not instead of it."""
    before, running, beside = (Instance("review-ingest-1", "station-1", pid) for pid in (10, 11, 12))
    with engine.begin() as connection:
        beat(connection, before, connected=True, first=True)
        beat(connection, running, connected=True, first=True)
    assert [i.pid for i in heard(engine).ingesters] == [11]
    with engine.begin() as connection:
        beat(connection, beside, connected=True, first=True)
        beat(connection, running, connected=True)
    assert sorted(i.pid for i in heard(engine).ingesters) == [11, 12]


def test_an_ingester_not_heard_from_for_a_week_is_no_longer_listed_unless_none_was_heard_from_since(
    engine: Engine,
) -> None:
    """An ingester moved to another host, or run under another client id, left its row behind: the dashboard
    listed it in red, not heard from, for good. A week after its last beat it is no longer listed, unless no
    ingester was heard from since: the page then still says since when none ran."""
    now = datetime.now(UTC)
    gone, moved, other = (
        Instance(client_id, host, pid)
        for client_id, host, pid in (
            ("review-ingest-1", "old-host", 10),
            ("review-ingest-1", "new-host", 11),
            ("review-ingest-2", "host-2", 12),
        )
    )
    with engine.begin() as connection:
        beat(connection, gone, connected=True, first=True, now=now - timedelta(days=7, minutes=1))
    assert [i.host for i in heard(engine).ingesters] == ["old-host"]
    with engine.begin() as connection:
        beat(connection, other, connected=True, first=True, now=now - timedelta(days=6))
        beat(connection, moved, connected=True, first=True)
    assert [i.host for i in heard(engine).ingesters] == ["new-host", "host-2"]
    admin = signed_in_client(engine, station(), "ada", "admin")
    dashboard = admin.get("/dashboard").text
    assert "host-2" in dashboard and "old-host" not in dashboard


def test_an_ingester_whose_heartbeat_is_stuck_on_its_row_still_stops(
    tmp_path, postgres: PostgresServer, caplog
) -> None:
    """Stopping the ingester (SIGTERM, ``stop()``) waited for its heartbeat thread without end: a beat stuck in
    its UPDATE (the row locked by another transaction, a hung database) kept it from returning, and systemd
    had to kill it. It now waits two beats, logs that the heartbeat did not stop, and goes on stopping.
    PostgreSQL only: SQLite has no row locks (a writer holds the whole file, the ingester's other threads
    with it, and its busy timeout ends the wait in an error the heartbeat already logs)."""
    caplog.set_level(logging.WARNING, logger="edgescreen")
    engine = open_database(postgres.create_database(f"t_{uuid.uuid4().hex}"))

    def beat_waiting(locker_pid: int) -> bool:
        """The ingester's UPDATE waits on the locker's transaction (a transactionid lock, not one on the
        table): any lock waited for on the server, another test's, said so before the beat was blocked."""
        blocked = text("SELECT count(*) FROM pg_stat_activity WHERE :locker = ANY(pg_blocking_pids(pid))")
        with engine.connect() as watcher:
            return bool(watcher.execute(blocked, {"locker": locker_pid}).scalar_one())

    try:
        with running_station(tmp_path, engine) as running, engine.connect() as locker:
            ingester = running.start_ingester()
            wait_until(lambda: heard(engine).connected, 30, "the ingester heard from")
            with locker.begin():
                locker.execute(select(ingesters).with_for_update())
                locker_pid = locker.execute(text("SELECT pg_backend_pid()")).scalar_one()
                wait_until(
                    lambda: beat_waiting(locker_pid),
                    2 * HEARTBEAT_SECONDS + 5,
                    "the next beat to wait for the locked row",
                )
                asked = time.monotonic()
                ingester.stop()  # its run() returned: the thread is joined
                assert time.monotonic() - asked < 2 * HEARTBEAT_SECONDS + 5
                assert "review.heartbeat_not_stopped" in caplog.text
            wait_until(lambda: not heard(engine).running, 30, "the beat let go, then the stop recorded")
    finally:
        engine.dispose()
