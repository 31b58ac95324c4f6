"""Large image files written without holding their pixels in memory (tests and bench/decode_memory.py)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_blank_rgba16_png(path: Path, side: int) -> Path:
    """A complete, valid 16-bit RGBA PNG of side x side black pixels, compressed a row at a time.

    At 6300 px it is the hostile test's file: about 300 KB on disk, 317 MB as 16-bit RGBA pixels.
    """
    compressor, row, idat = zlib.compressobj(9), bytes(1 + side * 8), bytearray()
    for _ in range(side):
        idat += compressor.compress(row)
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    chunks = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", bytes(idat)) + png_chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)
    return path
