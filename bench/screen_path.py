"""What screening a frame costs beyond decoding it and invoking the model, in one run.

Per modality, on real photos (20 of ``../shared/data``'s dr-600 and ISIC UDA-1, or the bundled
samples when ``../shared`` is absent, which the output says), with the models on 2 threads:

- bare path: decode the JPEG, resize it to the model's input, quantise, and score it as the card
  prescribes (one interpreter run, or one per test-time flip as well: ``TriageModel.predict_input``,
  which a screen cannot skip either): the floor;
- ``screen``: ``read_frame`` then ``ScreeningPipeline.screen`` (quality gate, model, lesion
  measurements), no recording;
- ``screen`` + recording: the same through the recording pipeline (JPEG encode, sealing, SQLite);

medians over the photos, and the ratios to the bare path; then the CPU time of the bare path and of
``screen`` (all the process's threads: the model's input is made on a worker thread while the gate
judges, which shortens the wall time, not the work), so a ratio reached by overlapping work on a
machine's idle cores is told apart from one reached by doing less; and from them the floor two
cores allow ``screen`` (no less than the bare path, whose decode, resize and invoke it runs in the
same order, and no less than its CPU time spread over both cores at once), the core time the bare
path leaves idle on a quiet machine (its interpreter's two threads do not fill both cores), and the CPU time the 1.3x
aim leaves screening. Then JPEG decoding at full size against
libjpeg's reduced sizes (1/2, 1/4, 1/8), on the same photos and on a full HQ-camera frame, by OpenCV
and by the image reader (strict simplejpeg, with its header and structure checks). Then, on
one thread, the live preview (calibration with a representative full profile, then the gate's
preview check) in frames per second at 640x480 and 1280x960 from the files backend
(``bench/capture.py``'s stream and profile); and, in a fresh process, the cold start to the first
result (``edgescreen``'s imports, loading and verifying the model, one screen) and the process's
RSS once both models are loaded and have screened, with its two parts: the process's own memory, and
the pages of the libraries (OpenCV's alone is 70 MB) mapped in, shared with every other process and
reclaimable. Their count follows how the kernel holds those files in its page cache, not what the
process touches: where files are cached in large folios (ext4 since Linux 6.16), a fault maps a
whole folio, and a library installed minutes before (written, or read through, in large folios)
maps about 40 MB more than the same files brought back by the loader's page faults, as on a device
restarted since its install (``bench/rss_breakdown.py`` shows it per file, and can drop the cache).

Aims (issue 10): ``screen`` <= 1.3x the bare path; recording adds <= 5 ms; preview >= 30 fps at
640x480 and >= 15 fps at 1280x960; RSS <= 150 MB; cold start <= 1 s.

With ``--profile``, only where ``screen``'s time goes, per modality: the project's functions by
their cumulative time (the gate's measures, the analysis, the model's preprocessing) and the
library calls by their own time, in milliseconds per screen, from cProfile (which adds its own
overhead to every Python call: read the shares, not the totals).

    .venv/bin/python bench/screen_path.py [--images 20] [--repeats 3] [--frames 40] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.capture import PROFILE, frames_per_second  # noqa: E402
from bench.inference import REAL_IMAGES, _images  # noqa: E402
from firmware_app.app import build_pipeline, recording_pipeline  # noqa: E402
from firmware_app.calibration.apply import apply  # noqa: E402
from firmware_app.capture.camera import Size  # noqa: E402
from firmware_app.capture.image_file import decode_frame, read_frame  # noqa: E402
from firmware_app.config import SAMPLES_DIR, Config, RecordsConfig  # noqa: E402
from firmware_app.pipeline import ScreeningPipeline  # noqa: E402
from firmware_app.quality.gate import QualityGate, Speed  # noqa: E402

MODALITIES = ("fundus", "dermoscopy")
PREVIEW_SIZES = (Size(640, 480), Size(1280, 960))
THREADS = 2
# Issue 10's aim for screen against the bare path.
AIM_RATIO = 1.3


def _bare(pipeline: ScreeningPipeline, modality: str):
    """Decode, resize to the model's input, quantise and score (with the card's test-time flips):
    nothing a screen could skip."""
    model = pipeline.model(modality)
    spec = model.card.input

    def run(path: Path) -> None:
        rgb = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR_RGB)
        model.predict_input(model.quantised(cv2.resize(rgb, (spec.width, spec.height), interpolation=cv2.INTER_AREA)))

    return run


def _interleaved_ms(photos: list, actions: list, repeats: int) -> list[list[float]]:
    """Milliseconds of each action on each photo, ``repeats`` times; the actions run one after the
    other on the same photo, so a busy moment on a shared machine hits them alike."""
    return [wall for wall, _ in _interleaved_wall_and_cpu_ms(photos, actions, repeats)]


def _interleaved_wall_and_cpu_ms(photos: list, actions: list, repeats: int) -> list[tuple[list[float], list[float]]]:
    """``_interleaved_ms``, with each run's CPU time beside its wall time: the process's, summed over
    its threads (the interpreter's two, the pipeline's workers), so work moved onto another core
    shows there even when it leaves the wall time."""
    for action in actions:
        action(photos[0])  # warm-up
    timings: list[tuple[list[float], list[float]]] = [([], []) for _ in actions]
    for _ in range(repeats):
        for path in photos:
            for action, (wall, cpu) in zip(actions, timings, strict=True):
                started, started_cpu = time.perf_counter(), time.process_time()
                action(path)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
    return timings


def screen_path(images: int, repeats: int) -> None:
    cv2.setNumThreads(THREADS)
    config = Config()
    with tempfile.TemporaryDirectory() as temp:
        records = RecordsConfig(database=Path(temp) / "bench.sqlite3", key_file=Path(temp) / "bench.key")
        with recording_pipeline(Config(records=records)) as (recording, _), build_pipeline(config) as plain:
            print(f"screen path: {THREADS} threads, medians over each photo x {repeats}; wall time, then CPU time")
            header = ("modality", "photos", "bare ms", "screen ms", "ratio", "+ record ms", "ratio", "record +ms")
            print(
                "{:<11} {:>6} {:>8} {:>10} {:>6} {:>12} {:>6} {:>10}   {}".format(*header, "CPU: bare, screen, ratio")
            )
            for modality in MODALITIES:
                paths = _images(modality, images)
                if not REAL_IMAGES[modality].is_dir():
                    print(f"  ../shared absent: {modality} uses the bundled sample {paths[0].name} only")
                actions = [
                    _bare(plain, modality),
                    lambda p, m=modality: plain.screen(read_frame(p), m),
                    lambda p, m=modality: recording.screen(read_frame(p), m),
                ]
                timings = _interleaved_wall_and_cpu_ms(paths, actions, repeats)
                (bare_ms, bare_cpu), (screen_ms, screen_cpu), (record_ms, _) = timings
                bare, screen, record = (statistics.median(t) for t in (bare_ms, screen_ms, record_ms))
                cpu_bare, cpu_screen = statistics.median(bare_cpu), statistics.median(screen_cpu)
                # Recording's own cost: the median of the per-run differences, steadier than a
                # difference of medians.
                added = statistics.median(r - s for r, s in zip(record_ms, screen_ms, strict=True))
                size = "x".join(str(n) for n in read_frame(paths[0]).pixels.shape[1::-1])
                # The model's interpreter runs per photo, in both paths (its test-time flips), and
                # what screening adds beyond the bare path in milliseconds, which they do not change.
                runs = 1 + len(plain.model(modality).card.input.test_time_flips)
                # The floor two cores allow: a screen runs the bare path's decode, resize and invoke
                # one after the other as it does, and all its work spread over both cores at once
                # takes its CPU time halved. What the bare path leaves idle (its interpreter's
                # threads wait on each other) is where screening's work can hide: on a quiet
                # machine a fundus screen hides most of it there (docs/screen-path.md, 2026-12-07).
                extra_cpu = cpu_screen - cpu_bare
                floor = max(bare, cpu_screen / THREADS)
                idle = THREADS * bare - cpu_bare
                print(
                    f"{modality:<11} {len(paths):>6} {bare:>8.1f} {screen:>10.1f} {screen / bare:>5.2f}x "
                    f"{record:>12.1f} {record / bare:>5.2f}x {added:>10.1f}   "
                    f"{cpu_bare:.1f}, {cpu_screen:.1f}, {cpu_screen / cpu_bare:.2f}x   ({paths[0].parent}, {size}; "
                    f"{runs} interpreter run(s); screen - bare {screen - bare:.1f} ms)"
                )
                print(
                    f"{'':<11} CPU screening adds: {extra_cpu:.1f} ms; the bare path keeps {THREADS} cores "
                    f"{cpu_bare / (THREADS * bare):.0%} busy (the rest idle on a quiet machine); "
                    f"screen >= {floor:.1f} ms ({floor / bare:.2f}x); {AIM_RATIO}x leaves "
                    f"screening {(AIM_RATIO - 1) * bare * THREADS + idle:.1f} ms of CPU time"
                )


def profile(images: int, repeats: int, rows: int = 16) -> None:
    """Where ``screen``'s time goes: the project's functions by cumulative time, the library calls
    (OpenCV, numpy, the interpreter) by their own, in ms per screen."""
    cv2.setNumThreads(THREADS)
    pipeline = build_pipeline(Config())
    for modality in MODALITIES:
        frames = [read_frame(path) for path in _images(modality, images)]
        pipeline.screen(frames[0], modality)  # warm-up: the model loads
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeats):
            for frame in frames:
                pipeline.screen(frame, modality)
        profiler.disable()
        screens = repeats * len(frames)
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        own = [(tottime, name) for (path, _, name), (_, _, tottime, _, _) in stats.items() if path == "~"]
        project = [
            (cumtime, f"{Path(path).relative_to(PROJECT_ROOT).with_suffix('')}.{name}")
            for (path, _, name), (_, _, _, cumtime, _) in stats.items()
            if path.startswith(str(PROJECT_ROOT / "firmware_app"))
        ]
        print(f"profile of screen, {modality}, {screens} screens (ms per screen):")
        for title, entries in (("project, cumulative", project), ("library calls, own", own)):
            print(f"  {title}:")
            for seconds, name in sorted(entries, reverse=True)[:rows]:
                print(f"    {seconds * 1000 / screens:7.2f}  {name}")


# A JPEG decoded at 1/2, 1/4 or 1/8 by libjpeg while decoding, by OpenCV's flags.
REDUCED = ((2, cv2.IMREAD_REDUCED_COLOR_2), (4, cv2.IMREAD_REDUCED_COLOR_4), (8, cv2.IMREAD_REDUCED_COLOR_8))
# The Raspberry Pi HQ camera's full frame, as a still JPEG from it would be.
SENSOR_FRAME = (4056, 3040)


def decode_costs(images: int, repeats: int) -> None:
    """Full against reduced-size JPEG decoding, on the real photos and on a full sensor frame: by
    OpenCV (how the reader decoded JPEGs until it decoded them strictly, and how the bare path still
    does), and by the reader itself (``decode_frame``: header, structure walk, simplejpeg's strict
    decoding, forced to each reduction by its decoded-bytes bound)."""
    cv2.setNumThreads(THREADS)
    rows = {modality: [p.read_bytes() for p in _images(modality, images)] for modality in MODALITIES}
    rows[f"{SENSOR_FRAME[0]}x{SENSOR_FRAME[1]}"] = [_sensor_frame_jpeg()]
    print("JPEG decoding, ms (median) and share of the full decode:")
    for name, jpegs in rows.items():

        def opencv(flag, jpegs=jpegs):
            return lambda index: cv2.imdecode(np.frombuffer(jpegs[index], np.uint8), flag)

        def reader(factor, jpegs=jpegs):
            bounds = [_decoded_bytes(jpeg, factor) for jpeg in jpegs]
            return lambda index: decode_frame(jpegs[index], Path("bench.jpg"), max_decoded_bytes=bounds[index])

        indices = list(range(len(jpegs)))
        timings = _interleaved_ms(
            indices,
            [
                *(opencv(flag) for flag in (cv2.IMREAD_COLOR_RGB, *(flag for _, flag in REDUCED))),
                *(reader(factor) for factor in (1, *(factor for factor, _ in REDUCED))),
            ],
            repeats,
        )
        for decoder, ms in (("OpenCV", timings[:4]), ("reader", timings[4:])):
            full_ms, *reduced = (statistics.median(m) for m in ms)
            cells = ", ".join(
                f"1/{factor} {median:.1f} ({median / full_ms:.2f})"
                for (factor, _), median in zip(REDUCED, reduced, strict=True)
            )
            print(f"  {name:<11} {decoder:<6} full {full_ms:.1f}, {cells}")


def _decoded_bytes(jpeg: bytes, factor: int) -> int:
    """The decoded-bytes bound that makes the reader decode ``jpeg`` at 1/``factor``."""
    height, width = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[:2]
    return -(-width // factor) * -(-height // factor) * 3


def _sensor_frame_jpeg() -> bytes:
    """The bundled retina on a full sensor frame, as the HQ camera's JPEG (quality 90)."""
    retina = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels
    width, height = SENSOR_FRAME
    frame = np.zeros((height, width, 3), np.uint8)
    left = (width - height) // 2
    frame[:, left : left + height] = cv2.resize(retina, (height, height), interpolation=cv2.INTER_CUBIC)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return jpeg.tobytes()


