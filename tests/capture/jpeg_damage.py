"""Damaged copies of a JPEG, as a failing SD card or an interrupted copy leaves them (the image reader's
tests and ``bench/jpeg_damage.py``, so the figures and the tests are about the same damage).

Each changes bytes of the picture's entropy-coded data only, in place: the headers, the length and
the end-of-image marker stay, so the file still looks whole to anything that reads its structure.
Every function is deterministic given its random generator.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_SOS, _EOI = b"\xff\xda", b"\xff\xd9"
ZEROED_BYTES = 256
RANDOM_BYTES = 64


def scan_data(data: bytes) -> tuple[int, int]:
    """Where a JPEG's entropy-coded data lies: from after its first start-of-scan header to its last
    end-of-image marker. The segments before the scan are walked by their lengths, so an EXIF
    thumbnail's own scan is not taken for the picture's; nothing may follow the picture."""
    position = 2  # after the start-of-image marker
    while data[position : position + 2] != _SOS:
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return position + 2 + int.from_bytes(data[position + 2 : position + 4], "big"), data.rindex(_EOI)


def _overwritten(data: bytes, rng: np.random.Generator, replacement: bytes) -> bytes:
    """``data`` with ``replacement`` written over its entropy-coded data at a random place."""
    start, end = scan_data(data)
    offset = int(rng.integers(start, end - len(replacement)))
    return data[:offset] + replacement + data[offset + len(replacement) :]


def zeroed_block(data: bytes, rng: np.random.Generator) -> bytes:
    """A block of zeroed bytes: what a bad SD card sector or an interrupted copy leaves."""
    return _overwritten(data, rng, bytes(ZEROED_BYTES))


def random_bytes(data: bytes, rng: np.random.Generator, highest: int = 255) -> bytes:
    """Garbage bytes; with ``highest`` 254, without an 0xFF, so no marker appears where none was and
    only the decoder, not the file's structure, can tell."""
    return _overwritten(data, rng, rng.integers(0, highest + 1, RANDOM_BYTES, np.uint8).tobytes())


def bit_flip(data: bytes, rng: np.random.Generator) -> bytes:
    """One bit flipped: the smallest damage, often decoded into a plausible picture."""
    start, end = scan_data(data)
    offset = int(rng.integers(start, end))
    return data[:offset] + bytes([data[offset] ^ (1 << int(rng.integers(8)))]) + data[offset + 1 :]


DAMAGES: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    f"{ZEROED_BYTES} zeroed bytes": zeroed_block,
    f"{RANDOM_BYTES} random bytes": random_bytes,
    "one bit flipped": bit_flip,
}
