"""A committed bundle's reference images check something: each is a photo of its model's modality
that the device would screen, drawn from the bundled samples by the committed script, and signed at
a score on the model's steep part, near an operating threshold, so that a wrong preprocessing or
another model moves it beyond what the manifest lets a runtime differ. ``scripts/test`` runs this
file under tflite-runtime too."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from firmware_app.bundles.manifest import read_manifest
from firmware_app.bundles.score_agreement import scores_agree
from firmware_app.capture.image_file import read_frame
from firmware_app.config import QualityConfig
from firmware_app.inference.model import TriageModel
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.verdict import Verdict
from models.build.reference_images import REFERENCES
from tests.conftest import MODELS_DIR

# How far from an operating threshold, in logits (dr-referable's output step is 0.13), a reference
# score still counts as near it: about 0.1 either way in probability around dr-referable's 0.2.
NEAR = 1.0


def _logit(score: float) -> float:
    return math.log(score / (1.0 - score))


def test_each_reference_score_lies_near_an_operating_threshold_and_each_threshold_has_one(model_id):
    """A saturated score (the plain sample retina's was 2.5e-7) agrees with whatever any runtime or
    preprocessing computes; near a threshold, one output step is a visible change of the score."""
    manifest = read_manifest(MODELS_DIR / model_id)
    points = TriageModel(MODELS_DIR / model_id).card.operating_points
    thresholds = {name: _logit(point.threshold) for name, point in points.items()}
    logits = {name: _logit(score) for name, score in manifest.reference_scores.items()}
    for name, logit in logits.items():
        assert min(abs(logit - t) for t in thresholds.values()) <= NEAR, f"{name}: {manifest.reference_scores[name]}"
    for point, threshold in thresholds.items():
        assert any(abs(logit - threshold) <= NEAR for logit in logits.values()), f"no reference near {point}"


def test_each_reference_image_is_a_photo_of_its_models_modality_the_gate_would_screen(model_id):
    card = TriageModel(MODELS_DIR / model_id).card
    gate = QualityGate(QualityConfig())
    for name in read_manifest(MODELS_DIR / model_id).reference_scores:
        report = gate.check(read_frame(MODELS_DIR / model_id / name), card.modality)
        assert report.verdict is not Verdict.REJECT, f"{name}: {report.reasons}"


def test_the_reference_images_are_the_ones_the_committed_script_draws(model_id):
    """Drawn again from the bundled samples, each committed image comes back but for JPEG's rounding."""
    drawn = [reference for reference in REFERENCES if reference.model_id == model_id]
    assert sorted(f"reference/{r.name}" for r in drawn) == sorted(read_manifest(MODELS_DIR / model_id).reference_scores)
    for reference in drawn:
        committed = read_frame(MODELS_DIR / model_id / "reference" / reference.name).pixels.astype(np.float32)
        assert np.abs(committed - reference.draw(reference.strength)).mean() < 2.0, reference.name


def _changed_input(model: TriageModel, **change: str) -> TriageModel:
    model.card = dataclasses.replace(model.card, input=dataclasses.replace(model.card.input, **change))
    return model


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param(lambda model, _: _changed_input(model, colour_constancy="none"), id="no-colour-constancy"),
        pytest.param(lambda model, _: _changed_input(model, colour_order="BGR"), id="blue-for-red"),
        pytest.param(lambda _, other: other, id="the-other-model"),
    ],
)
def test_a_wrong_preprocessing_or_model_fails_a_reference(model_id, wrong):
    """What the check is for: the model's view made otherwise, or another model in its place, moves
    at least one reference beyond the signed tolerance and output steps."""
    bundle = MODELS_DIR / model_id
    manifest = read_manifest(bundle)
    model = TriageModel(bundle)
    other = TriageModel(MODELS_DIR / ("melanoma" if model_id == "dr-referable" else "dr-referable"))
    computing = wrong(model, other)
    agreeing = [
        scores_agree(
            "sigmoid",
            model.output_step,
            computing.predict(read_frame(bundle / name).pixels).score,
            expected,
            manifest.tolerance,
            manifest.score_steps,
        )
        for name, expected in manifest.reference_scores.items()
    ]
    assert not all(agreeing)
