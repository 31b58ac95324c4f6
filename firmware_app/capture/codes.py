"""Reading a patient's reference from a QR code or a barcode (a wristband, a referral letter) in a
camera frame, with OpenCV's own decoders: no extra package, and the same camera as the photos."""

from __future__ import annotations

import cv2

from firmware_app.capture.frame import Frame
from firmware_app.records.screening import MAX_PATIENT_REF


class CodeReader:
    """Decoders are built once: each frame of the scanning preview is tried with QR, then barcodes."""

    def __init__(self) -> None:
        self._detectors = (cv2.QRCodeDetector(), cv2.barcode.BarcodeDetector())

    def __call__(self, frame: Frame) -> str | None:
        """The code's text if one is read and fits a patient reference, else ``None``."""
        bgr = cv2.cvtColor(frame.pixels, cv2.COLOR_RGB2BGR)
        for detector in self._detectors:
            text = detector.detectAndDecode(bgr)[0].strip()
            if text and len(text) <= MAX_PATIENT_REF and text.isprintable():
                return text
        return None
