"""Reading a secret file (the records key, the device's TLS key, the review station's photo key) only
when its owner alone may read it: a key the group or others can read is treated as already leaked,
and refused, rather than used and leaked further. One rule for every key the project keeps in a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from firmware_app.durable import fsync_directory


class ExposedSecret(ValueError):
    """The file's mode (``mode``, as ``ls -l`` shows it) lets the group or others read it; the message
    says how to fix it."""

    def __init__(self, message: str, mode: str) -> None:
        super().__init__(message)
        self.mode = mode


def refuse_exposed(path: Path, what: str) -> None:
    """``ExposedSecret`` when the group or others may read ``path``; ``OSError`` when it has no mode."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        shown = stat.filemode(mode)
        raise ExposedSecret(f"{path}: {what} is readable by others (mode {shown}); chmod 600 it", shown)


def read_secret(path: Path, what: str) -> bytes:
    """``path``'s bytes; ``OSError`` when it cannot be read, ``ExposedSecret`` when others may read it."""
    secret = path.read_bytes()
    refuse_exposed(path, what)
    return secret


def write_new_secret(path: Path, secret: bytes) -> None:
    """Create ``path`` with mode 0600 holding ``secret``, flushed to the disk; ``FileExistsError`` when a
    file is there already: a key in use is never overwritten (what it sealed or signed would be lost)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secret)
        file.flush()
        os.fsync(file.fileno())
    fsync_directory(path.parent)
