"""Whether a PNG holds more compressed picture data than its pixels take: a decompression bomb.

A PNG's header says how many pixels it has, and the device refuses one too large before decoding
(``image_file``). But its picture data (the IDAT chunks, one zlib stream) may inflate to far more
than those pixels: a 1 MB PNG of 100x100 pixels can hold a gigabyte of zeros after them. libpng,
through OpenCV, inflates the whole stream to its end, a gigabyte in 13 s on the development machine
and the 64 MB a file may weigh to some 64 GB, for minutes on a Pi, the preview frozen meanwhile.

So the stream is inflated here first, a megabyte at a time, and refused as soon as it yields more
than the header's pixels need (every row with its filter byte, Adam7's seven passes when interlaced):
what a real PNG needs is inflated once more, at most the decoded size, and a bomb no further than that.
"""

from __future__ import annotations

import struct
import zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Samples per pixel of each PNG colour type (greyscale, RGB, palette, grey and alpha, RGBA).
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7's passes: first column, first row, column step, row step.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_STEP = 2**20  # inflated a megabyte at a time: the check itself never holds more


def _filtered_bytes(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    """The bytes a PNG's rows take inflated: each row's pixels, rounded up to a byte, and its filter byte."""
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            total += rows * (-(-columns * bits_per_pixel // 8) + 1)
    return total


def _picture_data(data: bytes) -> tuple[bytes, list[memoryview]] | None:
    """The IHDR chunk's data and the IDAT chunks' data, or ``None`` when the chunks cannot be walked
    (the decoder then says what is wrong)."""
    if not data.startswith(_SIGNATURE):
        return None
    view, position, header, parts = memoryview(data), len(_SIGNATURE), b"", []
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        body = view[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = bytes(body)
        elif kind == b"IDAT":
            parts.append(body)
        elif kind == b"IEND":
            break
        position += 12 + length
    return (header, parts) if len(header) == 13 else None


def excess_picture_data(data: bytes) -> int | None:
    """The bytes a PNG's pixels take when its picture data inflates to more (refused: a decompression
    bomb), or ``None``."""
    found = _picture_data(data)
    if found is None:
        return None
    header, parts = found
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if colour not in _SAMPLES:
        return None
    needed = _filtered_bytes(width, height, depth * _SAMPLES[colour], interlace == 1)
    inflater, inflated = zlib.decompressobj(), 0
    try:
        # Fed a megabyte at a time too: zlib copies the input it has not yet inflated into
        # ``unconsumed_tail`` at every step, and the whole of one 60 MB IDAT chunk, copied once a
        # megabyte inflated, took 3.5 s here, for a picture libpng decodes in 0.8 s.
        for part in parts:
            for start in range(0, len(part), _STEP):
                pending: bytes | memoryview = part[start : start + _STEP]
                while pending and not inflater.eof:
                    inflated += len(inflater.decompress(pending, _STEP))
                    if inflated > needed:
                        return needed
                    pending = inflater.unconsumed_tail
    except zlib.error:
        return None  # damaged: the decoder refuses it, and says so
    return None
