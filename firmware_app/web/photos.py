"""A photo shown on one of the app's screens: sent inside the page, fitted to its box.

A photo comes as a JPEG data URI in the page itself, never as an address of its own: it arrives
with the screen, and never sits in the browser's cache, as a fetched photo would (a patient's photo
on a shared device). The check screen shows the burst's chosen frame this way, the records screen a
screening's kept photo.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np


def jpeg(pixels: np.ndarray) -> bytes:
    """8-bit RGB pixels as a JPEG at OpenCV's default quality (a screen's copy, not the archive's)."""
    return cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))[1].tobytes()


def inline_photo(pixels: np.ndarray, box: tuple[int, int]) -> str:
    """The photo shrunk to fit ``box`` (width, height; never enlarged), as a data URI."""
    scale = min(1.0, box[0] / pixels.shape[1], box[1] / pixels.shape[0])
    if scale < 1.0:
        pixels = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return "data:image/jpeg;base64," + base64.b64encode(jpeg(pixels)).decode("ascii")


def inline_kept_photo(data: bytes, box: tuple[int, int]) -> str | None:
    """A kept JPEG (the records' archive copy) fitted to ``box``; ``None`` when it cannot be decoded."""
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if decoded is None else inline_photo(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), box)
