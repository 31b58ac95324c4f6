"""A device recording screenings, as its own process, so tests can kill it at any instant.

    python -m tests.records.device_process CONFIG PHOTO COUNT [PAUSE_S] [verify]

Each screening goes through the real recording path (``recording_pipeline``'s recorder); the
result id is printed only after its transaction committed, then the process pauses. With ``verify``
each screening is followed by the audit check that starts a patient (``since_verified``), which
moves the verified mark: a kill then lands in that write too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from firmware_app.app import DurableRecorder, open_store
from firmware_app.capture.image_file import read_frame
from firmware_app.config import load_config
from tests.records.kit import sample_record


def main(config_path: str, photo: str, count: int, pause: float, verify: bool = False) -> None:
    config = load_config(config_path)
    store = open_store(config)
    recorder = DurableRecorder(store, config.device)
    frame = read_frame(Path(photo))
    for index in range(count):
        record = sample_record(score=(index % 100) / 100)
        recorder(record, recorder.keep(frame))
        print(record.result_id, flush=True)
        if verify and not store.records.verify_audit(since_verified=True).intact:
            raise SystemExit("the audit chain broke")
        if pause:
            time.sleep(pause)


if __name__ == "__main__":
    pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), pause, sys.argv[5:] == ["verify"])
