"""What another connection's commits cost ``edgescreen backup`` (``firmware_app/backup.py``): a device
at work commits while it is backed up (the app recording, the sync worker marking results sent).

Real records (SQLite, sealing) in a temporary folder, grown by ``--screenings`` recordings of the
bundled retina with its archive JPEG through the recording pipeline's recorder. Then the same backup
is timed ``--runs`` times idle and ``--runs`` times while a second process commits one small row to
the records' ``meta`` table every ``--every-ms`` milliseconds (0: as fast as it can), alternately,
and the medians and their ratio are printed, measured in this one run. A copy that starts over on
each commit made between two of its steps shows here as a ratio well above 1.

    .venv/bin/python bench/backup_under_writes.py [--screenings 150] [--runs 5] [--every-ms 0]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.outbox_backlog import record  # noqa: E402
from firmware_app.app import DurableRecorder, open_store  # noqa: E402
from firmware_app.backup import backup  # noqa: E402
from firmware_app.capture.image_file import read_frame  # noqa: E402
from firmware_app.config import SAMPLES_DIR, Config, RecordsConfig  # noqa: E402
from firmware_app.records.images import jpeg_bytes  # noqa: E402
from firmware_app.records.store import ScreeningStore  # noqa: E402
from tests.records.kit import DEVICE  # noqa: E402

# The writer: its own connection, one committed row each time, as another process of the device commits.
WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30.0)
pause, count = float(sys.argv[2]) / 1000, 0
print("writing", flush=True)
while True:
    count += 1
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench_writer', ?)", (str(count),))
    time.sleep(pause)
"""


def timed_backup(store: ScreeningStore, out: Path) -> float:
    """One backup to ``out`` (removed afterwards), in seconds."""
    started = time.perf_counter()
    backup(store, out)
    taken = time.perf_counter() - started
    out.unlink()
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screenings", type=int, default=150, help="screenings recorded before the backups")
    parser.add_argument("--runs", type=int, default=5, help="backups timed each way")
    parser.add_argument("--every-ms", type=float, default=0.0, help="the writer's pause between commits")
    args = parser.parse_args()
    pixels = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels
    jpeg = jpeg_bytes(pixels)
    with tempfile.TemporaryDirectory() as temp:
        database = Path(temp) / "b.sqlite3"
        store = open_store(Config(records=RecordsConfig(database=database, key_file=Path(temp) / "b.key")))
        try:
            recorder = DurableRecorder(store, DEVICE)
            for _ in range(args.screenings):
                record(recorder, pixels, jpeg)
            recorder.close()
            size_mib = database.stat().st_size / 2**20
            idle, busy = [], []
            for _ in range(args.runs):
                idle.append(timed_backup(store, Path(temp) / "idle.sqlite3"))
                writer = subprocess.Popen(
                    [sys.executable, "-c", WRITER, str(database), str(args.every_ms)], stdout=subprocess.PIPE, text=True
                )
                try:
                    writer.stdout.readline()  # it has its connection: the backup starts among its commits
                    busy.append(timed_backup(store, Path(temp) / "busy.sqlite3"))
                finally:
                    writer.kill()
                    writer.wait()
        finally:
            store.records.close()
    idle_s, busy_s = statistics.median(idle), statistics.median(busy)
    print(f"backup of {args.screenings} screenings ({size_mib:.0f} MiB), median of {args.runs}:")
    print(f"  idle records: {idle_s:.2f} s")
    print(f"  another process committing every {args.every_ms:g} ms: {busy_s:.2f} s")
    print(f"  ratio: {busy_s / idle_s:.2f}x")


if __name__ == "__main__":
    main()
