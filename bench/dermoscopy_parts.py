"""What the dermoscopy gate and the rest of a dermoscopy screen cost, part by part, on one thread.

On real photos (20 of ``../shared/data``'s ISIC UDA-1, or the bundled sample when ``../shared`` is
absent, which the output says), calibrated as the pipeline does, each part is timed on every photo
in turn, ``--repeats`` times, and its median printed in milliseconds with its share of the gate
(``analyse`` + ``assess``): the two reductions and the lesion's segmentation that ``analyse`` makes,
the whole ``assess`` and the measures inside it, then what the triage needs besides the model's run
(the lesion measurements, the model's view). The measures are called as ``assess`` calls them, on
the same masks, so the parts add up to about the whole.

``--tree`` times another checkout's code on the same photos (for instance a clone of ``main``):
the same parts, before and after a change, from the same script.

    .venv/bin/python bench/dermoscopy_parts.py [--images 20] [--repeats 5] [--tree PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _parts(analyses: list, gate, model) -> dict[str, Callable]:
    """Each part as a function of one analysed frame, from the checkout imported."""
    import cv2
    import numpy as np

    from firmware_app.lesion_measurements import measure_segmented_lesion
    from firmware_app.quality import dermoscopy, measures
    from firmware_app.quality.lesion import WORK_SIZE, segment_working_copy
    from firmware_app.quality.resample import SLACK, mask_at_size, shrink

    def masks(analysis) -> dict[str, np.ndarray]:
        """The masks ``analysed_measures`` hands its measures, made once per photo, outside the timing."""
        lesion, field = analysis.lesion.segmentation.mask, analysis.lesion.segmentation.field
        gray = cv2.cvtColor(analysis.lesion.image, cv2.COLOR_RGB2GRAY)
        width = max(3, round(max(gray.shape) / 40)) | 1
        around = cv2.dilate(lesion.astype(np.uint8), dermoscopy._ellipse(width)).astype(bool) & field
        around_skin = field & ~around
        skin = around_skin & (gray >= dermoscopy._SKIN_FLOOR * measures.level_percentile(gray, 50, around_skin))
        working_field = mask_at_size(field, analysis.working.shape)
        return {
            "lesion": lesion,
            "field": field,
            "around": around,
            "around_skin": around_skin,
            "working_field": working_field,
            "working_skin": mask_at_size(skin, analysis.working.shape) if skin.any() else working_field,
            "working_gray": cv2.cvtColor(analysis.working, cv2.COLOR_RGB2GRAY),
        }

    prepared = {id(analysis): masks(analysis) for analysis in analyses}

    def on_masks(measure: Callable) -> Callable:
        return lambda analysis: measure(analysis, prepared[id(analysis)])

    return {
        "shrink to working": lambda a: shrink(a.pixels, a.size, SLACK),
        "shrink to segmentation": lambda a: shrink(a.working, WORK_SIZE, SLACK),
        "segment lesion": lambda a: segment_working_copy(a.lesion.image),
        "analyse (all of it)": lambda a: gate.analyse(a.frame, "dermoscopy"),
        "assess (all of it)": lambda a: gate.assess(a),
        "  reflections": on_masks(
            lambda a, m: dermoscopy._reflections(a.working, m["working_field"], m["working_skin"])
        ),
        "  hair": on_masks(lambda a, m: dermoscopy._hair_fraction(m["working_gray"], m["lesion"], m["around"])),
        "  noise": on_masks(lambda a, m: measures.noise_sigma(m["working_gray"], m["working_skin"])),
        "  focus": on_masks(lambda a, m: dermoscopy._focus(a, m["around"], gate.config.full_size)),
        "  compression": lambda a: (
            measures.blockiness(a.pixels[:, :, 1]),
            measures.flat_block_fraction(a.pixels[:, :, 1]),
        ),
        "  unevenness": on_masks(
            lambda a, m: measures.illumination_unevenness(
                cv2.extractChannel(a.lesion.image, 0), m["around_skin"], floor=dermoscopy._SKIN_FLOOR
            )
        ),
        "  framing": on_masks(
            lambda a, m: dermoscopy._framing(m["lesion"], m["field"], dermoscopy.centroid_offset(m["lesion"]))
        ),
        "lesion measurements": lambda a: measure_segmented_lesion(a.lesion, a.frame.width, None, model.card),
        "model view": lambda a: model.input_tensor(a.pixels, None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20, help="photos")
    parser.add_argument("--repeats", type=int, default=5, help="times each part runs on each photo")
    parser.add_argument("--tree", type=Path, default=PROJECT_ROOT, help="the checkout whose code is timed")
    args = parser.parse_args()
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    import cv2

    from bench.inference import REAL_IMAGES, _images
    from firmware_app.app import build_pipeline
    from firmware_app.capture.image_file import read_frame
    from firmware_app.config import Config

    cv2.setNumThreads(1)
    pipeline = build_pipeline(Config())
    gate, model = pipeline._quality_gate, pipeline.model("dermoscopy")
    paths = _images("dermoscopy", args.images)
    analyses = [gate.analyse(pipeline.calibrate(read_frame(path)), "dermoscopy") for path in paths]
    parts = _parts(analyses, gate, model)
    timings: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(args.repeats):
        for analysis in analyses:
            for name, part in parts.items():
                started = time.perf_counter()
                part(analysis)
                timings[name].append((time.perf_counter() - started) * 1000)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    gate_ms = medians["analyse (all of it)"] + medians["assess (all of it)"]
    source = paths[0].parent if REAL_IMAGES["dermoscopy"].is_dir() else "../shared absent: the bundled sample"
    print(f"dermoscopy, one thread, medians over {len(paths)} photos x {args.repeats}; code: {tree}; photos: {source}")
    print(f"{'part':<26} {'ms':>7} {'of gate':>8}")
    for name, value in medians.items():
        print(f"{name:<26} {value:>7.2f} {value / gate_ms:>7.0%}")


if __name__ == "__main__":
    main()
