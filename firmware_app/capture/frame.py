"""The ``Frame``: one photo as every later stage receives it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np


@dataclass(frozen=True)
class Frame:
    """An 8-bit, 3-channel R,G,B photo and what is known of where it came from.

    ``source_channels`` and ``source_bit_depth`` describe the photo before it was brought to 8-bit
    RGB, so the quality gate can refuse a greyscale photo that was only widened to three channels.
    """

    pixels: np.ndarray
    source: str
    captured_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    source_channels: int = 3
    source_bit_depth: int = 8
    # The SHA-256 of the file's bytes it was decoded from (``None``: a camera's frame): what tells a
    # photo file screened and recorded before, given again (``ScreeningStore.screened_before``).
    source_sha256: str | None = None

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])
