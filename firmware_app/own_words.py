"""The technician's tools that say a refusal in their own words.

A command stopped by the device's state (its model, its profile, its records) says it as the readiness
list and ``doctor`` do, in the device's language (``cli.main``). The tools that act on a file the
technician names (a model bundle to sign, verify or install, a backup to write or restore, the records
to wipe) say what is wrong with that file, in English like the rest of their output: the device's
check would blame the device's own model or records, which may be whole. A request they refuse for
the device's own records or drive (wipe not confirmed, a restore onto records already there or
without their key, a backup the stick cannot hold, a model bundle the models' disk cannot hold) is
said in the device's language all the same (``RequestRefused.saying``), as are the device's records
refusing a backup (their disk full, another process's lock: ``RecordsRefusedTheBackup``, as every
command says them), and so are a restore from no
such file, the first thing it checks (a mistyped path), and a backup onto a file that exists, as
every command's output file that exists is; one about what the technician's file holds (a backup of
another device) keeps its English words.
"""

from __future__ import annotations

import argparse

_OWN_WORDS = "own_words"


def in_own_words(parser: argparse.ArgumentParser) -> None:
    """Mark ``parser``'s command as one whose refusals are said in its own words."""
    parser.set_defaults(**{_OWN_WORDS: True})


def speaks_own_words(args: argparse.Namespace) -> bool:
    """Whether the command ``args`` ran says its refusals in its own words (``in_own_words``)."""
    return bool(getattr(args, _OWN_WORDS, False))
