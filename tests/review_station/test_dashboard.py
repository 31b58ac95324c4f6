"""The dashboard: its figures on known data, quiet devices, and server-drawn SVG plots."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import Engine, update

from edgescreen_wire.result import RESULT_V2
from review_station import accounts, dashboard
from review_station import devices as devices_module
from review_station.storage.tables import devices
from review_station.verdicts import ReadForm, record_read
from review_station.web import plots
from review_station.web.app import LANGUAGE_COOKIE
from tests.review_station.web_kit import PASSWORD, add_results, signed_in_client, station

UNGRADABLE = {"triage": "ungradable", "score": None, "threshold": None}


def test_wilson_intervals_hold_at_the_edges() -> None:
    assert dashboard.Proportion(0, 0).ci95 is None
    low, high = dashboard.Proportion(10, 10).ci95  # type: ignore[misc]
    assert high == pytest.approx(1.0) and 0.69 < low < 0.73  # Wilson: 0.722 for 10/10
    low, high = dashboard.Proportion(45, 50).ci95  # type: ignore[misc]
    assert round(low, 3) == 0.786 and round(high, 3) == 0.957


def test_performance_against_final_verdicts_and_quiet_devices(engine: Engine) -> None:
    today = datetime.now(UTC).replace(microsecond=0)
    refer = add_results(engine, "cam-01", "site-a", [0.9] * 4, captured_at=today)
    no_refer = add_results(engine, "cam-01", "site-a", [0.1] * 3, captured_at=today)
    add_results(engine, "cam-02", "site-b", [0.5], captured_at=today, payload=UNGRADABLE)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    truth = {refer[0]: "refer", refer[1]: "refer", refer[2]: "no_refer", refer[3]: "ungradable"}
    truth |= {no_refer[0]: "no_refer", no_refer[1]: "no_refer", no_refer[2]: "refer"}
    for result_id, verdict in truth.items():
        grading = ("ungradable", "ungradable") if verdict == "ungradable" else ("none", "absent")
        record_read(engine, result_id, ana, ReadForm(verdict, "routine", *grading), ())
    with engine.begin() as connection:
        [performance] = dashboard.model_performance(connection, "")
        connection.execute(
            update(devices)
            .where(devices.c.device_id == "cam-02")
            .values(status="offline", status_at=today - timedelta(hours=30), last_seen_at=today - timedelta(hours=30))
        )
        quiet = dashboard.quiet_devices(connection, alert_h=24)
    assert performance.model == "dr-referable 1.0.0"
    assert (performance.sensitivity.hits, performance.sensitivity.total) == (2, 3)
    assert (performance.specificity.hits, performance.specificity.total) == (2, 3)
    assert (performance.agreement.hits, performance.agreement.total) == (4, 7)
    assert [(device, site, kind) for device, site, kind, _ in quiet] == [("cam-02", "site-b", "offline")]


def test_a_device_enrolled_that_never_reported_is_listed_quiet_at_once(engine: Engine) -> None:
    add_results(engine, "cam-01", "site-a", [0.9])  # heard from
    devices_module.enrol(engine, "cam-09", "site-a", by="test")  # enrolled a minute ago, silent since
    with engine.connect() as connection:
        quiet = dashboard.quiet_devices(connection, alert_h=24)
    assert [(device, kind) for device, _, kind, _ in quiet] == [("cam-09", "never")]
    page = signed_in_client(engine, station(), "cleo", "coordinator").get("/dashboard").text
    assert re.search(r"<td>cam-09</td><td>site-a</td><td>never reported \(enrolled ", page)


@pytest.mark.parametrize(("language", "said"), [("en", ("online", "offline")), ("fr", ("en ligne", "hors ligne"))])
def test_a_devices_status_is_said_in_the_pages_language_its_topics_value_kept_for_scripts(
    engine: Engine, language: str, said: tuple[str, str]
) -> None:
    """The French dashboard showed the status topic's English value ("offline") beside its own "hors ligne
    depuis" for the same device among the quiet ones."""
    add_results(engine, "cam-01", "site-a", [0.9])
    add_results(engine, "cam-02", "site-b", [0.9])
    with engine.begin() as connection:
        for device, status in (("cam-01", "online"), ("cam-02", "offline")):
            connection.execute(update(devices).where(devices.c.device_id == device).values(status=status))
    client = signed_in_client(engine, station(), "cleo", "coordinator")
    client.cookies.set(LANGUAGE_COOKIE, language)
    page = client.get("/dashboard").text
    cells = re.findall(r'<td>(cam-0\d)</td><td>site-.</td>\s*<td data-status="(\w+)">([^<]*)</td>', page)
    assert cells == [("cam-01", "online", said[0]), ("cam-02", "offline", said[1])]


