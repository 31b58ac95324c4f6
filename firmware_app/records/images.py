"""How a screened photo is kept: JPEG at high quality, the format a reviewer's viewer opens as-is.

Encoding it is most of what recording a screening costs, and it needs nothing but the frame: so it
starts as soon as the pipeline knows which frame it keeps (``PhotoKeeper.keep``; a single frame's
before the gate has judged it, a burst's once chosen), on a worker thread, and runs while the gate
or the model does (OpenCV releases the GIL while it encodes); the recording transaction then only
waits for bytes that are usually ready. Still one encode per kept frame.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from firmware_app.capture.frame import Frame

JPEG_QUALITY = 95
JPEG = "image/jpeg"


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("the photo could not be encoded as JPEG")
    return encoded.tobytes()


@dataclass(frozen=True)
class KeptPhoto:
    """A frame on its way into the records, with its archive JPEG being encoded meanwhile."""

    frame: Frame
    encoding: Future[bytes]

    def jpeg(self) -> bytes:
        """The archive JPEG, once encoded; an encoding failure is raised here, before anything is
        written."""
        return self.encoding.result()


class PhotoKeeper:
    """Encodes kept frames one at a time on its own worker thread."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-jpeg")

    def keep(self, frame: Frame) -> KeptPhoto:
        return KeptPhoto(frame, self._worker.submit(jpeg_bytes, frame.pixels))
