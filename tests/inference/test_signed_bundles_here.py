"""The committed bundles load on this environment's runtime as the device loads them: signature,
files, card and every signed reference score, checked by ``load_installed`` with the project's
trusted keys. ``scripts/test`` runs this file again under ``.venv-tflite`` (tflite-runtime), where
a bundle signed on ai-edge-litert must still verify: the two runtimes round a few output steps
differently (``firmware_app.bundles.score_agreement``)."""

from __future__ import annotations

from firmware_app.bundles.manifest import load_installed, read_manifest, reference_scores
from firmware_app.bundles.score_agreement import scores_agree
from tests.conftest import MODELS_DIR


def test_a_committed_bundle_verifies_on_this_runtime(model_id):
    model_dir = MODELS_DIR / model_id
    model = load_installed(model_dir, MODELS_DIR / "trusted-keys", threads=2)
    manifest = read_manifest(model_dir)
    scores = reference_scores(model, model_dir, sorted(manifest.reference_scores))
    assert len(scores) >= 2
    for name, expected in manifest.reference_scores.items():
        assert scores_agree(
            model.card.output.activation,
            model.output_step,
            scores[name],
            expected,
            manifest.tolerance,
            manifest.score_steps,
        ), f"{model.runtime}: {name} scored {scores[name]:.6f}, signed {expected:.6f}"
