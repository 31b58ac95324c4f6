"""The mark an exported photo carries: which result it is and which calibration its pixels already have.

A recorded photo is the frame the model saw: corrected by the device's calibration profile (flat
field, colour, lens). ``edgescreen screen`` corrects every photo it is given with the profile, so an
exported photo screened again was corrected twice (its colours pushed twice as far) and triaged on
that. The photo itself cannot tell: so the export writes it into the JPEG as a comment segment
(``COM``, ISO/IEC 10918-1 B.2.4.5: ignored by every decoder), placed after the ``APPn`` segments
that open the file (JFIF wants its ``APP0`` first), and every way a photo file enters screening reads
it back (``calibrated_export``, through ``capture/photo_to_screen.py``) to refuse the photo, naming
the result whose record already holds it. The pixels, and the photo's EXIF, are unchanged. A photo
re-encoded by another program loses the mark.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from edgescreen_wire.checks import HEX32, IDENTIFIER
from firmware_app.calibration.profile import UNCALIBRATED

_SOI, _COM = b"\xff\xd8", 0xFE
_APP = range(0xE0, 0xF0)
# The ids as the wire checks them (a record's result id and calibration id are sent as such).
_TEXT = re.compile(f"EdgeScreen records export: result ({HEX32.pattern}), calibration ({IDENTIFIER.pattern})".encode())
# The opening segments the mark is looked for among: APPn (at most 64 KiB each) and the mark.
_HEAD_BYTES = 256 * 1024


@dataclass(frozen=True)
class ExportMark:
    """What ``records export`` wrote into a photo: its result id and the calibration of its pixels."""

    result_id: str
    calibration: str


def marked(jpeg: bytes, result_id: str, calibration: str | None) -> bytes:
    """``jpeg`` with the export's mark after its opening ``APPn`` segments; ``calibration`` is the
    record's profile id (``None`` or ``uncalibrated`` for a device without one)."""
    text = f"EdgeScreen records export: result {result_id}, calibration {calibration or UNCALIBRATED}".encode()
    if not jpeg.startswith(_SOI) or not _TEXT.fullmatch(text):
        raise ValueError("not a JPEG, or a result id or calibration id the mark cannot carry")
    at = _after_app_segments(jpeg)
    return jpeg[:at] + bytes([0xFF, _COM]) + struct.pack(">H", len(text) + 2) + text + jpeg[at:]


def _after_app_segments(data: bytes) -> int:
    """Where the ``APPn`` segments right after the start-of-image marker end."""
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF and data[position + 1] in _APP:
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
    return position


def export_mark(data: bytes) -> ExportMark | None:
    """The export's mark of a JPEG's opening bytes, or ``None`` (not a JPEG, or not an export)."""
    if not data.startswith(_SOI):
        return None
    position = _after_app_segments(data)
    if position + 4 > len(data) or data[position : position + 2] != bytes([0xFF, _COM]):
        return None
    length = struct.unpack(">H", data[position + 2 : position + 4])[0]
    found = _TEXT.fullmatch(data[position + 4 : position + 2 + length])
    return ExportMark(found[1].decode(), found[2].decode()) if found else None


def calibrated_export(path: Path) -> ExportMark | None:
    """The mark of a photo exported with its pixels already calibrated; ``None`` for any other file
    (one that cannot be read is left for ``read_frame`` to report)."""
    try:
        with path.open("rb") as file:
            mark = export_mark(file.read(_HEAD_BYTES))
    except OSError:
        return None
    return mark if mark is not None and mark.calibration != UNCALIBRATED else None
