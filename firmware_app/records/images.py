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
from firmware_app.memory import OutOfMemory

JPEG_QUALITY = 95
JPEG = "image/jpeg"
# The longest side libjpeg encodes ("Maximum supported image dimension is 65500 pixels"): past it
# ``imencode`` returns ``False`` too, which is then no failed allocation.
JPEG_MAX_SIDE = 65_500


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    """The archive JPEG of a frame (8-bit RGB, as every camera and image file gives). Under a memory
    cap OpenCV raises "Insufficient memory" from its own allocator, and ``imencode`` returns ``False``
    when libjpeg's allocation fails (it swallows the ``bad_alloc``); for a well-formed 8-bit frame
    within JPEG's side (``JPEG_MAX_SIDE``) that is its only failure, so both are said as what they
    are: the device out of memory."""
    try:
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    except MemoryError as error:
        raise OutOfMemory("encoding the photo as JPEG") from error
    except cv2.error as error:
        if error.code == cv2.Error.StsNoMem:
            raise OutOfMemory("encoding the photo as JPEG") from error
        raise
    if not ok:
        if rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and max(rgb.shape[:2]) <= JPEG_MAX_SIDE:
            raise OutOfMemory("encoding the photo as JPEG")
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
    """Encodes kept frames one at a time on its own worker thread, until ``close``."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-jpeg")

    def keep(self, frame: Frame) -> KeptPhoto:
        return KeptPhoto(frame, self._worker.submit(jpeg_bytes, frame.pixels))

    def close(self) -> None:
        """End the worker once the frames it was given are encoded: its owner is done with it, and
        a worker left waiting outlives the records it encoded for (one more per keeper made)."""
        self._worker.shutdown()
