"""Dates, numbers and names as the nurse and the patient read them, in their language, from the
catalogue's words.

The records keep ISO times in UTC; a person reads "1 December 2026, 14:05" in the device's local time.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from firmware_app.bundles.manifest import SIGNED, UNSIGNED
from firmware_app.capture.camera import CameraError
from firmware_app.health.checks import Check
from firmware_app.messages import CATALOGUE, message, plural_key, sentence, typeset
from firmware_app.records.audit import Exports
from firmware_app.records.uploads import ALTERED, ERASED_AT_THE_STATION, STATION_REFUSED


def _local(moment: datetime | str) -> datetime:
    """``moment`` (a datetime or an ISO string, as the records keep them in UTC) in the device's local
    time. A time within a day of ``datetime``'s limits (a verdict's ``reviewed_at`` stored before the
    wire refused them) has no local time east or west of UTC: it is given as stored, so the page that
    shows it (the patient's record) still opens instead of failing on an ``OverflowError``."""
    stored = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    try:
        return stored.astimezone()
    except OverflowError:
        return stored


def local_clock(moment: datetime | str) -> str:
    """The time of day the nurse's own clock showed at ``moment``: "14:05", never UTC's."""
    return _local(moment).strftime("%H:%M")


def readable_date(moment: datetime | str, language: str, with_time: bool = True) -> str:
    """``moment`` in the device's local time, its month in words: never an ISO string or "UTC" on a
    screen or a hand-out."""
    return date_in_words(_local(moment), language, with_time)


def date_in_words(moment: datetime, language: str, with_time: bool = True) -> str:
    """``moment`` in the time zone it carries, its month in words: the device shows its local time
    (``readable_date``), the review station UTC, which its pages say."""
    day = message("date.day", language).format(
        day=moment.day, month=message(f"date.month.{moment.month}", language), year=moment.year
    )
    return message("date.day_time", language).format(day=day, time=moment.strftime("%H:%M")) if with_time else day


def exports_said(key: str, exported: Exports, language: str) -> str:
    """``key`` (``erase.exported``, ``wipe.exported``) for the decrypted copies ``exported``, counted and
    dated in the device's local time: when they were made is how the technician finds them."""
    assert exported.first is not None and exported.last is not None
    first, last = readable_date(exported.first, language), readable_date(exported.last, language)
    return sentence(key, language, count=exported.count, first=first, last=last)


def french_of(name: str) -> str:
    """French "of" before a name: "d'Amina", "de Bruno" (elided before a vowel or a silent h)."""
    first = unicodedata.normalize("NFD", name[:1]).lower()[:1]
    return f"d'{name}" if first in "aeiouyh" and first else f"de {name}"


def decimal(value: float, language: str, places: int = 1) -> str:
    """``value`` with ``places`` decimals, as the language writes them: "66.8" in English, "66,8" in
    French."""
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if language == "fr" else text


def seconds(value: float, language: str) -> str:
    """A number of seconds as it was given or measured, with its own decimals and no more: "10", not
    "10.0"; "0.2" in English, "0,2" in French (a busy timeout, ``--timeout``, ``--sync-wait``). Its
    decimals are those of its 15 significant digits, as many as a float keeps (0.1 + 0.2 is "0.3"):
    ``:g``'s six turned 259200.5 s into "259200", and its exponent form 1234567 into
    "1234567.000000000" and 0.00001 into "0"."""
    exponent = Decimal(f"{value:.15g}").as_tuple().exponent  # a letter for "inf", which ``float`` takes
    return decimal(value, language, places=max(0, -exponent) if isinstance(exponent, int) else 0)


# A duration is said in minutes up to this many, then in hours up to ``HOURS_SHOWN``, then in days.
MINUTES_SHOWN = 90
HOURS_SHOWN = 48


def duration(minutes: int, language: str, round_up: bool = False) -> str:
    """``minutes`` in the unit a person reads it in: "45 minutes", "36 hours", "4 days", never "5760
    minutes" for a site server out of reach since a campaign set off. Whole units rounded down (how
    long something has lasted), or ``round_up`` (how long to wait: never said shorter than it is)."""
    whole = math.ceil if round_up else math.floor
    if minutes <= MINUTES_SHOWN:
        return sentence("time.minutes", language, count=minutes)
    if minutes <= HOURS_SHOWN * 60:
        return sentence("time.hours", language, count=whole(minutes / 60))
    return sentence("time.days", language, count=whole(minutes / (24 * 60)))


def days_ago(days: int, language: str) -> str:
    """``days`` whole days back as a person says it: "today", "yesterday", "3 days ago"; the
    readiness list read "the first screening is 0 days old" on the day of the first screening."""
    if days == 0:
        return message("time.today", language)
    if days == 1:
        return message("time.yesterday", language)
    return message("time.days_ago", language).format(count=days)


def gigabytes(size_bytes: float, language: str) -> str:
    """A size in GB with one decimal, as the language writes it: "73.9" (the status bar's free space
    and the storage check say the same)."""
    return decimal(size_bytes / 2**30, language)


_MODEL_STATE = re.compile(rf"\(({SIGNED}|{UNSIGNED})\)")


def model_names(names: str, language: str) -> str:
    """Models as ``installed_name`` names them, their state ("signed") in the language's words."""
    return _MODEL_STATE.sub(lambda found: f"({message(f'models.{found[1]}', language)})", names)


# The station's status in a reason the uploader recorded with ``STATION_REFUSED``.
_STATION_STATUS = re.compile(re.escape(STATION_REFUSED).replace(re.escape("{status}"), r"(\d+)"))


def photo_reason(reason: str, language: str) -> str:
    """Why the uploader set a photo aside (``records.uploads``'s reasons) in ``language``, by the station's
    answer; a reason this version has no words for (another release's) as recorded."""
    if reason == ERASED_AT_THE_STATION:
        return message("photos.reason.erased", language)
    if reason == ALTERED:
        return message("photos.reason.altered", language)
    status = _STATION_STATUS.fullmatch(reason)
    if status is None:
        return reason
    key = f"photos.reason.{status[1]}"
    return (
        message(key, language)
        if key in CATALOGUE
        else message("photos.reason.status", language).format(status=status[1])
    )


def photo_reasons(set_aside: Mapping[str, int], language: str) -> str:
    """Each reason photos were set aside for (``UploadBacklog.set_aside``) with how many, one after the
    other as ``language`` sets them apart."""
    counted = message("photos.reason.counted", language)
    said = [counted.format(reason=photo_reason(reason, language), count=count) for reason, count in set_aside.items()]
    return typeset(" ; " if language == "fr" else "; ", language).join(said)


def check_values(values: dict[str, Any], language: str) -> dict[str, Any]:
    """A check's values as its sentence shows them in ``language``: its time in local time, seconds
    and free space in GB with the language's decimal mark, an age in days as a person says it
    ("today"), the times of lost screenings, model states in words, a shared photo's wait and why
    photos were set aside, and what happened to a failed camera (``what``, ``CameraError.sentence``)
    without its technical words (the values the checks give read right in English as they are)."""
    shown = dict(values)
    if "at" in values:
        shown["now"] = readable_date(values["at"], language)
    for moment in ("after", "until"):  # when lost screenings were taken (health.committed)
        if values.get(moment):
            shown[moment] = readable_date(values[moment], language)
    if "days" in values:
        shown["ago"] = days_ago(values["days"], language)
    if "seconds" in values:  # how long a lock was waited for (health.writable.locked_by)
        shown["seconds"] = seconds(values["seconds"], language)
    if "free_bytes" in values:
        shown["free_gb"] = gigabytes(values["free_bytes"], language)
    if "models" in values:
        shown["models"] = model_names(values["models"], language)
    if values.get("oldest_s") is not None:  # how long the oldest shared photo has waited (health.photos)
        shown["wait"] = duration(values["oldest_s"] // 60, language)
    if "set_aside" in values:  # why photos were set aside (health.photos_refused)
        shown["reasons"] = photo_reasons(values["set_aside"], language)
    if isinstance(values.get("error"), CameraError):  # what happened to the camera; its own words are the log's
        shown["what"] = values["error"].sentence(language)
    return shown


def check_sentence(check: Check, language: str) -> str:
    """A check's sentence in ``language``, as ``doctor`` prints it and the command line refuses with it:
    the nurse's, and, where the site server's last connection failed (``failure``), its cause and what
    the technician does (``sync.failure``), which her readiness list leaves to them."""
    said = message(check_key(check, language), language).format(**check_values(dict(check.values), language))
    failure = check.values.get("failure")
    return f"{said} {failure_remedy(failure, language)}" if failure else said


def check_key(check: Check, language: str) -> str:
    """The check's catalogue key, in the form its count takes where the catalogue words it in both
    (``plural_key``): "1 screening holds", never "1 screening(s) hold". The other checks' counts read
    right as they are ("Results waiting to be sent: 3"). Doctor's line and the readiness list alike."""
    key = check.message_key
    return plural_key(key, check.values["count"], language) if f"{key}.one" in CATALOGUE else key


def failure_remedy(cause: str, language: str) -> str:
    """What the technician does about the worker's last failed connection (``sync/failure.py``'s
    ``cause``), said alike by doctor's broker line and ``sync status``."""
    return message(f"sync.failure.{cause}", language)
