"""What the web app takes from an address before any of it reaches the database: a result id is the
wire's (32 hexadecimal digits), and a filter is text a person typed (``edgescreen_wire.typed_text``).

Both are checked first because PostgreSQL refuses a NUL in text with an error, not a miss: unchecked,
``/results/ab%00cd`` or ``?site=a%00`` failed the request with a 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from edgescreen_wire import typed_text
from edgescreen_wire.checks import HEX32

# A result id in a path; any other is refused by FastAPI (``RequestValidationError``) as naming no result.
ResultId = Annotated[str, Path(pattern=f"^{HEX32.pattern}$")]


class InputRefused(ValueError):
    """Text in an address or a form the station will not take; the message says which and why, and
    ``key`` and ``values`` say it in the reader's language (``words``: "input.<key>")."""

    def __init__(self, why: str, key: str, **values: str) -> None:
        super().__init__(why)
        self.key, self.values = key, values


def typed(text: str, what: str) -> str:
    """``text``, or ``InputRefused`` when it holds a character no person types (a NUL, an override)."""
    why = typed_text.refusal(text, what)
    if why:
        code, place = typed_text.first_refused(text) or ("", 0)
        raise InputRefused(why, "control", what=what, code=code, place=str(place))
    return text


def seen_number(text: str | None) -> int:
    """The newest refused contrary read a result page showed (its hidden ``seen`` or ``settles``): what
    the coordinator settles, up to it; 0 (none) when absent, ``InputRefused`` when not a number."""
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InputRefused("the form names no refused read: reload the page", "no_refused_read")
    return int(text)
