"""Read a photo from a file without trusting it.

The header is read first (Pillow reads only the header on ``open``), so a file that claims
30000x30000 pixels, or whose decoding would take more memory than a Pi can spare, or a PNG whose
picture data inflates to more than its pixels (``png_data``), is refused before anything is
decoded; so are animations and multi-page files, of which only one picture would be judged. Only
then is it decoded, straight to 8-bit RGB: a JPEG by libjpeg-turbo through simplejpeg, strictly (a
JPEG whose picture data is damaged is refused, not decoded into grey or garbage blocks), at a
reduced size when the photo is large (``decode_reduction``); any other format by OpenCV. Then the
EXIF orientation is applied: every later stage, and the archived copy, sees the photo upright.
Every failure is an ``ImageError`` whose message a nurse or technician can act on, in the device's
language (``ImageError.sentence``).
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import simplejpeg
from PIL import ExifTags, Image, UnidentifiedImageError

from firmware_app.capture.frame import Frame
from firmware_app.capture.png_data import excess_picture_data
from firmware_app.messages import Worded, grouped, said, sentence, system_reason
from firmware_app.records.images import JPEG_MAX_SIDE

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# A 24-megapixel photo (6000x4000) as 8-bit RGB: the largest a fundus camera or dermatoscope this
# device supports exports. A larger JPEG is decoded reduced to fit; any other format is refused.
DEFAULT_MAX_DECODED_BYTES = 6000 * 4000 * 3
# The most pixels any later stage uses on a photo's short side: the quality gate measures the fundus
# field (which fits in the short side) or the dermoscopy frame at ``[quality] full_size``, at most
# this; the models take 320 and 224 px. A JPEG whose short side holds 2, 4 or 8 times this is
# decoded at 1/2, 1/4 or 1/8 (libjpeg scales while decoding: the full size never is in memory).
WORKING_SIDE = 2048
# The reductions libjpeg's DCT scaling decodes a JPEG at.
_REDUCTIONS = (1, 2, 4, 8)
# Formats libjpeg decodes: a JPEG, and an MPO's first picture (the shot; its further pictures,
# previews or depth maps, follow the first one's end-of-image marker).
_JPEG_FORMATS = frozenset({"JPEG", "MPO"})
# OpenCV 4.11 and later decode straight to R,G,B; the 4.10 that tflite-runtime's numpy<2
# environment gets decodes B,G,R, swapped in place after decoding.
_DECODES_RGB = hasattr(cv2, "IMREAD_COLOR_RGB")
_OPENCV_FLAGS = (cv2.IMREAD_COLOR_RGB if _DECODES_RGB else cv2.IMREAD_COLOR) | cv2.IMREAD_IGNORE_ORIENTATION
# The formats the device's decoders read (Pillow knows more, and reads their headers).
_DECODERS = _JPEG_FORMATS | {"PNG", "TIFF", "BMP", "DIB", "WEBP", "JPEG2000", "PPM", "GIF"}
# EXIF orientation -> what brings the stored pixels upright (EXIF 2.32, tag 0x0112).
_UPRIGHT = {
    2: lambda a: cv2.flip(a, 1),
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),
    5: cv2.transpose,
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.flip(cv2.transpose(a), -1),
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}
# In a JPEG's entropy-coded data a 0xFF byte is followed by 0x00 (a stuffed byte) or a restart
# marker; anything else is a real marker.
_MARKER_IN_SCAN = re.compile(rb"\xff(?=[^\x00\xd0-\xd7])")
_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length
_EOI, _SOS = 0xD9, 0xDA
# The refusal of a JPEG that decodes only with libjpeg's "Corrupt JPEG data" warning.
DAMAGED_PICTURE_DATA = "image.jpeg_picture_damaged"


class ImageError(ValueError):
    """A file is not a photo the device can use; the message says which file and why, in English.

    ``key`` and ``values`` say why in the catalogue's words (``sentence``), so the nurse reads it in
    the device's language as she reads a camera's failure; ``reason`` is its English without the file
    name: what a log may keep (file names in clinics are often patients' names).
    """

    def __init__(self, path: Path, key: str, **values: int | str | Worded) -> None:
        self.path, self.key, self.values = path, key, values
        self.reason = self.sentence("en")
        super().__init__(f"{path}: {self.reason}")

    def sentence(self, language: str) -> str:
        """Why the file is refused, in ``language``."""
        return said(self.key, language, self.values)


def _figure(number: int) -> Worded:
    """``number`` as each language groups its thousands, for an ``ImageError``'s values."""
    return partial(grouped, number)


@dataclass(frozen=True)
class _Header:
    image_format: str
    width: int
    height: int
    channels: int
    bit_depth: int
    orientation: int
    several_pictures: bool


def _bit_depth(header: Image.Image) -> int:
    """Pillow opens 16-bit colour PNG and TIFF in 8-bit modes; the raw mode it decodes from keeps the depth."""
    args = header.tile[0].args if header.tile else None
    raw_mode = args if isinstance(args, str) else (args[0] if args else "")
    return 16 if "16" in f"{header.mode} {raw_mode}" else 8


def _orientation(header: Image.Image) -> int:
    """The EXIF orientation (1: upright), read from the header only.

    Pillow's ``getexif`` on a PNG decodes the whole picture to look for a late eXIf chunk, so a PNG's
    orientation is read from an eXIf chunk before the pixels only. A damaged EXIF block counts as
    upright, as viewers treat it.
    """
    try:
        if header.format == "PNG":
            exif = Image.Exif()
            exif.load(header.info.get("exif", b""))
        else:
            exif = header.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
    except (OSError, SyntaxError, ValueError, struct.error):
        return 1
    return orientation if orientation in _UPRIGHT else 1


def _read_header(path: Path, data: bytes) -> _Header:
    Image.MAX_IMAGE_PIXELS = None  # our limits, with our messages
    try:
        with Image.open(io.BytesIO(data)) as header:
            mode = header.palette.mode if header.mode == "P" and header.palette else header.mode
            return _Header(
                header.format or "image",
                header.width,
                header.height,
                Image.getmodebands(mode),
                _bit_depth(header),
                _orientation(header),
                # An MPO's further pictures are previews or depth maps of the same shot (CIPA DC-007).
                getattr(header, "is_animated", False) and header.format != "MPO",
            )
    except UnidentifiedImageError:
        raise ImageError(path, "image.not_an_image") from None
    except (OSError, SyntaxError, ValueError, struct.error) as error:
        raise ImageError(path, "image.header_unreadable", detail=str(error)) from None


def _jpeg_damage(path: Path, data: bytes) -> ImageError | None:
    """What is wrong with a JPEG's structure, or ``None`` when its picture runs to its end-of-image
    marker.

    The segments are walked by their declared lengths (an EXIF thumbnail's own markers are never
    mistaken for the picture's) and each scan to its next real marker, so bytes after the picture's
    end (a motion photo's video, padding) are ignored, while a file cut short is caught: libjpeg
    would decode it into a grey-bottomed picture with only a warning. A file whose bytes were
    changed breaks the walk where a marker must be: damaged, not cut short.
    """
    position = 2  # after the start-of-image marker
    while position + 1 < len(data):
        if data[position] != 0xFF:
            return ImageError(path, "image.jpeg_damaged", position=_figure(position), size=_figure(len(data)))
        marker = data[position + 1]
        if marker == 0xFF:  # a fill byte before a marker
            position += 1
        elif marker == _EOI:
            return None
        elif marker in _STANDALONE_MARKERS:
            position += 2
        else:
            position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
            if marker == _SOS:
                found = _MARKER_IN_SCAN.search(data, position)
                position = found.start() if found else len(data)
    return ImageError(path, "image.jpeg_truncated")


def decode_reduction(header_format: str, width: int, height: int, max_decoded_bytes: int) -> int:
    """By how much (1, 2, 4 or 8) to reduce a photo while decoding it.

    Only libjpeg reduces while decoding (other formats are decoded whole, then reduced: no memory
    saved), so only a JPEG is reduced: as far as keeps ``WORKING_SIDE`` pixels on its short side,
    and further if its decoded bytes would still exceed ``max_decoded_bytes``.
    """
    if header_format not in _JPEG_FORMATS:
        return 1
    fitting = [r for r in _REDUCTIONS if -(-width // r) * -(-height // r) * 3 <= max_decoded_bytes]
    unneeded = [r for r in _REDUCTIONS if min(width, height) // r >= WORKING_SIDE]
    return max(min(fitting, default=max(_REDUCTIONS)), max(unneeded, default=1))


def _check(path: Path, data: bytes, header: _Header, max_pixels: int, max_decoded_bytes: int) -> int:
    """Refuse what must not be decoded; return the reduction to decode the rest at."""
    size = f"{header.width}x{header.height}"
    described = partial(sentence, "image.described", format=header.image_format, size=size)
    if header.several_pictures:
        raise ImageError(path, "image.several_pictures", described=described)
    if header.width * header.height > max_pixels:
        raise ImageError(path, "image.too_many_pixels", described=described, limit=_figure(max_pixels))
    if max(header.width, header.height) > JPEG_MAX_SIDE:  # the record keeps the photo as a JPEG
        raise ImageError(path, "image.side_too_long", described=described, limit=_figure(JPEG_MAX_SIDE))
    reduction = decode_reduction(header.image_format, header.width, header.height, max_decoded_bytes)
    decoded = -(-header.width // reduction) * -(-header.height // reduction) * 3
    if decoded > max_decoded_bytes:
        limit = _figure(max_decoded_bytes)
        raise ImageError(path, "image.decoded_too_large", described=described, decoded=_figure(decoded), limit=limit)
    if header.image_format in _JPEG_FORMATS and (damage := _jpeg_damage(path, data)):
        raise damage
    if header.image_format == "PNG" and (needed := excess_picture_data(data)) is not None:
        raise ImageError(path, "image.png_too_much_data", needed=_figure(needed), size=size)
    return reduction


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, refused as a photo when empty, over ``max_bytes`` or unreadable."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise ImageError(path, "image.empty")
        if size > max_bytes:
            raise ImageError(path, "image.file_too_large", size=_figure(size), limit=_figure(max_bytes))
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageError(path, "image.missing") from None
    except IsADirectoryError:
        raise ImageError(path, "image.directory") from None
    except OSError as error:
        raise ImageError(path, "image.unreadable_file", reason=partial(system_reason, error)) from None


def _undecoded(path: Path, image_format: str) -> ImageError:
    """Why a picture whose header Pillow read was not decoded: a format no decoder of the device
    reads (an icon, a Targa export) is not corrupt, and the technician needs to know which it is."""
    if image_format not in _DECODERS:
        return ImageError(path, "image.format_not_read", format=image_format)
    return ImageError(path, "image.undecodable", format=image_format)


def read_frame(
    path: Path,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
) -> Frame:
    """Decode ``path`` into an upright ``Frame``; raise ``ImageError`` for anything that is not a usable photo."""
    return decode_frame(read_bytes(path, max_bytes), path, max_pixels, max_decoded_bytes)


def decode_frame(
    data: bytes,
    path: Path,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
) -> Frame:
    """``read_frame`` for bytes that did not come from a file (the photo a device shared, opened at
    the review station), with the same limits before decoding; ``path`` only names them in messages."""
    header = _read_header(path, data)
    reduction = _check(path, data, header, max_pixels, max_decoded_bytes)
    if header.image_format in _JPEG_FORMATS:
        decoded = _decode_jpeg(path, data, header, reduction)
    else:
        decoded = _decode_other(path, data, header.image_format)
    if header.orientation in _UPRIGHT:  # applied here, the same for every format
        decoded = _UPRIGHT[header.orientation](decoded)
    return Frame(pixels=decoded, source=str(path), source_channels=header.channels, source_bit_depth=header.bit_depth)


def _decode_jpeg(path: Path, data: bytes, header: _Header, reduction: int) -> np.ndarray:
    """A JPEG's picture as R,G,B, scaled by 1/``reduction`` while decoding, refused when damaged.

    libjpeg recovers from damaged entropy-coded data (a zeroed block from a failing SD card, garbage
    bytes) with only a warning, "Corrupt JPEG data", that neither OpenCV nor Pillow exposes: the
    picture comes out with grey or garbage blocks and would be triaged. simplejpeg's ``strict`` turns
    that warning into an error. The slow integer DCT and fancy upsampling are OpenCV's libjpeg
    settings: a whole JPEG gives the same pixels as OpenCV gave. The smallest of libjpeg's scaled
    sizes that is at least 1/``reduction`` of each side is exactly 1/``reduction`` (rounded up).
    """
    try:
        return simplejpeg.decode_jpeg(
            data,
            colorspace="RGB",
            fastdct=False,
            fastupsample=False,
            min_height=-(-header.height // reduction),
            min_width=-(-header.width // reduction),
            min_factor=reduction,
            strict=True,
        )
    except ValueError as error:
        raise _jpeg_refusal(path, data, header.image_format, error) from None


def _jpeg_refusal(path: Path, data: bytes, image_format: str, error: ValueError) -> ImageError:
    """Why a JPEG was refused: damaged picture data (libjpeg recovered, with a warning: copying the
    file again may help), or a JPEG libjpeg cannot decode at all, told as for any other format.

    Only a refused file is decoded a second time, leniently and at the smallest size (libjpeg reads
    all the entropy-coded data at any size), to tell the two apart."""
    try:
        simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=1, min_width=1, strict=False)
    except ValueError:
        return _undecoded(path, image_format)
    return ImageError(path, DAMAGED_PICTURE_DATA, detail=str(error))


def _decode_other(path: Path, data: bytes, image_format: str) -> np.ndarray:
    """Any format but JPEG, by OpenCV, whole (only libjpeg scales while decoding), as R,G,B."""
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), _OPENCV_FLAGS)
    if decoded is None or decoded.size == 0:
        raise _undecoded(path, image_format)
    if not _DECODES_RGB:
        cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB, dst=decoded)
    return decoded
