"""The quality verdict of the shipped limits, whatever limits this device was set to.

A device may be given its own camera's limits (``[quality.fundus]``, ``edgescreen quality fit``), so
its verdict depends on how its technician set it up. An audit across sites and devices needs one
verdict that does not: the same measures judged against the project's default limits. It costs no
image work, the measures being those the gate already took (``edgescreen.result/2``'s
``quality_reference``).
"""

from __future__ import annotations

from firmware_app.config import QualityConfig
from firmware_app.quality.gate import RULES
from firmware_app.quality.verdict import judge
from firmware_app.records.screening import QualitySummary

SHIPPED = QualityConfig()


def reference_verdict(modality: str, quality: QualitySummary) -> str:
    rules = RULES[modality]
    if any(rule.measure not in quality.measures for rule in rules):
        # Refused before it could be measured (no field of view, greyscale, too small): the device's
        # own verdict, which no limit setting changes (colour limits aside).
        return quality.verdict
    return judge(modality, rules, quality.measures, SHIPPED.limits(modality), SHIPPED.usable_from).verdict.value
