"""Text a person typed (a comment, a name, a filter): which characters it may hold, in one rule that
the station's forms, the device's verdict check and both apps' pages share.

Refused (``CONTROLS``):

- the C0 control characters but the tab and the line breaks a textarea sends (CR, LF): NUL among
  them, which PostgreSQL cannot keep in text (the station failed and lost the read), and which no
  keyboard types; DEL and the C1 controls (U+0080-U+009F), which terminals read as escapes;
- the bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): they
  reorder what follows them, so "Refer " followed by an override and "evig ton od" shows as
  "Refer do not give", and one left open reorders the page's own text after it.

Every other character is kept: accents, emoji, Arabic and Hebrew (the browser orders them by
itself), and the right-to-left and left-to-right marks (U+200E, U+200F), which set the direction of
no text beyond their neighbours.
"""

from __future__ import annotations

import re

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def first_refused(text: str) -> tuple[str, int] | None:
    """The first character of ``text`` the rule refuses, as its code ("U+202E") and its place (the
    first character is 1), or ``None``: what a refusal names, in whichever language it is said."""
    found = CONTROLS.search(text)
    return None if found is None else (f"U+{ord(found.group()):04X}", found.start() + 1)


def refusal(text: str, what: str) -> str | None:
    """Why ``text`` cannot be taken, in words for the person who typed it (``what`` names the field),
    or ``None`` when it can. The character is named by its code and place: it is invisible."""
    if (found := first_refused(text)) is None:
        return None
    code, place = found
    return (
        f"{what} holds an invisible control character ({code}, character {place}), "
        "often pasted with the text: remove it (tabs and line breaks are fine)"
    )


def cleaned(text: str) -> tuple[str, int]:
    """``text`` without the characters ``refusal`` refuses, and how many were taken out: for text that
    arrives already written (a verdict's comment), which is kept rather than lost for them."""
    return CONTROLS.subn("", text)


def marked(text: str) -> str:
    """``text`` with each refused character shown as its code (``[U+202E]``): how a page shows stored
    text from before the rule, or from outside it (a topic), so it hides and reorders nothing."""
    return CONTROLS.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)
