"""A device recording screenings, as its own process, so tests can kill it at any instant.

    python -m tests.records.device_process CONFIG PHOTO COUNT [PAUSE_S] [verify]

Each screening goes through the real recording path (``recording_pipeline``'s recorder); the
result id is printed only after its transaction committed, then the process pauses. With ``verify``
each screening is followed by the audit check that starts a patient (``since_verified``), which
moves the verified mark: a kill then lands in that write too. SIGTERM (or Ctrl-C) stops it as it
stops the device's services, after the screening in hand; its recorder, then its records, are
closed however it ends (the last witness written), as ``recording_pipeline`` closes them: only
SIGKILL, the power cut, leaves them open.
"""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path

from firmware_app.app import DurableRecorder, open_store
from firmware_app.capture.image_file import read_frame
from firmware_app.config import load_config
from firmware_app.service.termination import stop_on_termination
from tests.records.kit import sample_record


def main(config_path: str, photo: str, count: int, pause: float, verify: bool = False) -> None:
    config = load_config(config_path)
    with stop_on_termination(config.device.language) as stop:
        store = open_store(config)
        with closing(store.records), closing(DurableRecorder(store, config.device)) as recorder:
            frame = read_frame(Path(photo))
            for index in range(count):
                if stop.is_set():
                    break
                record = sample_record(score=(index % 100) / 100)
                recorder(record, recorder.keep(frame))
                print(record.result_id, flush=True)
                if verify and not store.records.verify_audit(since_verified=True).intact:
                    raise SystemExit("the audit chain broke")
                stop.wait(pause)


if __name__ == "__main__":
    pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), pause, sys.argv[5:] == ["verify"])
