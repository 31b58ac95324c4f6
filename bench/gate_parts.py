"""What a modality's quality gate and the rest of its screen cost, part by part, on one thread.

On real photos (20 of ``../shared/data``'s dr-600 or ISIC UDA-1, or the bundled sample when
``../shared`` is absent or with ``--samples``, which the output says), calibrated as the pipeline
does, each part is timed on every photo in turn, ``--repeats`` times, and its median printed in
milliseconds with its share of the gate (``analyse`` + ``assess``): what ``analyse`` makes (the
reductions, the fundus field of view or the lesion's segmentation), the whole ``assess`` and the
measures inside it, then what the triage needs besides the model's run (the model's view, the
lesion measurements). The measures are called as the gate calls them, on the same masks and copies,
made once per photo outside the timing, so the parts add up to about the whole.

``--tree`` times another checkout's code on the same photos (for instance a clone of ``main``):
the same parts, before and after a change, from the same script; a part whose helper that
checkout lacks or calls differently (renamed, added or changed since) is printed as absent, and
when even the copies the parts share cannot be made, only the whole ``analyse`` and ``assess`` are.

    .venv/bin/python bench/gate_parts.py [--modality fundus|dermoscopy] [--images 20] [--repeats 5]
        [--tree PATH] [--samples]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODALITIES = ("fundus", "dermoscopy")


def _on(prepared: dict[int, dict], measure: Callable) -> Callable:
    """A part timed on an analysis with what was prepared for it outside the timing."""
    return lambda analysis: measure(analysis, prepared[id(analysis)])


def _fundus_parts(analyses: list, gate, model) -> dict[str, Callable]:
    """Each fundus part as a function of one analysed frame, from the checkout imported."""
    import cv2

    from firmware_app import frame_analysis
    from firmware_app.quality import fundus, measures
    from firmware_app.quality.colour import colour_measures

    detail = gate.config.full_size

    def copies(analysis) -> dict:
        """The copies and masks ``analysed_measures`` hands its measures."""
        square, covered, fov, _ = fundus._field(analysis)
        radius = fundus._radius_map(square.shape[0])
        circle = radius < fundus._FIELD_RADIUS
        extremes = measures.channel_extremes(square)
        field = fundus._lit(extremes[0], circle & covered)
        gray = cv2.cvtColor(square, cv2.COLOR_RGB2GRAY)
        _, located, factor = frame_analysis._halved_pair(analysis.pixels, analysis.size)
        return {
            "square": square,
            "covered": covered,
            "fov": fov,
            "radius": radius,
            "circle": circle,
            "extremes": extremes,
            "field": field,
            "gray": gray,
            "disc": fundus._optic_disc(gray, field, radius),
            "detail": fundus._detail(analysis, fov, field, detail),
            "sensor noise": measures.sensor_noise(analysis.pixels, fundus._focus_channel),
            "located": (located, factor),
        }

    prepared = {id(analysis): copies(analysis) for analysis in analyses}

    def exposure(p: dict) -> None:
        brightest, field = p["extremes"][0], p["field"]
        _, bright = measures.clipped_fractions(brightest, field)
        measures.brightness(p["gray"], field)
        fundus.highlights(brightest, field)
        fundus.overexposure(bright, p["square"][:, :, 1], field)

    def light(p: dict) -> None:
        bands = fundus.light_bands(cv2.extractChannel(p["square"], 0), p["field"])
        fundus.light_gradient(bands)
        fundus.disc_side_shade(bands, p["disc"].x)

    return {
        "analyse (all of it)": lambda a: gate.analyse(a.frame, "fundus"),
        "  halvings": lambda a: frame_analysis._halved_pair(a.pixels, a.size),
        "  field of view": _on(prepared, lambda a, p: frame_analysis._field_of_view(*p["located"])),
        "assess (all of it)": lambda a: gate.assess(a),
        "  colour": lambda a: colour_measures(a.thumbnail),
        "  measures (all of them)": lambda a: fundus.analysed_measures(a, detail),
        "    field's square": lambda a: fundus._field(a),
        "    channel extremes": _on(prepared, lambda a, p: measures.channel_extremes(p["square"])),
        "    lit field": _on(prepared, lambda a, p: fundus._lit(p["extremes"][0], p["circle"] & p["covered"])),
        "    exposure": _on(prepared, lambda a, p: exposure(p)),
        "    optic disc": _on(prepared, lambda a, p: fundus._optic_disc(p["gray"], p["field"], p["radius"])),
        "    detail copy": _on(prepared, lambda a, p: fundus._detail(a, p["fov"], p["field"], detail)),
        # Focus is read with the sensor's noise, as it reaches the detail copy, smoothed away.
        "    sensor noise": lambda a: measures.sensor_noise(a.pixels, fundus._focus_channel),
        "    focus": _on(
            prepared,
            lambda a, p: measures.directional_sharpness(
                measures.without_noise(p["detail"][0], measures.noise_after(p["sensor noise"], *p["detail"][2])),
                p["detail"][1],
            ),
        ),
        "    noise": _on(prepared, lambda a, p: measures.noise_sigma(*p["detail"][:2])),
        "    uneven light": _on(prepared, lambda a, p: measures.illumination_unevenness(p["gray"], p["field"])),
        "    light across the field": _on(prepared, lambda a, p: light(p)),
        "    glare": _on(
            prepared, lambda a, p: fundus._glare_fraction(fundus._glare(p["extremes"], p["disc"]), p["field"])
        ),
        "    compression": lambda a: measures.compression(a.pixels[:, :, 1]),
        "    haze": _on(prepared, lambda a, p: fundus._haze_contrast(p["square"][:, :, 1], p["field"])),
        "model view": lambda a: model.input_tensor(a.pixels, a.located_field()),
    }


def _dermoscopy_parts(analyses: list, gate, model) -> dict[str, Callable]:
    """Each dermoscopy part as a function of one analysed frame, from the checkout imported."""
    import cv2
    import numpy as np

    from firmware_app.lesion_measurements import measure_segmented_lesion
    from firmware_app.quality import dermoscopy, measures
    from firmware_app.quality.colour import colour_measures
    from firmware_app.quality.lesion import WORK_SIZE, segment_working_copy
    from firmware_app.quality.resample import SLACK, mask_at_size, shrink

    try:
        from firmware_app.quality.modality import retina_on_skin_visit
    except ImportError:  # a checkout before 2026-12-03 (``--tree``): the part is absent
        retina_on_skin_visit = None

    def masks(analysis) -> dict[str, np.ndarray]:
        """The masks ``analysed_measures`` hands its measures."""
        lesion, field = analysis.lesion.segmentation.mask, analysis.lesion.segmentation.field
        gray = cv2.cvtColor(analysis.lesion.image, cv2.COLOR_RGB2GRAY)
        width = max(3, round(max(gray.shape) / 40)) | 1
        around = cv2.dilate(lesion.astype(np.uint8), dermoscopy._ellipse(width)).astype(bool) & field
        around_skin = field & ~around
        skin = around_skin & (gray >= dermoscopy._SKIN_FLOOR * measures.level_percentile(gray, 50, around_skin))
        working_field = mask_at_size(field, analysis.working.shape)
        working_gray = cv2.cvtColor(analysis.working, cv2.COLOR_RGB2GRAY)
        working_skin = mask_at_size(skin, analysis.working.shape) if skin.any() else working_field
        return {
            "lesion": lesion,
            "field": field,
            "around": around,
            "around_skin": around_skin,
            "working_field": working_field,
            "working_skin": working_skin,
            "working_gray": working_gray,
            "colour": colour_measures(analysis.thumbnail),
            # A checkout before 2026-12-01 (``--tree``) finds hairs inside ``_hair_fraction``.
            "hairs": dermoscopy._hairs_around_lesion(working_gray, around)
            if hasattr(dermoscopy, "_hairs_around_lesion")
            else None,
        }

    prepared = {id(analysis): masks(analysis) for analysis in analyses}
    return {
        "shrink to working": lambda a: shrink(a.pixels, a.size, SLACK),
        "shrink to segmentation": lambda a: shrink(a.working, WORK_SIZE, SLACK),
        "segment lesion": lambda a: segment_working_copy(a.lesion.image),
        "analyse (all of it)": lambda a: gate.analyse(a.frame, "dermoscopy"),
        "assess (all of it)": lambda a: gate.assess(a),
        "  colour": lambda a: colour_measures(a.thumbnail),
        "  wrong modality": _on(prepared, lambda a, m: retina_on_skin_visit(m["colour"], a.lesion.segmentation.field)),
        "  reflections": _on(
            prepared, lambda a, m: dermoscopy._reflections(a.working, m["working_field"], m["working_skin"])
        ),
        "  hair": _on(
            prepared,
            lambda a, m: dermoscopy._hair_fraction(
                dermoscopy._hairs_around_lesion(m["working_gray"], m["around"]), m["lesion"], m["around"]
            ),
        ),
        "  noise": _on(prepared, lambda a, m: measures.noise_sigma(m["working_gray"], m["working_skin"])),
        # Focus reads the sensor's noise on the photo itself, to smooth it away (``measures.sensor_noise``).
        "  focus": _on(prepared, lambda a, m: dermoscopy._focus(a, m["around"], gate.config.full_size, m["hairs"])),
        "  compression": lambda a: measures.compression(a.pixels[:, :, 1]),
        "  unevenness": _on(
            prepared,
            lambda a, m: measures.illumination_unevenness(
                cv2.extractChannel(a.lesion.image, 0), m["around_skin"], floor=dermoscopy._SKIN_FLOOR
            ),
        ),
        "  framing": _on(
            prepared,
            lambda a, m: dermoscopy._framing(m["lesion"], m["field"], dermoscopy.centroid_offset(m["lesion"])),
        ),
        "lesion measurements": lambda a: measure_segmented_lesion(a.lesion, a.frame.width, None, model.card),
        "model view": lambda a: model.input_tensor(a.pixels, None),
    }


PARTS = {"fundus": _fundus_parts, "dermoscopy": _dermoscopy_parts}
# How a helper another checkout lacks (renamed or added since), or calls another way, fails.
_MISSING = (AttributeError, NameError, TypeError, ValueError)


def _medians(parts: dict[str, Callable], analyses: list, repeats: int) -> dict[str, float | None]:
    """Each part's median ms over the photos x ``repeats``; ``None`` for a part the checkout lacks
    (it fails on its first photo, ``_MISSING``)."""
    timings: dict[str, list[float] | None] = {name: [] for name in parts}
    for _ in range(repeats):
        for analysis in analyses:
            for name, part in parts.items():
                if timings[name] is None:
                    continue
                started = time.perf_counter()
                try:
                    part(analysis)
                except _MISSING:
                    timings[name] = None
                    continue
                timings[name].append((time.perf_counter() - started) * 1000)
    return {name: None if values is None else statistics.median(values) for name, values in timings.items()}


def _as_a_screen_leaves_malloc() -> None:
    """Free one frame-sized block before the timing, as every screen frees its frame. glibc serves a
    block over its mmap threshold (128 KiB at start) as fresh pages from the system, each faulted in on
    first touch, until a block that large is freed: then it raises the threshold and keeps such blocks.
    Holding every photo's analysis and freeing nothing large, the parts paid those faults on each of the
    gate's plane-sized temporaries (about 3 ms a dermoscopy photo, a fault per page) that a screen never
    pays: the segmentation read 5.0 ms where the screen's own spends 3.5."""
    frame_sized = np.ones(3 << 20, np.uint8)
    del frame_sized


