"""Checks shared by every wire document: exact key sets and tightly patterned values.

Patterns are deliberately narrow (ids, codes, UTC timestamps): a value that could carry a name or a
sentence fails validation instead of reaching the broker.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
HEX32 = re.compile(r"[0-9a-f]{32}")
HEX64 = re.compile(r"[0-9a-f]{64}")
UTC_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


class WireError(ValueError):
    """A wire document is not valid; the message names the field first (``field: problem``), and
    may quote the value it refused. ``document_id`` is the document's own id when it had a
    well-formed one (an IDENTIFIER: no spaces, so no sentence), for a log to say which was refused."""

    def __init__(self, message: str, document_id: str | None = None) -> None:
        super().__init__(message)
        self.document_id = document_id

    @property
    def field(self) -> str:
        """The field the message names, without the value it may quote: what a log may keep (a
        refused value could be a name or a sentence, which a log must never hold)."""
        return str(self).split(":", 1)[0]


def utc_seconds(moment: datetime) -> str:
    """A timestamp as the wire carries it: UTC, to the second, with a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc_seconds(text: str) -> datetime:
    """The moment of a wire timestamp; ``ValueError`` if it is not one or not a real date."""
    if not UTC_SECONDS.fullmatch(text):
        raise ValueError(f"{text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    return datetime.fromisoformat(text)  # about 20 times faster than strptime, on every result ingested


def decode_document(payload: bytes, max_bytes: int, where: str) -> Any:
    """The JSON value of a message, or a ``WireError``: the size is checked before anything is parsed."""
    if len(payload) > max_bytes:
        raise WireError(f"{where}: {len(payload)} bytes, more than {max_bytes}")
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # ValueError also covers integers past Python's digit limit; RecursionError, deep nesting.
        raise WireError(f"{where}: not UTF-8 JSON that can be read ({type(error).__name__})") from None


def check_object(document: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(document, dict):
        raise WireError(f"{where}: expected a JSON object")
    return document


def check_keys(document: Any, required: set[str], optional: set[str], where: str) -> Mapping[str, Any]:
    check_object(document, where)
    missing, unknown = required - document.keys(), document.keys() - required - optional
    if missing:
        raise WireError(f"{where}: missing field {sorted(missing)[0]!r}")
    if unknown:
        raise WireError(f"{where}: field {sorted(unknown)[0]!r} is not allowed")
    return document


def check_text(value: Any, pattern: re.Pattern[str], where: str, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise WireError(f"{where}: {value!r} does not match {pattern.pattern}")


def check_choice(value: Any, choices: tuple[Any, ...], where: str) -> None:
    if value not in choices:
        raise WireError(f"{where}: expected one of {list(choices)}, got {value!r}")


def check_number(
    value: Any, where: str, nullable: bool = False, low: float | None = None, high: float | None = None
) -> None:
    if value is None and nullable:
        return
    if not finite_number(value) or (low is not None and value < low) or (high is not None and value > high):
        raise WireError(f"{where}: expected a finite number in [{low}, {high}], got {value!r}")


def finite_number(value: Any) -> bool:
    """Whether a parsed JSON value is a number a float holds: not a bool, not NaN or Infinity (which
    Python's ``json`` reads), not an integer of hundreds of digits (JSON allows it; ``math.isfinite``
    raises on it rather than saying so). Wire documents and model cards are checked by it."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
