"""What starting a patient costs in readiness checks as the records grow, measured in one run.

One records folder is filled through the real recording path (``DurableRecorder``: a sealed JPEG of
about 160 KB, the validated payload, the outbox row, the ``screening`` event) plus a ``view`` event
per screening, which gives the two audit events per screening and the ~160 KB per screening of a
reviewer's device (3,038 events, 241 MB at 1,517 screenings). Only the filling connection runs with
``synchronous=OFF`` (the fill is not what is measured); every figure is timed on records opened as
the app opens them. At each size the readiness run is timed as the app runs it to start a patient
(``Device.readiness``: the form, its post, Finish), median of --repeats; the models and the camera
probe are left out (stubbed): their cost does not grow with the records.

    .venv/bin/python bench/readiness_cost.py [--sizes 100 1000 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
from skimage import data  # noqa: E402

from firmware_app.app import DurableRecorder  # noqa: E402
from firmware_app.capture.frame import Frame  # noqa: E402
from firmware_app.config import load_config  # noqa: E402
from firmware_app.health.readiness import readiness  # noqa: E402
from tests.records.kit import DEVICE, open_store, sample_record, write_config  # noqa: E402

# Fundus photos of this size keep at about 160 KB each, as on the reviewer's device.
PHOTO_SIDE = 960


def fill(store, recorder: DurableRecorder, photo, count: int) -> None:
    for index in range(count):
        record = sample_record(score=(index % 100) / 100)
        recorder(record, photo)
        store.view(record.result_id)


def median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(config, directory: Path, repeats: int) -> tuple[int, float, float]:
    """The audit events, the file's size in MB, and the readiness run's median ms, on records opened as
    the app opens them."""
    records = open_store(directory).records
    try:
        events = records.connection.execute("SELECT count(*) FROM audit").fetchone()[0]
        megabytes = (directory / "records.sqlite3").stat().st_size / 2**20
        return events, megabytes, median_ms(lambda: readiness(config, records, list, lambda: True), repeats)
    finally:
        records.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pixels = cv2.resize(data.retina(), (PHOTO_SIDE, PHOTO_SIDE), interpolation=cv2.INTER_AREA)
    with tempfile.TemporaryDirectory(prefix="readiness-cost-") as folder:
        directory = Path(folder)
        config = load_config(write_config(directory, port=1))
        filler = open_store(directory)
        filler.records.connection.execute("PRAGMA synchronous=OFF")
        recorder = DurableRecorder(filler, DEVICE)
        photo = recorder.keep(Frame(pixels, "retina.jpg"))
        figures: list[tuple[int, int, float]] = []
        recorded = 0
        for size in sorted(args.sizes):
            fill(filler, recorder, photo, size - recorded)
            recorded = size
            events, megabytes, start_ms = measure(config, directory, args.repeats)
            figures.append((size, events, start_ms))
            print(f"{size:>6} screenings, {events:>6} events, {megabytes:7.1f} MB: starting a patient {start_ms:8.1f} ms")
        filler.records.close()
    smallest = figures[0]
    for size, _, start_ms in figures[1:]:
        print(f"{size} vs {smallest[0]} screenings: starting a patient x{start_ms / smallest[2]:.1f}")


if __name__ == "__main__":
    main()
