"""Making a rename or a new file survive a power cut: the directory entry itself must reach the disk.

Records' key file, backups and model bundles all rename a finished file into place; without an fsync
of the directory, a power cut right after can leave the old name (or none) on disk.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Flush ``directory``'s entries (a rename or a new file in it) to the disk."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
