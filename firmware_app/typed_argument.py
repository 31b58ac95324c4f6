"""Text a person types on the device's command line that the device keeps (an operator's name, who
made a calibration profile, a camera's model): held to the rule the apps' forms hold typed text to
(``edgescreen_wire.typed_text``), so a pasted NUL, C1 or bidirectional control never reaches a record,
a profile or the sign-in screen."""

from __future__ import annotations

import argparse

from edgescreen_wire import typed_text


def typed(text: str) -> str:
    """``text`` as an argparse ``type``: refused with the invisible character named by its code and
    place (argparse names the argument and exits with status 2), else kept as typed."""
    if why := typed_text.refusal(text, "the text"):
        raise argparse.ArgumentTypeError(why)
    return text
