"""A camera failure says what happened in the nurse's language (``CameraError.sentence``), its
technician's words (paths, pixel types) kept to its message, which the log shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware_app.capture.camera import CameraError, CameraSettings, Size
from firmware_app.capture.files_camera import FilesCamera
from firmware_app.capture.opencv_camera import _to_rgb8
from firmware_app.capture.picamera2_camera import to_rgb
from firmware_app.messages import CATALOGUE


def kinds(kind: type[CameraError] = CameraError) -> list[type[CameraError]]:
    return [kind, *(sub for direct in kind.__subclasses__() for sub in kinds(direct))]


def test_every_kind_of_camera_failure_is_said_in_english_and_french():
    said = {kind.key for kind in kinds()}
    assert {"camera.failed", "camera.busy", "camera.stalled", "camera.frozen", "camera.misconfigured"} <= said
    for key in [key for key in CATALOGUE if key.startswith("camera.")]:
        assert set(CATALOGUE[key]) == {"en", "fr"} and CATALOGUE[key]["en"] != CATALOGUE[key]["fr"], key
    assert said <= CATALOGUE.keys()


def failure_of(*sources: Path) -> CameraError:
    with (
        pytest.raises(CameraError) as raised,
        FilesCamera(list(sources), CameraSettings(Size(64, 48), Size(0, 0))) as camera,
    ):
        camera.capture_burst(1)
    return raised.value


def test_the_files_cameras_failures_say_what_happened_without_a_path(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"no frame")
    (tmp_path / "empty").mkdir()
    cases = {
        tmp_path / "nowhere": ("a photo file or folder it is set to read is missing", "est absent"),
        tmp_path / "empty": ("it has no photos to read", "elle n'a aucune photo à lire"),
        broken: ("the one photo it reads cannot be used", "la seule photo qu'elle lit est inutilisable"),
    }
    for source, (english, french) in cases.items():
        failure = failure_of(source)
        assert str(tmp_path) in str(failure)  # the technician's, for the log
        assert failure.sentence("en") == english and french in failure.sentence("fr")
        assert str(tmp_path) not in failure.sentence("fr")
    two = failure_of(broken, broken)
    assert two.sentence("fr") == "aucune des 2 photos qu'elle lit n'est utilisable"


def test_a_frame_no_backend_can_read_is_said_alike_by_both():
    with pytest.raises(CameraError) as opencv:
        _to_rgb8(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(CameraError) as picamera2:
        to_rgb(np.zeros((4, 4, 3), np.uint8), "YUV420")
    assert "float32" in str(opencv.value) and "YUV420" in str(picamera2.value)
    assert opencv.value.sentence("fr") == picamera2.value.sentence("fr")
    assert opencv.value.sentence("fr").startswith("elle envoie des images dans un format")