def _prepared_parts(factory: Callable, analyses: list, gate, model) -> dict[str, Callable]:
    """The parts, or, when the checkout lacks what the preparation calls, the whole ones alone."""
    try:
        return factory(analyses, gate, model)
    except _MISSING:
        return {
            "analyse (all of it)": lambda a: gate.analyse(a.frame, a.modality),
            "assess (all of it)": lambda a: gate.assess(a),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modality", choices=MODALITIES, default="dermoscopy")
    parser.add_argument("--images", type=int, default=20, help="photos")
    parser.add_argument("--repeats", type=int, default=5, help="times each part runs on each photo")
    parser.add_argument("--tree", type=Path, default=PROJECT_ROOT, help="the checkout whose code is timed")
    parser.add_argument("--samples", action="store_true", help="the bundled sample, whatever ../shared holds")
    args = parser.parse_args()
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    import cv2

    from bench.inference import REAL_IMAGES, _images
    from firmware_app.app import build_pipeline
    from firmware_app.capture.image_file import read_frame
    from firmware_app.config import SAMPLES_DIR, Config

    cv2.setNumThreads(1)
    modality = args.modality
    pipeline = build_pipeline(Config())
    gate, model = pipeline._quality_gate, pipeline.model(modality)
    real = REAL_IMAGES[modality].is_dir() and not args.samples
    paths = _images(modality, args.images) if real else sorted(SAMPLES_DIR.glob(f"{modality}-*"))
    analyses = [gate.analyse(pipeline.calibrate(read_frame(path)), modality) for path in paths]
    _as_a_screen_leaves_malloc()
    medians = _medians(_prepared_parts(PARTS[modality], analyses, gate, model), analyses, args.repeats)
    gate_ms = medians["analyse (all of it)"] + medians["assess (all of it)"]
    source = paths[0].parent if real else "the bundled sample"
    print(f"{modality}, one thread, medians over {len(paths)} photos x {args.repeats}; code: {tree}; photos: {source}")
    print(f"{'part':<28} {'ms':>7} {'of gate':>8}")
    for name, value in medians.items():
        cells = "absent" if value is None else f"{value:>7.2f} {value / gate_ms:>7.0%}"
        print(f"{name:<28} {cells:>16}")


if __name__ == "__main__":
    main()
