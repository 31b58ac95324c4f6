"""``edgescreen operators add|disable|unlock|list``: the local accounts that sign in to the touchscreen app."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from datetime import datetime

from firmware_app.app import open_store
from firmware_app.config import Config
from firmware_app.events import log_event
from firmware_app.messages import message, sentence
from firmware_app.operators import MAX_PIN, MIN_PIN, Operator, OperatorError, Operators
from firmware_app.records.screening import refuse_control
from firmware_app.wording import readable_date


def _read_pin(from_stdin: bool, language: str) -> str | None:
    """The new PIN: one line of stdin for scripts, else typed twice without echo, asked in the device's
    language with the labels of the app's first-operator screen."""
    if from_stdin:
        return sys.stdin.readline().strip()
    field = sentence("setup.pin", language, fewest=MIN_PIN, most=MAX_PIN)
    pin = getpass.getpass(sentence("operators.prompt", language, field=field))
    again = getpass.getpass(sentence("operators.prompt", language, field=message("setup.pin_again", language)))
    return pin if again == pin else None


def _lock_words(where: str, until: datetime | None, language: str) -> str:
    """Whether sign-in ``where`` ("device", "network") is locked, and until when in the device's local
    time: the technician can tell a nurse how long she waits, or unlock her at once."""
    if until is None:
        return message(f"operators.{where}_open", language)
    return sentence(f"operators.{where}_locked", language, when=readable_date(until, language))


def _operator_line(operator: Operator, language: str) -> str:
    """One operator as ``operators list`` prints it, a column each: the name, whether the account is
    enabled, then the lock on sign-in at the device and from the network (the device's refuses both;
    wrong PINs from a tablet lock the network's alone, and the nurse at the device signs in)."""
    state = message("operators.enabled" if operator.enabled else "operators.disabled", language)
    device = _lock_words("device", operator.locked_until, language)
    network = _lock_words("network", operator.network_locked_until, language)
    return "\t".join((operator.name, state, device, network))


def cmd_operators(config: Config, args: argparse.Namespace) -> int:
    """Each action said in the device's language; a refusal by the app's sentence for it, the English
    detail (which name, which rule) logged for the technician."""
    language = config.device.language
    # A name holding a control character is refused before anything is opened, in the device's language,
    # as the app's first-operator form refuses it (argparse's ``type`` said it in English, before the config).
    if args.operators == "add":
        refuse_control(args.name, "the name", "typed.what.name")
    # Adding the first operator may start a new device's records; listing, disabling or unlocking one
    # acts on records already made.
    store = open_store(config, must_exist=args.operators != "add")
    try:
        operators = Operators(store.records)
        if args.operators == "list":
            listed = operators.list()
            if not listed:  # said apart from the list: "none" is not a failure, nor an empty answer
                print(message("operators.none", language), file=sys.stderr)
            for operator in listed:
                print(_operator_line(operator, language))
            return 0
        if args.operators == "add":
            pin = _read_pin(args.pin_stdin, language)
            if pin is None:
                print(f"edgescreen: {message('operators.pins_differ', language)}", file=sys.stderr)
                return 2
            operators.add(args.name, pin)
        elif args.operators == "unlock":
            operators.unlock(args.name)
        else:
            operators.disable(args.name)
    except OperatorError as error:
        log_event("operators.refused", logging.WARNING, error=error)
        print(f"edgescreen: {error.sentence(language)}", file=sys.stderr)
        return 2
    finally:
        store.records.close()
    print(sentence(f"operators.done.{args.operators}", language, name=args.name))
    return 0


def add_operators_commands(commands: argparse._SubParsersAction) -> None:
    operators = commands.add_parser("operators", help="the local accounts that sign in to the touchscreen app")
    actions = operators.add_subparsers(dest="operators", required=True)
    add = actions.add_parser("add", help=f"add an operator; the PIN is asked twice ({MIN_PIN} to {MAX_PIN} digits)")
    add.add_argument("name", help="the name shown on the sign-in screen (letters, digits, spaces, . ' -)")
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from one line of stdin instead")
    disable = actions.add_parser("disable", help="stop an operator signing in (their screenings keep their name)")
    disable.add_argument("name", help="the operator's name as `operators list` shows it")
    unlock = actions.add_parser(
        "unlock", help="lift an operator's lock after too many wrong PINs at once (it lasts up to a day)"
    )
    unlock.add_argument("name", help="the operator's name as `operators list` shows it")
    actions.add_parser(
        "list", help="every operator, whether they may sign in, and any lock on the device's or the network's sign-in"
    )
    operators.set_defaults(handler=cmd_operators)
