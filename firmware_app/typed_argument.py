"""What the device's command line refuses as it is parsed, in the device's language: a value an
argument's ``type`` refuses (``Refused``), and argparse's own refusals (an unknown option, a missing
argument, "invalid int value"). The parse comes before the config is loaded, so it is told the
language the config names (``configured_language``, ``speaking``): the device's ``edgescreen``, and the
review station's ``edgescreen-review`` in its ``[web] language``.

Text a person types that the device keeps (an operator's name, who made a calibration profile, a
camera's model) is held to the rule the apps' forms hold typed text to (``typed``:
``edgescreen_wire.typed_text``), so a pasted NUL, C1 or bidirectional control never reaches a record,
a profile or the sign-in screen."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from edgescreen_wire import typed_text
from firmware_app.messages import CATALOGUE, Worded, message, said

# The language the parse in progress speaks (``speaking``); English outside one.
_LANGUAGE: ContextVar[str] = ContextVar("argument_language", default="en")
# argparse's message ids the catalogue says in each language: the English of its "argparse.*" keys.
_ARGPARSE_KEYS = {CATALOGUE[key]["en"]: key for key in CATALOGUE if key.startswith("argparse.")}


class Refused(argparse.ArgumentTypeError):
    """A value an argument's ``type`` refuses, by its catalogue key and values: said in the language
    of the parse (argparse reads it as it refuses the argument, within ``speaking``)."""

    def __init__(self, key: str, **values: int | str | Worded) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def __str__(self) -> str:
        return said(self.key, _LANGUAGE.get(), self.values)


def configured_language(words: Sequence[str], languages: Callable[..., tuple[str, ...]]) -> str:
    """The language the config that ``words`` name (``--config``, else the command's own default, as
    ``languages`` reads it: ``config.config_error_languages`` or the station's) says, for the parse of
    ``words``, which is over before that config loads: the first ``languages`` gives when the config
    cannot say (English first), and where ``--config`` itself is mistyped."""
    config = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    config.add_argument("--config")
    try:
        explicit = config.parse_known_args(words)[0].config
    except argparse.ArgumentError:
        return languages()[0]
    return languages(explicit)[0]


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """A parse whose refusals are said in ``language``: the types' (``Refused``), and argparse's own,
    whose message ids (its gettext ``_``, looked up as it refuses) the catalogue says; its help's
    headings and the usage line, which no catalogue key names, stay as argparse writes them. Not
    thread-safe, as it swaps argparse's module-wide ``_``: each command line enters it once, on its main
    thread, before its command starts any other (the web apps, the sync worker, the ingester)."""

    def translated(message_id: str) -> str:
        key = _ARGPARSE_KEYS.get(message_id)
        return message_id if key is None else message(key, language)

    # ``_`` is argparse's module global (3.11-3.13); a Python whose argparse looks its words up
    # otherwise keeps them in English, the types' refusals still said in ``language``.
    argparse_own = getattr(argparse, "_", None)
    token = _LANGUAGE.set(language)
    if argparse_own is not None:
        argparse._ = translated  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if argparse_own is not None:
            argparse._ = argparse_own  # type: ignore[attr-defined]
        _LANGUAGE.reset(token)


def typed(text: str) -> str:
    """``text`` as an argparse ``type``: refused with the invisible character named by its code and
    place (argparse names the argument and exits with status 2), else kept as typed."""
    if found := typed_text.first_refused(text):
        code, place = found
        raise Refused("typed.control", what=partial(message, "typed.what.text"), code=code, place=place)
    return text
