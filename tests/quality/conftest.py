"""Fixtures for the quality tests: the gate with its default (tuned) limits, and frames to judge."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_app.capture.frame import Frame
from firmware_app.config import QualityConfig
from firmware_app.quality.gate import QualityGate, Speed
from firmware_app.quality.verdict import QualityReport


@pytest.fixture(scope="session")
def gate() -> QualityGate:
    return QualityGate(QualityConfig())


def judge(gate: QualityGate, pixels: np.ndarray, modality: str, speed: Speed = Speed.FULL) -> QualityReport:
    return gate.check(Frame(pixels, source="test"), modality, speed)