def _modality(path: str) -> str:
    return "dermoscopy" if Path(path).name.startswith("dermoscopy") else "fundus"


def preview_fps(frames: int) -> None:
    cv2.setNumThreads(1)
    gate = QualityGate(Config().quality)

    def stage(frame) -> None:
        gate.check(apply(PROFILE, frame), _modality(frame.source), Speed.PREVIEW)

    fps = {size: frames_per_second(size, stage, frames) for size in PREVIEW_SIZES}
    print(f"live preview, one thread, calibration + preview check, {frames} frames from {SAMPLES_DIR.name}/:")
    print("  " + ", ".join(f"{s.width}x{s.height} {v:.1f} fps" for s, v in fps.items()))


def process_memory_mb() -> dict[str, float]:
    """This process's RSS, its own part (RssAnon) and its files' (RssFile), and its peak, in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    megabytes = {name: int(status[name].split()[0]) / 1024 for name in ("VmRSS", "RssAnon", "RssFile")}
    megabytes["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return megabytes


def sample_photos() -> dict[str, Path]:
    """The bundled sample photo of each modality."""
    return {_modality(str(p)): p for p in sorted(SAMPLES_DIR.glob("*.jpg"))}


def cold_start_worker() -> None:
    """Run in a fresh process: print when the first result is out, then the RSS with both models."""
    config = Config()
    pipeline = build_pipeline(config)
    samples = sample_photos()
    pipeline.screen(read_frame(samples["fundus"]), "fundus")
    print("first", flush=True)
    pipeline.screen(read_frame(samples["dermoscopy"]), "dermoscopy")
    print(json.dumps(process_memory_mb()), flush=True)


def cold_start() -> None:
    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, __file__, "--cold-start-worker"], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    assert worker.stdout is not None
    first = worker.stdout.readline()
    seconds = time.perf_counter() - started
    memory = json.loads(worker.stdout.readline())
    worker.wait()
    if first.strip() != "first":
        raise SystemExit("the cold-start worker failed")
    print(f"cold start to first result (fresh process, fundus sample): {seconds:.2f} s")
    print(
        f"RSS with both models loaded, after one screen each: {memory['VmRSS']:.0f} MB (peak {memory['peak']:.0f}): "
        f"{memory['RssAnon']:.0f} MB the process's own, {memory['RssFile']:.0f} MB of library files mapped in, "
        "which depends on the page cache's folio sizes, not on the process (more just after an install: "
        "bench/rss_breakdown.py)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20, help="photos per modality")
    parser.add_argument("--repeats", type=int, default=3, help="times each photo is screened")
    parser.add_argument("--frames", type=int, default=40, help="preview frames timed per size")
    parser.add_argument("--profile", action="store_true", help="only where screen's time goes (cProfile)")
    parser.add_argument("--cold-start-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_start_worker:
        cold_start_worker()
        return
    if args.profile:
        profile(args.images, args.repeats)
        return
    cold_start()
    screen_path(args.images, args.repeats)
    decode_costs(args.images, args.repeats)
    preview_fps(args.frames)


if __name__ == "__main__":
    main()
