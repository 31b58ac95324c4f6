"""How a screened photo is kept: JPEG at high quality, the format a reviewer's viewer opens as-is."""

from __future__ import annotations

import cv2
import numpy as np

JPEG_QUALITY = 95
JPEG = "image/jpeg"


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("the photo could not be encoded as JPEG")
    return encoded.tobytes()
