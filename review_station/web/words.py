"""The words only the station's pages say (the disclaimer, a dashboard proportion, a refused read or
input, a skin tone, the language switch), over the station's catalogue (``review_station.words``), which
the pages read as the command line and the ingester do.
"""

from __future__ import annotations

from typing import Any

from firmware_app.messages import message
from firmware_app.wording import decimal
from review_station.words import CATALOGUE, code, say

# Each language's own name, as the switch shows it to a reader who may not read the other.
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


def disclaimer(language: str) -> str:
    """The device's own "triage aid only, not a diagnosis" sentence: the nurse's and the specialist's
    screens say it in the same words."""
    return message("result.disclaimer", language)


def number(value: float, language: str, places: int = 1) -> str:
    """A decimal as the language writes it ("0.731", "0,731"): the device's ``decimal``."""
    return decimal(value, language, places)


def refused(key: str, values: dict[str, str | None], language: str) -> str:
    """A refused read's reason (``verdicts.ReadRefused``) in ``language``, the grading it names worded
    as the read form words it."""
    if "icdr" in values:
        shown = {
            "grade": code("icdr", values["icdr"], language),
            "maculopathy": code("maculopathy", values["maculopathy"], language),
        }
        values = {"finding": say("refused.finding.fundus", language, **shown)}
    elif "diagnosis" in values:
        values = {
            "finding": say(
                "refused.finding.dermoscopy", language, diagnosis=code("diagnosis", values["diagnosis"], language)
            )
        }
    return say(f"refused.{key}", language, **values)


def proportion(found: Any, language: str) -> str:
    """A dashboard proportion (``dashboard.Proportion``) with its 95% interval, as the language writes it."""
    if not found.total:
        return say("dashboard.no_cases", language)
    low, high = found.ci95
    shown = {
        name: number(value * 100, language) for name, value in (("value", found.value), ("low", low), ("high", high))
    }
    return say("dashboard.proportion", language, hits=found.hits, total=found.total, **shown)


def skin_tone(tone: str, language: str) -> str:
    """A skin-tone category in the device's words for it (``firmware_app.messages``: "light", "clair")."""
    return message(f"skin_tone.name.{tone}", language)


def input_refused(key: str, values: dict[str, str], language: str) -> str:
    """Why the station does not take text in an address or a form (``inputs.InputRefused``), the
    field named in ``language`` (its English name when the catalogue has none)."""
    if "what" in values:
        named = f"input.what.{values['what'].replace(' ', '_')}"
        values = values | {"what": say(named, language) if named in CATALOGUE else values["what"]}
    return say(f"input.{key}", language, **values)
