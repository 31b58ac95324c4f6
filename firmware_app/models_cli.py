"""``edgescreen models keygen|sign|verify|install|rollback``: signed model bundles, for publisher and device."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from firmware_app.app import open_store
from firmware_app.bundles.install import (
    Cleaned,
    Switch,
    damaged_copies,
    exclusive,
    install_bundle,
    link_target,
    remove_damaged_copies,
    rollback,
)
from firmware_app.bundles.keys import generate_key, load_private_key, trusted_keys
from firmware_app.bundles.manifest import read_manifest, sign_bundle, verify_bundle
from firmware_app.config import Config
from firmware_app.events import log_event
from firmware_app.messages import message, sentence
from firmware_app.own_words import in_own_words
from firmware_app.records.store import ScreeningStore


def cmd_keygen(config: Config, args: argparse.Namespace) -> int:
    public = generate_key(args.private_key)
    print(f"private key {args.private_key} (mode 0600: keep it off the device and out of the repository)")
    print(f"public key  {public} (copy it into the trusted-keys folder of every device)")
    return 0


def cmd_sign(config: Config, args: argparse.Namespace) -> int:
    key = load_private_key(args.key)
    for bundle in args.bundles:
        manifest = sign_bundle(bundle, key, config.models.threads)
        print(f"signed {bundle}: {manifest.model_id} {manifest.version}, key {manifest.key_id}")
    return 0


def cmd_verify(config: Config, args: argparse.Namespace) -> int:
    keys = trusted_keys(config.models.trusted_keys)
    for bundle in args.bundles:
        manifest = verify_bundle(bundle, keys, config.models.threads)
        said = {"bundle": str(bundle), "model": manifest.model_id, "version": manifest.version}
        print(sentence("models.verified", config.device.language, **said))
    return 0


@contextmanager
def _records(config: Config) -> Iterator[ScreeningStore]:
    """The records a change of the models is audited in. An install, repair or rollback opens them before
    anything changes (``audited``): records that cannot take the event (a missing key, a full disk) stop
    the change, where they used to let it happen and then report a failure."""
    store = open_store(config)
    try:
        yield store
    finally:
        store.records.close()


@contextmanager
def audited(config: Config) -> Iterator[Callable[[Switch], None]]:
    """What records each install, repair and rollback in the audit chain, then the journal (``_records``)."""
    language = config.device.language
    with _records(config) as store:

        def record(switch: Switch) -> None:
            details = {
                "action": switch.action,
                "model": switch.model_id,
                "version": switch.version,
                "manifest_sha256": switch.digest,
                "previous_version": switch.previous_version,
            }
            store.audit("model_change", details)
            log_event(f"model.{switch.action}", **details)
            was = switch.previous_version or message("models.no_previous", language)
            said = {"model": switch.model_id, "version": switch.version, "was": was}
            if switch.set_aside is not None:  # a repair: what the damaged copy failed, and where it is kept
                said |= {"reason": str(switch.damage), "kept": str(switch.set_aside)}
            print(sentence(f"models.switched.{switch.action}", language, **said))

        yield record


def cmd_install(config: Config, args: argparse.Namespace) -> int:
    keys = trusted_keys(config.models.trusted_keys)
    link_target(config.models.directory, read_manifest(args.bundle).model_id)  # refuses a plain folder, unwritten
    with audited(config) as record, exclusive(config.models.directory):
        switch = install_bundle(
            args.bundle, config.models.directory, keys, config.models.threads, allow_downgrade=args.allow_downgrade
        )
        if switch is None:
            print(sentence("models.already_active", config.device.language, bundle=str(args.bundle)))
            return 0
        record(switch)
    return 0


def cmd_rollback(config: Config, args: argparse.Namespace) -> int:
    keys = trusted_keys(config.models.trusted_keys)
    with audited(config) as record, exclusive(config.models.directory):
        record(rollback(config.models.directory, args.model_id, keys, config.models.threads))
    return 0


def clean_damaged(config: Config) -> int:
    """``edgescreen models --clean-damaged``: remove the damaged copies repairs kept, saying each, and
    each kept because a link names it (exit status 1 then), and audit it as installs are (``_cleaning``).
    With none, nothing is locked nor made.

    Removed first, audited after, where an install opens the records before it changes anything: the
    cleaning is what frees a full card, on which the records may not open until it has run. Records
    that still cannot take the event stop the command as they stop any (exit 5), the removals said
    and each in the journal."""
    directory, language = config.models.directory, config.device.language
    if not damaged_copies(directory):
        print(sentence("models.no_damaged", language, folder=str(directory)))
        return 0
    with exclusive(directory):
        cleaned = remove_damaged_copies(directory)
    for copy, size in cleaned.removed.items():
        log_event("model.damaged_removed", path=str(copy), size_mb=size)
        print(sentence("models.damaged_removed", language, path=str(copy), size=size))
    for copy, link in cleaned.linked.items():
        print(sentence("models.damaged_linked", language, path=str(copy), link=str(link)))
    with _records(config) as store:
        store.audit("model_change", _cleaning(cleaned))
    return 1 if cleaned.linked else 0


def _cleaning(cleaned: Cleaned) -> dict[str, Any]:
    """The audit event of a ``--clean-damaged``, as each install, repair and rollback has one: the folders'
    names alone (their model, version, digest and time of repair; the models directory is the device's),
    so how many were removed and kept, and the MB freed."""
    return {
        "action": "clean_damaged",
        "removed": [copy.name for copy in cleaned.removed],
        "kept": [copy.name for copy in cleaned.linked],
        "freed_mb": sum(cleaned.removed.values()),
    }


def add_bundle_commands(models: argparse.ArgumentParser) -> None:
    actions = models.add_subparsers(dest="models_action", required=False, metavar="ACTION")

    keygen = actions.add_parser("keygen", help="make a publisher's Ed25519 signing key and its public key")
    keygen.add_argument("private_key", type=Path, metavar="PRIVATE_KEY")
    keygen.set_defaults(handler=cmd_keygen)
    in_own_words(keygen)

    sign = actions.add_parser("sign", help="publisher: write and sign the manifest of model bundle folder(s)")
    sign.add_argument("--key", type=Path, required=True, metavar="PRIVATE", help="the Ed25519 private key (PEM)")
    sign.add_argument("bundles", nargs="+", type=Path, metavar="BUNDLE_DIR")
    sign.set_defaults(handler=cmd_sign)
    in_own_words(sign)

    verify = actions.add_parser("verify", help="check bundle(s) against the trusted keys, without installing")
    verify.add_argument("bundles", nargs="+", type=Path, metavar="BUNDLE_DIR")
    verify.set_defaults(handler=cmd_verify)
    in_own_words(verify)

    install = actions.add_parser("install", help="verify a signed bundle and make it the active model")
    install.add_argument("bundle", type=Path, metavar="BUNDLE_DIR")
    install.add_argument("--allow-downgrade", action="store_true", help="accept a version older than the active one")
    install.set_defaults(handler=cmd_install)
    in_own_words(install)

    back = actions.add_parser("rollback", help="make the previously installed bundle of a model active again")
    back.add_argument("model_id", metavar="MODEL_ID")
    back.set_defaults(handler=cmd_rollback)
    in_own_words(back)
