"""Logging as one line per event: a stable event name, then key=value fields, to stderr.

journald keeps stderr, and a stable event name with flat fields is what a technician can grep and a
log shipper can parse without a schema. Every value is formatted here, in one place, so that none
can break the format: a value with a space, a quote, an equals sign, a backslash or anything not
printable (a newline would forge a second log line) is quoted, with those characters escaped.

The journal must never hold an image's file name (in clinics it is often the patient's name and
date of birth, and ``erase`` cannot reach the journal): a screening is named by its result id, and
a file with no result by ``image_ref``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sys
from typing import Any

_LOGGER = logging.getLogger("edgescreen")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# The key of ``image_ref``: random for each process, never stored. A journal line can then be tied
# to a file only by the process that wrote it, so nothing on the device (not even with this
# device's records key) links the journal to a name afterwards, and the records' key stays theirs
# alone. What a run logs about one file still shares one reference.
_IMAGE_REF_KEY = secrets.token_bytes(32)


def image_ref(source: str | os.PathLike[str]) -> str:
    """A reference to an image file for the logs: a keyed hash of its name, never the name.

    Names that are not valid UTF-8 hash by their bytes, like any other.
    """
    digest = hmac.new(_IMAGE_REF_KEY, os.fsencode(source), hashlib.sha256).hexdigest()
    return f"img-{digest[:16]}"


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _format_value(value: Any) -> str:
    text = str(value)
    if text and text.isprintable() and not any(c in ' "=\\' for c in text):
        return text
    return '"' + "".join(map(_escaped, text)) + '"'


# sd-daemon(3) priority prefixes: journald files a line that starts with one at that priority.
_JOURNAL_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _JournalFormatter(logging.Formatter):
    """For journald: a priority prefix and no time of our own (the journal stamps every line)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"<{_JOURNAL_PRIORITY.get(record.levelno, 6)}>{record.levelname} {record.getMessage()}"


def journal_attached() -> bool:
    """Whether stderr is the journal's stream: ``$JOURNAL_STREAM`` names its device and inode
    (checked, so a child whose stderr was redirected keeps its timestamps)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        stat = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return expected == f"{stat.st_dev}:{stat.st_ino}"


def setup_logging(level: str) -> None:
    """Send events to stderr at ``level`` (debug, info, warning, error), journald's way under systemd."""
    handler = logging.StreamHandler(sys.stderr)
    plain = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    handler.setFormatter(_JournalFormatter() if journal_attached() else plain)
    _LOGGER.handlers[:] = [handler]
    _LOGGER.setLevel(level.upper())
    _LOGGER.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with its fields as ``key=value`` pairs, in the order given."""
    if _LOGGER.isEnabledFor(level):
        _LOGGER.log(level, " ".join([event, *(f"{k}={_format_value(v)}" for k, v in fields.items())]))
