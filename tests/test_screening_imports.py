"""A process that screens and records never loads the sync side: the MQTT client and the photo
uploader's HTTPS client (ssl, http, email) cost it about 11 MB of the 150 MB issue 10 allows, and a
device's screening process never syncs (``edgescreen-app.service`` runs ``--no-sync``; the sync
service uploads). ``app.run_sync`` and ``UploadThread`` import them when they start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.records.kit import write_config

SYNC_ONLY = ("paho", "firmware_app.sync.worker", "firmware_app.sharing.uploader", "ssl", "http.client")

SCREEN_AND_RECORD = """
import sys
from firmware_app.app import recording_pipeline
from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR, load_config

with recording_pipeline(load_config(sys.argv[1])) as (pipeline, _):
    for photo in sorted(SAMPLES_DIR.glob("*.jpg")):
        modality = "fundus" if photo.name.startswith("fundus") else "dermoscopy"
        assert pipeline.screen(read_frame(photo), modality).result_id is not None, "not recorded"
print(" ".join(name for name in sys.argv[2:] if name in sys.modules))
"""


def test_screening_and_recording_load_nothing_of_the_sync_side(tmp_path: Path) -> None:
    config = write_config(tmp_path, port=1)
    done = subprocess.run(
        [sys.executable, "-c", SCREEN_AND_RECORD, str(config), *SYNC_ONLY],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
