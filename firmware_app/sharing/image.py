"""The photo a site shares with its specialists: re-encoded from pixels, downscaled, optionally cropped.

The frame reaching here is already decoded pixels (``capture/image_file.py`` drops every container
field when it decodes), and it is encoded again by OpenCV, which writes a bare JFIF JPEG: no EXIF
(camera serials, GPS, dates, maker notes, thumbnails), XMP, ICC profile or comment can survive,
whatever the original file carried. No file name, patient reference or note is ever read here.
"""

from __future__ import annotations

import numpy as np

from firmware_app.quality.resample import shrink
from firmware_app.records.images import jpeg_bytes

# Around a cropped lesion, this much of its own size on each side: the border the dermatologist reads.
LESION_MARGIN = 0.5


def lesion_crop(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The lesion (``box``: fractions of the frame, as the pipeline measured it) and its margin."""
    rows, columns = rgb.shape[:2]
    x, y, width, height = box[0] * columns, box[1] * rows, box[2] * columns, box[3] * rows
    pad_x, pad_y = width * LESION_MARGIN, height * LESION_MARGIN
    top, left = max(0, round(y - pad_y)), max(0, round(x - pad_x))
    return rgb[top : round(y + height + pad_y), left : round(x + width + pad_x)]


def shared_jpeg(rgb: np.ndarray, max_side: int, lesion: tuple[float, float, float, float] | None) -> bytes:
    """The JPEG that leaves the device for one kept frame, cropped to ``lesion`` when one is given."""
    if lesion is not None:
        rgb = lesion_crop(rgb, lesion)
    return jpeg_bytes(np.ascontiguousarray(shrink(rgb, max_side)))
