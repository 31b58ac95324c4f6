"""A photo file read to be screened, whichever way it enters: ``screen`` and ``run``'s files, or a
files camera's folder (``capture``, the app, a calibration's photos); and a photo ``calibrate``
measures a target on.

A photo ``records export`` wrote holds the record's frame, its pixels corrected by the device's
calibration profile already (``records/export_mark.py``): screened again, the pipeline corrects it a
second time and triages colours nobody photographed; measured by ``calibrate``, it makes a profile
that corrects the camera's frames for a correction they never had. Every such way in reads the file
through ``read_photo_to_screen``, so the test of the export's mark lives here once and no caller can
forget it. ``quality`` and ``quality fit`` read exports on purpose: they apply no profile, and an
export is the frame as the device's gate judged it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import ImageError, decode_frame, read_bytes
from firmware_app.records.export_mark import ExportMark, calibrated_export


class AlreadyCalibrated(ImageError):
    """A photo exported from the records with calibrated pixels. Its ``reason`` (what a log keeps) is
    the nurse's sentence in English; ``sentence`` says it in her language."""

    def __init__(self, path: Path, mark: ExportMark) -> None:
        self.mark = mark
        super().__init__(path, "screen.already_calibrated", result_id=mark.result_id, calibration=mark.calibration)


def read_photo_to_screen(path: Path) -> Frame:
    """``read_frame``, refusing a calibrated export (``AlreadyCalibrated``) before it is decoded, with
    the file's SHA-256 (``Frame.source_sha256``), by which a batch knows a photo it screened before:
    taken of the bytes read once, here alone, where ``quality``, ``quality fit`` and a bundle's check
    of its reference photos read files through ``read_frame`` and need none."""
    if mark := calibrated_export(path):
        raise AlreadyCalibrated(path, mark)
    data = read_bytes(path)
    return replace(decode_frame(data, path), source_sha256=hashlib.sha256(data).hexdigest())
