"""Graded photos as other cameras would have delivered them: does the gate's verdict hold?

Every source in ``../shared/data`` is one set of cameras. Another camera photographs the same eye
or lesion with its own tone curve, white balance, colour saturation, JPEG quality, sensor noise,
in-camera sharpening and, for a dermatoscope, a round field, a stronger fall-off of its light or a
black frame around the photo.
None of these hides what a grader needs, so none should turn a graded photo into a reject: each
variation below is applied to the source's graded photos, and the gate's full check judges them.
Printed per source and variation: the share rejected, how many photos the original passed and the
variation did not (new rejects) and the reverse, the reasons of the new rejects, and the model's
AUC on all the photos so varied (the committed model through the device's own pipeline; on a
source its card lists among its training data, not an external figure). A variation with many new
rejects is a limit or a measure fitted to the source's own cameras; one that moves the AUC, a
model that has not seen such cameras.

Clear defects are ``bench/generalisation.py``'s (``tests/degradations.py``); these are milder than
its mild strength, and of another kind: what differs between good cameras.

    .venv/bin/python bench/camera_variation.py [--limit 150] [--source NAME]... [--variation NAME]...
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from quality_data import SOURCES, Source

from firmware_app.app import build_pipeline
from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import read_frame
from firmware_app.config import Config
from firmware_app.events import setup_logging
from firmware_app.pipeline import ScreeningPipeline
from models.build.metrics import auc
from tests.camera_variations import VARIATIONS


def checked(
    pipeline: ScreeningPipeline, rgb: np.ndarray, path: Path, modality: str
) -> tuple[bool, float, tuple[str, ...]]:
    """The device's verdict on a photo, the model's score and the reasons of a reject: the
    pipeline's own check, whose analysis gives the model its input (the fundus field, the
    dermoscopy segmentation a ``lesion_box`` or ``lit_field`` card crops to)."""
    check = pipeline.check_burst([Frame(rgb, str(path))], modality)
    model = pipeline.model(modality)
    return check.quality.passed, model.predict_input(check.inputs().model_input).score, check.quality.reasons


def measure(pipeline: ScreeningPipeline, source: Source, limit: int, chosen: set[str]) -> None:
    variations = {name: vary for name, vary in VARIATIONS[source.modality].items() if not chosen or name in chosen}
    rejected: Counter = Counter()
    new: Counter = Counter()
    lifted: Counter = Counter()
    reasons: dict[str, Counter] = {name: Counter() for name in variations}
    scores: dict[str, list[float]] = {name: [] for name in ("original", *variations)}
    photos = source.listing(limit)
    for path, _ in photos:
        rgb = read_frame(path).pixels
        passed, score, _ = checked(pipeline, rgb, path, source.modality)
        rejected["original"] += not passed
        scores["original"].append(score)
        for name, vary in variations.items():
            varied_passed, score, varied_reasons = checked(pipeline, vary(rgb), path, source.modality)
            rejected[name] += not varied_passed
            if passed and not varied_passed:
                new[name] += 1
                reasons[name].update(varied_reasons)
            lifted[name] += varied_passed and not passed
            scores[name].append(score)
    count = len(photos)
    positive = np.array([label for _, label in photos])
    print(
        f"{source.name}: {count} graded photos, {100 * rejected['original'] / count:.1f}% rejected as they are, "
        f"model AUC {auc(positive, np.array(scores['original'])):.3f}"
    )
    print(f"  {'variation':<22} {'rejected':>8} {'new':>4} {'lifted':>6} {'AUC':>6}   reasons of the new rejects")
    for name in variations:
        top = ", ".join(f"{reason} {n}" for reason, n in reasons[name].most_common(4))
        share, score = 100 * rejected[name] / count, auc(positive, np.array(scores[name]))
        print(f"  {name:<22} {share:>7.1f}% {new[name]:>4} {lifted[name]:>6} {score:>6.3f}   {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=150, help="photos per source, spread evenly (0: all)")
    parser.add_argument("--source", action="append", choices=[s.name for s in SOURCES], help="repeatable")
    parser.add_argument("--variation", action="append", default=[], help="repeatable; default: every one")
    args = parser.parse_args()
    setup_logging("warning")
    config = Config()
    pipeline = build_pipeline(config)
    for source in SOURCES:
        if (args.source and source.name not in args.source) or not source.available():
            continue
        measure(pipeline, source, args.limit, set(args.variation))


if __name__ == "__main__":
    main()
