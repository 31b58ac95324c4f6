"""Read a photo from a file without trusting it.

The header is read first (Pillow reads only the header on ``open``), so a file that claims
30000x30000 pixels is refused before anything is decoded; only then does OpenCV decode it. Every
failure is an ``ImageError`` whose message a nurse or technician can act on.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from firmware_app.capture.frame import Frame

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class ImageError(ValueError):
    """A file is not a photo the device can use; the message says why."""


def _probe(path: Path, data: bytes, max_pixels: int) -> None:
    """Refuse non-images, oversized images and cut-off JPEGs before decoding.

    libjpeg decodes a truncated JPEG into a grey-bottomed picture with only a warning, so a JPEG
    must end with its end-of-image marker (trailing padding allowed).
    """
    Image.MAX_IMAGE_PIXELS = None  # the limit below is ours, with our message
    try:
        with Image.open(path) as header:
            width, height = header.size
            image_format = header.format
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path}: unreadable image header ({error})") from None
    if width * height > max_pixels:
        raise ImageError(
            f"{path}: {image_format} image of {width}x{height} pixels is larger than the "
            f"{max_pixels:,}-pixel limit; refused before decoding"
        )
    if image_format == "JPEG" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise ImageError(f"{path}: the JPEG is truncated (no end-of-image marker): copy it again")


def _to_rgb8(decoded: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Bring any decoded photo to 8-bit RGB; return it with the source channel count and bit depth."""
    bit_depth = 16 if decoded.dtype == np.uint16 else 8
    if decoded.dtype == np.uint16:
        decoded = (decoded >> 8).astype(np.uint8)
    elif decoded.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {decoded.dtype}")
    channels = 1 if decoded.ndim == 2 else decoded.shape[2]
    if channels == 1:
        rgb = cv2.cvtColor(decoded.reshape(decoded.shape[:2]), cv2.COLOR_GRAY2RGB)
    elif channels == 3:
        rgb = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    elif channels == 4:
        rgb = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGB)
    else:
        raise ImageError(f"unsupported number of colour channels ({channels})")
    return rgb, channels, bit_depth


def read_frame(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES) -> Frame:
    """Decode ``path`` into a ``Frame``; raise ``ImageError`` for anything that is not a usable photo."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise ImageError(f"{path}: empty file")
        if size > max_bytes:
            raise ImageError(f"{path}: file of {size:,} bytes is larger than the {max_bytes:,}-byte limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a directory, not an image") from None
    except OSError as error:
        raise ImageError(f"{path}: cannot read ({error.strerror})") from None
    _probe(path, data, max_pixels)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.size == 0:
        raise ImageError(f"{path}: the image data is corrupt or truncated")
    try:
        rgb, channels, bit_depth = _to_rgb8(decoded)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
    return Frame(pixels=rgb, source=str(path), source_channels=channels, source_bit_depth=bit_depth)
