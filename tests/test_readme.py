"""The README and the documents it links, read as the technician, the campaign team and the station's
administrator follow them: every part of a README a printed sentence sends its reader to is a part
of it (French sentences sent their readers to "README, sauvegarde", which the README never had)."""

from __future__ import annotations

import re
from pathlib import Path

from firmware_app.messages import CATALOGUE as DEVICE_CATALOGUE
from review_station.web.words import CATALOGUE as STATION_CATALOGUE
from tests.conftest import PROJECT_ROOT


def _parts(document: Path) -> set[str]:
    """A document's parts a reader is sent to by name: its headings, and the bold words that open a
    paragraph (``**Clocks.**``) or an item (``- **Web app**:``)."""
    text = document.read_text()
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    bold = re.findall(r"^(?:- )?\*\*([^*]+?)[.:]?\*\*", text, re.M)
    return {part.strip() for part in headings + bold}


# "(README, Backup and restore)", "README, “A lost or stolen device”", "README, « The site broker »",
# "calibration/README.md, 'On an installed device'": the document, then the part's name.
REFERENCE = re.compile(
    r"""((?:\w+/)*README)(?:\.md)?,\s(?:"([^"]+)"|“([^”]+)”|«\s([^»]+?)\s»|'([^']+)'|([A-Za-z][\w ]+?)[).])"""
)


def test_every_part_of_a_readme_a_printed_sentence_names_is_in_it():
    """The README is in English; the French sentences send the reader to its parts by their English
    names, which are what the reader finds there ("README, sauvegarde" named none)."""
    named = [
        (key, language, f"{found.group(1)}.md", next(part for part in found.groups()[1:] if part))
        for catalogue in (DEVICE_CATALOGUE, STATION_CATALOGUE)
        for key, texts in catalogue.items()
        for language, text in texts.items()
        for found in REFERENCE.finditer(text)
    ]
    assert len(named) > 20
    assert [name for name in named if name[3] not in _parts(PROJECT_ROOT / name[2])] == []
