"""Nothing changes but the cost: the pipeline decides as it did when ``tests/expected/decisions.json``
was written (``tests/expected/regenerate``): the same quality verdicts and reasons, the same
triage, and scores within one int8 step of the model's output."""

from __future__ import annotations

import json

import pytest

from firmware_app.app import build_pipeline
from firmware_app.config import Config
from tests.conftest import shared_data
from tests.expected.decisions import (
    BUNDLED,
    EXPECTED_FILE,
    SOURCES,
    bundled_photos,
    decision,
    logit,
    shared_photos,
)

EXPECTED = json.loads(EXPECTED_FILE.read_text())


@pytest.fixture(scope="module")
def pipeline():
    with build_pipeline(Config()) as pipeline:
        yield pipeline


def _assert_same(pipeline, photos, expected) -> None:
    assert [entry["file"] for entry in expected] == [path.name for _, path in photos]
    for (modality, path), before in zip(photos, expected, strict=True):
        now = decision(pipeline, modality, path)
        assert {k: now[k] for k in ("verdict", "reasons", "outcome")} == {
            k: before[k] for k in ("verdict", "reasons", "outcome")
        }, path.name
        assert (now["score"] is None) == (before["score"] is None), path.name
        if now["score"] is not None:
            step = pipeline.model(modality).output_step
            assert abs(logit(now["score"]) - logit(before["score"])) <= step * 1.001, path.name


def test_the_bundled_samples_are_decided_as_before(pipeline):
    _assert_same(pipeline, bundled_photos(), EXPECTED[BUNDLED])


@pytest.mark.parametrize("source", SOURCES)
def test_real_photos_of_every_source_are_decided_as_before(pipeline, source):
    shared_data(SOURCES[source][1])
    _assert_same(pipeline, shared_photos(source), EXPECTED[source])
