"""A device that records screenings, then loses power before its write-ahead log is folded into the
records file, as its own process so that a test can kill it.

    python -m tests.records.power_cut CONFIG COUNT

Each screening is recorded for patient ``PC-<n>`` through the real recording path. Once its
witness is on disk (a few milliseconds after the last commit; ``records/witness.py``) it prints
``recorded`` and waits to be killed: the records' connection is never closed, so its last commits
are in the ``-wal`` file only, where a card that loses them takes them.
"""

from __future__ import annotations

import sys
import time

from firmware_app.app import open_store
from firmware_app.config import load_config
from firmware_app.records.screening import ScreeningContext
from tests.records.kit import record_one, sample_record, small_photo


def main(config_path: str, count: int) -> None:
    store = open_store(load_config(config_path))
    photo = small_photo()
    for index in range(count):
        record_one(store, photo, sample_record(ScreeningContext(eye="L", patient_ref=f"PC-{index}")))
    store.records.witness.close()  # written, as it is a few milliseconds after the commit
    print("recorded", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
