"""How far the two TFLite runtimes' scores of the same photos lie apart, in output quantisation steps.

A bundle's reference scores are signed on one runtime and checked on the device's, which may be the
other (``firmware_app.bundles.score_agreement``). This scores the same photos with each committed
model on ``ai-edge-litert`` (this environment) and on ``tflite-runtime`` (a second Python, by
default ``.venv-tflite``'s, as ``scripts/setup --test`` makes it), through the device's own
``TriageModel.predict``, and prints, per model, how many photos differ and by how many output steps
at most, and how many lie beyond the output steps the model's manifest signs (``score_steps``):
the measurement a publisher's ``score_steps`` rests on. And what it means for a patient: of the
photos of the model's own modality, how many each runtime triages differently at each of the card's
operating points (the cards are measured on ``ai-edge-litert``). The photos: every bundle's reference
images, and the first ``--images`` of each shared data set of both modalities (each model scores
all of them, as the reference images of both modalities are scored by both models).

    .venv/bin/python bench/runtime_agreement.py [--images 25] [--other-python .venv-tflite/bin/python]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared" / "data"
MODEL_IDS = ("dr-referable", "melanoma")
MODALITY_OF = {"dr-referable": "fundus", "melanoma": "dermoscopy"}
PHOTO_SETS = (
    "fundus/dr-600/images",
    "fundus/aptos2019-224/images",
    "dermoscopy/isic-uda1-cc0/images",
    "dermoscopy/ham10000-200x150/images",
)


def photos(count: int) -> list[Path]:
    """Every bundle's reference images, then the first ``count`` photos of each shared data set found."""
    chosen = sorted(p for m in MODEL_IDS for p in (PROJECT_ROOT / "models" / m / "reference").iterdir())
    for folder in PHOTO_SETS:
        if (SHARED / folder).is_dir():
            chosen += sorted((SHARED / folder).glob("*.jpg"))[:count]
    return chosen


def worker(count: int) -> dict[str, object]:
    """This runtime's score of every photo by each model, and each model's output step."""
    from firmware_app.capture.image_file import read_frame
    from firmware_app.inference.model import TriageModel

    result: dict[str, object] = {}
    for model_id in MODEL_IDS:
        model = TriageModel(PROJECT_ROOT / "models" / model_id, threads=2)
        scores = {str(p): model.predict(read_frame(p).pixels).score for p in photos(count)}
        result[model_id] = {"runtime": model.runtime, "step": model.output_step, "scores": scores}
    return result


def run_worker(python: str, count: int) -> dict[str, dict]:
    command = [python, __file__, "--worker", "--images", str(count)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True, cwd=PROJECT_ROOT).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=25, help="photos from each shared data set")
    parser.add_argument("--other-python", default=str(PROJECT_ROOT / ".venv-tflite" / "bin" / "python"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_ROOT))  # this checkout's firmware_app, whichever Python runs it
    if args.worker:
        print(json.dumps(worker(args.images)))
        return

    from firmware_app.bundles.manifest import read_manifest
    from firmware_app.bundles.score_agreement import output_steps_apart
    from firmware_app.inference.card import read_card

    here, other = run_worker(sys.executable, args.images), run_worker(args.other_python, args.images)
    for model_id in MODEL_IDS:
        a, b = here[model_id], other[model_id]
        steps = np.array(
            [output_steps_apart("sigmoid", a["step"], a["scores"][p], b["scores"][p]) for p in a["scores"]]
        )
        bundle = PROJECT_ROOT / "models" / model_id
        references = {  # the ones its manifest signs; the other bundle's are only more photos to it
            Path(p).relative_to(bundle).as_posix(): round(float(s), 2)
            for p, s in zip(a["scores"], steps, strict=True)
            if Path(p).is_relative_to(bundle)
        }
        signed = read_manifest(bundle).score_steps
        largest = max(abs(a["scores"][p] - b["scores"][p]) for p in a["scores"])
        own = [p for p in a["scores"] if Path(p).is_relative_to(SHARED / MODALITY_OF[model_id])]
        card = read_card(bundle / "card.json")
        triaged_apart = {
            name: f"{sum((a['scores'][p] >= point.threshold) != (b['scores'][p] >= point.threshold) for p in own)}"
            f" of {len(own)}"
            for name, point in card.operating_points.items()
        }
        print(
            f"{model_id}: {a['runtime']} against {b['runtime']}, {len(steps)} photos, output step {a['step']:.4f}: "
            f"{int((steps > 0.01).sum())} differ; steps apart median {np.median(steps):.2f}, "
            f"95th percentile {np.percentile(steps, 95):.2f}, 99th {np.percentile(steps, 99):.2f}, "
            f"max {steps.max():.2f}; more than the {signed} signed: {int((steps > signed).sum())}; "
            f"largest score difference {largest:.4f}; its reference images {references}; "
            f"{MODALITY_OF[model_id]} photos triaged differently at each operating point: {triaged_apart}"
        )


if __name__ == "__main__":
    main()
