"""The photo a site shares with its specialists: re-encoded from pixels, downscaled, optionally cropped.

The frame reaching here is already decoded pixels (``capture/image_file.py`` drops every container
field when it decodes), and it is encoded again by OpenCV, which writes a bare JFIF JPEG: no EXIF
(camera serials, GPS, dates, maker notes, thumbnails), XMP, ICC profile or comment can survive,
whatever the original file carried. No file name, patient reference or note is ever read here.
"""

from __future__ import annotations

import cv2
import numpy as np

from firmware_app.quality.lesion import segment_lesion
from firmware_app.quality.resample import shrink
from firmware_app.records.images import jpeg_bytes

# Around a cropped lesion, this much of its own size on each side: the border the dermatologist reads.
LESION_MARGIN = 0.5


def lesion_crop(rgb: np.ndarray) -> np.ndarray:
    """The lesion and its margin; the whole frame when no lesion is found (nothing to crop to)."""
    segmentation = segment_lesion(rgb)
    if not segmentation.found:
        return rgb
    x, y, width, height = cv2.boundingRect(segmentation.mask.astype(np.uint8))
    pad_x, pad_y = round(width * LESION_MARGIN), round(height * LESION_MARGIN)
    top, left = max(0, y - pad_y), max(0, x - pad_x)
    return rgb[top : y + height + pad_y, left : x + width + pad_x]


def shared_jpeg(rgb: np.ndarray, modality: str, max_side: int, crop_lesion: bool) -> bytes:
    """The JPEG that leaves the device for one kept frame."""
    if crop_lesion and modality == "dermoscopy":
        rgb = lesion_crop(rgb)
    return jpeg_bytes(np.ascontiguousarray(shrink(rgb, max_side)))
