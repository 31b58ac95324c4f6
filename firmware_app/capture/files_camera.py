"""A camera made of image files: for imports, demos and tests on a machine with no camera.

The files are replayed in order, round and round: preview frames are each photo scaled to fit
within the preview size, its proportions kept, and a burst is the ``count`` photos starting at the
one on preview, at their own resolution. A file that cannot be
read, or a photo exported from the records (its pixels calibrated already: ``photo_to_screen``), is
logged and skipped, so one bad photo in an import folder does not stop the others.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from firmware_app.capture.camera import Camera, CameraError, CameraMisconfigured, CameraSettings, Controls, Size
from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import ImageError
from firmware_app.capture.photo_to_screen import read_photo_to_screen
from firmware_app.events import image_ref, log_event

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
# Decoded photos kept in memory: enough for a burst, small enough for a Pi with a large import folder.
_CACHED_PHOTOS = 8
_SUFFIXES = ", ".join(IMAGE_SUFFIXES)


def ignored_files(sources: Sequence[Path]) -> list[Path]:
    """Files in the named folders that are not photos by their suffix (a .gif, a note): the camera
    skips them, and says so, or its count of photos would not match the files the technician sees."""
    return sorted(
        path
        for source in sources
        if source.is_dir()
        for path in source.iterdir()
        if path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES
    )


def named_in_log(path: Path) -> str:
    """A file as a log or a message names it: its keyed reference and its suffix, never its name
    (an import folder's file names may be patients')."""
    return image_ref(path) + path.suffix.lower()


def list_images(sources: Sequence[Path]) -> list[Path]:
    """Image files named directly, and those inside named folders (sorted by name)."""
    images: list[Path] = []
    for source in sources:
        if source.is_dir():
            images += sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            images.append(source)
    return images


def fit_within(pixels: np.ndarray, size: Size) -> np.ndarray:
    """``pixels`` scaled to fit within ``size``, proportions kept, with no bars round them: a sensor's
    frame is its picture edge to edge, and black bars round a photo of another shape would read to
    the fundus gate as a camera's mask round a smaller field (``field_span``)."""
    height, width = pixels.shape[:2]
    scale = min(size.width / width, size.height / height)
    new_width, new_height = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(pixels, (new_width, new_height), interpolation=interpolation)


class FilesCamera(Camera):
    name = "files"

    def __init__(self, sources: Sequence[Path], settings: CameraSettings) -> None:
        super().__init__(settings)
        self._sources = list(sources)
        self._preview, self._still = settings.preview, settings.still
        self._images: list[Path] = []
        self._on_preview = -1
        self._cache: OrderedDict[Path, Frame] = OrderedDict()
        # Each cached photo's preview-size pixels, dropped with the photo (keyed to the same Frame).
        self._preview_cache: dict[Path, tuple[Frame, np.ndarray]] = {}

    def _open_device(self) -> None:
        self._images = list_images(self._sources)
        missing = [p for p in self._images if not p.is_file()]
        if missing:
            raise CameraMisconfigured(
                f"files camera: {missing[0]}: no such image file or folder", "camera.files.missing"
            )
        ignored = ignored_files(self._sources)
        if ignored:
            files = [named_in_log(path) for path in ignored]
            # Information, not a warning: a folder of photos may hold their notes (the bundled samples' README).
            log_event("camera.files_ignored", files=files, why=f"not {_SUFFIXES}")
        if not self._images:
            skipped = f" ({len(ignored)} other files skipped: not {_SUFFIXES})" if ignored else ""
            raise CameraMisconfigured(
                f"files camera: no images ({_SUFFIXES}) in {self._named()}{skipped}", "camera.files.none"
            )
        self._on_preview = -1  # before the first photo

    def _named(self) -> str:
        return ", ".join(map(str, self._sources)) or "nothing"

    def _release_device(self) -> None:
        self._cache.clear()
        self._preview_cache.clear()

    def _photo(self, path: Path) -> Frame:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        frame = read_photo_to_screen(path)
        self._cache[path] = frame
        if len(self._cache) > _CACHED_PHOTOS:
            evicted, _ = self._cache.popitem(last=False)
            self._preview_cache.pop(evicted, None)
        return frame

    def _next_readable(self, start: int) -> tuple[int, Frame]:
        """The first usable photo at or after ``start`` (cyclically); the others are logged, with why."""
        unreadable: list[str] = []
        for offset in range(len(self._images)):
            index = (start + offset) % len(self._images)
            try:
                return index, self._photo(self._images[index])
            except ImageError as error:
                unreadable.append(f"{named_in_log(self._images[index])}: {error.reason}")
                log_event(
                    "camera.file_skipped",
                    level=logging.WARNING,
                    image=image_ref(self._images[index]),
                    error=error.reason,
                )
        # A camera that opened and then gives no frame, as a real one that stopped answering: the
        # nurse's Retry, once the photos are readable again, brings it back.
        raise CameraError(
            f"files camera: none of the {len(self._images)} images in {self._named()} can be used "
            f"({'; '.join(unreadable)})",
            "camera.files.unusable",
            count=len(self._images),
        )

    def _require_open(self) -> None:
        if not self.is_open:
            raise CameraError("files camera: not open (use it as `with camera:`)")

    def preview_frames(self) -> Iterator[Frame]:
        self._require_open()
        for _ in itertools.count():
            self._on_preview, photo = self._next_readable((self._on_preview + 1) % len(self._images))
            yield self._previewed(self._images[self._on_preview], photo)

    def _previewed(self, path: Path, photo: Frame) -> Frame:
        """The photo scaled to fit the preview size, once per cached photo: a sensor delivers its
        preview at that size for free, and a replayed photo should not cost more per frame."""
        fitted = self._preview_cache.get(path)
        if fitted is None or fitted[0] is not photo:
            pixels = fit_within(photo.pixels, self._preview)
            pixels.setflags(write=False)  # shared by every frame of this photo: nobody may paint on it
            fitted = (photo, pixels)
            self._preview_cache[path] = fitted
        return dataclasses.replace(photo, pixels=fitted[1])

    def capture_burst(self, count: int) -> list[Frame]:
        """The ``count`` photos from the one last previewed on (cycling if the folder is shorter)."""
        self._require_open()
        burst = []
        position = max(self._on_preview, 0)
        for _ in range(count):
            position, photo = self._next_readable(position)
            if not self._still.is_full_resolution:
                photo = dataclasses.replace(photo, pixels=fit_within(photo.pixels, self._still))
            burst.append(photo)
            position = (position + 1) % len(self._images)
        return burst

    def set_controls(self, controls: Controls) -> Controls:
        if controls.requested():
            log_event("camera.controls_unsupported", backend=self.name, requested=controls.requested())
        return Controls()
