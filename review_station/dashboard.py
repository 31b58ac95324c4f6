"""The coordinators' figures: screenings per day by triage, the ungradable rate, capture-to-receipt
delay, devices gone quiet, and each model version's real-world performance against the specialists.

Performance counts a result once it is reviewed, against its final verdict (the adjudication when there
was one), when that read graded the photo: a verdict given without a photo is not counted. A referable
case is one the specialist said ``refer``; results the specialist or the device called ``ungradable``
are left out of sensitivity and specificity (they are not a yes or a no) but counted in the agreement.
Intervals are Wilson score 95% intervals.

Each figure takes ``readable``, the sites the signed-in account reads (None: every site): an account
limited to some sites sees figures of those sites only, whichever site it asks for.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, func, select

from firmware_app.inference.skin_tone import CATEGORY_NAMES
from review_station.ingest.release import enrolments_releasing
from review_station.storage.tables import devices, quarantine, reads, results
from review_station.verdicts import GRADED_READ

Z95 = 1.959964


@dataclass(frozen=True)
class Proportion:
    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    @property
    def ci95(self) -> tuple[float, float] | None:
        """Wilson score interval: sound at small counts and at 0% or 100%, unlike the normal one."""
        if not self.total:
            return None
        n, p = self.total, self.hits / self.total
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def words(self) -> str:
        if not self.total:
            return "no cases yet"
        low, high = self.ci95  # type: ignore[misc]
        return f"{self.value:.1%} (95% CI {low:.1%} to {high:.1%}; {self.hits}/{self.total})"


@dataclass(frozen=True)
class ModelPerformance:
    model: str
    sensitivity: Proportion
    specificity: Proportion
    agreement: Proportion
    # The model's id and version, and the skin-tone category of the row (per category only): what the
    # dashboard shows in the reader's language (``model`` is the English of both).
    version: str = ""
    skin_tone: str | None = None


Readable = frozenset[str] | None


def _where_site(site: str, readable: Readable) -> list:
    chosen = [results.c.site_id == site] if site else []
    return chosen if readable is None else [*chosen, results.c.site_id.in_(sorted(readable))]


def daily_triage(connection: Connection, site: str, since: date, readable: Readable = None) -> dict[date, Counter[str]]:
    """Screenings per day (UTC, of the station's time of a result: ``review_station.dating``) and triage."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    rows = connection.execute(
        select(results.c.dated_at, results.c.triage).where(results.c.dated_at >= start, *_where_site(site, readable))
    )
    days: dict[date, Counter[str]] = defaultdict(Counter)
    for dated_at, triage in rows:
        days[dated_at.date()][triage] += 1
    return dict(sorted(days.items()))


def receipt_delays_h(connection: Connection, site: str, since: date, readable: Readable = None) -> list[float]:
    """Capture-to-receipt delays of the results dated by their capture time: a time the device could
    not vouch for measures no delay (``review_station.dating``)."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    rows = connection.execute(
        select(results.c.captured_at, results.c.received_at).where(
            results.c.dated_at >= start, results.c.dated_at == results.c.captured_at, *_where_site(site, readable)
        )
    )
    return [max(0.0, (received - captured).total_seconds() / 3600) for captured, received in rows]


class Quiet(NamedTuple):
    """A device quiet too long: ``kind`` "never" (``at``: its enrolment), "offline" (since ``at``), or
    "last_seen" (at ``at``); the dashboard says it in the reader's language."""

    device_id: str
    site_id: str
    kind: str
    at: datetime


def quiet_devices(
    connection: Connection, alert_h: float, now: datetime | None = None, readable: Readable = None
) -> list[Quiet]:
    """(device, site, kind, when) for active devices offline, or unheard of, for longer than ``alert_h`` hours,
    and every active device that never reported at all, however recently enrolled: one set up wrong
    (its certificate, its broker address) shows here from the day it should have started."""
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=alert_h)
    found = []
    active = [devices.c.retired_at.is_(None)] + ([] if readable is None else [devices.c.site_id.in_(sorted(readable))])
    for row in connection.execute(select(devices).where(*active).order_by(devices.c.device_id)):
        if row.last_seen_at is None:
            found.append(Quiet(row.device_id, row.site_id, "never", row.enrolled_at))
        elif row.status == "offline" and row.status_at is not None and row.status_at < cutoff:
            found.append(Quiet(row.device_id, row.site_id, "offline", row.status_at))
        elif row.last_seen_at is not None and row.last_seen_at < cutoff:
            found.append(Quiet(row.device_id, row.site_id, "last_seen", row.last_seen_at))
    return found


@dataclass(frozen=True)
class Quarantined:
    """What the quarantine holds: a device quiet here may be one whose results all wait there."""

    messages: int
    awaiting_enrolment: int  # results that enrolling their device would release


def quarantined(connection: Connection) -> Quarantined:
    messages = connection.execute(select(func.count()).select_from(quarantine)).scalar_one()
    awaiting = sum(len(entries) for entries in enrolments_releasing(connection).values())
    return Quarantined(messages, awaiting)


def final_verdicts(
    connection: Connection, site: str, graded_only: bool = False, readable: Readable = None
) -> dict[str, str]:
    """result id -> the verdict that settled it (reads are in id order: the last one settles).

    ``graded_only``: only the results whose settling read graded the photo. A read without one (the
    device shared none: grading not assessed) rests on the device's own figures, so its verdict is
    no independent check of the model."""
    rows = connection.execute(
        select(reads.c.result_id, reads.c.verdict, GRADED_READ)
        .join(results, results.c.result_id == reads.c.result_id)
        .where(results.c.state == "reviewed", *_where_site(site, readable))
        .order_by(reads.c.id)
    )
    settled = {result_id: (verdict, was_graded) for result_id, verdict, was_graded in rows}
    return {result_id: verdict for result_id, (verdict, was_graded) in settled.items() if was_graded or not graded_only}


def model_performance(
    connection: Connection, site: str, by_skin_tone: bool = False, readable: Readable = None
) -> list[ModelPerformance]:
    """Each model version's figures; ``by_skin_tone``: per skin-tone category too, for the results
    that carry one (dermoscopy sent as ``edgescreen.result/2``), lightest category first."""
    verdicts = final_verdicts(connection, site, graded_only=True, readable=readable)
    per_group: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    rows = connection.execute(
        select(
            results.c.result_id, results.c.model_id, results.c.model_version, results.c.triage, results.c.skin_tone
        ).where(results.c.state == "reviewed", results.c.model_id.is_not(None), *_where_site(site, readable))
    )
    for result_id, model_id, version, triage, tone in rows:
        if result_id not in verdicts or (by_skin_tone and tone not in CATEGORY_NAMES):
            continue
        model = f"{model_id} {version}" + (f", {tone.replace('_', ' ')} skin" if by_skin_tone else "")
        rank = CATEGORY_NAMES.index(tone) if by_skin_tone else 0
        per_group[(model, rank, f"{model_id} {version}", tone if by_skin_tone else None)].append(
            (triage, verdicts[result_id])
        )
    found = []
    for (model, _, named, tone), pairs in sorted(per_group.items(), key=lambda item: (item[0][2], item[0][1])):
        positives = [device for device, truth in pairs if truth == "refer" and device != "ungradable"]
        negatives = [device for device, truth in pairs if truth == "no_refer" and device != "ungradable"]
        found.append(
            ModelPerformance(
                model,
                Proportion(positives.count("refer"), len(positives)),
                Proportion(negatives.count("no_refer"), len(negatives)),
                Proportion(sum(device == truth for device, truth in pairs), len(pairs)),
                named,
                tone,
            )
        )
    return found
