"""Inference cost on this machine: bare ``invoke()`` against the whole ``screen`` path, per runtime.

For each model, each installed TFLite runtime (``ai-edge-litert`` in this environment,
``tflite-runtime`` in ``.venv-tflite`` when it exists) and 1 and 2 threads, one fresh process
measures the median bare ``invoke()`` latency, the median full path on real images (decode +
preprocess + one invoke per test-time flip the card names + postprocess), their ratio, and the
process's peak RSS. Everything is
measured in one run, so the ratios hold even on a noisy machine.

    .venv/bin/python bench/inference.py [--repeats 50] [--images 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared" / "data"
MODELS = {"dr-referable": "fundus", "melanoma": "dermoscopy"}
REAL_IMAGES = {
    "fundus": SHARED / "fundus" / "dr-600" / "images",
    "dermoscopy": SHARED / "dermoscopy" / "isic-uda1-cc0" / "images",
}


def _images(modality: str, count: int) -> list[Path]:
    """Real photos of the modality: the shared data set when present, else the bundled samples."""
    if REAL_IMAGES[modality].is_dir():
        return sorted(REAL_IMAGES[modality].glob("*.jpg"))[:count]
    return sorted((PROJECT_ROOT / "firmware_app" / "samples").glob(f"{modality}-*"))


def _median_ms(action, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def worker(model_id: str, threads: int, repeats: int, image_count: int) -> dict:
    """Measure one (runtime, model, threads) combination in this process."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from firmware_app.capture.image_file import read_frame
    from firmware_app.inference.model import TriageModel

    model = TriageModel(PROJECT_ROOT / "models" / model_id, threads=threads)
    images = _images(MODELS[model_id], image_count)
    tensor = model.input_tensor(read_frame(images[0]).pixels)
    bare = _median_ms(lambda: model.invoke(tensor), repeats)
    cycle = iter(images * (repeats // len(images) + 1))
    full = _median_ms(lambda: model.predict(read_frame(next(cycle)).pixels), repeats)
    return {
        "runtime": model.runtime,
        "model": model_id,
        "threads": threads,
        "images": len(images),
        "image_source": str(images[0].parent),
        "runs": 1 + len(model.card.input.test_time_flips),
        "invoke_ms": bare,
        "screen_ms": full,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _pythons() -> list[Path]:
    candidates = [Path(sys.executable), PROJECT_ROOT / ".venv-tflite" / "bin" / "python"]
    return [p for p in candidates if p.exists()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.repeats, args.images)))
        return

    rows = []
    for python in _pythons():
        for model_id in MODELS:
            for threads in (1, 2):
                command = [str(python), __file__, "--worker", model_id, str(threads)]
                command += ["--repeats", str(args.repeats), "--images", str(args.images)]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    print(f"{python}: {model_id} failed:\n{done.stderr}", file=sys.stderr)
                    continue
                rows.append(json.loads(done.stdout))

    for model_id, source, runs in sorted({(r["model"], r["image_source"], r["runs"]) for r in rows}):
        print(f"{model_id} images: {source}; {runs} invoke(s) per photo (the card's test-time flips)")
    print(
        f"{'runtime':<15} {'model':<13} {'thr':>3} {'invoke ms':>10} {'screen ms':>10} "
        f"{'screen/invoke':>14} {'RSS MB':>7}"
    )
    for r in rows:
        print(
            f"{r['runtime']:<15} {r['model']:<13} {r['threads']:>3} {r['invoke_ms']:>10.2f} "
            f"{r['screen_ms']:>10.2f} {r['screen_ms'] / r['invoke_ms']:>14.2f} {r['peak_rss_mb']:>7.0f}"
        )
    by_key = {(r["runtime"], r["model"], r["threads"]): r for r in rows}
    for (runtime, model_id, threads), r in by_key.items():
        if runtime != "tflite-runtime":
            continue
        litert = by_key.get(("ai-edge-litert", model_id, threads))
        if litert:
            print(
                f"tflite-runtime / ai-edge-litert, {model_id}, {threads} thread(s): "
                f"invoke x{r['invoke_ms'] / litert['invoke_ms']:.1f}, "
                f"screen x{r['screen_ms'] / litert['screen_ms']:.1f}"
            )


if __name__ == "__main__":
    main()
