"""Log lines: one per event whatever the values hold, and image files named by a keyed reference."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from firmware_app.events import log_event, setup_logging
from tests.conftest import PROJECT_ROOT


@pytest.fixture()
def logged(capsys):
    """Log one event; return the stderr lines it made."""

    def log(event: str, **fields: object) -> list[str]:
        setup_logging("info")  # here, not at fixture set-up: the handler binds the stderr of the test's call
        log_event(event, **fields)
        return capsys.readouterr().err.splitlines()

    logger = logging.getLogger("edgescreen")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield log
    logger.handlers[:], logger.level, logger.propagate = saved  # later tests log as before


def test_a_newline_in_a_value_cannot_forge_a_log_line(logged):
    forged = "a.jpg\n2026-11-29 20:00:00,000 INFO screen.done triage=no_refer"
    (line,) = logged("screen.image_failed", image=forged, error="bad\r\nline")
    assert line.endswith(
        'screen.image_failed image="a.jpg\\n2026-11-29 20:00:00,000 INFO screen.done triage=no_refer" '
        'error="bad\\r\\nline"'
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("\x1b[2Jcleared", '"\\x1b[2Jcleared"'),  # a terminal escape sequence
        ("tab\there", '"tab\\there"'),
        ("nul\x00", '"nul\\x00"'),
        ("line\u2028separator", '"line\\u2028separator"'),
        ("name\udcff.jpg", '"name\\udcff.jpg"'),  # a byte that was not UTF-8 in a file name
        ('say "hi"', '"say \\"hi\\""'),
        ("a=b", '"a=b"'),
        ("back\\slash", '"back\\\\slash"'),
        ("", '""'),
        ("plain_value-1.5", "plain_value-1.5"),
        ("Zoé", "Zoé"),
    ],
)
def test_every_value_is_escaped_where_it_could_break_the_line(logged, value, written):
    (line,) = logged("event", field=value)
    assert line.endswith(f"event field={written}")


def test_an_image_is_named_by_a_keyed_reference_not_its_name():
    from firmware_app.events import image_ref

    name = "/import/Marianne_Dupont_1957-03-14_AB123456C.jpg"
    reference = image_ref(name)
    assert reference == image_ref(name) and reference != image_ref(name + "x")
    assert reference.startswith("img-") and "Dupont" not in reference and "1957" not in reference
    assert image_ref("/import/\udcff.jpg").startswith("img-")  # not UTF-8: hashed by its bytes


def test_the_reference_key_lives_only_in_its_process():
    """Nothing on the device can tie an old journal line to a name (see events.py)."""
    command = [sys.executable, "-c", "from firmware_app.events import image_ref; print(image_ref('a.jpg'))"]
    first, second = (subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT) for _ in range(2))
    assert first.stdout.startswith("img-") and first.stdout != second.stdout
