"""The running device's threads over a day of screenings: the pipeline's workers (the model's input,
the archive JPEG) and the records' witness writer are made once, however many screenings run, and
``Device.stop`` (the app's lifespan, at Ctrl-C or systemd's SIGTERM) ends every thread the device
started, with the last screening witnessed on disk (``records/witness.py``).

The device as the app runs it (``Device``, no browser), the real fundus model, real SQLite."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from firmware_app.app import open_store
from firmware_app.capture.image_file import read_frame
from firmware_app.config import load_config
from firmware_app.records.audit import audit_head
from firmware_app.records.witness import read_witness, witness_path
from firmware_app.web.device import Device
from tests.records.kit import write_config

SCREENINGS = 6
WORKERS = ("model-input", "archive-jpeg", "witness")


def workers(besides: set[threading.Thread]) -> list[str]:
    """The workers' threads alive now but those in ``besides``: a thread another test left running in
    this process (a records' witness writer of records it did not close, say) is not this device's."""
    alive = set(threading.enumerate()) - besides
    return sorted(thread.name for thread in alive if thread.name.startswith(WORKERS))


def test_screenings_add_no_thread_and_a_stop_ends_the_devices_threads_with_the_witness_written(
    tmp_path: Path, retina_jpeg: Path
) -> None:
    config = load_config(str(write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n')))
    before = set(threading.enumerate())
    device = Device(config, with_sync=False)
    device.start()
    try:
        frame = read_frame(retina_jpeg)

        def screen() -> str | None:
            """As a request handler screens: ``Device.run``, awaited on an event loop of its own thread
            (the browser tests leave one running on this one)."""
            with ThreadPoolExecutor(1) as loop:
                work = device.run(lambda: device.pipeline.screen(frame, "fundus"))
                return loop.submit(asyncio.run, work).result().result_id

        assert screen() is not None
        after_one = workers(before)
        assert [name.rstrip("_0123456789") for name in after_one] == sorted(WORKERS)
        for _ in range(SCREENINGS - 1):
            assert screen() is not None
        assert workers(before) == after_one
    finally:
        device.stop()
    assert [thread.name for thread in set(threading.enumerate()) - before] == []
    witness = read_witness(witness_path(config.records.database))
    store = open_store(config, read_only=True)
    try:
        head, _ = audit_head(store.records.connection)
    finally:
        store.records.close()
    assert witness is not None and (witness.event, witness.screenings) == (head, SCREENINGS)
