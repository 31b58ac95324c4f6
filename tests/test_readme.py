"""The README and the documents it links, read as the technician, the campaign team and the station's
administrator follow them: every command they show is one the programs take, every setting they
name one the configurations take, every file of the repository they name is there, the models'
table is the one the cards give, and every part of the README a printed sentence sends its reader
to is a part of it. Nothing checked them: the licences named a copy of htmx the station no longer
has, and French sentences sent their readers to a part, "README, sauvegarde", the README never had."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_app.cli import build_parser as device_parser
from firmware_app.config import Config
from firmware_app.messages import CATALOGUE as DEVICE_CATALOGUE
from firmware_app.quality_fit_command import route
from review_station.cli import build_parser as station_parser
from review_station.config import ReviewConfig
from review_station.words import CATALOGUE as STATION_CATALOGUE
from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCUMENTS = (
    README,
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
    PROJECT_ROOT / "models" / "README.md",
    PROJECT_ROOT / "calibration" / "README.md",
)
# The repository's own folders: a path that starts with one of them names a file of the repository.
REPOSITORY_FOLDERS = tuple(
    f"{path.name}/" for path in PROJECT_ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")
)
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_-]*")  # NAME, IMAGE, DEVICE-ID: the reader puts their own
PROGRAMS = {"edgescreen": device_parser, "edgescreen-review": station_parser}
# A program's name where it is run: bare, or a venv's bin/; not the user of `sudo -u edgescreen`.
INVOCATION = re.compile(r"(?:(?<=^)|(?<=[\s`(])|(?<=/bin/))(?<!-[ugo] )(edgescreen(?:-review)?) +(?=[a-z-])")


class _Placeholders(list):
    """A choice list that also takes a placeholder (``--kind KIND``), so the words after it are checked."""

    def __contains__(self, value: object) -> bool:
        return super().__contains__(value) or bool(isinstance(value, str) and PLACEHOLDER.fullmatch(value))


def _lenient(parser: argparse.ArgumentParser, required: bool) -> argparse.ArgumentParser:
    """``parser`` taking placeholders for typed and chosen values, and, for a command named in a
    sentence (``models install``), its required arguments left out; every option and subcommand is
    still checked, by its whole name (argparse would take ``--camera`` for ``--camera-model``)."""
    parser.exit_on_error, parser.allow_abbrev = False, False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _lenient(sub, required)
        else:
            if action.choices is not None:
                action.choices = _Placeholders(action.choices)
            if action.type is not None:
                typed = action.type
                action.type = lambda text, typed=typed: text if PLACEHOLDER.fullmatch(text) else typed(text)
        action.required = action.required and required
    return parser


def _words(command: str) -> list[str]:
    """A documented command line as the words a shell would pass: ``a|b`` is its first choice, an
    optional ``[...]`` is given, ``IMAGE...`` (more of the same) is one, ``--patient ...`` a value."""
    command = re.sub(r"(?<=[\w-])\\?\|[\w|\\-]+", "", command)
    command = re.sub(r"(?<=\S)\.\.\.", "", command).replace("...", "VALUE")
    command = command.replace("[", " ").replace("]", " ")
    return shlex.split(command)


def _commands() -> Iterator[tuple[str, str, str, bool]]:
    """(document, program, command, complete) for each command a document shows: a shell block's
    line to run as written (complete), a span in a sentence that may name a command alone."""
    for document in DOCUMENTS:
        text = document.read_text()
        name = str(document.relative_to(PROJECT_ROOT))
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            for line in block.replace("\\\n", " ").splitlines():
                code = re.split(r"(?:^|\s)#", line)[0]
                for found in INVOCATION.finditer(code):
                    rest = re.split(r"&&|;|\||\)|2>", code[found.end() :])[0]
                    if rest.count("'") % 2:  # the end of ``sudo sh -c '...'``
                        rest = rest[: rest.rindex("'")]
                    yield name, found.group(1), rest.strip(), True
        yield from _spans(name, re.sub(r"```.*?```", "", text, flags=re.S))


def _spans(name: str, text: str) -> Iterator[tuple[str, str, str, bool]]:
    """The commands the code spans of ``text`` name: those after a program's name, and the spans that
    follow one with " / " (``users add NAME`` / ``unlock NAME`` / ``list [--json]``, the commands
    table's siblings), each of its command group unless it names a command of the program's own."""
    named: tuple[str, str] | None = None  # the program and command group the last span named
    end = 0
    for span in re.finditer(r"`([^`\n]+)`", text):
        sibling, end = named if text[end : span.start()] == " / " else None, span.end()
        named = None
        for found in INVOCATION.finditer(span.group(1)):
            rest = re.split(r"\s/\s|&&|;|\)|:\s|,", span.group(1)[found.end() :])[0].strip()
            named = found.group(1), rest.split()[0]
            yield name, found.group(1), rest, False
        if named is None and sibling is not None:
            program, group = named = sibling
            command = span.group(1).strip()
            top = command.split()[0] in _subcommands(PROGRAMS[program]())
            yield name, program, command if top else f"{group} {command}", False


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    """The names of ``parser``'s commands."""
    return {
        name for action in parser._actions if isinstance(action, argparse._SubParsersAction) for name in action.choices
    }


def _refusal(program: str, command: str, complete: bool) -> str | None:
    """Why ``program`` refuses ``command``, in argparse's words; ``None`` when it takes it."""
    parser = _lenient(PROGRAMS[program](), complete)
    words = _words(command)
    try:
        with contextlib.redirect_stderr(io.StringIO()) as said, contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(route(words) if program == "edgescreen" else words)
    except argparse.ArgumentError as error:
        return str(error)
    except SystemExit as exit:
        return said.getvalue().strip().splitlines()[-1] if exit.code else None
    return None


def test_every_command_the_documents_show_is_one_the_programs_take():
    refused = [
        f"{document}: {program} {command}: {why}"
        for document, program, command, complete in _commands()
        if (why := _refusal(program, command, complete))
    ]
    assert refused == []


def test_every_shell_line_the_documents_show_pastes_as_written():
    """A placeholder is a word in capitals (SERIAL, NAME): ``--serial <serial>`` pasted into a shell is a
    redirection from a file named ``serial``, and the calibration README's "Making a profile" wrote its
    serial so."""
    bracketed = [
        f"{document.relative_to(PROJECT_ROOT)}: {line}"
        for document in DOCUMENTS
        for block in re.findall(r"```sh\n(.*?)```", document.read_text(), re.S)
        for line in block.splitlines()
        if re.search(r"<[\w./-]+>", re.split(r"(?:^|\s)#", line)[0])  # in the command, not its comment
    ]
    assert bracketed == []


def test_the_command_check_sees_a_renamed_option_and_a_missing_argument():
    """The check itself: it would not pass a command the programs refuse."""
    assert _refusal("edgescreen", "sync run --until-empty", complete=False)
    assert _refusal("edgescreen", "quality fit --camera acme IMAGE", complete=False)
    assert _refusal("edgescreen-review", "devices add dev-01", complete=True)
    assert _refusal("edgescreen", "screen --modality fundus\\|dermoscopy --json IMAGE...", complete=True) is None
    assert len(list(_commands())) > 100
    # The commands table's siblings: before, only the first span of a row was checked.
    siblings = [command for document, program, command, _ in _commands() if program == "edgescreen-review"]
    assert {"users unlock NAME", "users list [--json]", "devices retire ID", "images purge"} <= set(siblings)


def _named_paths(text: str) -> Iterator[str]:
    for found in re.finditer(r"(?<![\w/.<-])((?:[\w.-]+/)+[\w.*-]*)", text):
        if found.group(1).startswith(REPOSITORY_FOLDERS):
            yield found.group(1).rstrip(".")


def _exists(path: str, document: Path) -> bool:
    """A file or folder of the repository (from its root, or beside the document), a glob that
    matches one, ``tests/degradations.glare`` (a module's name), a placeholder (``systemd/UNIT``), or
    the reader's own file named by one in a folder that is there (``calibration/profiles/SERIAL.json``;
    not a ``README.md``, which is the repository's)."""
    folder, _, name = path.rstrip("/").rpartition("/")
    if PLACEHOLDER.fullmatch(name):
        return True
    stem, _, extension = name.partition(".")
    if PLACEHOLDER.fullmatch(stem) and extension != "md" and (PROJECT_ROOT / folder).is_dir():
        return True
    module = re.sub(r"\.\w+$", ".py", path)
    return any(
        list(base.glob(candidate)) if "*" in candidate else (base / candidate).exists()
        for base in (PROJECT_ROOT, document.parent)
        for candidate in (path, module)
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: str(document.relative_to(PROJECT_ROOT)))
def test_every_file_of_the_repository_a_document_names_is_there(document):
    text = document.read_text()
    assert [path for path in _named_paths(text) if not _exists(path, document)] == []


def test_the_models_table_is_the_one_the_cards_give():
    """The README says to reproduce its table with ``python -m models.build.figures``: it must be that."""
    run = subprocess.run(
        [sys.executable, "-m", "models.build.figures"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip()
    for document in (README, PROJECT_ROOT / "models" / "README.md"):
        assert run.stdout.strip() in document.read_text(), document


def _settings(section: object, table: str = "") -> Iterator[str]:
    """``[table] key`` for every setting under ``section``, nested tables as ``a.b``."""
    for item in dataclasses.fields(section):  # type: ignore[arg-type]
        value = getattr(section, item.name)
        if dataclasses.is_dataclass(value):
            yield from _settings(value, f"{table}.{item.name}".lstrip("."))
        else:
            yield f"[{table}] {item.name}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: str(document.relative_to(PROJECT_ROOT)))
def test_every_setting_a_document_names_is_one_the_configurations_take(document):
    """A setting named as the documents name them (``[app] bind``), of the device's or the station's."""
    settings = {*_settings(Config()), *_settings(ReviewConfig())}
    named = re.findall(r"`(\[[a-z_.]+\] [a-z_]+)", document.read_text())
    assert [setting for setting in named if setting not in settings] == []


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
