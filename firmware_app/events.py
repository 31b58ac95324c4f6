"""Logging as one line per event: a stable event name, then key=value fields, to stderr.

journald keeps stderr, and a stable event name with flat fields is what a technician can grep and a
log shipper can parse without a schema.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

_LOGGER = logging.getLogger("edgescreen")


def _format_value(value: Any) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def setup_logging(level: str) -> None:
    """Send events to stderr at ``level`` (debug, info, warning, error)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    _LOGGER.handlers[:] = [handler]
    _LOGGER.setLevel(level.upper())
    _LOGGER.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with its fields as ``key=value`` pairs, in the order given."""
    if _LOGGER.isEnabledFor(level):
        _LOGGER.log(level, " ".join([event, *(f"{k}={_format_value(v)}" for k, v in fields.items())]))