def test_dermoscopy_performance_per_skin_tone_category_from_result_v2(engine: Engine) -> None:
    dermoscopy = {"modality": "dermoscopy", "eye": None, "body_site": "trunk"}
    skin = dermoscopy | {"lesion_diameter_mm": 7.0}
    light = add_results(engine, "cam-03", "site-a", [0.9, 0.1], schema=RESULT_V2, payload=skin | {"skin_tone": "light"})
    brown = add_results(engine, "cam-03", "site-a", [0.1, 0.1], schema=RESULT_V2, payload=skin | {"skin_tone": "brown"})
    unknown = add_results(engine, "cam-03", "site-a", [0.9], schema=RESULT_V2, payload=skin | {"skin_tone": None})
    v1 = add_results(engine, "cam-03", "site-a", [0.9], payload=dermoscopy)
    client = signed_in_client(engine, station(), "dora", "reviewer")
    _, dora = accounts.sign_in(engine, "dora", PASSWORD, station().web)
    truth = {light[0]: "refer", light[1]: "no_refer", brown[0]: "refer", brown[1]: "no_refer"}
    truth |= {unknown[0]: "refer", v1[0]: "refer"}
    for result_id, verdict in truth.items():
        record_read(engine, result_id, dora, ReadForm(verdict, "routine", diagnosis="naevus"), ())
    with engine.connect() as connection:
        overall = dashboard.model_performance(connection, "")
        per_tone = dashboard.model_performance(connection, "", by_skin_tone=True)
    assert [p.agreement.total for p in overall] == [6]
    assert [p.model for p in per_tone] == ["dr-referable 1.0.0, light skin", "dr-referable 1.0.0, brown skin"]
    light_figures, brown_figures = per_tone
    assert (light_figures.sensitivity.hits, light_figures.sensitivity.total) == (1, 1)
    assert (brown_figures.sensitivity.hits, brown_figures.sensitivity.total) == (0, 1)  # the missed melanoma
    assert (brown_figures.specificity.hits, brown_figures.specificity.total) == (1, 1)
    page = client.get("/dashboard").text
    assert "dr-referable 1.0.0, brown skin</td><td>0.0% (95% CI" in page


def test_the_dashboard_page_and_its_svg_plots(engine: Engine) -> None:
    add_results(engine, "cam-01", "site-a", [0.9, 0.1], captured_at=datetime.now(UTC))
    add_results(engine, "cam-01", "site-a", [0.5], captured_at=datetime.now(UTC), payload=UNGRADABLE)
    client = signed_in_client(engine, station(), "cleo", "coordinator")
    page = client.get("/dashboard?site=site-a&days=7").text
    assert "Real-world performance" in page and "No reviewed results yet" in page
    assert "<td>cam-01</td><td>site-a</td>\n<td>never reported</td>" in page
    for name in ("screenings", "ungradable", "receipt-delay"):
        assert f"/dashboard/{name}.svg?site=site-a" in page
        response = client.get(f"/dashboard/{name}.svg?site=site-a&days=7")
        assert response.headers["content-type"] == "image/svg+xml"
        root = ElementTree.fromstring(response.text)
        assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 5
    assert "Screenings per day by triage" in client.get("/dashboard/screenings.svg").text
    assert "no screenings in this period" in client.get("/dashboard/screenings.svg?site=nowhere").text
    assert client.get("/dashboard/nothing.svg").status_code == 404


def test_the_daily_plots_tick_whole_days_around_their_days() -> None:
    """One day of screenings ticked by the hour, and one point spread over 2025-2029, before."""
    one_day = {date(2026, 12, 2): Counter(refer=2, no_refer=3, ungradable=1)}
    month = {date(2026, 11, 1) + timedelta(days=n): Counter(no_refer=n, ungradable=1) for n in range(30)}
    for plot in (plots.screenings_per_day, plots.ungradable_rate):
        ticks = re.findall(r"<!-- (\d\d [A-Z][a-z]{2} \d{4}) -->", plot(one_day))
        assert ticks == ["01 Dec 2026", "02 Dec 2026", "03 Dec 2026"], plot.__name__
        ticks = re.findall(r"<!-- (\d\d [A-Z][a-z]{2} \d{4}) -->", plot(month))
        assert ticks[0] == "01 Nov 2026" and len(ticks) <= 12 and ":" not in "".join(ticks)


def test_the_plots_write_their_axes_decimals_as_the_readers_language_does() -> None:
    """matplotlib writes "0.5" whatever the page: a French dashboard, whose figures read "0,5", had its
    delay plot's hours and counts ticked with points."""
    delays = [0.25, 0.5, 1.25, 2.5, 3.75]
    ticks = {
        language: re.findall(r"<!-- (\d+[.,]\d+) -->", plots.receipt_delay(delays, language))
        for language in ("en", "fr")
    }
    assert ticks["en"] and all("." in tick for tick in ticks["en"])
    assert ticks["fr"] == [tick.replace(".", ",") for tick in ticks["en"]]
    one_screening = {date(2026, 12, 2): Counter(refer=1)}  # counts of one, ticked by halves
    french = re.findall(r"<!-- (\d+[.,]\d+) -->", plots.screenings_per_day(one_screening, "fr"))
    assert french and all("," in tick for tick in french)
