"""What starting a patient costs in readiness checks as the records grow, measured in one run.

One records folder is filled through the real recording path (``DurableRecorder``: a sealed JPEG of
about 160 KB, the validated payload, the outbox row, the ``screening`` event) plus a ``view`` event
per screening, which gives the two audit events per screening and the ~160 KB per screening of a
reviewer's device (3,038 events, 241 MB at 1,517 screenings). Only the filling connection runs with
``synchronous=OFF`` (the fill is not what is measured); every figure is timed on records opened as
the app opens them. At each size, median of --repeats:

- the full run (``readiness`` without scans): what ``doctor``, "Ready to screen?" (sign-in, "Check
  again") and the app's first run cost, and what every start of a patient cost before the scans
  were reused;
- starting a patient as the app now does (``Device.readiness``: the form, its post, Finish): the
  full run's ``Scans`` reused, one screening and its view recorded before each start (untimed), so
  the audit walks the events recorded since the verified mark, as between two patients;
- the full scans alone (``full_scans``: quick_check and the whole audit chain), which the app
  repeats in the background once an hour.

The models and the camera probe are left out (stubbed): their cost does not grow with the records.

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
from firmware_app.health.readiness import Scans, full_scans, readiness  # noqa: E402
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


def measure(config, directory: Path, repeats: int, record_one) -> tuple[int, float, float, float, float]:
    """The audit events, the file's size in MB, and the median ms of the full run, of starting a patient
    and of the full scans, on records opened as the app opens them."""
    records = open_store(directory).records
    try:
        events = records.connection.execute("SELECT count(*) FROM audit").fetchone()[0]
        megabytes = (directory / "records.sqlite3").stat().st_size / 2**20
        full_ms = median_ms(lambda: readiness(config, records, list, lambda: True), repeats)
        scans = Scans.of(readiness(config, records, list, lambda: True), time.monotonic())

        def start_patient() -> float:
            record_one()  # the last patient's screening and its view, not timed
            start = time.perf_counter()
            readiness(config, records, list, lambda: True, scans=scans)
            return (time.perf_counter() - start) * 1000

        start_ms = statistics.median(start_patient() for _ in range(repeats))
        scans_ms = median_ms(lambda: full_scans(records), repeats)
        return events, megabytes, full_ms, start_ms, scans_ms
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
        figures: list[tuple[int, float, float]] = []
        recorded = 0
        print("screenings  events      MB   full run  start a patient  full scans (background)")
        for size in sorted(args.sizes):
            fill(filler, recorder, photo, size - recorded)
            recorded = size
            events, megabytes, full_ms, start_ms, scans_ms = measure(
                config, directory, args.repeats, lambda: fill(filler, recorder, photo, 1)
            )
            recorded += args.repeats
            figures.append((size, full_ms, start_ms))
            row = f"{size:>10} {events:>7} {megabytes:>7.1f} {full_ms:>7.1f} ms"
            print(f"{row} {start_ms:>13.1f} ms {scans_ms:>13.1f} ms")
        filler.records.close()
    smallest, largest = figures[0], figures[-1]
    for size, full_ms, start_ms in figures[1:]:
        print(
            f"{size} vs {smallest[0]} screenings: full run x{full_ms / smallest[1]:.1f}, "
            f"starting a patient x{start_ms / smallest[2]:.1f}"
        )
    print(
        f"at {largest[0]} screenings, starting a patient costs {largest[2] / largest[1]:.3f} of a full run "
        f"(x{largest[1] / largest[2]:.0f} faster)"
    )


if __name__ == "__main__":
    main()
